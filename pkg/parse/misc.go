package parse

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/docker/go-units"
)

// HostGateway is the --add-host address that stands for the host as seen
// from the container; the engine replaces it with a real address.
const HostGateway = "host-gateway"

// HostEntry is an --add-host value: names for an /etc/hosts line.
type HostEntry struct {
	Names []string
	IP    string // an IP address, or HostGateway
}

// AddHost parses an --add-host value: NAME[;NAME...]:IP, where IP may be an
// IPv6 address, in brackets or not ("db:::1", "db:[::1]"), or "host-gateway".
func AddHost(spec string) (HostEntry, error) {
	var h HostEntry
	names, ip, ok := strings.Cut(spec, ":")
	if !ok || names == "" || ip == "" {
		return h, fmt.Errorf("invalid --add-host %q: expected NAME:IP, such as db:10.0.0.5 or db:host-gateway", spec)
	}
	for _, n := range strings.Split(names, ";") {
		if n == "" || strings.ContainsAny(n, " \t") {
			return h, fmt.Errorf("invalid --add-host %q: %q is not a host name", spec, n)
		}
		h.Names = append(h.Names, n)
	}
	if strings.HasPrefix(ip, "[") && strings.HasSuffix(ip, "]") {
		ip = ip[1 : len(ip)-1]
	}
	if ip != HostGateway && net.ParseIP(ip) == nil {
		return h, fmt.Errorf("invalid --add-host %q: %q is not an IP address (or host-gateway)", spec, ip)
	}
	h.IP = ip
	return h, nil
}

// SecurityOptions collects --security-opt values.
type SecurityOptions struct {
	SeccompProfile  string // path of a JSON profile, "unconfined", or "" for the default profile
	NoNewPrivileges bool
	LabelDisable    bool     // label=disable
	LabelNested     bool     // label=nested
	Labels          []string // label=user:X, role:X, type:X, level:X, filetype:X, as "user:X"...
	AppArmorProfile string   // apparmor=PROFILE or "unconfined"
	Unmask          []string // paths (globs allowed) to take out of the masked and read-only lists; "ALL" for all
	Mask            []string // extra paths to mask
	ProcOpts        []string // proc-opts=: extra options for the /proc mount
}

// SecurityOpts parses --security-opt values: seccomp=PATH|unconfined,
// no-new-privileges[=true|false], label=disable|nested|user:X|role:X|type:X|
// level:X|filetype:X, apparmor=PROFILE|unconfined, unmask=ALL|PATH[:PATH...],
// mask=PATH[:PATH...], proc-opts=OPT[,OPT...], systempaths=unconfined.
// As in podman, "key:value" is accepted for "key=value".
func SecurityOpts(values []string) (SecurityOptions, error) {
	var so SecurityOptions
	for _, opt := range values {
		if opt == "no-new-privileges" {
			so.NoNewPrivileges = true
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return so, fmt.Errorf("invalid --security-opt %q", opt)
		}
		switch k {
		case "seccomp":
			if v == "" {
				return so, fmt.Errorf("invalid --security-opt %q: give a profile path or unconfined", opt)
			}
			so.SeccompProfile = v
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, fmt.Errorf("invalid --security-opt %q: no-new-privileges must be true or false", opt)
			}
			so.NoNewPrivileges = b
		case "label":
			switch v {
			case "disable":
				so.LabelDisable = true
			case "nested":
				so.LabelNested = true
			default:
				lk, lv, ok := strings.Cut(v, ":")
				switch lk {
				case "user", "role", "type", "level", "filetype":
				default:
					ok = false
				}
				if !ok || lv == "" {
					return so, fmt.Errorf("invalid --security-opt %q: label must be disable, nested, or user:, role:, type:, level:, filetype: with a value", opt)
				}
				so.Labels = append(so.Labels, v)
			}
		case "apparmor":
			if v == "" {
				return so, fmt.Errorf("invalid --security-opt %q: give a profile name or unconfined", opt)
			}
			so.AppArmorProfile = v
		case "unmask", "mask":
			for _, p := range strings.Split(v, ":") {
				if k == "unmask" && p == "ALL" {
					so.Unmask = append(so.Unmask, p)
					continue
				}
				if !path.IsAbs(p) {
					return so, fmt.Errorf("invalid --security-opt %q: %q is not an absolute path", opt, p)
				}
				if k == "unmask" {
					so.Unmask = append(so.Unmask, p)
				} else {
					so.Mask = append(so.Mask, p)
				}
			}
		case "systempaths":
			if v != "unconfined" {
				return so, fmt.Errorf("invalid --security-opt %q: systempaths can only be unconfined", opt)
			}
			so.Unmask = append(so.Unmask, "ALL")
		case "proc-opts":
			so.ProcOpts = append(so.ProcOpts, strings.Split(v, ",")...)
		default:
			return so, fmt.Errorf("invalid --security-opt %q", opt)
		}
	}
	return so, nil
}

