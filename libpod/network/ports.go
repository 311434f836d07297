package network

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// ReservePorts binds every published host port, as podman does for rootful
// containers (portmap only adds iptables rules, which would silently take
// over a port that a host program listens on). It fails with a clear error
// when a port is in use. The caller keeps the returned files open while the
// container runs (hand them to the monitor) and closes them at cleanup; on
// error nothing stays open. SCTP ports are not reserved.
func ReservePorts(ports []PortMapping) ([]*os.File, error) {
	var files []*os.File
	fail := func(err error) ([]*os.File, error) {
		for _, f := range files {
			_ = f.Close()
		}
		return nil, err
	}
	for _, p := range ports {
		for _, proto := range strings.Split(strings.ToLower(p.Protocol), ",") {
			proto = strings.TrimSpace(proto)
			if proto == "" {
				proto = "tcp"
			}
			network := proto + "4"
			if ip := net.ParseIP(p.HostIP); ip != nil && ip.To4() == nil {
				network = proto + "6"
			}
			addr := net.JoinHostPort(p.HostIP, strconv.Itoa(int(p.HostPort)))
			var f *os.File
			var err error
			switch proto {
			case "tcp":
				var l net.Listener
				if l, err = net.Listen(network, addr); err == nil {
					f, err = l.(*net.TCPListener).File()
					_ = l.Close()
				}
			case "udp":
				var c net.PacketConn
				if c, err = net.ListenPacket(network, addr); err == nil {
					f, err = c.(*net.UDPConn).File()
					_ = c.Close()
				}
			case "sctp":
				continue
			default:
				return fail(fmt.Errorf("publishing port %s: unknown protocol %q", addr, proto))
			}
			if err != nil {
				return fail(fmt.Errorf("cannot publish %s port %s: %w (is another program or container using it?)", proto, addr, err))
			}
			files = append(files, f)
		}
	}
	return files, nil
}
