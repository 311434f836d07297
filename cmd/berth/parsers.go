package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/libpod"
	"github.com/docker/go-units"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

type storageImage = storage.Image

func parseBytes(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("must be a size such as 10m or 1g")
	}
	return n, nil
}

func parseRestart(s string) (string, int, error) {
	name, count, hasCount := strings.Cut(s, ":")
	switch name {
	case "", "no":
		if hasCount {
			break
		}
		return name, 0, nil
	case "always", "unless-stopped":
		if hasCount {
			break
		}
		return name, 0, nil
	case "on-failure":
		if !hasCount {
			return name, 0, nil
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("invalid --restart %q: the retry count must be a non-negative number", s)
		}
		return name, n, nil
	}
	return "", 0, fmt.Errorf("invalid --restart policy %q: must be no, on-failure[:N], always or unless-stopped", s)
}

func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("invalid signal %q", s)
	}
	return sig, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("invalid port %q: port numbers must be between 1 and 65535", s)
	}
	return uint16(n), nil
}

// parsePublish reads -p [hostIP:][hostPort:]containerPort[/proto].
func parsePublish(s string) ([]libpod.PortMapping, error) {
	spec, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("invalid -p %q: protocol must be tcp, udp or sctp", s)
	}
	hostIP := ""
	if strings.HasPrefix(spec, "[") {
		end := strings.Index(spec, "]")
		if end < 0 {
			return nil, fmt.Errorf("invalid -p %q", s)
		}
		hostIP, spec = spec[1:end], strings.TrimPrefix(spec[end+1:], ":")
	}
	parts := strings.Split(spec, ":")
	var hostPort, ctrPort string
	switch len(parts) {
	case 1:
		ctrPort = parts[0]
	case 2:
		hostPort, ctrPort = parts[0], parts[1]
	case 3:
		if hostIP != "" {
			return nil, fmt.Errorf("invalid -p %q", s)
		}
		hostIP, hostPort, ctrPort = parts[0], parts[1], parts[2]
	default:
		return nil, fmt.Errorf("invalid -p %q: use [hostIP:][hostPort:]containerPort[/protocol]", s)
	}
	cp, err := parsePort(ctrPort)
	if err != nil {
		return nil, err
	}
	hp := cp
	if hostPort != "" {
		if hp, err = parsePort(hostPort); err != nil {
			return nil, err
		}
	}
	return []libpod.PortMapping{{HostIP: hostIP, HostPort: hp, ContainerPort: cp, Protocol: proto}}, nil
}
