package main

import (
	"fmt"
	"os"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/docker/go-units"
	"github.com/spf13/cobra"
)

// containerInspect is podman's `container inspect` layout (the parts berth has).
type containerInspect struct {
	ID              string                 `json:"Id"`
	Created         time.Time              `json:"Created"`
	Path            string                 `json:"Path"`
	Args            []string               `json:"Args"`
	State           inspectState           `json:"State"`
	Image           string                 `json:"Image"`
	ImageName       string                 `json:"ImageName"`
	Rootfs          string                 `json:"Rootfs"`
	ResolvConfPath  string                 `json:"ResolvConfPath"`
	HostnamePath    string                 `json:"HostnamePath"`
	HostsPath       string                 `json:"HostsPath"`
	LogPath         string                 `json:"LogPath"`
	Name            string                 `json:"Name"`
	RestartCount    int                    `json:"RestartCount"`
	Driver          string                 `json:"Driver"`
	OCIRuntime      string                 `json:"OCIRuntime"`
	Config          inspectConfig          `json:"Config"`
	HostConfig      inspectHostConfig      `json:"HostConfig"`
	NetworkSettings inspectNetworkSettings `json:"NetworkSettings"`
}

type inspectState struct {
	OciVersion string    `json:"OciVersion"`
	Status     string    `json:"Status"`
	Running    bool      `json:"Running"`
	Paused     bool      `json:"Paused"`
	Restarting bool      `json:"Restarting"`
	OOMKilled  bool      `json:"OOMKilled"`
	Dead       bool      `json:"Dead"`
	Pid        int       `json:"Pid"`
	ConmonPid  int       `json:"ConmonPid"`
	ExitCode   int32     `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
}

type inspectConfig struct {
	Hostname      string            `json:"Hostname"`
	Tty           bool              `json:"Tty"`
	OpenStdin     bool              `json:"OpenStdin"`
	Cmd           []string          `json:"Cmd"`
	Image         string            `json:"Image"`
	Labels        map[string]string `json:"Labels"`
	Annotations   map[string]string `json:"Annotations"`
	StopSignal    string            `json:"StopSignal"`
	StopTimeout   uint              `json:"StopTimeout"`
	CreateCommand []string          `json:"CreateCommand"`
}

type inspectHostConfig struct {
	NetworkMode   string                         `json:"NetworkMode"`
	AutoRemove    bool                           `json:"AutoRemove"`
	RestartPolicy map[string]any                 `json:"RestartPolicy"`
	PortBindings  map[string][]map[string]string `json:"PortBindings"`
	LogConfig     map[string]any                 `json:"LogConfig"`
	Dns           []string                       `json:"Dns"`
	DnsSearch     []string                       `json:"DnsSearch"`
	DnsOptions    []string                       `json:"DnsOptions"`
	ExtraHosts    []string                       `json:"ExtraHosts"`
}

type inspectNetworkSettings struct {
	Ports map[string][]map[string]string `json:"Ports"`
}

func inspectContainer(c *libpod.Container) containerInspect {
	cfg, st := &c.Config, &c.State
	ci := containerInspect{
		ID: cfg.ID, Created: cfg.Created, Image: cfg.ImageID, ImageName: cfg.ImageName, Name: cfg.Name,
		RestartCount: st.RestartCount, LogPath: cfg.LogPath, Rootfs: st.Mountpoint,
		State: inspectState{
			OciVersion: "1.0.2-dev", Status: st.Status, Running: st.Status == libpod.StatusRunning,
			Paused: st.Status == libpod.StatusPaused, Pid: st.Pid, ConmonPid: st.MonitorPid, ExitCode: st.ExitCode,
			Error: st.Error, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
		},
		Config: inspectConfig{
			Hostname: cfg.Hostname, Tty: cfg.Terminal, OpenStdin: cfg.Stdin, Cmd: cfg.Command, Image: cfg.ImageName,
			Labels: cfg.Labels, Annotations: cfg.Annotations, StopSignal: signalName(cfg.StopSignal),
			StopTimeout: cfg.StopTimeout, CreateCommand: cfg.CreateCommand,
		},
		HostConfig: inspectHostConfig{
			NetworkMode: cfg.Network, AutoRemove: cfg.AutoRemove,
			RestartPolicy: map[string]any{"Name": cfg.RestartPolicy, "MaximumRetryCount": cfg.RestartMax},
			LogConfig:     map[string]any{"Type": cfg.LogDriver, "Config": nil, "Path": cfg.LogPath, "Tag": cfg.LogTag, "Size": units.HumanSize(float64(cfg.LogMaxSize))},
			Dns:           cfg.DNSServers, DnsSearch: cfg.DNSSearch, DnsOptions: cfg.DNSOptions, ExtraHosts: cfg.AddHosts,
		},
	}
	if len(cfg.Command) > 0 {
		ci.Path, ci.Args = cfg.Command[0], cfg.Command[1:]
	}
	if cfg.OCIRuntime != "" {
		ci.OCIRuntime = cfg.OCIRuntime // the runtime it was created with, as given
	} else if _, name, err := runtime().OCIRuntime(); err == nil {
		ci.OCIRuntime = name.Name
	}
	if st, err := runtime().Store(); err == nil {
		ci.Driver = st.GraphDriverName()
		if dir, err := st.ContainerRunDirectory(cfg.ID); err == nil {
			ci.ResolvConfPath, ci.HostnamePath, ci.HostsPath = dir+"/resolv.conf", dir+"/hostname", dir+"/hosts"
		}
	}
	ports := map[string][]map[string]string{}
	for _, p := range cfg.Ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		ports[key] = append(ports[key], map[string]string{"HostIp": p.HostIP, "HostPort": fmt.Sprint(p.HostPort)})
	}
	ci.HostConfig.PortBindings = ports
	ci.NetworkSettings.Ports = ports
	return ci
}

func signalName(sig int) string {
	for _, name := range []string{"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "STOP"} {
		if s, err := parseSignal(name); err == nil && int(s) == sig {
			return "SIG" + name
		}
	}
	return fmt.Sprint(sig)
}

func newContainerInspectCommand() *cobra.Command {
	var format string
	var latest bool
	cmd := &cobra.Command{
		Use:   "inspect [options] CONTAINER [CONTAINER...]",
		Short: "Display the configuration of a container",
		RunE: func(cmd *cobra.Command, args []string) error {
			return printContainerInspect(args, format, latest)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "json", "format the output to a Go template or json")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	return cmd
}

func printContainerInspect(names []string, format string, latest bool) error {
	r := runtime()
	if latest {
		all, err := r.ListContainers()
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("no containers to inspect")
		}
		names = append(names, all[len(all)-1].ID())
	}
	if len(names) == 0 {
		return fmt.Errorf("no names or ids specified")
	}
	var out []containerInspect
	var lastErr error
	for _, n := range names {
		c, err := r.LookupContainer(n)
		if err != nil {
			if lastErr != nil {
				fmt.Fprintln(os.Stderr, "Error:", lastErr)
			}
			lastErr = fmt.Errorf("no such container %s", n)
			continue
		}
		out = append(out, inspectContainer(c))
	}
	if format == "" || format == "json" {
		if out == nil {
			out = []containerInspect{}
		}
		if err := printJSON(out); err != nil {
			return err
		}
	} else {
		for _, ci := range out {
			if err := printTemplate(format, ci); err != nil {
				return err
			}
		}
	}
	return lastErr
}
