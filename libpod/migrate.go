package libpod

import (
	"encoding/json"
	"fmt"
	"syscall"
	"time"

	"github.com/berth-containers/berth/pkg/specgen"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// configV2 is a container's config as berth stored it up to schema version
// 2 of the state database: the create-time facts, and the spec generator's
// options as an opaque object. It is read only by upgradeContainerConfig,
// once per database.
type configV2 struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	ImageID        string            `json:"imageId"`
	ImageName      string            `json:"imageName"`
	Created        time.Time         `json:"created"`
	Command        []string          `json:"command"`
	Terminal       bool              `json:"terminal"`
	Stdin          bool              `json:"stdin"`
	Labels         map[string]string `json:"labels"`
	Annotations    map[string]string `json:"annotations"`
	RestartPolicy  string            `json:"restartPolicy"`
	RestartMax     int               `json:"restartMax"`
	StopSignal     int               `json:"stopSignal"`
	StopTimeout    uint              `json:"stopTimeout"`
	AutoRemove     bool              `json:"autoRemove"`
	LogDriver      string            `json:"logDriver"`
	LogPath        string            `json:"logPath"`
	LogMaxSize     int64             `json:"logMaxSize"`
	LogMaxFiles    int               `json:"logMaxFiles"`
	Network        string            `json:"network"`
	Ports          []PortMapping     `json:"ports"`
	Hostname       string            `json:"hostname"`
	DNSServers     []string          `json:"dns"`
	DNSSearch      []string          `json:"dnsSearch"`
	DNSOptions     []string          `json:"dnsOptions"`
	AddHosts       []string          `json:"addHosts"`
	CreateCommand  []string          `json:"createCommand"`
	Timeout        uint              `json:"timeout"`
	MonitorPidFile string            `json:"monitorPidFile"`
	PreserveFDs    uint              `json:"preserveFds"`
	RemoveImage    bool              `json:"removeImage"`
	UserNS         string            `json:"userns"`
	Timezone       string            `json:"timezone"`
	OCIRuntime     string            `json:"ociRuntime"`
	LogTag         string            `json:"logTag"`
	Spec           json.RawMessage   `json:"spec"`
}

// namespaceV2, deviceV2 and specOptionsV2 are the spec generator's options
// as schema version 2 stored them (Go field names as keys).
type namespaceV2 struct {
	Mode specgen.NamespaceMode
	Path string
}

type deviceV2 struct {
	HostPath, ContainerPath, Permissions string
}

type specOptionsV2 struct {
	Image                               *ociv1.ImageConfig
	Entrypoint, Command                 []string
	Env, DefaultEnv, UnsetEnv           []string
	UnsetEnvAll                         bool
	WorkDir, User                       string
	GroupAdd, HostUsers                 []string
	NoPasswd                            bool
	PasswdEntry                         string
	Umask                               *uint32
	ReadOnly, ReadOnlyTmpfs, Privileged bool
	CapAdd, CapDrop                     []string
	NoNewPrivileges                     bool
	SeccompProfile, AppArmorProfile     string
	Unmask, Mask, ProcOpts              []string
	Ulimits                             []specs.POSIXRlimit
	UlimitHost                          bool
	OOMScoreAdj                         *int
	Memory, MemorySwap, CPUQuota        int64
	CPUShares, CPUPeriod                uint64
	PidsLimit                           *int64
	Devices                             []deviceV2
	DeviceCgroupRules                   []specs.LinuxDeviceCgroup
	Sysctls                             map[string]string
	ShmSize                             int64
	Mounts                              []specs.Mount
	PID, IPC, UTS                       namespaceV2
	InitBinary                          string
	PublishAll                          bool
	// The first berth stored {args, env, cwd}: a command and environment
	// already complete.
	Args []string `json:"args"`
	Cwd  string   `json:"cwd"`
}

