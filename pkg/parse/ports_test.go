package parse

import (
	"reflect"
	"strings"
	"testing"
)

func TestPort(t *testing.T) {
	tests := []struct {
		in   string
		want PortMapping
		err  string
	}{
		{in: "80", want: PortMapping{ContainerPort: 80, Range: 1, Protocol: "tcp"}},
		{in: "8080:80", want: PortMapping{HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "tcp"}},
		{in: ":80", want: PortMapping{ContainerPort: 80, Range: 1, Protocol: "tcp"}},
		{in: "127.0.0.1:8080:80", want: PortMapping{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "tcp"}},
		{in: "127.0.0.1::80", want: PortMapping{HostIP: "127.0.0.1", ContainerPort: 80, Range: 1, Protocol: "tcp"}},
		{in: "[::1]:8080:80", want: PortMapping{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "tcp"}},
		{in: "[fe80::1]::80/udp", want: PortMapping{HostIP: "fe80::1", ContainerPort: 80, Range: 1, Protocol: "udp"}},
		{in: "53:53/udp", want: PortMapping{HostPort: 53, ContainerPort: 53, Range: 1, Protocol: "udp"}},
		{in: "80:80/SCTP", want: PortMapping{HostPort: 80, ContainerPort: 80, Range: 1, Protocol: "sctp"}},
		{in: "8000-8010:80-90", want: PortMapping{HostPort: 8000, ContainerPort: 80, Range: 11, Protocol: "tcp"}},
		{in: "80-85", want: PortMapping{ContainerPort: 80, Range: 6, Protocol: "tcp"}},
		{in: "1.2.3.4:80-81:90-91/udp", want: PortMapping{HostIP: "1.2.3.4", HostPort: 80, ContainerPort: 90, Range: 2, Protocol: "udp"}},
		{in: "65535", want: PortMapping{ContainerPort: 65535, Range: 1, Protocol: "tcp"}},

		{in: "99999", err: `invalid port "99999": port numbers must be between 1 and 65535`},
		{in: "0", err: `invalid port "0": port numbers must be between 1 and 65535`},
		{in: "80:99999", err: `invalid port "99999"`},
		{in: "-1", err: `invalid port ""`},
		{in: "abc", err: `invalid port "abc": not a number`},
		{in: "80/foo", err: `unknown protocol "foo"`},
		{in: "8080:80/tcp/udp", err: "the protocol can only be given once"},
		{in: "8000-8010:80-85", err: "the host range has 11 ports but the container range has 6"},
		{in: "80:80-81", err: "the host range has 1 ports but the container range has 2"},
		{in: "90-80:80", err: `invalid port range "90-80": 80 is lower than 90`},
		{in: "80-", err: "the end of the range is missing"},
		{in: "1.2.3:80:80", err: `"1.2.3" is not an IP address`},
		{in: "::1:8080:80", err: "IPv6 host address goes in brackets"},
		{in: "[::1:8080:80", err: "missing ']'"},
		{in: "[1.2.3.4]:80:80", err: "is not an IPv6 address"},
		{in: "", err: "invalid port mapping"},
	}
	for _, tt := range tests {
		got, err := Port(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Port(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Port(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Port(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestPortsConflict(t *testing.T) {
	if _, err := Ports([]string{"8080:80", "8080:81"}); err == nil || !strings.Contains(err.Error(), "conflicting port mappings for host port 8080 (protocol tcp)") {
		t.Errorf("same host port twice: err = %v", err)
	}
	if _, err := Ports([]string{"8000-8010:80-90", "8005:22"}); err == nil || !strings.Contains(err.Error(), "host port 8005 (protocol tcp)") {
		t.Errorf("overlapping ranges: err = %v", err)
	}
	// different protocols, different addresses and random host ports do not conflict
	got, err := Ports([]string{"53:53/udp", "53:53/tcp", "127.0.0.1:80:80", "127.0.0.2:80:80", "80", "80"})
	if err != nil || len(got) != 6 {
		t.Errorf("Ports = %v, %v; want 6 mappings", got, err)
	}
	if _, err := Ports([]string{"127.0.0.1:80:80", "80:81"}); err == nil {
		t.Error("all-addresses mapping must conflict with a specific address on the same port")
	}
}

func TestExposedPortsAndPublishAll(t *testing.T) {
	exposed, err := ExposedPorts(map[string]struct{}{"80/tcp": {}, "53/udp": {}, "443": {}}, []string{"8000-8001", "80/tcp"})
	if err != nil {
		t.Fatal(err)
	}
	want := []PortMapping{
		{ContainerPort: 80, Range: 1, Protocol: "tcp"},
		{ContainerPort: 443, Range: 1, Protocol: "tcp"},
		{ContainerPort: 8000, Range: 1, Protocol: "tcp"},
		{ContainerPort: 8001, Range: 1, Protocol: "tcp"},
		{ContainerPort: 53, Range: 1, Protocol: "udp"},
	}
	if !reflect.DeepEqual(exposed, want) {
		t.Fatalf("ExposedPorts = %+v\nwant %+v", exposed, want)
	}
	published := []PortMapping{{HostPort: 8080, ContainerPort: 80, Range: 1, Protocol: "tcp"}, {HostPort: 9000, ContainerPort: 8000, Range: 2, Protocol: "tcp"}}
	all := PublishAll(published, exposed)
	wantAll := []PortMapping{
		published[0], published[1],
		{ContainerPort: 443, Range: 1, Protocol: "tcp"},
		{ContainerPort: 53, Range: 1, Protocol: "udp"},
	}
	if !reflect.DeepEqual(all, wantAll) {
		t.Errorf("PublishAll = %+v\nwant %+v", all, wantAll)
	}
	if _, err := ExposedPorts(nil, []string{"80/icmp"}); err == nil {
		t.Error("ExposedPorts accepted protocol icmp")
	}
}
