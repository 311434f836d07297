package specgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/berth-containers/berth/pkg/parse"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var rlimitResources = []struct {
	name string
	res  int
}{
	{"RLIMIT_CPU", unix.RLIMIT_CPU}, {"RLIMIT_FSIZE", unix.RLIMIT_FSIZE}, {"RLIMIT_DATA", unix.RLIMIT_DATA},
	{"RLIMIT_STACK", unix.RLIMIT_STACK}, {"RLIMIT_CORE", unix.RLIMIT_CORE}, {"RLIMIT_RSS", unix.RLIMIT_RSS},
	{"RLIMIT_NPROC", unix.RLIMIT_NPROC}, {"RLIMIT_NOFILE", unix.RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK},
	{"RLIMIT_AS", unix.RLIMIT_AS}, {"RLIMIT_LOCKS", unix.RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", unix.RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", unix.RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", unix.RLIMIT_NICE}, {"RLIMIT_RTPRIO", unix.RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", unix.RLIMIT_RTTIME},
}

func rlimitResource(name string) (int, bool) {
	for _, r := range rlimitResources {
		if r.name == name {
			return r.res, true
		}
	}
	return 0, false
}

// defaultRlimit is podman's default for RLIMIT_NOFILE (and for RLIMIT_NPROC
// when pid_max cannot be read).
const defaultRlimit = 1048576

// CanRaiseRlimits tells whether the calling process may raise resource
// limits above its hard limits: it has CAP_SYS_RESOURCE and runs in the
// initial user namespace (a capability in a child user namespace does not
// let it raise limits).
func CanRaiseRlimits() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	hasCap := false
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			hasCap = err == nil && mask&(1<<unix.CAP_SYS_RESOURCE) != 0
		}
	}
	if !hasCap {
		return false
	}
	uidMap, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(uidMap))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

func readPidMax() uint64 {
	data, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// rlimits returns the process's rlimits: --ulimit host copies the engine's
// limits; --ulimit values follow, -1 (parse.RlimitMax) standing for the
// current hard limit unless limits can be raised; RLIMIT_NOFILE defaults to
// 1048576 and RLIMIT_NPROC to the kernel's pid_max, as in podman, but
// lowered to the current hard limit when limits cannot be raised (podman
// does that only rootless; here root may lack CAP_SYS_RESOURCE too).
func rlimits(o *Options, h *hostFacts) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	set := func(rl specs.POSIXRlimit) {
		for i := range out {
			if out[i].Type == rl.Type {
				out[i] = rl
				return
			}
		}
		out = append(out, rl)
	}
	current := func(name string) (unix.Rlimit, error) {
		res, ok := rlimitResource(name)
		if !ok {
			return unix.Rlimit{}, fmt.Errorf("unknown resource limit %q", name)
		}
		var rl unix.Rlimit
		if err := h.getrlimit(res, &rl); err != nil {
			return rl, fmt.Errorf("reading the current %s: %w", name, err)
		}
		return rl, nil
	}
	if o.UlimitHost {
		for _, r := range rlimitResources {
			cur, err := current(r.name)
			if err != nil {
				return nil, err
			}
			set(specs.POSIXRlimit{Type: r.name, Soft: cur.Cur, Hard: cur.Max})
		}
	}
	for _, u := range o.Ulimits {
		cur, err := current(u.Type)
		if err != nil {
			return nil, err
		}
		if !o.CanRaiseRlimits {
			if u.Hard == parse.RlimitMax {
				u.Hard = cur.Max
			}
			if u.Soft == parse.RlimitMax {
				u.Soft = u.Hard
			}
			if u.Hard > cur.Max {
				name := strings.ToLower(strings.TrimPrefix(u.Type, "RLIMIT_"))
				return nil, fmt.Errorf("--ulimit %s: the hard limit %d is above the current hard limit %d, which berth cannot raise (that needs CAP_SYS_RESOURCE); use at most %d, or -1 for that maximum", name, u.Hard, cur.Max, cur.Max)
			}
		}
		set(u)
	}
	have := func(name string) bool {
		for _, rl := range out {
			if rl.Type == name {
				return true
			}
		}
		return false
	}
	defaults := []struct {
		name string
		val  uint64
	}{{"RLIMIT_NOFILE", defaultRlimit}, {"RLIMIT_NPROC", h.pidMax}}
	for _, d := range defaults {
		if have(d.name) {
			continue
		}
		rl := specs.POSIXRlimit{Type: d.name, Soft: d.val, Hard: d.val}
		if !o.CanRaiseRlimits {
			cur, err := current(d.name)
			if err != nil {
				return nil, err
			}
			rl.Hard = min(rl.Hard, cur.Max)
			rl.Soft = min(rl.Soft, rl.Hard)
		}
		set(rl)
	}
	return out, nil
}
