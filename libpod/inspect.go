package libpod

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/berth-containers/berth/libpod/network"
	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage/pkg/stringid"
)

// InspectContainerData is podman 4.3's `container inspect` document. The
// Go field names are the JSON keys, so that --format templates address the
// names the JSON shows ({{.Id}}, {{.Config.Env}}, {{.State.Pid}}); the
// methods below add podman's own Go names where they differ ({{.ID}}).
type InspectContainerData struct {
	Id              string                 `json:"Id"` // the JSON key
	Created         time.Time              `json:"Created"`
	Path            string                 `json:"Path"`
	Args            []string               `json:"Args"`
	State           InspectState           `json:"State"`
	Image           string                 `json:"Image"`
	ImageDigest     string                 `json:"ImageDigest"`
	ImageName       string                 `json:"ImageName"`
	Rootfs          string                 `json:"Rootfs"`
	Pod             string                 `json:"Pod"`
	ResolvConfPath  string                 `json:"ResolvConfPath"`
	HostnamePath    string                 `json:"HostnamePath"`
	HostsPath       string                 `json:"HostsPath"`
	StaticDir       string                 `json:"StaticDir"`
	OCIConfigPath   string                 `json:"OCIConfigPath,omitempty"`
	OCIRuntime      string                 `json:"OCIRuntime,omitempty"`
	ConmonPidFile   string                 `json:"ConmonPidFile"`
	PidFile         string                 `json:"PidFile"`
	Name            string                 `json:"Name"`
	RestartCount    int32                  `json:"RestartCount"`
	Driver          string                 `json:"Driver"`
	MountLabel      string                 `json:"MountLabel"`
	ProcessLabel    string                 `json:"ProcessLabel"`
	AppArmorProfile string                 `json:"AppArmorProfile"`
	EffectiveCaps   []string               `json:"EffectiveCaps"`
	BoundingCaps    []string               `json:"BoundingCaps"`
	ExecIDs         []string               `json:"ExecIDs"`
	GraphDriver     InspectGraphDriver     `json:"GraphDriver"`
	SizeRw          *int64                 `json:"SizeRw,omitempty"`
	SizeRootFs      int64                  `json:"SizeRootFs,omitempty"`
	Mounts          []InspectMount         `json:"Mounts"`
	Dependencies    []string               `json:"Dependencies"`
	NetworkSettings InspectNetworkSettings `json:"NetworkSettings"`
	Namespace       string                 `json:"Namespace"`
	IsInfra         bool                   `json:"IsInfra"`
	IsService       bool                   `json:"IsService"`
	Config          InspectConfig          `json:"Config"`
	HostConfig      InspectHostConfig      `json:"HostConfig"`
}

// ID is podman's Go name of Id.
func (d *InspectContainerData) ID() string { return d.Id }

// LogPath is docker's name of HostConfig.LogConfig.Path.
func (d *InspectContainerData) LogPath() string { return d.HostConfig.LogConfig.Path }

// InspectState is the State object.
type InspectState struct {
	OciVersion     string              `json:"OciVersion"`
	Status         string              `json:"Status"`
	Running        bool                `json:"Running"`
	Paused         bool                `json:"Paused"`
	Restarting     bool                `json:"Restarting"`
	OOMKilled      bool                `json:"OOMKilled"`
	Dead           bool                `json:"Dead"`
	Pid            int                 `json:"Pid"`
	ConmonPid      int                 `json:"ConmonPid,omitempty"`
	ExitCode       int32               `json:"ExitCode"`
	Error          string              `json:"Error"`
	StartedAt      time.Time           `json:"StartedAt"`
	FinishedAt     time.Time           `json:"FinishedAt"`
	Health         InspectHealthResult `json:"Health"`
	Checkpointed   bool                `json:"Checkpointed,omitempty"`
	CgroupPath     string              `json:"CgroupPath,omitempty"`
	CheckpointedAt time.Time           `json:"CheckpointedAt"`
	RestoredAt     time.Time           `json:"RestoredAt"`
}

// Healthcheck is podman's Go name of Health.
func (s *InspectState) Healthcheck() InspectHealthResult { return s.Health }

// InspectHealthResult is State.Health: podman 4.3 shows it, empty, for a
// container without a healthcheck (berth has none yet).
type InspectHealthResult struct {
	Status        string `json:"Status"`
	FailingStreak int    `json:"FailingStreak"`
	Log           []any  `json:"Log"`
}

