package parse

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RlimitMax is the value -1 stands for in a --ulimit: the largest limit
// possible. The spec generator lowers it to the current hard limit when the
// engine cannot raise limits.
const RlimitMax = math.MaxUint64

var ulimitNames = map[string]bool{
	"core": true, "cpu": true, "data": true, "fsize": true, "locks": true, "memlock": true,
	"msgqueue": true, "nice": true, "nofile": true, "nproc": true, "rss": true, "rtprio": true,
	"rttime": true, "sigpending": true, "stack": true, "as": true, // as: RLIMIT_AS, not in docker's list
}

// Ulimit parses a --ulimit value: name=soft[:hard] (hard defaults to soft),
// where -1 means unlimited (RlimitMax), such as nofile=1024:2048 or nproc=-1.
// The Type of the result is the RLIMIT_ name ("RLIMIT_NOFILE").
// "--ulimit host" is not a limit: callers check for it before calling Ulimit.
func Ulimit(spec string) (specs.POSIXRlimit, error) {
	var rl specs.POSIXRlimit
	name, vals, ok := strings.Cut(spec, "=")
	if !ok || vals == "" {
		return rl, fmt.Errorf("invalid --ulimit %q: expected name=soft[:hard], such as nofile=1024:2048", spec)
	}
	if !ulimitNames[name] {
		return rl, fmt.Errorf("invalid --ulimit %q: unknown limit %q (known: core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)", spec, name)
	}
	parts := strings.Split(vals, ":")
	if len(parts) > 2 {
		return rl, fmt.Errorf("invalid --ulimit %q: give at most two values, soft[:hard]", spec)
	}
	var nums [2]uint64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < -1 {
			return rl, fmt.Errorf("invalid --ulimit %q: %q is not a number (use -1 for unlimited)", spec, p)
		}
		if n == -1 {
			nums[i] = RlimitMax
		} else {
			nums[i] = uint64(n)
		}
	}
	soft, hard := nums[0], nums[0]
	if len(parts) == 2 {
		hard = nums[1]
	}
	if soft > hard {
		return rl, fmt.Errorf("invalid --ulimit %q: the soft limit %s is above the hard limit %s", spec, parts[0], parts[len(parts)-1])
	}
	rl.Type = "RLIMIT_" + strings.ToUpper(name)
	rl.Soft, rl.Hard = soft, hard
	return rl, nil
}

// Size parses a size for the option named flag ("--memory", "--shm-size"):
// a number of bytes, or a number with a unit b, k, m, g, t (powers of 1024),
// such as 512m or 1.5g.
func Size(flag, spec string) (int64, error) {
	n, err := units.RAMInBytes(spec)
	if err != nil || n < 0 || strings.TrimSpace(spec) != spec {
		return 0, fmt.Errorf("invalid %s %q: use a size such as 512m or 1g (units b, k, m, g, t)", flag, spec)
	}
	return n, nil
}

// Memory parses --memory (and --memory-reservation, --kernel-memory...): see Size.
func Memory(spec string) (int64, error) {
	return Size("--memory", spec)
}

// MemorySwap parses --memory-swap: a size, or -1 for unlimited swap.
func MemorySwap(spec string) (int64, error) {
	if spec == "-1" {
		return -1, nil
	}
	return Size("--memory-swap", spec)
}

// CPUPeriod is the CFS period that --cpus uses, in microseconds.
const CPUPeriod = 100000

// CPUs parses --cpus, a number of CPUs such as 1.5, into a CFS quota and
// period (microseconds). 0 means no limit (0, 0).
func CPUs(spec string) (quota int64, period uint64, err error) {
	f, err := strconv.ParseFloat(spec, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, 0, fmt.Errorf("invalid --cpus %q: use a number of CPUs, such as 1.5", spec)
	}
	if f < 0 {
		return 0, 0, fmt.Errorf("invalid --cpus %q: the number of CPUs cannot be negative", spec)
	}
	if f == 0 {
		return 0, 0, nil
	}
	quota = int64(math.Round(f * CPUPeriod))
	if quota < 1000 {
		return 0, 0, fmt.Errorf("invalid --cpus %q: the minimum is 0.01", spec)
	}
	return quota, CPUPeriod, nil
}

