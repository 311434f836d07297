package specgen

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultShmSize is the size of /dev/shm when --shm-size is not given.
const DefaultShmSize = 64 << 20

// DefaultMaskedPaths are podman's masked paths, plus
// /sys/devices/virtual/powercap (CVE-2020-8694, masked by docker too).
var DefaultMaskedPaths = []string{
	"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
	"/sys/dev/block", "/sys/devices/virtual/powercap",
}

// DefaultReadonlyPaths are podman's read-only paths.
var DefaultReadonlyPaths = []string{
	"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

var propagations = []string{"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}

func hasAnyOption(opts []string, names ...string) bool {
	for _, o := range opts {
		for _, n := range names {
			if o == n {
				return true
			}
		}
	}
	return false
}

// engineOnlyOptions are -v/--mount options the engine acts on; they mean
// nothing to the kernel or the runtime.
var engineOnlyOptions = []string{"z", "Z", "U", "O", "copy", "nocopy", "notmpcopyup"}

// normalizeMount gives a user mount podman's defaults:
//   - bind: [opts..., rw, rprivate, rbind] (each only if not given);
//   - volume: a bind mount with [opts..., rw, rprivate, nosuid, nodev, rbind];
//   - tmpfs: [opts..., rw, rprivate, nosuid, nodev, tmpcopyup].
func normalizeMount(m specs.Mount) (specs.Mount, error) {
	if !path.IsAbs(m.Destination) {
		return m, fmt.Errorf("invalid container path %q, must be an absolute path", m.Destination)
	}
	m.Destination = path.Clean(m.Destination)
	var opts []string
	for _, o := range m.Options {
		if !hasAnyOption([]string{o}, engineOnlyOptions...) {
			opts = append(opts, o)
		}
	}
	notmpcopyup := hasAnyOption(m.Options, "notmpcopyup")
	addUnless := func(opt string, unless ...string) {
		if !hasAnyOption(opts, unless...) {
			opts = append(opts, opt)
		}
	}
	switch m.Type {
	case "bind", "volume":
		if m.Source == "" || !path.IsAbs(m.Source) {
			return m, fmt.Errorf("mount on %s: the source %q is not an absolute host path", m.Destination, m.Source)
		}
		addUnless("rw", "ro", "rw")
		addUnless("rprivate", propagations...)
		if m.Type == "volume" {
			addUnless("nosuid", "suid", "nosuid")
			addUnless("nodev", "dev", "nodev")
			m.Type = "bind"
		}
		addUnless("rbind", "bind", "rbind")
	case "tmpfs":
		m.Source = "tmpfs"
		addUnless("rw", "ro", "rw")
		addUnless("rprivate", propagations...)
		addUnless("nosuid", "suid", "nosuid")
		addUnless("nodev", "dev", "nodev")
		if !notmpcopyup {
			addUnless("tmpcopyup", "tmpcopyup")
		}
	}
	m.Options = opts
	return m, nil
}

func mountDepth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(path.Clean(p), "/")
}

// finishMounts keeps the last mount of each destination (user mounts come
// after the defaults they replace) and orders parents before children,
// keeping the order of mounts at the same depth.
func finishMounts(mounts []specs.Mount) []specs.Mount {
	last := map[string]int{}
	for i, m := range mounts {
		last[path.Clean(m.Destination)] = i
	}
	var out []specs.Mount
	for i, m := range mounts {
		if last[path.Clean(m.Destination)] == i {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return mountDepth(out[i].Destination) < mountDepth(out[j].Destination) })
	return out
}

func hasMount(mounts []specs.Mount, dst string) bool {
	for _, m := range mounts {
		if path.Clean(m.Destination) == dst {
			return true
		}
	}
	return false
}

// defaultMounts returns podman's mounts for a container: /proc, /dev, /sys,
// /dev/pts, /dev/mqueue, /dev/shm, /sys/fs/cgroup, the engine's files,
// --read-only tmpfs and --init.
func defaultMounts(o *Options, gidMap []specs.LinuxIDMapping) []specs.Mount {
	rw := "ro"
	if o.Privileged {
		rw = "rw"
	}
	proc := specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: append([]string{"nosuid", "noexec", "nodev"}, o.ProcOpts...)}
	if (o.Rootless || o.UserNS != nil) && o.PID.Mode == NSHost {
		// a user namespace cannot mount the proc of a PID namespace it
		// does not own: bind the host's, as podman does
		proc = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
	}
	dev := specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}}
	pts := specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}
	if !mapped(gidMap, 5) {
		// the tty group is not mapped in the container's user namespace
		pts.Options = pts.Options[:len(pts.Options)-1]
	}
	mounts := []specs.Mount{proc, dev}

	// /sys: a sysfs needs a network namespace the container owns; rootless
	// with the host's network namespace, bind the host's /sys instead (its
	// cgroup tree comes with it).
	inUserNS := o.Rootless || o.UserNS != nil
	sysBind := inUserNS && o.Network.Mode == NSHost
	switch {
	case sysBind:
		mounts = append(mounts, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rprivate", "nosuid", "noexec", "nodev", rw, "rbind"}})
	case o.Privileged:
		mounts = append(mounts, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"rprivate", "nosuid", "noexec", "nodev", "rw"}})
	default:
		mounts = append(mounts, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
	}
	mounts = append(mounts, pts)

	// /dev/mqueue: an mqueue fs of the container's IPC namespace; rootless
	// with the host's, bind the host's (the user namespace does not own it).
	if o.Rootless && o.IPC.Mode == NSHost {
		// (a host without an mqueue mount gives none)
		if _, err := os.Stat("/dev/mqueue"); err == nil {
			mounts = append(mounts, specs.Mount{Destination: "/dev/mqueue", Type: "bind", Source: "/dev/mqueue", Options: []string{"bind", "nosuid", "noexec", "nodev"}})
		}
	} else {
		mounts = append(mounts, specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}})
	}

	// engine-prepared files
	for _, f := range []struct{ dst, src string }{
		{"/etc/resolv.conf", o.Files.ResolvConf},
		{"/etc/hosts", o.Files.Hosts},
		{"/etc/hostname", o.Files.Hostname},
		{"/run/.containerenv", o.Files.ContainerEnv},
		{"/etc/localtime", o.Files.Localtime},
	} {
		if f.src == "" {
			continue
		}
		opts := []string{"bind", "rprivate"}
		if o.ReadOnly {
			opts = append(opts, "ro", "nosuid", "noexec", "nodev")
		}
		mounts = append(mounts, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: opts})
	}

	// /dev/shm
	switch {
	case o.IPC.Mode == NSNone:
	case o.IPC.Mode == NSHost:
		mounts = append(mounts, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"bind", "rprivate", "nosuid", "noexec", "nodev"}})
	case o.ShmPath != "":
		mounts = append(mounts, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: o.ShmPath, Options: []string{"bind", "rprivate", "nosuid", "noexec", "nodev"}})
	default:
		size := o.ShmSize
		if size <= 0 {
			size = DefaultShmSize
		}
		mounts = append(mounts, specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"rw", "nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(size, 10)}})
	}

	if !sysBind {
		mounts = append(mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"rprivate", "nosuid", "noexec", "nodev", "relatime", rw}})
	}

	if o.ReadOnly && o.ReadOnlyTmpfs {
		for _, d := range []string{"/tmp", "/var/tmp", "/run"} {
			mounts = append(mounts, specs.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs", Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}})
		}
	}
	if o.InitBinary != "" {
		mounts = append(mounts, specs.Mount{Destination: InitPath, Type: "bind", Source: o.InitBinary, Options: []string{"bind", "ro", "rprivate"}})
	}
	return mounts
}