// InspectGraphDriver is the storage driver and its directories.
type InspectGraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// InspectMount is one element of Mounts.
type InspectMount struct {
	Type        string   `json:"Type"`
	Name        string   `json:"Name,omitempty"`
	Source      string   `json:"Source"`
	Destination string   `json:"Destination"`
	Driver      string   `json:"Driver"`
	Mode        string   `json:"Mode"`
	Options     []string `json:"Options"`
	RW          bool     `json:"RW"`
	Propagation string   `json:"Propagation"`
}

// InspectPortBinding is one host side of a published port.
type InspectPortBinding struct {
	HostIp   string `json:"HostIp"` // the JSON key
	HostPort string `json:"HostPort"`
}

// InspectNetwork is the part shared by NetworkSettings and its Networks.
type InspectNetwork struct {
	EndpointID          string `json:"EndpointID"`
	Gateway             string `json:"Gateway"`
	IPAddress           string `json:"IPAddress"`
	IPPrefixLen         int    `json:"IPPrefixLen"`
	IPv6Gateway         string `json:"IPv6Gateway"`
	GlobalIPv6Address   string `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int    `json:"GlobalIPv6PrefixLen"`
	MacAddress          string `json:"MacAddress"`
}

// InspectNetworkSettings is NetworkSettings.
type InspectNetworkSettings struct {
	InspectNetwork
	Bridge                 string                               `json:"Bridge"`
	SandboxID              string                               `json:"SandboxID"`
	HairpinMode            bool                                 `json:"HairpinMode"`
	LinkLocalIPv6Address   string                               `json:"LinkLocalIPv6Address"`
	LinkLocalIPv6PrefixLen int                                  `json:"LinkLocalIPv6PrefixLen"`
	Ports                  map[string][]InspectPortBinding      `json:"Ports"`
	SandboxKey             string                               `json:"SandboxKey"`
	Networks               map[string]*InspectAdditionalNetwork `json:"Networks,omitempty"`
}

// InspectAdditionalNetwork is one network the container joined.
type InspectAdditionalNetwork struct {
	InspectNetwork
	NetworkID  string            `json:"NetworkID"`
	DriverOpts map[string]string `json:"DriverOpts"`
	IPAMConfig map[string]string `json:"IPAMConfig"`
	Links      []string          `json:"Links"`
	Aliases    []string          `json:"Aliases"`
}

// InspectConfig is Config.
type InspectConfig struct {
	Hostname                   string              `json:"Hostname"`
	Domainname                 string              `json:"Domainname"`
	User                       string              `json:"User"`
	AttachStdin                bool                `json:"AttachStdin"`
	AttachStdout               bool                `json:"AttachStdout"`
	AttachStderr               bool                `json:"AttachStderr"`
	Tty                        bool                `json:"Tty"`
	OpenStdin                  bool                `json:"OpenStdin"`
	StdinOnce                  bool                `json:"StdinOnce"`
	Env                        []string            `json:"Env"`
	Cmd                        []string            `json:"Cmd"`
	Image                      string              `json:"Image"`
	Volumes                    map[string]struct{} `json:"Volumes"`
	WorkingDir                 string              `json:"WorkingDir"`
	Entrypoint                 string              `json:"Entrypoint"`
	OnBuild                    *string             `json:"OnBuild"`
	Labels                     map[string]string   `json:"Labels"`
	Annotations                map[string]string   `json:"Annotations"`
	StopSignal                 uint                `json:"StopSignal"`
	HealthcheckOnFailureAction string              `json:"HealthcheckOnFailureAction,omitempty"`
	CreateCommand              []string            `json:"CreateCommand,omitempty"`
	Timezone                   string              `json:"Timezone,omitempty"`
	Umask                      string              `json:"Umask,omitempty"`
	Timeout                    uint                `json:"Timeout"`
	StopTimeout                uint                `json:"StopTimeout"`
}

// DomainName is podman's Go name of Domainname.
func (c *InspectConfig) DomainName() string { return c.Domainname }

// InspectLogConfig is HostConfig.LogConfig.
type InspectLogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
	Path   string            `json:"Path"`
	Tag    string            `json:"Tag"`
	Size   string            `json:"Size"`
}

// InspectRestartPolicy is HostConfig.RestartPolicy.
type InspectRestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount uint   `json:"MaximumRetryCount"`
}

// InspectUlimit is one element of HostConfig.Ulimits.
type InspectUlimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// InspectDevice is one element of HostConfig.Devices.
type InspectDevice struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// InspectHostConfig is HostConfig, with podman 4.3's keys in its order.
type InspectHostConfig struct {
	Binds                []string                        `json:"Binds"`
	CgroupManager        string                          `json:"CgroupManager"`
	CgroupMode           string                          `json:"CgroupMode"`
	ContainerIDFile      string                          `json:"ContainerIDFile"`
	LogConfig            InspectLogConfig                `json:"LogConfig"`
	NetworkMode          string                          `json:"NetworkMode"`
	PortBindings         map[string][]InspectPortBinding `json:"PortBindings"`
	RestartPolicy        InspectRestartPolicy            `json:"RestartPolicy"`
	AutoRemove           bool                            `json:"AutoRemove"`
	VolumeDriver         string                          `json:"VolumeDriver"`
	VolumesFrom          []string                        `json:"VolumesFrom"`
	CapAdd               []string                        `json:"CapAdd"`
	CapDrop              []string                        `json:"CapDrop"`
	Dns                  []string                        `json:"Dns"` // JSON key
	DnsOptions           []string                        `json:"DnsOptions"`
	DnsSearch            []string                        `json:"DnsSearch"`
	ExtraHosts           []string                        `json:"ExtraHosts"`
	GroupAdd             []string                        `json:"GroupAdd"`
	IpcMode              string                          `json:"IpcMode"`
	Cgroup               string                          `json:"Cgroup"`
	Cgroups              string                          `json:"Cgroups"`
	Links                []string                        `json:"Links"`
	OomScoreAdj          int                             `json:"OomScoreAdj"`
	PidMode              string                          `json:"PidMode"`
	Privileged           bool                            `json:"Privileged"`
	PublishAllPorts      bool                            `json:"PublishAllPorts"`
	ReadonlyRootfs       bool                            `json:"ReadonlyRootfs"`
	SecurityOpt          []string                        `json:"SecurityOpt"`
	Tmpfs                map[string]string               `json:"Tmpfs"`
	UTSMode              string                          `json:"UTSMode"`
	UsernsMode           string                          `json:"UsernsMode"`
	ShmSize              int64                           `json:"ShmSize"`
	Runtime              string                          `json:"Runtime"`
	ConsoleSize          []uint                          `json:"ConsoleSize"`
	Isolation            string                          `json:"Isolation"`
	CpuShares            uint64                          `json:"CpuShares"`
	Memory               int64                           `json:"Memory"`
	NanoCpus             int64                           `json:"NanoCpus"`
	CgroupParent         string                          `json:"CgroupParent"`
	BlkioWeight          uint16                          `json:"BlkioWeight"`
	BlkioWeightDevice    []any                           `json:"BlkioWeightDevice"`
	BlkioDeviceReadBps   []any                           `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []any                           `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []any                           `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []any                           `json:"BlkioDeviceWriteIOps"`
	CpuPeriod            uint64                          `json:"CpuPeriod"`
	CpuQuota             int64                           `json:"CpuQuota"`
	CpuRealtimePeriod    uint64                          `json:"CpuRealtimePeriod"`
	CpuRealtimeRuntime   int64                           `json:"CpuRealtimeRuntime"`
	CpusetCpus           string                          `json:"CpusetCpus"`
	CpusetMems           string                          `json:"CpusetMems"`
	Devices              []InspectDevice                 `json:"Devices"`
	DiskQuota            uint64                          `json:"DiskQuota"`
	KernelMemory         int64                           `json:"KernelMemory"`
	MemoryReservation    int64                           `json:"MemoryReservation"`
	MemorySwap           int64                           `json:"MemorySwap"`
	MemorySwappiness     int64                           `json:"MemorySwappiness"`
	OomKillDisable       bool                            `json:"OomKillDisable"`
	PidsLimit            int64                           `json:"PidsLimit"`
	Ulimits              []InspectUlimit                 `json:"Ulimits"`
	CpuCount             uint64                          `json:"CpuCount"`
	CpuPercent           uint64                          `json:"CpuPercent"`
	IOMaximumIOps        uint64                          `json:"IOMaximumIOps"`
	IOMaximumBandwidth   uint64                          `json:"IOMaximumBandwidth"`
	CgroupConf           map[string]string               `json:"CgroupConf"`
	IDMappings           *InspectIDMappings              `json:"IDMappings,omitempty"`
}

