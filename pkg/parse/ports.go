package parse

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// PortMapping is one -p/--publish value: Range consecutive ports starting at
// HostPort on the host are forwarded to Range consecutive ports starting at
// ContainerPort in the container.
type PortMapping struct {
	HostIP        string // "" means all host addresses
	HostPort      uint16 // 0 means the engine picks free port(s)
	ContainerPort uint16
	Range         uint16 // number of ports; 1 for a single port
	Protocol      string // "tcp", "udp" or "sctp"
}

const portSyntax = "[[hostIP:][hostPort]:]containerPort[/protocol]"

// Ports parses -p values: [[hostIP:][hostPort]:]containerPort[/proto], where a
// port may be a range such as 8000-8010, hostIP may be an IPv6 address in
// brackets ("[::1]:8080:80"), and proto is tcp (default), udp or sctp.
// It rejects two mappings that claim the same host port.
func Ports(specs []string) ([]PortMapping, error) {
	var out []PortMapping
	for _, s := range specs {
		pm, err := Port(s)
		if err != nil {
			return nil, err
		}
		for _, prev := range out {
			if conflict(prev, pm) {
				return nil, fmt.Errorf("conflicting port mappings for host port %d (protocol %s): %q overlaps an earlier -p", overlapStart(prev, pm), pm.Protocol, s)
			}
		}
		out = append(out, pm)
	}
	return out, nil
}

func conflict(a, b PortMapping) bool {
	if a.HostPort == 0 || b.HostPort == 0 || a.Protocol != b.Protocol {
		return false
	}
	if a.HostIP != b.HostIP && a.HostIP != "" && b.HostIP != "" {
		return false
	}
	aEnd := int(a.HostPort) + int(a.Range) - 1
	bEnd := int(b.HostPort) + int(b.Range) - 1
	return int(a.HostPort) <= bEnd && int(b.HostPort) <= aEnd
}

func overlapStart(a, b PortMapping) uint16 {
	if a.HostPort > b.HostPort {
		return a.HostPort
	}
	return b.HostPort
}

// Port parses a single -p value; see Ports.
func Port(spec string) (PortMapping, error) {
	pm := PortMapping{Protocol: "tcp"}
	if spec == "" {
		return pm, fmt.Errorf("invalid port mapping \"\": expected %s", portSyntax)
	}
	addr, proto, hasProto := strings.Cut(spec, "/")
	if hasProto {
		if strings.Contains(proto, "/") {
			return pm, fmt.Errorf("invalid port mapping %q: the protocol can only be given once", spec)
		}
		p, err := protocol(proto)
		if err != nil {
			return pm, fmt.Errorf("invalid port mapping %q: %w", spec, err)
		}
		pm.Protocol = p
	}

	var hostIP, hostPorts, ctrPorts string
	if strings.HasPrefix(addr, "[") {
		end := strings.Index(addr, "]")
		if end < 0 {
			return pm, fmt.Errorf("invalid port mapping %q: missing ']' after the IPv6 address", spec)
		}
		hostIP = addr[1:end]
		rest, ok := strings.CutPrefix(addr[end+1:], ":")
		if !ok {
			return pm, fmt.Errorf("invalid port mapping %q: expected %s", spec, portSyntax)
		}
		var found bool
		hostPorts, ctrPorts, found = strings.Cut(rest, ":")
		if !found || strings.Contains(ctrPorts, ":") {
			return pm, fmt.Errorf("invalid port mapping %q: expected %s", spec, portSyntax)
		}
		if ip := net.ParseIP(hostIP); ip == nil || ip.To4() != nil {
			return pm, fmt.Errorf("invalid port mapping %q: %q is not an IPv6 address", spec, hostIP)
		}
	} else {
		parts := strings.Split(addr, ":")
		switch len(parts) {
		case 1:
			ctrPorts = parts[0]
		case 2:
			hostPorts, ctrPorts = parts[0], parts[1]
		case 3:
			hostIP, hostPorts, ctrPorts = parts[0], parts[1], parts[2]
			if hostIP == "" {
				return pm, fmt.Errorf("invalid port mapping %q: the host IP is empty", spec)
			}
			if net.ParseIP(hostIP) == nil {
				return pm, fmt.Errorf("invalid port mapping %q: %q is not an IP address", spec, hostIP)
			}
			if strings.Contains(hostIP, ":") {
				return pm, fmt.Errorf("invalid port mapping %q: put an IPv6 host address in brackets, as in [%s]:%s:%s", spec, hostIP, hostPorts, ctrPorts)
			}
		default:
			return pm, fmt.Errorf("invalid port mapping %q: expected %s (an IPv6 host address goes in brackets: [::1]:8080:80)", spec, portSyntax)
		}
	}
	pm.HostIP = hostIP

	cStart, cLen, err := portRange(ctrPorts)
	if err != nil {
		return pm, err
	}
	pm.ContainerPort, pm.Range = cStart, cLen
	if hostPorts != "" {
		hStart, hLen, err := portRange(hostPorts)
		if err != nil {
			return pm, err
		}
		if hLen != cLen {
			return pm, fmt.Errorf("invalid port mapping %q: the host range has %d ports but the container range has %d", spec, hLen, cLen)
		}
		pm.HostPort = hStart
	}
	return pm, nil
}

