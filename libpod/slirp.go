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
	dir, err := c.rt.RunDir()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "slirp-netns", c.ID())
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

// teardownSlirpNetNS removes what setupSlirpNetNS made; it is idempotent.
func (c *Container) teardownSlirpNetNS() {
	if c.State.Network == nil || c.State.Network.NetNSPath == "" {
		return
	}
	if err := network.RemoveNetNS(c.State.Network.NetNSPath); err != nil {
		logrus.Warnf("removing the network namespace of %s: %v", c.Name(), err)
		return
	}
	c.State.Network = nil
}