// InspectIDMappings are the user namespace's mappings ("ctr:host:size").
type InspectIDMappings struct {
	UIDMap []string `json:"UidMap"`
	GIDMap []string `json:"GidMap"`
}

// UidMap is UIDMap by its JSON key.
func (m *InspectIDMappings) UidMap() []string { return m.UIDMap }

// GidMap is GIDMap by its JSON key.
func (m *InspectIDMappings) GidMap() []string { return m.GIDMap }

// dockerDefaultCaps is the set podman reports CapAdd and CapDrop against
// (docker's default capabilities).
var dockerDefaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT"}

// InspectSpec returns the OCI spec the container's process runs with: the
// one its last start wrote, or, for a container never started, one
// generated from its options as a start would (without the mounted root
// filesystem: a user given by name is resolved at start). The path is
// that of the written spec ("" for a generated one).
func (c *Container) InspectSpec() (*specs.Spec, string, error) {
	if dir, err := c.runDir(); err == nil {
		p := filepath.Join(dir, "config.json")
		data, err := os.ReadFile(p)
		if err == nil {
			var s specs.Spec
			if json.Unmarshal(data, &s) == nil {
				return &s, p, nil
			}
			// being rewritten by a start (restart policy): generate it
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("reading the spec of container %s: %w", c.Name(), err)
		}
	}
	o, err := c.recordedSpecOptions()
	if err != nil {
		return nil, "", err
	}
	o.Rootfs = "/nonexistent/berth-inspect-rootfs"
	o.Rootless = rootless.IsRootless()
	o.Hostname = c.hostname()
	o.Created = c.Config.Created
	o.CanRaiseRlimits = specgen.CanRaiseRlimits()
	o.UseCgroups = !o.Rootless
	if o.UseCgroups {
		o.CgroupsPath = "/berth/" + c.ID()
	}
	if !oci.CgroupsUnified() {
		o.Cgroup = specgen.Namespace{Mode: specgen.NSHost}
	}
	switch c.Config.Network {
	case "host":
		o.Network = specgen.Namespace{Mode: specgen.NSHost}
	case "none":
		o.Network = specgen.Namespace{Mode: specgen.NSNone}
	}
	if c.Config.UserNS != "" {
		if m, err := userNSMappings(c.Config.UserNS); err == nil {
			o.UserNS = m
		}
	}
	user := o.User
	if user == "" && o.Image != nil {
		user = o.Image.User
	}
	if name, _, _ := strings.Cut(user, ":"); name != "" && strings.Trim(name, "0123456789") != "" {
		// a name needs the container's /etc/passwd: resolved at start
		o.User, o.GroupAdd = "", nil
		if o.Image != nil {
			img := *o.Image
			img.User = ""
			o.Image = &img
		}
	}
	s, err := specgen.Generate(o)
	if err != nil {
		return nil, "", fmt.Errorf("generating the spec of container %s: %w", c.Name(), err)
	}
	s.Version = ociVersion
	return s, "", nil
}

