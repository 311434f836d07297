package monitor

import (
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// forwardPorts asks slirp4netns, through its API socket, to forward each
// published host port to the container.
func (m *monitor) forwardPorts() error {
	if m.cfg.NetworkAPISocket == "" {
		return nil
	}
	for _, p := range m.cfg.Ports {
		if err := slirpHostFwd(m.cfg.NetworkAPISocket, p); err != nil {
			return err
		}
	}
	return nil
}

func slirpHostFwd(sock string, p PortForward) error {
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return fmt.Errorf("connecting to slirp4netns: %w", err)
	}
	defer conn.Close()
	hostIP := p.HostIP
	if hostIP == "" {
		hostIP = "0.0.0.0"
	}
	req := map[string]any{
		"execute": "add_hostfwd",
		"arguments": map[string]any{
			"proto": p.Protocol, "host_addr": hostIP, "host_port": p.HostPort, "guest_port": p.ContainerPort,
		},
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return err
	}
	var resp map[string]any
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return fmt.Errorf("reading slirp4netns answer: %w", err)
	}
	if e, ok := resp["error"]; ok {
		return fmt.Errorf("publishing %s:%d: %v", hostIP, p.HostPort, e)
	}
	return nil
}
