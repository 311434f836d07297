package libpod

import (
	"fmt"
	"path/filepath"

	"github.com/berth-containers/berth/libpod/network"
	"github.com/sirupsen/logrus"
)

// setupSlirpNetNS creates the network namespace slirp4netns configures
// before the container starts in it, as podman does: with the namespace
// made first, the monitor starts slirp4netns and then creates and starts
// the container in one runtime call.
func (c *Container) setupSlirpNetNS() error {
	path, err := c.slirpNetNSPath()
	if err != nil {
		return err
	}
	// left over by a run whose cleanup never happened
	if err := network.RemoveNetNS(path); err != nil {
		return fmt.Errorf("removing the old network namespace of %s: %w", c.Name(), err)
	}
	if err := network.CreateNetNS(path); err != nil {
		return fmt.Errorf("creating the network namespace of %s: %w", c.Name(), err)
	}
	c.State.Network = &network.Status{NetNSPath: path}
	return nil
}

// slirpOnOwnNetNS tells whether slirp4netns gets a namespace made before
// the container. Not for a container with its own user namespace
// (--userns keep-id, auto, mappings): the namespace would belong to
// berth's user namespace, not the container's, which may then not mount
// /sys; runc makes it then, and slirp4netns joins it between create and
// start.
func (c *Container) slirpOnOwnNetNS() bool {
	return c.Config.UserNS == ""
}

// teardownSlirpNetNS removes what setupSlirpNetNS made, also when the
// state never recorded it (a berth killed during the start); it is
// idempotent.
func (c *Container) teardownSlirpNetNS() {
	path, err := c.slirpNetNSPath()
	if err == nil {
		err = network.RemoveNetNS(path)
	}
	if err != nil {
		logrus.Warnf("removing the network namespace of %s: %v", c.Name(), err)
		return
	}
	c.State.Network = nil
}

func (c *Container) slirpNetNSPath() (string, error) {
	dir, err := c.rt.RunDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "slirp-netns", c.ID()), nil
}