// recordedSpecOptions decodes the options recorded at create time.
func (c *Container) recordedSpecOptions() (*specgen.Options, error) {
	o := c.Config.generatorOptions()
	return &o, nil
}

// InspectOptions select the optional parts of Inspect.
type InspectOptions struct {
	Size bool // SizeRw and SizeRootFs
}

// Inspect returns the container's podman-style inspect document, from
// its recorded config and state, its spec, its storage and its image.
func (c *Container) Inspect(opts InspectOptions) (*InspectContainerData, error) {
	if c.needsReconcile() {
		// a monitor that died: make the state true first, as ps does
		if lock, err := c.rt.lockContainer(c.ID()); err == nil {
			if c.refresh() == nil {
				// Inspect shows the state made true in memory even when
				// recording it failed; the next command retries.
				if _, err := c.reconcile(); err != nil {
					logrus.Warnf("%v", err) // names the container
				}
			}
			lock.unlock()
		}
	}
	cfg, st := &c.Config, &c.State
	o, err := c.recordedSpecOptions()
	if err != nil {
		return nil, err
	}
	spec, specPath, err := c.InspectSpec()
	if err != nil {
		return nil, err
	}
	d := &InspectContainerData{
		Id: cfg.ID, Created: cfg.Created, Image: cfg.ImageID, ImageName: cfg.ImageName, Name: cfg.Name,
		RestartCount: int32(st.RestartCount), OCIConfigPath: specPath,
		EffectiveCaps: []string{}, BoundingCaps: []string{}, ExecIDs: []string{}, Mounts: []InspectMount{},
		Dependencies: []string{},
		State: InspectState{
			OciVersion: spec.Version, Status: st.Status.String(), Running: st.Status == StatusRunning,
			Paused: st.Status == StatusPaused, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
		},
	}
	if st.Status == StatusStopped {
		d.State.Status = StatusExited.String() // cleanup pending: podman shows it stopped
	}
	if st.Status != StatusExited && st.Status != StatusStopped {
		// running, paused, or created by init: the process waits
		d.State.Pid, d.State.ConmonPid = st.Pid, st.MonitorPid
	}
	if d.State.Running || d.State.Paused {
		if spec.Linux != nil {
			d.State.CgroupPath = spec.Linux.CgroupsPath
		}
	}
	if len(spec.Process.Args) > 0 {
		d.Path, d.Args = spec.Process.Args[0], spec.Process.Args[1:]
	}
	if d.Args == nil {
		d.Args = []string{}
	}
	if c.Config.OCIRuntime != "" {
		d.OCIRuntime = c.Config.OCIRuntime // the runtime it was created with, as given
	} else if _, choice, err := c.rt.OCIRuntime(); err == nil {
		d.OCIRuntime = choice.Name
	}
	if spec.Process.Capabilities != nil {
		d.EffectiveCaps = orEmpty(sortedCaps(spec.Process.Capabilities.Effective))
		d.BoundingCaps = orEmpty(sortedCaps(spec.Process.Capabilities.Bounding))
	}
	d.ProcessLabel, d.AppArmorProfile = spec.Process.SelinuxLabel, spec.Process.ApparmorProfile
	if spec.Linux != nil {
		d.MountLabel = spec.Linux.MountLabel
	}

	if err := c.inspectStorage(d, opts); err != nil {
		return nil, err
	}
	if ir, err := c.rt.Images(); err == nil && cfg.ImageID != "" {
		if img, err := ir.Lookup(cfg.ImageID); err == nil {
			d.ImageDigest = string(img.Digest)
		}
	}
	c.inspectNetwork(d)
	d.Config = c.inspectConfig(o, spec)
	d.HostConfig = c.inspectHostConfig(o, spec)
	c.inspectMounts(d, o, spec)
	return d, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedCaps(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// inspectStorage fills the paths and the graph driver's data.
func (c *Container) inspectStorage(d *InspectContainerData, opts InspectOptions) error {
	store, err := c.rt.Store()
	if err != nil {
		return err
	}
	d.Driver = store.GraphDriverName()
	d.GraphDriver = InspectGraphDriver{Name: d.Driver, Data: map[string]string{}}
	if dir, err := store.ContainerDirectory(c.ID()); err == nil {
		d.StaticDir = dir
	}
	if runDir, err := store.ContainerRunDirectory(c.ID()); err == nil {
		d.PidFile = filepath.Join(runDir, "pidfile")
		exists := func(name string) string {
			p := filepath.Join(runDir, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		d.ResolvConfPath, d.HostnamePath, d.HostsPath = exists("resolv.conf"), exists("hostname"), exists("hosts")
	}
	sc, err := store.Container(c.ID())
	if err != nil {
		return nil // a container whose storage is gone still inspects
	}
	if drv, err := store.GraphDriver(); err == nil {
		if meta, err := drv.Metadata(sc.LayerID); err == nil {
			for k, v := range meta {
				d.GraphDriver.Data[k] = v
			}
			if n, err := store.Mounted(sc.LayerID); err != nil || n == 0 {
				delete(d.GraphDriver.Data, "MergedDir")
			}
		}
	}
	if opts.Size {
		rw, rootfs, err := c.Sizes()
		if err != nil {
			return err
		}
		d.SizeRw, d.SizeRootFs = &rw, rootfs
	}
	return nil
}

// inspectNetwork fills NetworkSettings and the published ports.
func (c *Container) inspectNetwork(d *InspectContainerData) {
	cfg, st := &c.Config, &c.State
	ns := InspectNetworkSettings{Ports: c.inspectPorts()}
	running := st.Status == StatusRunning || st.Status == StatusPaused
	if cfg.Network == "bridge" {
		name := network.DefaultNetwork
		var n InspectNetwork
		if st.Network != nil {
			if st.Network.Network != "" {
				name = st.Network.Network
			}
			n = InspectNetwork{MacAddress: st.Network.MAC, IPPrefixLen: st.Network.PrefixLen}
			if st.Network.IP != nil {
				n.IPAddress = st.Network.IP.String()
			}
			if st.Network.Gateway != nil {
				n.Gateway = st.Network.Gateway.String()
			}
			ns.SandboxKey = st.Network.NetNSPath
		}
		ns.InspectNetwork = n
		ns.Networks = map[string]*InspectAdditionalNetwork{name: {
			InspectNetwork: n, NetworkID: name, Aliases: []string{stringid.TruncateID(c.ID())},
		}}
	} else if running && cfg.Network != "host" && st.Pid > 0 {
		ns.SandboxKey = fmt.Sprintf("/proc/%d/ns/net", st.Pid)
	}
	d.NetworkSettings = ns
}

// inspectConfig fills Config.
func (c *Container) inspectConfig(o *specgen.Options, spec *specs.Spec) InspectConfig {
	cfg := &c.Config
	ic := InspectConfig{
		Hostname: spec.Hostname, User: o.User, Tty: cfg.Terminal, OpenStdin: cfg.Stdin,
		Env: orEmpty(spec.Process.Env), Image: cfg.ImageName, WorkingDir: spec.Process.Cwd,
		Labels: map[string]string{}, Annotations: spec.Annotations, StopSignal: uint(cfg.StopSignal),
		HealthcheckOnFailureAction: "none", CreateCommand: cfg.CreateCommand, Timezone: cfg.Timezone,
		Umask: "0022", Timeout: cfg.Timeout, StopTimeout: uint(cfg.stopTimeout().Seconds()),
	}
	if ic.Hostname == "" {
		ic.Hostname = c.hostname()
	}
	if o.Image != nil && ic.User == "" {
		ic.User = o.Image.User
	}
	ic.Labels = c.mergedLabels(o)
	if spec.Process.User.Umask != nil {
		ic.Umask = fmt.Sprintf("%04o", *spec.Process.User.Umask)
	}
	// Cmd and Entrypoint as podman shows them: the entrypoint joined,
	// the command apart.
	entrypoint := o.Entrypoint
	if entrypoint == nil && o.Image != nil {
		entrypoint = o.Image.Entrypoint
	}
	ic.Entrypoint = strings.Join(entrypoint, " ")
	ic.Cmd = c.userCommand(o)
	return ic
}

// userCommand is the command apart from the entrypoint (the user's, else
// the image's CMD unless the user replaced the entrypoint): podman's
// Config.Cmd and `ps` COMMAND.
func (c *Container) userCommand(o *specgen.Options) []string {
	command := o.Command
	if command == nil && o.Entrypoint == nil && o.Image != nil {
		command = o.Image.Cmd
	}
	if command == nil && o.Image == nil && o.Entrypoint == nil {
		command = c.Config.Args // no image config: what runs
	}
	return command
}

// mergedLabels are the image's labels with the container's over them, as
// podman records them.
func (c *Container) mergedLabels(o *specgen.Options) map[string]string {
	out := map[string]string{}
	if o.Image != nil {
		for k, v := range o.Image.Labels {
			out[k] = v
		}
	}
	for k, v := range c.Config.Labels {
		out[k] = v
	}
	return out
}

// Labels are the container's labels: its image's, and its own (--label)
// over them.
func (c *Container) Labels() map[string]string {
	o, err := c.recordedSpecOptions()
	if err != nil {
		return c.mergedLabels(&specgen.Options{})
	}
	return c.mergedLabels(o)
}

// MountDestinations are where the user's bind mounts and volumes are
// (podman's `ps` MOUNTS).
func (c *Container) MountDestinations() []string {
	out := []string{}
	o, err := c.recordedSpecOptions()
	if err != nil {
		return out
	}
	for _, m := range o.Mounts {
		if m.Type != "tmpfs" {
			out = append(out, m.Destination)
		}
	}
	return out
}

// UserCommand is the command podman's `ps` shows: Config.Cmd of inspect.
func (c *Container) UserCommand() []string {
	o, err := c.recordedSpecOptions()
	if err != nil {
		return c.Config.Args
	}
	return c.userCommand(o)
}

// inspectHostConfig fills HostConfig.
func (c *Container) inspectHostConfig(o *specgen.Options, spec *specs.Spec) InspectHostConfig {
	cfg := &c.Config
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	h := InspectHostConfig{
		Binds: []string{}, CgroupManager: "cgroupfs", CgroupMode: "private",
		LogConfig:   InspectLogConfig{Type: cfg.LogDriver, Path: cfg.LogPath, Tag: cfg.LogTag, Size: units.HumanSize(float64(cfg.LogMaxSize))},
		NetworkMode: cfg.Network, PortBindings: map[string][]InspectPortBinding{},
		RestartPolicy: InspectRestartPolicy{Name: cfg.RestartPolicy, MaximumRetryCount: uint(cfg.RestartMax)},
		AutoRemove:    cfg.AutoRemove, CapAdd: []string{}, CapDrop: []string{},
		Dns: orEmpty(cfg.DNSServers), DnsOptions: orEmpty(cfg.DNSOptions), DnsSearch: orEmpty(cfg.DNSSearch),
		ExtraHosts: orEmpty(cfg.AddHosts), GroupAdd: orEmpty(o.GroupAdd), IpcMode: "shareable", Cgroups: "default",
		PidMode: "private", Privileged: o.Privileged, PublishAllPorts: o.PublishAll, ReadonlyRootfs: o.ReadOnly,
		SecurityOpt: []string{}, Tmpfs: map[string]string{}, UTSMode: "private",
		ShmSize: o.ShmSize, Runtime: "oci", ConsoleSize: []uint{0, 0}, Devices: []InspectDevice{},
		Ulimits: []InspectUlimit{},
	}
	if h.ShmSize == 0 {
		h.ShmSize = 65536000
	}
	if o.OOMScoreAdj != nil {
		h.OomScoreAdj = *o.OOMScoreAdj
	}
	for k, v := range c.inspectPorts() {
		h.PortBindings[k] = v
	}
	if !specHasNamespace(spec, specs.CgroupNamespace) {
		h.CgroupMode = "host"
	}
	if !specHasNamespace(spec, specs.PIDNamespace) {
		h.PidMode = "host"
	} else if o.PID.Mode == specgen.NSPath {
		h.PidMode = "ns:" + o.PID.Path
	}
	switch {
	case !specHasNamespace(spec, specs.IPCNamespace):
		h.IpcMode = "host"
	case o.IPC.Mode == specgen.NSNone:
		h.IpcMode = "none"
	case o.IPC.Mode == specgen.NSPath:
		h.IpcMode = "ns:" + o.IPC.Path
	}
	if !specHasNamespace(spec, specs.UTSNamespace) {
		h.UTSMode = "host"
	}
	for _, n := range spec.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			h.UsernsMode = "private"
			if n.Path != "" {
				h.UsernsMode = "ns:" + n.Path
			}
		}
	}
	if len(spec.Linux.UIDMappings) > 0 {
		h.IDMappings = &InspectIDMappings{UIDMap: idMapStrings(spec.Linux.UIDMappings), GIDMap: idMapStrings(spec.Linux.GIDMappings)}
	}
	if spec.Process.Capabilities != nil {
		b := spec.Process.Capabilities.Bounding
		for _, cp := range b {
			if !hasCap(dockerDefaultCaps, cp) {
				h.CapAdd = append(h.CapAdd, cp)
			}
		}
		for _, cp := range dockerDefaultCaps {
			if !hasCap(b, cp) {
				h.CapDrop = append(h.CapDrop, cp)
			}
		}
		sort.Strings(h.CapAdd)
	}
	if o.Privileged {
		h.CapAdd, h.CapDrop = []string{}, []string{}
	}
	if o.NoNewPrivileges {
		h.SecurityOpt = append(h.SecurityOpt, "no-new-privileges")
	}
	if o.SeccompProfile != "" {
		h.SecurityOpt = append(h.SecurityOpt, "seccomp="+o.SeccompProfile)
	}
	if o.AppArmorProfile != "" {
		h.SecurityOpt = append(h.SecurityOpt, "apparmor="+o.AppArmorProfile)
	}
	for _, r := range spec.Process.Rlimits {
		h.Ulimits = append(h.Ulimits, InspectUlimit{Name: r.Type, Soft: int64(r.Soft), Hard: int64(r.Hard)})
	}
	for _, dev := range o.Devices {
		h.Devices = append(h.Devices, InspectDevice{PathOnHost: dev.HostPath, PathInContainer: dev.ContainerPath, CgroupPermissions: dev.Permissions})
	}
	if r := spec.Linux.Resources; r != nil {
		if r.Memory != nil {
			h.Memory = derefOr0(r.Memory.Limit)
			h.MemoryReservation = derefOr0(r.Memory.Reservation)
			h.MemorySwap = derefOr0(r.Memory.Swap)
			if r.Memory.Swappiness != nil {
				h.MemorySwappiness = int64(*r.Memory.Swappiness)
			}
			if r.Memory.DisableOOMKiller != nil {
				h.OomKillDisable = *r.Memory.DisableOOMKiller
			}
		}
		if r.CPU != nil {
			h.CpuShares = derefOr0(r.CPU.Shares)
			h.CpuQuota = derefOr0(r.CPU.Quota)
			h.CpuPeriod = derefOr0(r.CPU.Period)
			h.CpusetCpus, h.CpusetMems = r.CPU.Cpus, r.CPU.Mems
			if h.CpuQuota > 0 && h.CpuPeriod > 0 {
				h.NanoCpus = h.CpuQuota * 1e9 / int64(h.CpuPeriod)
			}
		}
		if r.Pids != nil {
			h.PidsLimit = derefOr0(r.Pids.Limit)
		}
	}
	return h
}

func idMapStrings(m []specs.LinuxIDMapping) []string {
	out := make([]string, 0, len(m))
	for _, e := range m {
		out = append(out, fmt.Sprintf("%d:%d:%d", e.ContainerID, e.HostID, e.Size))
	}
	return out
}

func derefOr0[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func specHasNamespace(spec *specs.Spec, typ specs.LinuxNamespaceType) bool {
	if spec.Linux == nil {
		return false
	}
	for _, n := range spec.Linux.Namespaces {
		if n.Type == typ {
			return true
		}
	}
	return false
}

func hasCap(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *Container) inspectPorts() map[string][]InspectPortBinding {
	ports := map[string][]InspectPortBinding{}
	for _, p := range c.Config.Ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		ports[key] = append(ports[key], InspectPortBinding{HostIp: p.HostIP, HostPort: fmt.Sprint(p.HostPort)})
	}
	return ports
}

// inspectMounts fills Mounts, HostConfig.Binds and HostConfig.Tmpfs from
// the user's mounts as the spec has them (with their final options).
func (c *Container) inspectMounts(d *InspectContainerData, o *specgen.Options, spec *specs.Spec) {
	for _, um := range o.Mounts {
		m := um
		for _, sm := range spec.Mounts {
			if sm.Destination == um.Destination {
				m = sm
				break
			}
		}
		if um.Type == "tmpfs" || m.Type == "tmpfs" && um.Type != "bind" {
			d.HostConfig.Tmpfs[m.Destination] = strings.Join(m.Options, ",")
			continue
		}
		im := InspectMount{Type: "bind", Source: m.Source, Destination: m.Destination, RW: true, Options: []string{}}
		if um.Type == "volume" {
			im.Type, im.Driver = "volume", "local"
		}
		for _, opt := range m.Options {
			switch opt {
			case "ro":
				im.RW = false
			case "rw":
			case "shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable", "runbindable":
				im.Propagation = opt
			case "z", "Z":
				im.Mode = opt
			default:
				im.Options = append(im.Options, opt)
			}
		}
		d.Mounts = append(d.Mounts, im)
		d.HostConfig.Binds = append(d.HostConfig.Binds, fmt.Sprintf("%s:%s:%s", m.Source, m.Destination, strings.Join(m.Options, ",")))
	}
}
