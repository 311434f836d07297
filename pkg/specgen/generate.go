package specgen

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-containers/berth/pkg/parse"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultPidsLimit is podman's --pids-limit default where cgroups can be used.
const DefaultPidsLimit = 2048

// DefaultPath is $PATH when the image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultUmask is the umask of the container's process.
const DefaultUmask = 0o022

var podmanDefaultSysctls = map[string]string{"net.ipv4.ping_group_range": "0 0"}

// Generate returns the OCI runtime spec of a container.
func Generate(o *Options) (*specs.Spec, error) {
	if o.Rootfs == "" {
		return nil, fmt.Errorf("generating the container spec: no root filesystem")
	}
	h, err := o.hostFacts()
	if err != nil {
		return nil, fmt.Errorf("generating the container spec: %w", err)
	}
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: o.Rootfs, Readonly: o.ReadOnly},
		Process: &specs.Process{Terminal: o.Terminal},
		Linux:   &specs.Linux{},
	}

	// command, working directory
	if s.Process.Args, err = Command(o.Image, o.Entrypoint, o.Command); err != nil {
		return nil, err
	}
	if o.InitBinary != "" {
		s.Process.Args = append([]string{InitPath, "--"}, s.Process.Args...)
	}
	s.Process.Cwd = o.WorkDir
	if s.Process.Cwd == "" && o.Image != nil {
		s.Process.Cwd = o.Image.WorkingDir
	}
	if s.Process.Cwd == "" {
		s.Process.Cwd = "/"
	}
	if !path.IsAbs(s.Process.Cwd) {
		return nil, fmt.Errorf("invalid working directory %q: must be an absolute path", s.Process.Cwd)
	}

	// user
	user := o.User
	if user == "" && o.Image != nil {
		user = o.Image.User
	}
	var gidMap []specs.LinuxIDMapping
	if o.UserNS != nil {
		gidMap = o.UserNS.GIDMap
	}
	eu, err := resolveUser(o.Rootfs, user, o.GroupAdd, gidMap)
	if err != nil {
		return nil, err
	}
	if o.UserNS != nil && !mapped(o.UserNS.UIDMap, eu.UID) {
		return nil, fmt.Errorf("user %d is not mapped in the container's user namespace", eu.UID)
	}
	umask := uint32(DefaultUmask)
	if o.Umask != nil {
		umask = *o.Umask
	}
	s.Process.User = specs.User{UID: eu.UID, GID: eu.GID, AdditionalGids: eu.AdditionalGids, Umask: &umask}

	// environment: defaults, then the image's, then the user's; HOME and
	// HOSTNAME when still unset
	hostname := o.Hostname
	if o.UTS.Mode == NSHost && hostname == "" {
		hostname = h.hostname
	}
	env := parse.MergeEnv([]string{"PATH=" + DefaultPath, "TERM=xterm", "container=podman"}, o.DefaultEnv)
	if o.Image != nil {
		env = parse.MergeEnv(env, o.Image.Env)
	}
	if o.UnsetEnvAll {
		env = nil
	}
	env = unsetEnv(env, o.UnsetEnv)
	env = parse.MergeEnv(env, o.Env)
	if eu.Home != "" && !hasEnv(env, "HOME") {
		env = append(env, "HOME="+eu.Home)
	}
	if hostname != "" && !hasEnv(env, "HOSTNAME") {
		env = append(env, "HOSTNAME="+hostname)
	}
	s.Process.Env = env
	if o.UTS.Mode != NSHost {
		s.Hostname = o.Hostname
	}

	// capabilities, seccomp, LSMs
	if err := setSecurity(s, o, h, eu); err != nil {
		return nil, err
	}
	if s.Process.Rlimits, err = rlimits(o, h); err != nil {
		return nil, err
	}
	s.Process.OOMScoreAdj = o.OOMScoreAdj

	// namespaces
	if err := setNamespaces(s, o); err != nil {
		return nil, err
	}

	// cgroups
	if o.UseCgroups {
		s.Linux.CgroupsPath = o.CgroupsPath
		s.Linux.Resources = resources(o)
	} else {
		s.Linux.Resources = &specs.LinuxResources{}
	}

	// mounts and devices
	s.Mounts = defaultMounts(o, gidMap)
	if err := addDevices(s, o, h, o.UseCgroups); err != nil {
		return nil, err
	}
	if o.UseCgroups && !o.Privileged {
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, o.DeviceCgroupRules...)
	}
	for _, m := range o.Mounts {
		nm, err := normalizeMount(m)
		if err != nil {
			return nil, err
		}
		s.Mounts = append(s.Mounts, nm)
	}
	s.Mounts = finishMounts(s.Mounts)
	s.Linux.RootfsPropagation = rootPropagation(s.Mounts)
	s.Linux.MountLabel = o.SELinuxMountLabel

	// sysctls
	if s.Linux.Sysctl, err = sysctls(o); err != nil {
		return nil, err
	}

	// annotations
	sig, err := StopSignal(o.StopSignal, o.Image)
	if err != nil {
		return nil, fmt.Errorf("the image's STOPSIGNAL: %w", err)
	}
	s.Annotations = annotations(o, sig)
	return s, nil
}