func validDevicePerms(p string) bool {
	if p == "" || len(p) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range p {
		if (c != 'r' && c != 'w' && c != 'm') || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// Device parses a --device value: HOST[:CONTAINER][:PERMS], where PERMS is
// made of r, w and m (default "rwm") and CONTAINER defaults to HOST.
func Device(spec string) (host, container, perms string, err error) {
	perms = "rwm"
	parts := strings.Split(spec, ":")
	bad := func(why string) (string, string, string, error) {
		return "", "", "", fmt.Errorf("invalid --device %q: %s; expected /dev/host[:/dev/container][:rwm]", spec, why)
	}
	switch len(parts) {
	case 3:
		if !validDevicePerms(parts[2]) {
			return bad(fmt.Sprintf("invalid permissions %q (use r, w and m)", parts[2]))
		}
		if !path.IsAbs(parts[1]) {
			return bad(fmt.Sprintf("the container path %q is not absolute", parts[1]))
		}
		container, perms = parts[1], parts[2]
	case 2:
		switch {
		case validDevicePerms(parts[1]):
			perms = parts[1]
		case path.IsAbs(parts[1]):
			container = parts[1]
		default:
			return bad(fmt.Sprintf("%q is neither an absolute container path nor permissions (r, w, m)", parts[1]))
		}
	case 1:
	default:
		return bad("too many ':'")
	}
	host = parts[0]
	if !path.IsAbs(host) {
		return bad(fmt.Sprintf("the host path %q is not absolute", host))
	}
	if container == "" {
		container = host
	}
	return path.Clean(host), path.Clean(container), perms, nil
}

// namespaced sysctls that may be set in a container (as podman)
var sysctlNames = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	"kernel.domainname": true, "kernel.hostname": true,
}

// Sysctl parses a --sysctl value, KEY=VALUE, and checks that KEY is a
// namespaced sysctl a container may set: net.*, fs.mqueue.*, or one of the
// IPC kernel.* keys.
func Sysctl(spec string) (key, value string, err error) {
	key, value, ok := strings.Cut(spec, "=")
	if !ok || key == "" {
		return "", "", fmt.Errorf("invalid --sysctl %q: expected KEY=VALUE, such as net.ipv4.ip_forward=1", spec)
	}
	if strings.TrimSpace(key) != key || strings.TrimSpace(value) != value {
		return "", "", fmt.Errorf("invalid --sysctl %q: extra spaces around the key or the value", spec)
	}
	if !sysctlNames[key] && !strings.HasPrefix(key, "net.") && !strings.HasPrefix(key, "fs.mqueue.") {
		return "", "", fmt.Errorf("sysctl %q is not allowed: only namespaced sysctls can be set in a container (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*)", key)
	}
	return key, value, nil
}

// Sysctls parses several --sysctl values into a map; a later key wins.
func Sysctls(specs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		k, v, err := Sysctl(s)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// Umask parses --umask, an octal mode such as 0022 or 077.
func Umask(spec string) (uint32, error) {
	n, err := strconv.ParseUint(spec, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("invalid --umask %q: use an octal mode from 0000 to 0777, such as 0022", spec)
	}
	return uint32(n), nil
}

// DeviceCgroupRule parses a --device-cgroup-rule value: TYPE MAJOR[:MINOR]
// ACCESS, where TYPE is a (all), c (char) or b (block), MAJOR and MINOR are
// numbers or * (MINOR left out: all), and ACCESS is made of r, w and m;
// such as "c 1:3 rwm". The messages are podman's, which scripts match.
func DeviceCgroupRule(spec string) (specs.LinuxDeviceCgroup, error) {
	f := strings.Fields(spec)
	if len(f) != 3 {
		return specs.LinuxDeviceCgroup{}, fmt.Errorf("invalid device cgroup rule requires type, major:Minor, and access rules: %q", spec)
	}
	switch f[0] {
	case "a", "c", "b":
	default:
		return specs.LinuxDeviceCgroup{}, fmt.Errorf("invalid device type in device-access-add: %s", f[0])
	}
	num := func(s string) (*int64, error) {
		if s == "*" {
			return nil, nil
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, err
		}
		v := int64(n)
		return &v, nil
	}
	majS, minS, _ := strings.Cut(f[1], ":")
	maj, err := num(majS)
	if err != nil {
		return specs.LinuxDeviceCgroup{}, err
	}
	var minr *int64
	if minS != "" {
		if minr, err = num(minS); err != nil {
			return specs.LinuxDeviceCgroup{}, err
		}
	}
	for _, c := range f[2] {
		if c != 'r' && c != 'w' && c != 'm' {
			return specs.LinuxDeviceCgroup{}, fmt.Errorf("invalid device access in device-access-add: %c", c)
		}
	}
	return specs.LinuxDeviceCgroup{Allow: true, Type: f[0], Major: maj, Minor: minr, Access: f[2]}, nil
}
