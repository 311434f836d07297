package libpod

import (
	"context"
	"fmt"

	"github.com/berth-containers/berth/libpod/network"
	"github.com/sirupsen/logrus"
)

// setupNetwork joins a rootful container to the CNI bridge before it is
// created. The result is kept in memory and saved with the rest of the
// start: it need not be saved on its own first, because cleanup undoes it
// without it too (after a crash before the start is saved, Teardown finds
// the network from libcni's cache and the namespace from the container ID).
func (c *Container) setupNetwork() error {
	if c.Config.Network == "slirp4netns" {
		if !c.slirpOnOwnNetNS() {
			return nil
		}
		return c.setupSlirpNetNS()
	}
	if c.Config.Network != "bridge" {
		return nil
	}
	m, err := c.rt.Network()
	if err != nil {
		return err
	}
	ports := make([]network.PortMapping, 0, len(c.Config.Ports))
	for _, p := range c.Config.Ports {
		ports = append(ports, network.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	st, err := m.Setup(context.Background(), c.ID(), c.Name(), ports)
	if err != nil {
		return fmt.Errorf("setting up the network of %s: %w", c.Name(), err)
	}
	c.State.Network = st
	return nil
}

// teardownNetwork undoes setupNetwork; it is idempotent.
func (c *Container) teardownNetwork() {
	if c.Config.Network == "slirp4netns" {
		c.teardownSlirpNetNS()
		return
	}
	if c.Config.Network != "bridge" {
		return
	}
	m, err := c.rt.Network()
	if err == nil {
		err = m.Teardown(context.Background(), c.ID(), c.State.Network)
	}
	if err != nil {
		logrus.Warnf("tearing down the network of %s: %v", c.Name(), err)
		return
	}
	c.State.Network = nil
}