// RestartPolicy parses --restart: no, on-failure[:N], always or
// unless-stopped ("" is no policy). maxRetries is 0 for "no limit".
func RestartPolicy(spec string) (name string, maxRetries int, err error) {
	name, count, hasCount := strings.Cut(spec, ":")
	switch name {
	case "", "no", "always", "unless-stopped":
		if hasCount {
			return "", 0, fmt.Errorf("invalid --restart %q: a retry count is only allowed with on-failure", spec)
		}
		return name, 0, nil
	case "on-failure":
		if !hasCount {
			return name, 0, nil
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("invalid --restart %q: the retry count must be a number, 0 or more", spec)
		}
		return name, n, nil
	}
	return "", 0, fmt.Errorf("invalid --restart %q: use no, on-failure[:max-retries], always or unless-stopped", spec)
}

var signalNames = map[string]syscall.Signal{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
	"KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
	"CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
	"XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30,
	"SYS": 31, "UNUSED": 31,
}

const (
	sigRTMin = 34 // as glibc reserves 32 and 33
	sigRTMax = 64
)

// StopSignal parses a signal given by name, with or without SIG and in any
// case ("TERM", "sigkill", "SIGRTMIN+3"), or by number (1 to 64).
func StopSignal(spec string) (syscall.Signal, error) {
	spec = strings.TrimLeft(spec, "-") // -HUP, -1: as kill(1) and podman
	if n, err := strconv.Atoi(spec); err == nil {
		if n == 0 {
			return 0, fmt.Errorf("invalid signal: %s", spec)
		}
		if n < 1 || n > sigRTMax {
			return 0, fmt.Errorf("valid signals are 1 through %d", sigRTMax)
		}
		return syscall.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(spec), "SIG")
	if s, ok := signalNames[name]; ok {
		return s, nil
	}
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN", sigRTMin, 1}, {"RTMAX", sigRTMax, -1}} {
		rest, ok := strings.CutPrefix(name, rt.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return syscall.Signal(rt.base), nil
		}
		want := "+"
		if rt.sign < 0 {
			want = "-"
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, want)); err == nil && strings.HasPrefix(rest, want) {
			s := rt.base + rt.sign*n
			if s >= sigRTMin && s <= sigRTMax {
				return syscall.Signal(s), nil
			}
		}
	}
	return 0, fmt.Errorf("invalid signal: %s", spec)
}

// PullPolicy values.
const (
	PullAlways  = "always"
	PullMissing = "missing"
	PullNever   = "never"
	PullNewer   = "newer"
)

// PullPolicy parses --pull: always, missing, never or newer, case
// insensitive, with podman's aliases (true = always, false/ifmissing/
// ifnotpresent = missing, ifnewer = newer). "" is missing.
func PullPolicy(spec string) (string, error) {
	switch strings.ToLower(spec) {
	case "always", "true":
		return PullAlways, nil
	case "missing", "ifmissing", "ifnotpresent", "false", "":
		return PullMissing, nil
	case "never":
		return PullNever, nil
	case "newer", "ifnewer":
		return PullNewer, nil
	}
	return "", fmt.Errorf("invalid --pull %q: use always, missing, newer or never", spec)
}

// LogOptions collects --log-opt values.
type LogOptions struct {
	Path    string
	MaxSize int64 // bytes; 0 for no limit
	Tag     string
	Other   map[string]string // other key=value options, kept for the log driver
}

// LogOpts parses --log-opt values: path=, max-size=, tag= and any other
// key=value.
func LogOpts(values []string) (LogOptions, error) {
	var lo LogOptions
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" || val == "" {
			return lo, fmt.Errorf("invalid --log-opt %q: expected key=value, such as max-size=10m", v)
		}
		switch k {
		case "path":
			lo.Path = val
		case "max-size":
			n, err := units.FromHumanSize(val)
			if err != nil || n < 0 {
				return lo, fmt.Errorf("invalid --log-opt %q: use a size such as 10m", v)
			}
			lo.MaxSize = n
		case "tag":
			lo.Tag = val
		default:
			if lo.Other == nil {
				lo.Other = map[string]string{}
			}
			lo.Other[k] = val
		}
	}
	return lo, nil
}

