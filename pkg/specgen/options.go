// Package specgen generates the OCI runtime spec (config.json) of a
// container from the engine's options, the way podman does: same defaults
// (capabilities, mounts, masked paths, seccomp profile, rlimits, env),
// same rules for commands, users and options, so that a container behaves
// the same under berth and podman.
//
// It is a library: it reads /etc/passwd and /etc/group in the container's
// root filesystem, device nodes and a few /proc files of the engine's own
// process, and nothing else; it creates nothing.
package specgen

import (
	"os"
	"syscall"
	"time"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// NamespaceMode says how a container gets one kind of namespace.
type NamespaceMode string

const (
	// NSPrivate is a new namespace (the zero value, and the default).
	NSPrivate NamespaceMode = ""
	// NSHost shares the engine's namespace.
	NSHost NamespaceMode = "host"
	// NSPath joins the namespace at Namespace.Path (a /proc/PID/ns/* or bind-mounted nsfs file).
	NSPath NamespaceMode = "path"
	// NSNone is a new namespace with nothing in it: for the network, only a
	// loopback; for IPC, no /dev/shm mount.
	NSNone NamespaceMode = "none"
)

// Namespace is one namespace setting.
type Namespace struct {
	Mode NamespaceMode `json:"mode,omitempty"`
	Path string        `json:"path,omitempty"` // with NSPath
}

// Files are the files the engine prepares on the host and bind-mounts into
// the container; an empty path is not mounted.
type Files struct {
	Hosts        string // /etc/hosts
	ResolvConf   string // /etc/resolv.conf
	Hostname     string // /etc/hostname
	ContainerEnv string // /run/.containerenv
	Localtime    string // /etc/localtime (--tz)
}

// InitPath is where --init's binary appears in the container, and what
// runs first (as in podman).
const InitPath = "/run/podman-init"

// Options is everything that decides a container's spec.
type Options struct {
	// Rootfs is the host path of the container's mounted root filesystem.
	// Users and groups are resolved in its /etc/passwd and /etc/group.
	Rootfs string
	// Image is the image's config; nil for a container without an image.
	Image *ociv1.ImageConfig

	// Entrypoint overrides the image's: nil keeps it, an empty list or [""]
	// clears it (see ParseEntrypoint). Command overrides the image's CMD.
	Entrypoint, Command []string
	// Env is the user's environment (-e, --env-file, --env-host,
	// --env-merge, already expanded by package parse), applied over the
	// image's and the defaults.
	Env []string
	// DefaultEnv is containers.conf's [containers] env: over the built-in
	// PATH, TERM and container=podman, under the image's.
	DefaultEnv []string
	// UnsetEnv are --unsetenv names: removed from the defaults and the
	// image's environment (not from Env). UnsetEnvAll is --unsetenv-all:
	// neither the defaults nor the image's environment.
	UnsetEnv    []string `json:",omitempty"`
	UnsetEnvAll bool     `json:",omitempty"`
	// WorkDir is --workdir; "" is the image's, else "/". The engine creates
	// the image's if missing, and refuses a missing --workdir (podman does).
	WorkDir string
	// User is --user (user[:group], names or numbers); "" is the image's
	// USER, else root. GroupAdd is --group-add.
	User     string
	GroupAdd []string
	// HostUsers are --hostuser values (names or UIDs of host users): the
	// engine adds them to the container's /etc/passwd (see PasswdAdditions).
	HostUsers []string `json:",omitempty"`
	// NoPasswd is --passwd=false: nothing is added to /etc/passwd and
	// /etc/group. PasswdEntry is --passwd-entry (see PasswdRequest.Entry).
	NoPasswd    bool   `json:",omitempty"`
	PasswdEntry string `json:",omitempty"`
	// Umask is the process umask; nil is 0022.
	Umask *uint32
	// Terminal is -t.
	Terminal bool
	// Hostname is the container's host name (and $HOSTNAME). With a host
	// UTS namespace it only sets $HOSTNAME, "" meaning the host's name.
	Hostname string

	// ReadOnly is --read-only; ReadOnlyTmpfs is --read-only-tmpfs (the
	// CLI's default is true): tmpfs on /tmp, /var/tmp and /run.
	ReadOnly, ReadOnlyTmpfs bool

	// Privileged is --privileged: all capabilities, all host devices, no
	// masked or read-only paths, no seccomp (unless a profile is given),
	// read-write /sys and cgroup mounts.
	Privileged bool
	// CapAdd and CapDrop are --cap-add and --cap-drop ("ALL" allowed).
	CapAdd, CapDrop []string
	// Capabilities replaces the default set (containers.conf
	// default_capabilities); nil is DefaultCapabilities.
	Capabilities []string
	// NoNewPrivileges is --security-opt no-new-privileges.
	NoNewPrivileges bool
	// SeccompProfile is "" for the default profile, SeccompUnconfined, or
	// the path of a JSON profile.
	SeccompProfile string
	// AppArmorProfile, SELinuxProcessLabel and SELinuxMountLabel are passed
	// through when set; the engine decides them (they are "" when the host
	// has no AppArmor/SELinux).
	AppArmorProfile, SELinuxProcessLabel, SELinuxMountLabel string
	// Unmask takes paths (globs, or "ALL") out of the masked and read-only
	// paths; Mask adds masked paths.
	Unmask, Mask []string
	// ProcOpts are extra options for the /proc mount (--security-opt proc-opts=).
	ProcOpts []string

	// Ulimits are --ulimit values (package parse); UlimitHost is --ulimit
	// host (copy every limit of the engine's process).
	Ulimits    []specs.POSIXRlimit
	UlimitHost bool
	// CanRaiseRlimits says whether the runtime can raise limits above the
	// engine's hard limits (see CanRaiseRlimits). When false, defaults are
	// lowered to the current hard limits and --ulimit above them fails.
	CanRaiseRlimits bool
	// OOMScoreAdj is --oom-score-adj.
	OOMScoreAdj *int

	// UseCgroups says whether cgroup limits can be applied (not rootless
	// on cgroup v1). When false, the spec has no resources and no
	// cgroupsPath, and the limits below are ignored (the engine warns).
	UseCgroups  bool
	CgroupsPath string
	// Resource limits; zero values are unset.
	Memory            int64 // bytes
	MemoryReservation int64
	MemorySwap        int64 // memory+swap; -1 is unlimited; 0 is twice Memory when Memory is set
	MemorySwappiness  *uint64
	OOMKillDisable    bool
	CPUShares         uint64
	CPUQuota          int64
	CPUPeriod         uint64
	CPUSetCPUs        string
	CPUSetMems        string
	// PidsLimit is --pids-limit: nil is podman's default 2048, 0 or -1 is
	// unlimited.
	PidsLimit *int64

	// Devices are --device values; DeviceCgroupRules are
	// --device-cgroup-rule values (package parse), added to the device
	// cgroup when cgroups are used.
	Devices           []Device
	DeviceCgroupRules []specs.LinuxDeviceCgroup
	// Sysctls are --sysctl values; DefaultSysctls are containers.conf's
	// default_sysctls (nil is podman's: net.ipv4.ping_group_range=0 0),
	// each applied only where the namespace is the container's own.
	Sysctls, DefaultSysctls map[string]string

	// ShmSize is --shm-size in bytes (0 is 64 MiB). ShmPath is a host
	// directory (a tmpfs the engine mounted) to bind at /dev/shm instead of
	// a tmpfs in the spec.
	ShmSize int64
	ShmPath string

	// Mounts are the user's mounts, already resolved by the engine. Type
	// "bind" and "tmpfs" get podman's default options; Type "volume" (a
	// named or anonymous volume, Source being its host directory) becomes a
	// bind mount with nosuid and nodev by default; other types pass
	// through. Engine-only options (z, Z, U, O, copy, nocopy) are dropped.
	Mounts []specs.Mount
	// Files are the engine-prepared files (hosts, resolv.conf, ...).
	Files Files

	// Namespaces. The zero value of each is a new namespace. Cgroup: the
	// engine passes NSHost on cgroup v1 (podman's default there).
	PID, IPC, UTS, Network, Cgroup Namespace
	// UserNS, when set, gives the container a new user namespace with
	// these mappings (--userns=keep-id, nomap: see KeepIDMappings).
	// UserNSPath joins an existing user namespace instead.
	UserNS     *IDMappings
	UserNSPath string

	// Rootless says the engine runs as a non-root user (inside its user
	// namespace): devices are bind-mounted, /sys is bind-mounted with a
	// host network namespace, /dev/mqueue with a host IPC namespace.
	Rootless bool

	// InitBinary is --init's host binary (catatonit, tini); "" for no init.
	InitBinary string

	// Annotations are the user's (--annotation); podman's own are added.
	Annotations map[string]string
	// StopSignal is --stop-signal (0: the image's, else SIGTERM).
	StopSignal syscall.Signal
	// AutoRemove (--rm) and PublishAll (-P) are recorded as annotations.
	AutoRemove, PublishAll bool
	// Created, if set, is recorded as an annotation.
	Created time.Time

	// Host overrides facts read from the machine; for tests.
	Host *HostFacts `json:"-"`
}

// HostFacts are what Generate reads from the machine; a zero field is read.
type HostFacts struct {
	BoundingSet   []string                                  // CapBnd of the engine's process
	Getrlimit     func(resource int, rl *unix.Rlimit) error // the engine's limits
	PidMax        uint64                                    // /proc/sys/kernel/pid_max
	Hostname      string                                    // the host's name
	DevDir        string                                    // where host devices are, "/dev"
	KernelRelease string                                    // for seccomp rules
}

type hostFacts struct {
	bounding  []string
	getrlimit func(resource int, rl *unix.Rlimit) error
	pidMax    uint64
	hostname  string
	devDir    string
	kernel    string
}

func (o *Options) hostFacts() (*hostFacts, error) {
	h := &hostFacts{}
	if o.Host != nil {
		h.bounding, h.getrlimit, h.pidMax = o.Host.BoundingSet, o.Host.Getrlimit, o.Host.PidMax
		h.hostname, h.devDir, h.kernel = o.Host.Hostname, o.Host.DevDir, o.Host.KernelRelease
	}
	var err error
	if h.bounding == nil {
		if h.bounding, err = BoundingSet(); err != nil {
			return nil, err
		}
	}
	if h.getrlimit == nil {
		h.getrlimit = unix.Getrlimit
	}
	if h.pidMax == 0 {
		if h.pidMax = readPidMax(); h.pidMax == 0 {
			h.pidMax = defaultRlimit
		}
	}
	if h.devDir == "" {
		h.devDir = "/dev"
	}
	if h.kernel == "" {
		h.kernel = kernelRelease()
	}
	if h.hostname == "" && o.UTS.Mode == NSHost {
		h.hostname, _ = os.Hostname()
	}
	return h, nil
}
