package parse

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestUlimit(t *testing.T) {
	tests := []struct {
		in   string
		want specs.POSIXRlimit
		err  string
	}{
		{in: "nofile=1024:2048", want: specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}},
		{in: "nofile=1024", want: specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		{in: "nproc=-1", want: specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: RlimitMax, Hard: RlimitMax}},
		{in: "core=0:-1", want: specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: RlimitMax}},
		{in: "memlock=-1:-1", want: specs.POSIXRlimit{Type: "RLIMIT_MEMLOCK", Soft: RlimitMax, Hard: RlimitMax}},
		{in: "rtprio=10", want: specs.POSIXRlimit{Type: "RLIMIT_RTPRIO", Soft: 10, Hard: 10}},
		{in: "foo", err: "expected name=soft[:hard]"},
		{in: "nofile", err: "expected name=soft[:hard]"},
		{in: "nofile=", err: "expected name=soft[:hard]"},
		{in: "foo=1", err: `unknown limit "foo"`},
		{in: "nofile=a", err: `"a" is not a number`},
		{in: "nofile=-2", err: `"-2" is not a number`},
		{in: "nofile=10:5", err: "the soft limit 10 is above the hard limit 5"},
		{in: "nofile=-1:5", err: "the soft limit -1 is above the hard limit 5"},
		{in: "nofile=1:2:3", err: "at most two values"},
	}
	for _, tt := range tests {
		got, err := Ulimit(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Ulimit(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Ulimit(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestMemoryAndSize(t *testing.T) {
	good := map[string]int64{"512m": 512 << 20, "1g": 1 << 30, "1G": 1 << 30, "1024": 1024, "10k": 10 << 10, "1.5g": 3 << 29, "0": 0, "100b": 100}
	for in, want := range good {
		if got, err := Memory(in); err != nil || got != want {
			t.Errorf("Memory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"foo", "1x", "-1", "", " 1m"} {
		_, err := Memory(in)
		if err == nil || !strings.HasPrefix(err.Error(), `invalid --memory "`+in+`": `) {
			t.Errorf("Memory(%q) error = %v", in, err)
		}
	}
	if _, err := Size("--shm-size", "foo"); err == nil || !strings.HasPrefix(err.Error(), `invalid --shm-size "foo"`) {
		t.Errorf("Size error = %v", err)
	}
	if n, err := MemorySwap("-1"); err != nil || n != -1 {
		t.Errorf("MemorySwap(-1) = %d, %v", n, err)
	}
	if n, err := MemorySwap("2g"); err != nil || n != 2<<30 {
		t.Errorf("MemorySwap(2g) = %d, %v", n, err)
	}
	if _, err := MemorySwap("-2"); err == nil {
		t.Error("MemorySwap(-2) accepted")
	}
}

func TestCPUs(t *testing.T) {
	tests := []struct {
		in     string
		quota  int64
		period uint64
		err    string
	}{
		{in: "1.5", quota: 150000, period: 100000},
		{in: "0.5", quota: 50000, period: 100000},
		{in: "2", quota: 200000, period: 100000},
		{in: "0.01", quota: 1000, period: 100000},
		{in: "0", quota: 0, period: 0},
		{in: "foo", err: `invalid --cpus "foo": use a number of CPUs`},
		{in: "-1", err: "cannot be negative"},
		{in: "0.001", err: "the minimum is 0.01"},
		{in: "NaN", err: "use a number of CPUs"},
	}
	for _, tt := range tests {
		q, p, err := CPUs(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("CPUs(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || q != tt.quota || p != tt.period {
			t.Errorf("CPUs(%q) = %d, %d, %v; want %d, %d", tt.in, q, p, err, tt.quota, tt.period)
		}
	}
}

func TestDevice(t *testing.T) {
	tests := []struct {
		in                    string
		host, container, perm string
		err                   string
	}{
		{in: "/dev/fuse", host: "/dev/fuse", container: "/dev/fuse", perm: "rwm"},
		{in: "/dev/null:/dev/mynull", host: "/dev/null", container: "/dev/mynull", perm: "rwm"},
		{in: "/dev/null:r", host: "/dev/null", container: "/dev/null", perm: "r"},
		{in: "/dev/null:/dev/n:rw", host: "/dev/null", container: "/dev/n", perm: "rw"},
		{in: "/dev/null:/dev/n:mrw", host: "/dev/null", container: "/dev/n", perm: "mrw"},
		{in: "/dev/null:rel", err: `"rel" is neither an absolute container path nor permissions`},
		{in: "/dev/null:/dev/n:xyz", err: `invalid permissions "xyz"`},
		{in: "/dev/null:/dev/n:rr", err: `invalid permissions "rr"`},
		{in: "/dev/null:/dev/n:rw:x", err: "too many ':'"},
		{in: "null", err: `the host path "null" is not absolute`},
		{in: "/dev/null:n:r", err: `the container path "n" is not absolute`},
	}
	for _, tt := range tests {
		h, c, p, err := Device(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Device(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || h != tt.host || c != tt.container || p != tt.perm {
			t.Errorf("Device(%q) = %q %q %q %v", tt.in, h, c, p, err)
		}
	}
}

func TestSysctl(t *testing.T) {
	got, err := Sysctls([]string{"net.ipv4.ip_forward=1", "net.ipv4.ping_group_range=0 2000", "kernel.shmmax=100", "fs.mqueue.msg_max=20", "net.core.somaxconn=a=b", "net.ipv4.ip_forward=0"})
	want := map[string]string{"net.ipv4.ip_forward": "0", "net.ipv4.ping_group_range": "0 2000", "kernel.shmmax": "100", "fs.mqueue.msg_max": "20", "net.core.somaxconn": "a=b"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Sysctls = %v, %v", got, err)
	}
	for in, msg := range map[string]string{
		"foo":             `expected KEY=VALUE`,
		"=1":              `expected KEY=VALUE`,
		"kernel.foo=1":    `sysctl "kernel.foo" is not allowed`,
		"vm.swappiness=1": `sysctl "vm.swappiness" is not allowed`,
		"net.ipv4.x = 1":  "extra spaces",
	} {
		if _, _, err := Sysctl(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Sysctl(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestUmask(t *testing.T) {
	for in, want := range map[string]uint32{"0022": 0o22, "077": 0o77, "0": 0, "0777": 0o777} {
		if got, err := Umask(in); err != nil || got != want {
			t.Errorf("Umask(%q) = %o, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0888", "1000", "abc", "-1"} {
		if _, err := Umask(in); err == nil || !strings.Contains(err.Error(), "invalid --umask") {
			t.Errorf("Umask(%q) err = %v", in, err)
		}
	}
}

func TestDeviceCgroupRule(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	good := map[string]specs.LinuxDeviceCgroup{
		"c 1:3 rwm":     {Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"},
		"b 8:* r":       {Allow: true, Type: "b", Major: i(8), Access: "r"},
		"a *:* rwm":     {Allow: true, Type: "a", Access: "rwm"},
		" c 10:200 rw ": {Allow: true, Type: "c", Major: i(10), Minor: i(200), Access: "rw"},
	}
	for in, want := range good {
		if got, err := DeviceCgroupRule(in); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DeviceCgroupRule(%q) = %+v, %v", in, got, err)
		}
	}
	if got, err := DeviceCgroupRule("a 7 rmw"); err != nil || *got.Major != 7 || got.Minor != nil {
		t.Errorf("DeviceCgroupRule(a 7 rmw) = %+v, %v; want major 7, every minor", got, err)
	}
	for in, msg := range map[string]string{
		"c 1:3":     `invalid device cgroup rule requires type, major:Minor, and access rules: "c 1:3"`,
		"x 1:3 rwm": "invalid device type in device-access-add: x",
		"a a:* rmw": `strconv.ParseUint: parsing "a": invalid syntax`,
		"c 1:3 rwx": "invalid device access in device-access-add: x",
	} {
		if _, err := DeviceCgroupRule(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("DeviceCgroupRule(%q) err = %v, want %q", in, err, msg)
		}
	}
}
