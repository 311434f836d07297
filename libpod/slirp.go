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
