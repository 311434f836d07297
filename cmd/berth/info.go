package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/rootless"
	"github.com/spf13/cobra"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"
)

// infoReport has podman 4.3's layout: the JSON keys and the Go names that
// --format templates address are podman's.
type infoReport struct {
	Host       hostInfo       `json:"host" yaml:"host"`
	Store      storeInfo      `json:"store" yaml:"store"`
	Registries map[string]any `json:"registries" yaml:"registries"`
	Version    versionInfo    `json:"version" yaml:"version"`
}

type hostInfo struct {
	Arch           string     `json:"arch" yaml:"arch"`
	BuildahVersion string     `json:"buildahVersion" yaml:"buildahVersion"`
	CgroupManager  string     `json:"cgroupManager" yaml:"cgroupManager"`
	CgroupsVersion string     `json:"cgroupVersion" yaml:"cgroupVersion"`
	Conmon         conmonInfo `json:"conmon" yaml:"conmon"`
	// ContainersConfFiles are the containers.conf files read, in order
	// (berth's: podman 4.3 has no such field).
	ContainersConfFiles []string         `json:"containersConfFiles" yaml:"containersConfFiles"`
	CPUs                int              `json:"cpus" yaml:"cpus"`
	Distribution        distributionInfo `json:"distribution" yaml:"distribution"`
	EventLogger         string           `json:"eventLogger" yaml:"eventLogger"`
	Hostname            string           `json:"hostname" yaml:"hostname"`
	IDMappings          idMappings       `json:"idMappings" yaml:"idMappings"`
	Kernel              string           `json:"kernel" yaml:"kernel"`
	LogDriver           string           `json:"logDriver" yaml:"logDriver"`
	MemFree             int64            `json:"memFree" yaml:"memFree"`
	MemTotal            int64            `json:"memTotal" yaml:"memTotal"`
	NetworkBackend      string           `json:"networkBackend" yaml:"networkBackend"`
	OCIRuntime          ociInfo          `json:"ociRuntime" yaml:"ociRuntime"`
	OS                  string           `json:"os" yaml:"os"`
	Security            securityInfo     `json:"security" yaml:"security"`
	Slirp4NetNS         slirpInfo        `json:"slirp4netns" yaml:"slirp4netns"`
	SwapFree            int64            `json:"swapFree" yaml:"swapFree"`
	SwapTotal           int64            `json:"swapTotal" yaml:"swapTotal"`
	Uptime              string           `json:"uptime" yaml:"uptime"`
	// berth's own: the pause process of a rootless user.
	PausePID     string `json:"pausePid,omitempty" yaml:"pausePid,omitempty"`
	PausePIDFile string `json:"pausePidFile,omitempty" yaml:"pausePidFile,omitempty"`
}

// conmonInfo describes what podman's conmon does for berth: berth-monitor.
type conmonInfo struct {
	Package string `json:"package" yaml:"package"`
	Path    string `json:"path" yaml:"path"`
	Version string `json:"version" yaml:"version"`
}

type distributionInfo struct {
	Distribution string `json:"distribution" yaml:"distribution"`
	Variant      string `json:"variant,omitempty" yaml:"variant,omitempty"`
	Version      string `json:"version" yaml:"version"`
	Codename     string `json:"codename,omitempty" yaml:"codename,omitempty"`
}

type slirpInfo struct {
	Executable string `json:"executable" yaml:"executable"`
	Package    string `json:"package" yaml:"package"`
	Version    string `json:"version" yaml:"version"`
}

type ociInfo struct {
	Name    string `json:"name" yaml:"name"`
	Package string `json:"package" yaml:"package"`
	Path    string `json:"path" yaml:"path"`
	Version string `json:"version" yaml:"version"`
	Reason  string `json:"reason" yaml:"reason"`
}

type securityInfo struct {
	Rootless bool `json:"rootless" yaml:"rootless"`
}

type idMappings struct {
	GIDMap []idMap `json:"gidmap" yaml:"gidmap"`
	UIDMap []idMap `json:"uidmap" yaml:"uidmap"`
}

