package libpod

import (
	"syscall"
	"time"

	"github.com/berth-containers/berth/pkg/specgen"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SpecSchemaVersion is the version of ContainerSpec's stored form. A change
// that an older berth would misread bumps it, with a migration of the state
// database (see upgradeContainerConfig).
const SpecSchemaVersion = 1

// ContainerSpec is everything a user can ask of a container. Every front end
// (the CLI, kube play, quadlet, the API service) fills one and passes it to
// Runtime.CreateContainer, which checks it, fills the defaults (from
// containers.conf and the image) and stores it: it is the container's row in
// the state database. The OCI spec is generated from it at every start,
// together with what only the start knows (the mounted root filesystem, the
// host, the files berth generates); none of that is stored here.
//
// A zero field asks for the default. Fields marked "filled" are set by
// CreateContainer; a front end leaves them empty.
type ContainerSpec struct {
	// SchemaVersion is SpecSchemaVersion when stored (filled).
	SchemaVersion int `json:"schemaVersion"`

	// ID is the container's ID (filled).
	ID string `json:"id"`
	// Name is the container's unique name; "" gets a random one (filled).
	Name string `json:"name"`
	// Replace removes berth's own container of the same name first (podman's
	// --replace). Not stored.
	Replace bool `json:"-"`
	// Created is the creation time (filled).
	Created time.Time `json:"created"`
	// CreateCommand is the command line that created the container, shown
	// by inspect (the CLI sets it).
	CreateCommand []string `json:"createCommand,omitempty"`
	// Labels and Annotations are the user's metadata.
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`

	// Image is the image as the user named it (a name, short name or ID).
	Image string `json:"image"`
	// PullPolicy is when the image is pulled: "missing" (""), "always",
	// "never" or "newer".
	PullPolicy string `json:"pullPolicy,omitempty"`
	// ImageID, ImageName (the image's first name, else Image) and
	// ImageConfig (the image's config at create time) are filled.
	ImageID     string             `json:"imageId"`
	ImageName   string             `json:"imageName"`
	ImageConfig *ociv1.ImageConfig `json:"imageConfig,omitempty"`
	// OCIRuntime is the OCI runtime, a name or a path; "" is the engine's
	// (--runtime, containers.conf). Filled: every later command uses it.
	OCIRuntime string `json:"ociRuntime,omitempty"`

	// Entrypoint overrides the image's ENTRYPOINT: nil keeps it; an empty
	// list or [""] clears it. Command overrides the image's CMD (nil keeps
	// it).
	Entrypoint []string `json:"entrypoint"`
	Command    []string `json:"command,omitempty"`
	// Args is what runs, entrypoint and command resolved against the image
	// (filled; ps shows it).
	Args []string `json:"args,omitempty"`
	// Env is the user's environment (NAME=VALUE), applied over the image's.
	Env []string `json:"env,omitempty"`
	// EnvMerge are NAME=VALUE expressions expanded against the image's
	// environment ("PATH=${PATH}:/opt/bin"), applied under Env.
	EnvMerge []string `json:"envMerge,omitempty"`
	// EnvHost adds the engine's whole environment under Env (--env-host;
	// containers.conf env_host).
	EnvHost bool `json:"envHost,omitempty"`
	// HTTPProxy passes the engine's proxy variables (http_proxy, HTTPS_PROXY,
	// ...) under Env; nil is containers.conf's http_proxy (default true).
	HTTPProxy *bool `json:"httpProxy,omitempty"`
	// DefaultEnv is containers.conf's [containers] env (filled): over the
	// built-in PATH, TERM and container=podman, under the image's.
	DefaultEnv []string `json:"defaultEnv,omitempty"`
	// UnsetEnv names variables removed from the defaults and the image's
	// environment; UnsetEnvAll removes all of those.
	UnsetEnv    []string `json:"unsetEnv,omitempty"`
	UnsetEnvAll bool     `json:"unsetEnvAll,omitempty"`
	// WorkDir is the working directory (absolute); "" is the image's.
	WorkDir string `json:"workDir,omitempty"`
	// User is user[:group], names or numbers; "" is the image's USER.
	// GroupAdd are supplementary groups.
	User     string   `json:"user,omitempty"`
	GroupAdd []string `json:"groupAdd,omitempty"`
	// HostUsers are host users (names or UIDs) added to /etc/passwd.
	HostUsers []string `json:"hostUsers,omitempty"`
	// NoPasswd adds nothing to /etc/passwd and /etc/group (--passwd=false);
	// PasswdEntry is the template of the line added (--passwd-entry).
	NoPasswd    bool   `json:"noPasswd,omitempty"`
	PasswdEntry string `json:"passwdEntry,omitempty"`
	// Umask is the process umask; nil is containers.conf's umask (0022).
	Umask *uint32 `json:"umask,omitempty"`
	// Terminal allocates a pseudo-terminal (-t); Stdin keeps stdin open (-i).
	Terminal bool `json:"terminal"`
	Stdin    bool `json:"stdin"`
	// Hostname is the container's host name; "" is its short ID.
	Hostname string `json:"hostname"`
	// Timezone is "local" or a zone name; "" is containers.conf's tz.
	Timezone string `json:"timezone,omitempty"`
	// Init runs an init process first (--init); InitPath is its binary, ""
	// being containers.conf's init_path or catatonit (filled when Init).
	Init     bool   `json:"init,omitempty"`
	InitPath string `json:"initPath,omitempty"`

	// ReadOnly makes the root filesystem read-only; with ReadOnlyTmpfs (the
	// CLI's default) /tmp, /var/tmp and /run are tmpfs.
	ReadOnly      bool `json:"readOnly,omitempty"`
	ReadOnlyTmpfs bool `json:"readOnlyTmpfs,omitempty"`
	// Privileged gives every capability and device, no masked paths and no
	// seccomp filter.
	Privileged bool `json:"privileged,omitempty"`
	// CapAdd and CapDrop change the default capabilities ("ALL" allowed).
	CapAdd  []string `json:"capAdd,omitempty"`
	CapDrop []string `json:"capDrop,omitempty"`
	// Capabilities is the default set CapAdd and CapDrop apply to (filled:
	// containers.conf default_capabilities).
	Capabilities []string `json:"capabilities,omitempty"`
	// NoNewPrivileges is --security-opt no-new-privileges.
	NoNewPrivileges bool `json:"noNewPrivileges,omitempty"`
	// SeccompProfile is "unconfined" or a JSON profile's absolute path; ""
	// is containers.conf's seccomp_profile, else the built-in profile.
	SeccompProfile string `json:"seccompProfile,omitempty"`
	// AppArmorProfile is the AppArmor profile ("" none).
	AppArmorProfile string `json:"appArmorProfile,omitempty"`
	// Unmask takes paths (globs, or "ALL") out of the masked and read-only
	// paths; Mask adds masked paths; ProcOpts are /proc mount options.
	Unmask   []string `json:"unmask,omitempty"`
	Mask     []string `json:"mask,omitempty"`
	ProcOpts []string `json:"procOpts,omitempty"`

	// Ulimits are resource limits (RLIMIT_* names), over containers.conf's
	// default_ulimits; UlimitHost copies every limit of the engine.
	Ulimits    []specs.POSIXRlimit `json:"ulimits,omitempty"`
	UlimitHost bool                `json:"ulimitHost,omitempty"`
	// OOMScoreAdj is the OOM score adjustment (-1000..1000).
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
	// Memory is the memory limit in bytes, at least 6 MiB; nil or 0 is
	// none (rootless, a 0 given still gets podman's warning that limits
	// are ignored). MemorySwap is memory plus swap (-1 unlimited; 0 unset).
	Memory     *int64 `json:"memory,omitempty"`
	MemorySwap int64  `json:"memorySwap,omitempty"`
	// CPUQuota per CPUPeriod microseconds (--cpus), and CPUShares.
	CPUQuota  int64  `json:"cpuQuota,omitempty"`
	CPUPeriod uint64 `json:"cpuPeriod,omitempty"`
	CPUShares uint64 `json:"cpuShares,omitempty"`
	// PidsLimit is the process limit; nil is containers.conf's pids_limit
	// (2048); 0 or -1 unlimited. Rootless, resource limits are dropped
	// with a warning (no cgroup to enforce them).
	PidsLimit *int64 `json:"pidsLimit,omitempty"`
	// ShmSize is the size of /dev/shm in bytes; 0 is containers.conf's
	// shm_size (64 MiB).
	ShmSize int64 `json:"shmSize,omitempty"`
	// Sysctls are namespaced kernel parameters.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// DefaultSysctls are containers.conf's default_sysctls (filled).
	DefaultSysctls map[string]string `json:"defaultSysctls,omitempty"`
	// Devices are host devices; DeviceCgroupRules are device cgroup rules.
	Devices           []specgen.Device          `json:"devices,omitempty"`
	DeviceCgroupRules []specs.LinuxDeviceCgroup `json:"deviceCgroupRules,omitempty"`

	// Mounts are bind and tmpfs mounts (and devpts). A bind mount's
	// "U" option chowns its source to the container's user at start.
	Mounts []specs.Mount `json:"mounts,omitempty"`

	// PID, IPC and UTS namespaces: private (zero), host, a path, or none
	// (IPC).
	PID specgen.Namespace `json:"pid"`
	IPC specgen.Namespace `json:"ipc"`
	UTS specgen.Namespace `json:"uts"`
	// UserNS is "" (the engine's namespace) or keep-id[:uid=,gid=]: a user
	// namespace of the container's own.
	UserNS string `json:"userns,omitempty"`
	// Network is the network mode: "" (the default: bridge as root,
	// slirp4netns rootless), "private", "bridge", "slirp4netns", "pasta",
	// "host" or "none". Filled with the mode used.
	Network string `json:"network"`
	// Ports are published ports; HostPort 0 gets a free port and Range
	// consecutive ports are published (filled: one mapping per port, with
	// its host port).
	Ports []PortMapping `json:"ports,omitempty"`
	// PublishAll publishes every exposed port (the image's and Expose) to a
	// free host port (-P).
	PublishAll bool `json:"publishAll,omitempty"`
	// Expose are ports exposed beside the image's (ContainerPort, Range,
	// Protocol).
	Expose []PortMapping `json:"expose,omitempty"`
	// DNSServers, DNSSearch and DNSOptions go to resolv.conf; AddHosts
	// (host:ip, host-gateway allowed) to /etc/hosts.
	DNSServers []string `json:"dns,omitempty"`
	DNSSearch  []string `json:"dnsSearch,omitempty"`
	DNSOptions []string `json:"dnsOptions,omitempty"`
	AddHosts   []string `json:"addHosts,omitempty"`

	// RestartPolicy is "", "no", "on-failure", "always" or
	// "unless-stopped"; RestartMax caps on-failure's restarts.
	RestartPolicy string `json:"restartPolicy,omitempty"`
	RestartMax    int    `json:"restartMax,omitempty"`
	// AutoRemove removes the container when it exits (--rm); RemoveImage
	// then removes its image too unless another container uses it.
	AutoRemove  bool `json:"autoRemove,omitempty"`
	RemoveImage bool `json:"removeImage,omitempty"`
	// StopSignal stops the container; 0 is the image's STOPSIGNAL, else
	// SIGTERM (filled).
	StopSignal syscall.Signal `json:"stopSignal"`
	// StopTimeout is how long stop waits before SIGKILL; nil is 10 seconds
	// (filled).
	StopTimeout *uint `json:"stopTimeout"`
	// Timeout kills the container after that many seconds (0: never).
	Timeout uint `json:"timeout,omitempty"`
	// MonitorPidFile receives the pid of every monitor of the container.
	MonitorPidFile string `json:"monitorPidFile,omitempty"`
	// PreserveFDs passes the starting process's fds 3..3+N-1 on.
	PreserveFDs uint `json:"preserveFds,omitempty"`

	// LogDriver is k8s-file, json-file, none or passthrough; "" is
	// containers.conf's log_driver (filled).
	LogDriver string `json:"logDriver"`
	// LogPath is the log file; "" is ctr.log in the container's storage
	// (filled).
	LogPath string `json:"logPath"`
	// LogMaxSize rotates the log at that many bytes; 0 is containers.conf's
	// log_size_max (filled; -1 no limit). LogMaxFiles is how many rotated
	// files are kept.
	LogMaxSize  int64 `json:"logMaxSize,omitempty"`
	LogMaxFiles int   `json:"logMaxFiles,omitempty"`
	// LogTag is --log-opt tag=, kept for inspect.
	LogTag string `json:"logTag,omitempty"`
}

// PortMapping is one published port (or Range consecutive ports).
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"`
	// Range is the number of consecutive ports (0 or 1: one). Stored
	// mappings have one port each.
	Range uint16 `json:"range,omitempty"`
}

func (s *ContainerSpec) memory() int64 {
	if s.Memory == nil {
		return 0
	}
	return *s.Memory
}

// stopTimeout is how long stop waits before SIGKILL.
func (s *ContainerSpec) stopTimeout() time.Duration {
	if s.StopTimeout == nil {
		return DefaultStopTimeout
	}
	return time.Duration(*s.StopTimeout) * time.Second
}

// DefaultStopTimeout is podman's stop timeout.
const DefaultStopTimeout = 10 * time.Second

// StopTimeoutDuration is how long stop waits before SIGKILL.
func (c *Container) StopTimeoutDuration() time.Duration { return c.Config.stopTimeout() }

// generatorOptions are the spec generator's options decided at create
// time; the start completes them with the host and the root filesystem.
func (s *ContainerSpec) generatorOptions() specgen.Options {
	o := specgen.Options{
		Image: s.ImageConfig, Entrypoint: s.Entrypoint, Command: s.Command, Env: s.Env, DefaultEnv: s.DefaultEnv,
		UnsetEnv: s.UnsetEnv, UnsetEnvAll: s.UnsetEnvAll, WorkDir: s.WorkDir, User: s.User, GroupAdd: s.GroupAdd,
		HostUsers: s.HostUsers, NoPasswd: s.NoPasswd, PasswdEntry: s.PasswdEntry, Umask: s.Umask, Terminal: s.Terminal,
		ReadOnly: s.ReadOnly, ReadOnlyTmpfs: s.ReadOnlyTmpfs, Privileged: s.Privileged, CapAdd: s.CapAdd, CapDrop: s.CapDrop,
		Capabilities: s.Capabilities, NoNewPrivileges: s.NoNewPrivileges, SeccompProfile: s.SeccompProfile,
		AppArmorProfile: s.AppArmorProfile, Unmask: s.Unmask, Mask: s.Mask, ProcOpts: s.ProcOpts,
		Ulimits: s.Ulimits, UlimitHost: s.UlimitHost, OOMScoreAdj: s.OOMScoreAdj,
		Memory: s.memory(), MemorySwap: s.MemorySwap, CPUShares: s.CPUShares, CPUQuota: s.CPUQuota, CPUPeriod: s.CPUPeriod,
		PidsLimit: s.PidsLimit, Devices: s.Devices, DeviceCgroupRules: s.DeviceCgroupRules,
		Sysctls: s.Sysctls, DefaultSysctls: s.DefaultSysctls, ShmSize: s.ShmSize, Mounts: s.Mounts,
		PID: s.PID, IPC: s.IPC, UTS: s.UTS, Annotations: s.Annotations, StopSignal: s.StopSignal,
		AutoRemove: s.AutoRemove, PublishAll: s.PublishAll, Created: s.Created,
	}
	if s.Init {
		o.InitBinary = s.InitPath
	}
	return o
}
