package libpod

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// checkPortsFree refuses to start a container whose published ports
// another running container publishes already, or that a process on the
// host listens on. Rootful, CNI's port mapping binds nothing, so without
// this check a second container would start and silently take (or lose) the
// port; rootless, it gives the forwarder's failure a clear message. Podman
// reserves the ports too, and its run fails with exit code 126.
func (c *Container) checkPortsFree() error {
	if len(c.Config.Ports) == 0 || c.Config.Network == "host" || c.Config.Network == "none" {
		return nil
	}
	others, err := c.rt.Containers()
	if err != nil {
		return err
	}
	for _, p := range c.Config.Ports {
		for _, o := range others {
			if o.ID() == c.ID() || !o.State.active() || o.Config.Network != "bridge" {
				continue
			}
			for _, op := range o.Config.Ports {
				if op.HostPort == p.HostPort && op.Protocol == p.Protocol && ipsOverlap(op.HostIP, p.HostIP) {
					return fmt.Errorf("cannot listen on the %s port: %s is already published by container %s",
						strings.ToUpper(p.Protocol), hostAddr(p.HostIP, p.HostPort), o.Name())
				}
			}
		}
		if err := probeListen(p.Protocol, hostAddr(p.HostIP, p.HostPort)); err != nil {
			return fmt.Errorf("cannot listen on the %s port: %w", strings.ToUpper(p.Protocol), err)
		}
	}
	return nil
}

func ipsOverlap(a, b string) bool {
	wildcard := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return wildcard(a) || wildcard(b) || a == b
}

func hostAddr(ip string, port uint16) string {
	return net.JoinHostPort(ip, strconv.Itoa(int(port)))
}

// probeListen binds addr and lets it go: a host process holding the port
// makes it fail.
func probeListen(proto, addr string) error {
	switch proto {
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return pc.Close()
	case "tcp", "":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return l.Close()
	}
	return nil // sctp: not probed
}
