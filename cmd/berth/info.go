package main

import (
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"

	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/rootless"
	"github.com/spf13/cobra"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"golang.org/x/sys/unix"
)

type infoReport struct {
	Host       hostInfo          `json:"host"`
	Store      storeInfo         `json:"store"`
	Registries map[string]any    `json:"registries"`
	Version    map[string]string `json:"version"`
}

type hostInfo struct {
	Arch          string       `json:"arch"`
	OS            string       `json:"os"`
	Kernel        string       `json:"kernel"`
	Hostname      string       `json:"hostname"`
	CPUs          int          `json:"cpus"`
	MemTotal      int64        `json:"memTotal"`
	CgroupVersion string       `json:"cgroupVersion"`
	OCIRuntime    ociInfo      `json:"ociRuntime"`
	Security      securityInfo `json:"security"`
	IDMappings    idMappings   `json:"idMappings"`
	PausePID      string       `json:"pausePid,omitempty"`
	PausePIDFile  string       `json:"pausePidFile,omitempty"`
}

type ociInfo struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

type securityInfo struct {
	Rootless bool `json:"rootless"`
}

type idMappings struct {
	UIDMap []idMap `json:"uidmap"`
	GIDMap []idMap `json:"gidmap"`
}

// idMap is one line of /proc/self/uid_map, named as podman names it.
type idMap struct {
	ContainerID int `json:"container_id"`
	HostID      int `json:"host_id"`
	Size        int `json:"size"`
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
	GraphRoot       string   `json:"graphRoot"`
	RunRoot         string   `json:"runRoot"`
	GraphDriverName string   `json:"graphDriverName"`
	GraphDriverWhy  string   `json:"graphDriverReason"`
	GraphOptions    []string `json:"graphOptions"`
	ImageCount      int      `json:"imageCount"`
	ContainerCount  int      `json:"containerCount"`
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
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	host, _ := os.Hostname()
	rep := &infoReport{Version: map[string]string{"Version": version, "GoVersion": goruntime.Version()}}
	rep.Host = hostInfo{
		Arch: goruntime.GOARCH, OS: goruntime.GOOS, Kernel: unix.ByteSliceToString(uts.Release[:]),
		Hostname: host, CPUs: goruntime.NumCPU(), MemTotal: int64(si.Totalram) * int64(si.Unit),
		CgroupVersion: "v1", Security: securityInfo{Rootless: rootless.IsRootless()},
	}
	if oci.CgroupsUnified() {
		rep.Host.CgroupVersion = "v2"
	}
	if choice, err := oci.Choose(globalOpts.Runtime, rootless.IsRootless()); err == nil {
		rep.Host.OCIRuntime = ociInfo{Name: choice.Name, Path: choice.Path, Reason: choice.Reason}
		if out, err := exec.Command(choice.Path, "--version").Output(); err == nil {
			rep.Host.OCIRuntime.Version = strings.TrimSpace(string(out))
		}
	} else {
		rep.Host.OCIRuntime.Reason = err.Error()
	}
	rep.Host.IDMappings = idMappings{UIDMap: readIDMap("/proc/self/uid_map"), GIDMap: readIDMap("/proc/self/gid_map")}
	if rootless.IsRootless() {
		rep.Host.PausePID = os.Getenv("_BERTH_PAUSE_PID")
		rep.Host.PausePIDFile = rootless.PausePidPath()
	}
	images, _ := st.Images()
	containers, _ := st.Containers()
	rep.Store = storeInfo{
		GraphRoot: st.GraphRoot(), RunRoot: st.RunRoot(), GraphDriverName: st.GraphDriverName(),
		GraphDriverWhy: r.DriverReason, GraphOptions: st.GraphOptions(),
		ImageCount: len(images), ContainerCount: len(containers),
	}
	rep.Registries = map[string]any{}
	if regs, err := sysregistriesv2.UnqualifiedSearchRegistries(globalOpts.SystemContext()); err == nil {
		rep.Registries["search"] = regs
	}
	return rep, nil
}

func printInfoText(rep *infoReport) error {
	h, s := rep.Host, rep.Store
	fmt.Printf(`host:
  arch: %s
  os: %s
  kernel: %s
  hostname: %s
  cpus: %d
  memTotal: %d
  cgroupVersion: %s
  ociRuntime:
    name: %s
    path: %s
    version: %s
    reason: %s
  security:
    rootless: %t
  idMappings:
    uidmap: %v
    gidmap: %v
`, h.Arch, h.OS, h.Kernel, h.Hostname, h.CPUs, h.MemTotal, h.CgroupVersion,
		h.OCIRuntime.Name, h.OCIRuntime.Path, strings.SplitN(h.OCIRuntime.Version, "\n", 2)[0], h.OCIRuntime.Reason,
		h.Security.Rootless, h.IDMappings.UIDMap, h.IDMappings.GIDMap)
	if h.PausePID != "" {
		fmt.Printf("  pausePid: %s\n  pausePidFile: %s\n", h.PausePID, h.PausePIDFile)
	}
	fmt.Printf(`store:
  graphRoot: %s
  runRoot: %s
  graphDriverName: %s
  graphDriverReason: %s
  graphOptions: %v
  imageCount: %d
  containerCount: %d
registries:
  search: %v
version:
  Version: %s
  GoVersion: %s
`, s.GraphRoot, s.RunRoot, s.GraphDriverName, s.GraphDriverWhy, s.GraphOptions, s.ImageCount, s.ContainerCount,
		rep.Registries["search"], rep.Version["Version"], rep.Version["GoVersion"])
	return nil
}