// rootPropagation is what the rootfs propagation must be for the mounts'
// own propagation to work: rshared if one is shared, rslave if one is a
// slave, "" otherwise.
func rootPropagation(mounts []specs.Mount) string {
	prop := ""
	for _, m := range mounts {
		for _, o := range m.Options {
			switch o {
			case "shared", "rshared":
				return "rshared"
			case "slave", "rslave":
				prop = "rslave"
			}
		}
	}
	return prop
}

// maskedPaths applies --security-opt unmask= and mask= to podman's lists.
func maskedPaths(o *Options) (masked, readonly []string, err error) {
	if o.Privileged {
		return nil, nil, nil
	}
	unmasked := func(p string) (bool, error) {
		for _, u := range o.Unmask {
			if u == "ALL" {
				return true, nil
			}
			ok, err := path.Match(u, p)
			if err != nil {
				return false, fmt.Errorf("invalid unmask pattern %q: %w", u, err)
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	for _, list := range []struct {
		in  []string
		out *[]string
	}{{DefaultMaskedPaths, &masked}, {DefaultReadonlyPaths, &readonly}} {
		for _, p := range list.in {
			u, err := unmasked(p)
			if err != nil {
				return nil, nil, err
			}
			if !u {
				*list.out = append(*list.out, p)
			}
		}
	}
	for _, p := range o.Mask {
		if !path.IsAbs(p) {
			return nil, nil, fmt.Errorf("invalid mask path %q: must be an absolute path", p)
		}
		if !contains(masked, p) {
			masked = append(masked, p)
		}
	}
	return masked, readonly, nil
}