// upgradeContainerConfig converts a container's config from schema
// version 2 of the state database to a ContainerSpec.
func upgradeContainerConfig(old []byte) ([]byte, error) {
	var c configV2
	if err := json.Unmarshal(old, &c); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	var o specOptionsV2
	if len(c.Spec) > 0 {
		if err := json.Unmarshal(c.Spec, &o); err != nil {
			return nil, fmt.Errorf("decoding the spec options: %w", err)
		}
	}
	if len(o.Args) > 0 && o.Image == nil && o.Command == nil {
		o.Entrypoint, o.Command, o.WorkDir = []string{}, o.Args, o.Cwd
	}
	stopTimeout := c.StopTimeout
	s := ContainerSpec{
		SchemaVersion: SpecSchemaVersion,
		ID:            c.ID, Name: c.Name, Created: c.Created, CreateCommand: c.CreateCommand,
		Labels: c.Labels, Annotations: c.Annotations,
		Image: c.ImageName, PullPolicy: "missing", ImageID: c.ImageID, ImageName: c.ImageName, ImageConfig: o.Image,
		OCIRuntime: c.OCIRuntime,
		Entrypoint: o.Entrypoint, Command: o.Command, Args: c.Command,
		Env: o.Env, DefaultEnv: o.DefaultEnv, UnsetEnv: o.UnsetEnv, UnsetEnvAll: o.UnsetEnvAll,
		WorkDir: o.WorkDir, User: o.User, GroupAdd: o.GroupAdd, HostUsers: o.HostUsers,
		NoPasswd: o.NoPasswd, PasswdEntry: o.PasswdEntry, Umask: o.Umask,
		Terminal: c.Terminal, Stdin: c.Stdin, Hostname: c.Hostname, Timezone: c.Timezone,
		Init: o.InitBinary != "", InitPath: o.InitBinary,
		ReadOnly: o.ReadOnly, ReadOnlyTmpfs: o.ReadOnlyTmpfs, Privileged: o.Privileged,
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, NoNewPrivileges: o.NoNewPrivileges,
		SeccompProfile: o.SeccompProfile, AppArmorProfile: o.AppArmorProfile,
		Unmask: o.Unmask, Mask: o.Mask, ProcOpts: o.ProcOpts,
		Ulimits: o.Ulimits, UlimitHost: o.UlimitHost, OOMScoreAdj: o.OOMScoreAdj,
		MemorySwap: o.MemorySwap, CPUQuota: o.CPUQuota, CPUPeriod: o.CPUPeriod, CPUShares: o.CPUShares,
		PidsLimit: o.PidsLimit, ShmSize: o.ShmSize, Sysctls: o.Sysctls, DeviceCgroupRules: o.DeviceCgroupRules,
		Mounts: o.Mounts,
		PID:    specgen.Namespace{Mode: o.PID.Mode, Path: o.PID.Path},
		IPC:    specgen.Namespace{Mode: o.IPC.Mode, Path: o.IPC.Path},
		UTS:    specgen.Namespace{Mode: o.UTS.Mode, Path: o.UTS.Path},
		UserNS: c.UserNS, Network: c.Network, Ports: c.Ports, PublishAll: o.PublishAll,
		DNSServers: c.DNSServers, DNSSearch: c.DNSSearch, DNSOptions: c.DNSOptions, AddHosts: c.AddHosts,
		RestartPolicy: c.RestartPolicy, RestartMax: c.RestartMax, AutoRemove: c.AutoRemove, RemoveImage: c.RemoveImage,
		StopSignal: syscall.Signal(c.StopSignal), StopTimeout: &stopTimeout, Timeout: c.Timeout,
		MonitorPidFile: c.MonitorPidFile, PreserveFDs: c.PreserveFDs,
		LogDriver: c.LogDriver, LogPath: c.LogPath, LogMaxSize: c.LogMaxSize, LogMaxFiles: c.LogMaxFiles, LogTag: c.LogTag,
	}
	if o.Memory != 0 {
		s.Memory = &o.Memory
	}
	for _, d := range o.Devices {
		s.Devices = append(s.Devices, specgen.Device{HostPath: d.HostPath, ContainerPath: d.ContainerPath, Permissions: d.Permissions})
	}
	return json.Marshal(&s)
}