func protocol(p string) (string, error) {
	switch strings.ToLower(p) {
	case "tcp", "udp", "sctp":
		return strings.ToLower(p), nil
	}
	return "", fmt.Errorf("unknown protocol %q: use tcp, udp or sctp", p)
}

// portRange parses "80" or "8000-8010" into a start and a count.
func portRange(s string) (uint16, uint16, error) {
	startS, endS, isRange := strings.Cut(s, "-")
	start, err := portNumber(startS)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return start, 1, nil
	}
	if endS == "" {
		return 0, 0, fmt.Errorf("invalid port range %q: the end of the range is missing", s)
	}
	end, err := portNumber(endS)
	if err != nil {
		return 0, 0, err
	}
	if end < start {
		return 0, 0, fmt.Errorf("invalid port range %q: %d is lower than %d", s, end, start)
	}
	return start, end - start + 1, nil
}

func portNumber(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("invalid port \"\": a port number is missing")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid port %q: not a number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("invalid port %q: port numbers must be between 1 and 65535", s)
	}
	return uint16(n), nil
}

// ExposedPorts returns the ports an image exposes (its config's ExposedPorts
// keys, such as "80/tcp" or "53/udp") together with --expose values (which
// may be ranges, such as "8000-8010/tcp"), as mappings with no host port,
// without duplicates, sorted by protocol and port.
func ExposedPorts(image map[string]struct{}, expose []string) ([]PortMapping, error) {
	seen := map[[2]string]bool{}
	var out []PortMapping
	add := func(spec string) error {
		ports, proto, hasProto := strings.Cut(spec, "/")
		p := "tcp"
		if hasProto {
			var err error
			if p, err = protocol(proto); err != nil {
				return fmt.Errorf("invalid exposed port %q: %w", spec, err)
			}
		}
		start, n, err := portRange(ports)
		if err != nil {
			return fmt.Errorf("invalid exposed port %q: %w", spec, err)
		}
		for i := 0; i < int(n); i++ {
			port := start + uint16(i)
			key := [2]string{p, strconv.Itoa(int(port))}
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, PortMapping{ContainerPort: port, Range: 1, Protocol: p})
		}
		return nil
	}
	keys := make([]string, 0, len(image))
	for k := range image {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range append(keys, expose...) {
		if err := add(k); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Protocol != out[j].Protocol {
			return out[i].Protocol < out[j].Protocol
		}
		return out[i].ContainerPort < out[j].ContainerPort
	})
	return out, nil
}

// PublishAll implements -P/--publish-all: it returns published followed by a
// mapping to a random host port (HostPort 0) for every exposed port that
// published does not already forward.
func PublishAll(published, exposed []PortMapping) []PortMapping {
	out := append([]PortMapping(nil), published...)
	covered := func(port uint16, proto string) bool {
		for _, p := range published {
			if p.Protocol == proto && port >= p.ContainerPort && int(port) < int(p.ContainerPort)+int(max(p.Range, 1)) {
				return true
			}
		}
		return false
	}
	for _, e := range exposed {
		for i := 0; i < int(max(e.Range, 1)); i++ {
			port := e.ContainerPort + uint16(i)
			if !covered(port, e.Protocol) {
				out = append(out, PortMapping{ContainerPort: port, Range: 1, Protocol: e.Protocol})
			}
		}
	}
	return out
}