// unsetEnv removes the variables named in names from env.
func unsetEnv(env, names []string) []string {
	if len(names) == 0 {
		return env
	}
	out := env[:0:0]
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		if !contains(names, name) {
			out = append(out, e)
		}
	}
	return out
}

func hasEnv(env []string, name string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == name {
			return true
		}
	}
	return false
}

func setSecurity(s *specs.Spec, o *Options, h *hostFacts, eu ExecUser) error {
	base := o.Capabilities
	if base == nil {
		base = DefaultCapabilities
	}
	var caps []string
	if o.Privileged {
		caps = h.bounding
	} else {
		merged, err := MergeCapabilities(base, o.CapAdd, o.CapDrop, h.bounding)
		if err != nil {
			return err
		}
		caps = intersect(merged, h.bounding)
	}
	c := &specs.LinuxCapabilities{Bounding: caps}
	if eu.UID == 0 {
		c.Effective, c.Permitted = caps, caps
	} else {
		// a non-root user gets only what was added, in every set (as podman)
		added, err := MergeCapabilities(nil, o.CapAdd, nil, h.bounding)
		if err != nil {
			return err
		}
		added = intersect(added, h.bounding)
		c.Effective, c.Permitted, c.Inheritable, c.Ambient = added, added, added, added
	}
	s.Process.Capabilities = c
	s.Process.NoNewPrivileges = o.NoNewPrivileges
	s.Process.ApparmorProfile = o.AppArmorProfile
	s.Process.SelinuxLabel = o.SELinuxProcessLabel

	switch {
	case o.SeccompProfile == SeccompUnconfined:
	case o.Privileged && o.SeccompProfile == "":
	default:
		sc, err := loadSeccomp(o.SeccompProfile, caps, h.kernel)
		if err != nil {
			return err
		}
		s.Linux.Seccomp = sc
	}

	masked, readonly, err := maskedPaths(o)
	if err != nil {
		return err
	}
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = masked, readonly
	return nil
}

func namespace(typ specs.LinuxNamespaceType, n Namespace, what string) ([]specs.LinuxNamespace, error) {
	switch n.Mode {
	case NSPrivate, NSNone:
		return []specs.LinuxNamespace{{Type: typ}}, nil
	case NSHost:
		return nil, nil
	case NSPath:
		if !path.IsAbs(n.Path) {
			return nil, fmt.Errorf("the %s namespace path %q is not absolute", what, n.Path)
		}
		return []specs.LinuxNamespace{{Type: typ, Path: n.Path}}, nil
	}
	return nil, fmt.Errorf("unknown %s namespace mode %q", what, n.Mode)
}

func setNamespaces(s *specs.Spec, o *Options) error {
	for _, ns := range []struct {
		typ  specs.LinuxNamespaceType
		n    Namespace
		what string
	}{
		{specs.PIDNamespace, o.PID, "PID"},
		{specs.NetworkNamespace, o.Network, "network"},
		{specs.IPCNamespace, o.IPC, "IPC"},
		{specs.UTSNamespace, o.UTS, "UTS"},
		{specs.MountNamespace, Namespace{}, "mount"},
		{specs.CgroupNamespace, o.Cgroup, "cgroup"},
	} {
		list, err := namespace(ns.typ, ns.n, ns.what)
		if err != nil {
			return err
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, list...)
	}
	switch {
	case o.UserNS != nil && o.UserNSPath != "":
		return fmt.Errorf("a new user namespace and a user namespace path cannot be used together")
	case o.UserNS != nil:
		if len(o.UserNS.UIDMap) == 0 || len(o.UserNS.GIDMap) == 0 {
			return fmt.Errorf("a new user namespace needs UID and GID mappings")
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = o.UserNS.UIDMap, o.UserNS.GIDMap
	case o.UserNSPath != "":
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: o.UserNSPath})
	}
	return nil
}