// idMap is one line of /proc/self/uid_map, named as podman names it.
type idMap struct {
	ContainerID int `json:"container_id" yaml:"container_id"`
	HostID      int `json:"host_id" yaml:"host_id"`
	Size        int `json:"size" yaml:"size"`
}

func readIDMap(path string) []idMap {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []idMap
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m idMap
		if n, _ := fmt.Sscan(line, &m.ContainerID, &m.HostID, &m.Size); n == 3 {
			out = append(out, m)
		}
	}
	return out
}

type storeInfo struct {
	ConfigFile      string            `json:"configFile" yaml:"configFile"`
	ContainerStore  containerStore    `json:"containerStore" yaml:"containerStore"`
	GraphDriverName string            `json:"graphDriverName" yaml:"graphDriverName"`
	GraphDriverWhy  string            `json:"graphDriverReason" yaml:"graphDriverReason"`
	GraphOptions    map[string]any    `json:"graphOptions" yaml:"graphOptions"`
	GraphRoot       string            `json:"graphRoot" yaml:"graphRoot"`
	GraphStatus     map[string]string `json:"graphStatus" yaml:"graphStatus"`
	ImageStore      imageStore        `json:"imageStore" yaml:"imageStore"`
	RunRoot         string            `json:"runRoot" yaml:"runRoot"`
}

type containerStore struct {
	Number  int `json:"number" yaml:"number"`
	Paused  int `json:"paused" yaml:"paused"`
	Running int `json:"running" yaml:"running"`
	Stopped int `json:"stopped" yaml:"stopped"`
}

type imageStore struct {
	Number int `json:"number" yaml:"number"`
}

func newInfoCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Display berth system information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := gatherInfo()
			if err != nil {
				return err
			}
			switch format {
			case "":
				return printInfoText(rep)
			case "json", "{{json .}}":
				return printJSON(rep)
			default:
				return printTemplate(format, rep)
			}
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "change the output format to JSON or a Go template")
	return cmd
}

