package specgen

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// capNames is the kernel's capability numbering (linux/capability.h).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities is podman's default capability set (containers.conf
// default_capabilities).
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

// NormalizeCapability turns "net_admin" or "CAP_NET_ADMIN" into
// "CAP_NET_ADMIN"; "ALL" stays "ALL". It errors on an unknown capability.
func NormalizeCapability(c string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(c))
	if u == "ALL" {
		return u, nil
	}
	if !strings.HasPrefix(u, "CAP_") {
		u = "CAP_" + u
	}
	for _, n := range capNames {
		if n == u {
			return u, nil
		}
	}
	return "", fmt.Errorf("unknown capability %q", c)
}

func normalizeCaps(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, c := range list {
		n, err := NormalizeCapability(c)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MergeCapabilities applies --cap-add and --cap-drop to base, as podman
// does: "ALL" in drops leaves only adds; "ALL" in adds starts from bounding
// (the capabilities the engine holds); a capability both added and dropped
// is an error. The result is sorted.
func MergeCapabilities(base, adds, drops, bounding []string) ([]string, error) {
	base, err := normalizeCaps(base)
	if err != nil {
		return nil, err
	}
	adds, err = normalizeCaps(adds)
	if err != nil {
		return nil, fmt.Errorf("--cap-add: %w", err)
	}
	drops, err = normalizeCaps(drops)
	if err != nil {
		return nil, fmt.Errorf("--cap-drop: %w", err)
	}
	if contains(drops, "ALL") {
		if contains(adds, "ALL") {
			return nil, fmt.Errorf("--cap-add ALL and --cap-drop ALL cannot be used together")
		}
		out := dedup(adds)
		sort.Strings(out)
		return out, nil
	}
	if contains(adds, "ALL") {
		base, adds = bounding, nil
	}
	for _, a := range adds {
		if contains(drops, a) {
			return nil, fmt.Errorf("capability %q cannot be both added and dropped", a)
		}
	}
	var out []string
	for _, c := range base {
		if !contains(drops, c) && !contains(out, c) {
			out = append(out, c)
		}
	}
	for _, c := range adds {
		if !contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

func dedup(list []string) []string {
	var out []string
	for _, s := range list {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// BoundingSet returns the capabilities in the bounding set of the calling
// process (CapBnd in /proc/self/status), sorted: what "ALL" and
// --privileged give a container.
func BoundingSet() ([]string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("reading CapBnd: %w", err)
			}
			return capsFromMask(mask), nil
		}
	}
	return nil, fmt.Errorf("no CapBnd in /proc/self/status")
}

func capsFromMask(mask uint64) []string {
	var out []string
	for i, n := range capNames {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func intersect(list, allowed []string) []string {
	var out []string
	for _, c := range list {
		if contains(allowed, c) {
			out = append(out, c)
		}
	}
	return out
}