func resources(o *Options) *specs.LinuxResources {
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	if o.Memory != 0 || o.MemoryReservation != 0 || o.MemorySwap != 0 || o.MemorySwappiness != nil || o.OOMKillDisable {
		m := &specs.LinuxMemory{Swappiness: o.MemorySwappiness}
		if o.Memory != 0 {
			m.Limit = ptr(o.Memory)
			swap := o.MemorySwap
			if swap == 0 {
				swap = 2 * o.Memory
			}
			m.Swap = ptr(swap)
		} else if o.MemorySwap != 0 {
			m.Swap = ptr(o.MemorySwap)
		}
		if o.MemoryReservation != 0 {
			m.Reservation = ptr(o.MemoryReservation)
		}
		if o.OOMKillDisable {
			m.DisableOOMKiller = ptr(true)
		}
		r.Memory = m
	}
	if o.CPUShares != 0 || o.CPUQuota != 0 || o.CPUPeriod != 0 || o.CPUSetCPUs != "" || o.CPUSetMems != "" {
		c := &specs.LinuxCPU{Cpus: o.CPUSetCPUs, Mems: o.CPUSetMems}
		if o.CPUShares != 0 {
			c.Shares = ptr(o.CPUShares)
		}
		if o.CPUQuota != 0 {
			c.Quota = ptr(o.CPUQuota)
		}
		if o.CPUPeriod != 0 {
			c.Period = ptr(o.CPUPeriod)
		}
		r.CPU = c
	}
	limit := int64(DefaultPidsLimit)
	if o.PidsLimit != nil {
		limit = *o.PidsLimit
		if limit <= 0 {
			limit = -1 // unlimited
		}
	}
	r.Pids = &specs.LinuxPids{Limit: ptr(limit)}
	return r
}

func ptr[T any](v T) *T { return &v }

// sysctl keys that belong to the IPC and UTS namespaces
func ipcSysctl(k string) bool {
	return strings.HasPrefix(k, "kernel.msg") || strings.HasPrefix(k, "kernel.shm") || k == "kernel.sem" || strings.HasPrefix(k, "fs.mqueue.")
}

func utsSysctl(k string) bool { return k == "kernel.hostname" || k == "kernel.domainname" }

func sysctls(o *Options) (map[string]string, error) {
	out := map[string]string{}
	conflict := func(k string) string {
		switch {
		case strings.HasPrefix(k, "net.") && o.Network.Mode == NSHost:
			return "network"
		case ipcSysctl(k) && o.IPC.Mode == NSHost:
			return "IPC"
		case utsSysctl(k) && o.UTS.Mode == NSHost:
			return "UTS"
		}
		return ""
	}
	defaults := o.DefaultSysctls
	if defaults == nil {
		defaults = podmanDefaultSysctls
	}
	for k, v := range defaults {
		if conflict(k) == "" {
			out[k] = v
		}
	}
	for k, v := range o.Sysctls {
		if ns := conflict(k); ns != "" {
			return nil, fmt.Errorf("sysctl %s=%s cannot be set: the container uses the host's %s namespace", k, v, ns)
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func boolAnnotation(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

func annotations(o *Options, stop syscall.Signal) map[string]string {
	a := map[string]string{
		"io.container.manager":                "libpod",
		"io.kubernetes.cri-o.TTY":             strconv.FormatBool(o.Terminal),
		"io.podman.annotations.autoremove":    boolAnnotation(o.AutoRemove),
		"io.podman.annotations.init":          boolAnnotation(o.InitBinary != ""),
		"io.podman.annotations.privileged":    boolAnnotation(o.Privileged),
		"io.podman.annotations.publish-all":   boolAnnotation(o.PublishAll),
		"org.opencontainers.image.stopSignal": strconv.Itoa(int(stop)),
	}
	if !o.Created.IsZero() {
		a["io.kubernetes.cri-o.Created"] = o.Created.UTC().Format(time.RFC3339Nano)
	}
	for k, v := range o.Annotations {
		a[k] = v
	}
	return a
}