// DetachKeys parses --detach-keys, a comma-separated sequence of keys: a
// single character ("a"), ctrl-<letter>, ctrl-@, ctrl-[, ctrl-\, ctrl-],
// ctrl-^ or ctrl-_ (as in podman, ctrl-<letter> takes a lower-case letter).
// "" disables detaching: it returns nil.
func DetachKeys(spec string) ([]byte, error) {
	if spec == "" {
		return nil, nil
	}
	var out []byte
	for _, k := range strings.Split(spec, ",") {
		if len(k) == 1 {
			out = append(out, k[0])
			continue
		}
		if c, ok := strings.CutPrefix(k, "ctrl-"); ok && len(c) == 1 {
			switch {
			case c[0] >= 'a' && c[0] <= 'z':
				out = append(out, c[0]-'a'+1)
				continue
			case strings.ContainsRune("@[\\]^_", rune(c[0])):
				out = append(out, c[0]-'@')
				continue
			}
		}
		if k == "DEL" {
			out = append(out, 127)
			continue
		}
		return nil, fmt.Errorf("invalid --detach-keys %q: unknown key %q; use a character, ctrl-<a-z>, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^ or ctrl-_, separated by commas", spec, k)
	}
	return out, nil
}

// UserNS modes.
const (
	UserNSHost      = "host"      // the engine's user namespace (the default)
	UserNSKeepID    = "keep-id"   // map the user running berth to itself (or to UID/GID) in the container
	UserNSNoMap     = "nomap"     // map the subuid range but not the user running berth
	UserNSPrivate   = "private"   // a new user namespace
	UserNSPath      = "ns"        // join the user namespace at Path
	UserNSContainer = "container" // join the user namespace of Container
)

// UserNS is a --userns value.
type UserNS struct {
	Mode      string
	UID, GID  *uint32 // keep-id:uid=,gid=: the container IDs the user is mapped to
	Size      *uint32 // keep-id:size=: the size of the namespace
	Path      string  // ns:PATH
	Container string  // container:ID
}

// ParseUserNS parses --userns: "" or host, keep-id[:uid=N,gid=N,size=N],
// nomap, private, ns:PATH, container:ID. auto is refused: berth does not
// allocate per-container ranges.
func ParseUserNS(spec string) (UserNS, error) {
	mode, opts, hasOpts := strings.Cut(spec, ":")
	u := UserNS{Mode: mode}
	switch mode {
	case "", "host":
		u.Mode = UserNSHost
	case "nomap", "private":
	case "keep-id":
		if !hasOpts {
			break
		}
		for _, o := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(o, "=")
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil && (k == "uid" || k == "gid" || k == "size") {
				return u, fmt.Errorf("invalid --userns %q: %s must be a number, not %q", spec, k, v)
			}
			n32 := uint32(n)
			switch k {
			case "uid":
				u.UID = &n32
			case "gid":
				u.GID = &n32
			case "size":
				u.Size = &n32
			default:
				return u, fmt.Errorf("invalid --userns %q: unknown keep-id option %q (use uid=, gid=, size=)", spec, o)
			}
		}
		return u, nil
	case "ns":
		if !path.IsAbs(opts) {
			return u, fmt.Errorf("invalid --userns %q: ns: needs an absolute path", spec)
		}
		u.Mode, u.Path = UserNSPath, opts
		return u, nil
	case "container":
		if opts == "" {
			return u, fmt.Errorf("invalid --userns %q: container: needs a container name or ID", spec)
		}
		u.Mode, u.Container = UserNSContainer, opts
		return u, nil
	case "auto":
		return u, fmt.Errorf("--userns=auto is not supported by berth: use keep-id, nomap or host")
	default:
		return u, fmt.Errorf("invalid --userns %q: use host, keep-id[:uid=N,gid=N], nomap, private, ns:PATH or container:ID", spec)
	}
	if hasOpts {
		return u, fmt.Errorf("invalid --userns %q: %s takes no options", spec, mode)
	}
	return u, nil
}
