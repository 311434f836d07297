package libpod

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SpecOptions is the part of the OCI spec decided at create time.
// TEMPORARY: replaced by pkg/specgen.Options once that lands.
type SpecOptions struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
}

func (c *Container) generateSpec(rootfs string, files preparedFiles) (*specs.Spec, error) {
	var o SpecOptions
	if err := json.Unmarshal(c.Config.Spec, &o); err != nil {
		return nil, fmt.Errorf("decoding spec options: %w", err)
	}
	caps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
		"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}
	if o.Cwd == "" {
		o.Cwd = "/"
	}
	s := &specs.Spec{
		Version:  "1.0.2-dev", // what Debian's runc 1.1 and crun 1.8 accept
		Root:     &specs.Root{Path: rootfs},
		Hostname: c.hostname(),
		Process: &specs.Process{
			Terminal: c.Config.Terminal, Args: o.Args, Env: o.Env, Cwd: o.Cwd,
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			NoNewPrivileges: false,
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/etc/hosts", Type: "bind", Source: files.Hosts, Options: []string{"bind", "rprivate"}},
			{Destination: "/etc/resolv.conf", Type: "bind", Source: files.ResolvConf, Options: []string{"bind", "rprivate"}},
			{Destination: "/etc/hostname", Type: "bind", Source: files.Hostname, Options: []string{"bind", "rprivate"}},
			{Destination: "/run/.containerenv", Type: "bind", Source: files.ContainerEnv, Options: []string{"bind", "rprivate"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}},
			MaskedPaths: []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"},
			ReadonlyPaths: []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	if c.Config.Network != "host" {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "network"})
	}
	return s, nil
}