func gatherInfo() (*infoReport, error) {
	r := runtime()
	st, err := r.Store()
	if err != nil {
		return nil, err
	}
	conf, err := r.ContainersConf()
	if err != nil {
		return nil, err
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	host, _ := os.Hostname()
	rep := &infoReport{Version: newVersionInfo()}
	unit := int64(si.Unit)
	rep.Host = hostInfo{
		Arch: goruntime.GOARCH, OS: goruntime.GOOS, Kernel: unix.ByteSliceToString(uts.Release[:]),
		Hostname: host, CPUs: goruntime.NumCPU(),
		MemTotal: int64(si.Totalram) * unit, MemFree: int64(si.Freeram) * unit,
		SwapTotal: int64(si.Totalswap) * unit, SwapFree: int64(si.Freeswap) * unit,
		Uptime: uptime(time.Duration(si.Uptime) * time.Second),
		// berth builds with its own builder, which is versioned with berth.
		BuildahVersion: version,
		// As root berth puts containers in cgroupfs paths (/berth/ID).
		CgroupManager:  "cgroupfs",
		CgroupsVersion: "v1",
		Distribution:   readDistribution(),
		// No events are recorded yet.
		EventLogger:    "none",
		LogDriver:      conf.Containers.LogDriver,
		NetworkBackend: "cni",
		Security:       securityInfo{Rootless: rootless.IsRootless()},
	}
	rep.Host.ContainersConfFiles = append([]string{}, conf.Files...)
	if oci.CgroupsUnified() {
		rep.Host.CgroupsVersion = "v2"
	}
	if mon, err := libpod.MonitorPath(); err == nil {
		rep.Host.Conmon = conmonInfo{Path: mon, Package: dpkgPackage(mon), Version: "berth-monitor version " + version}
	}
	if choice, err := oci.Choose(globalOpts.Runtime, rootless.IsRootless()); err == nil {
		rep.Host.OCIRuntime = ociInfo{Name: choice.Name, Path: choice.Path, Reason: choice.Reason, Package: dpkgPackage(choice.Path)}
		if out, err := exec.Command(choice.Path, "--version").Output(); err == nil {
			rep.Host.OCIRuntime.Version = strings.TrimSpace(string(out))
		}
	} else {
		rep.Host.OCIRuntime.Reason = err.Error()
	}
	if p, err := exec.LookPath("slirp4netns"); err == nil {
		rep.Host.Slirp4NetNS = slirpInfo{Executable: p, Package: dpkgPackage(p)}
		if out, err := exec.Command(p, "--version").Output(); err == nil {
			rep.Host.Slirp4NetNS.Version = strings.TrimSpace(string(out))
		}
	}
	rep.Host.IDMappings = idMappings{UIDMap: readIDMap("/proc/self/uid_map"), GIDMap: readIDMap("/proc/self/gid_map")}
	if rootless.IsRootless() {
		rep.Host.PausePID = os.Getenv("_BERTH_PAUSE_PID")
		rep.Host.PausePIDFile = rootless.PausePidPath()
	}
	images, _ := st.Images()
	rep.Store = storeInfo{
		ConfigFile: storageConfigFile(),
		GraphRoot:  st.GraphRoot(), RunRoot: st.RunRoot(), GraphDriverName: st.GraphDriverName(),
		GraphDriverWhy: r.DriverReason, GraphOptions: map[string]any{}, GraphStatus: map[string]string{},
		ImageStore: imageStore{Number: len(images)},
	}
	for _, o := range st.GraphOptions() {
		k, v, _ := strings.Cut(o, "=")
		rep.Store.GraphOptions[k] = v
	}
	if status, err := st.Status(); err == nil {
		for _, kv := range status {
			rep.Store.GraphStatus[kv[0]] = kv[1]
		}
	}
	cs := &rep.Store.ContainerStore
	if cs.Number, cs.Running, cs.Paused, cs.Stopped, err = r.ContainerCounts(); err != nil {
		return nil, err
	}
	rep.Registries = map[string]any{}
	if regs, err := sysregistriesv2.UnqualifiedSearchRegistries(globalOpts.SystemContext()); err == nil {
		rep.Registries["search"] = regs
	}
	return rep, nil
}

// printInfoText prints the report as YAML, as podman does.
func printInfoText(rep *infoReport) error {
	enc := yaml.NewEncoder(os.Stdout)
	enc.SetIndent(2)
	if err := enc.Encode(rep); err != nil {
		return err
	}
	return enc.Close()
}

// readDistribution is podman's host.distribution, from /etc/os-release.
func readDistribution() distributionInfo {
	var d distributionInfo
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		data, _ = os.ReadFile("/usr/lib/os-release")
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			d.Distribution = v
		case "VARIANT_ID":
			d.Variant = v
		case "VERSION_ID":
			d.Version = v
		case "VERSION_CODENAME":
			d.Codename = v
		}
	}
	if d.Distribution == "" {
		d.Distribution = "unknown"
	}
	if d.Version == "" {
		d.Version = "unknown"
	}
	return d
}

// dpkgPackage names the Debian package that installed path ("" if none),
// as podman's info does: package_version_arch.
func dpkgPackage(path string) string {
	out, err := exec.Command("dpkg-query", "-S", path).Output()
	if err != nil {
		return ""
	}
	name, _, ok := strings.Cut(strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]), ":")
	if !ok {
		return ""
	}
	v, err := exec.Command("dpkg-query", "-f", "${Package}_${Version}_${Architecture}", "-W", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(v))
}

// storageConfigFile is the storage.conf in effect, as podman reports it.
func storageConfigFile() string {
	var candidates []string
	if rootless.IsRootless() {
		cfg := os.Getenv("XDG_CONFIG_HOME")
		if cfg == "" {
			cfg = filepath.Join(os.Getenv("HOME"), ".config")
		}
		candidates = append(candidates, filepath.Join(cfg, "containers", "storage.conf"))
	}
	if env := os.Getenv("CONTAINERS_STORAGE_CONF"); env != "" {
		return env
	}
	candidates = append(candidates, "/etc/containers/storage.conf", "/usr/share/containers/storage.conf")
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return candidates[0]
}

// uptime is podman's "0h 13m 26.00s".
func uptime(d time.Duration) string {
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	s := d.Seconds() - float64(h*3600+m*60)
	return fmt.Sprintf("%dh %dm %.2fs", h, m, s)
}
