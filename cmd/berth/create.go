package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"go.podman.io/storage"
)

type storageImage = storage.Image

// createFlags are the flags of `create` and `run`.
type createFlags struct {
	name, hostname, workdir, user, entrypoint, network, restart, stopSignal string
	logDriver, pull, cidFile, userns, tz, shmSize, memory, cpus, umask      string
	memorySwap                                                              string
	initPath                                                                string
	env, envFiles, envMerge, labels, labelFiles, annotations, publish       []string
	addHosts, dns, dnsSearch, dnsOptions, logOpts, groupAdd, volumes        []string
	mounts, tmpfs, capAdd, capDrop, securityOpts, ulimits, devices, expose  []string
	deviceCgroupRules                                                       []string
	pidNS, ipcNS, utsNS                                                     string
	sysctls                                                                 []string
	interactive, tty, rm, detach, envHost, readOnly, readOnlyTmpfs          bool
	privileged, init, publishAll                                            bool
	replace                                                                 bool
	stopTimeout, timeout                                                    uint
	pidsLimit                                                               int64
	cpuShares                                                               uint64
	oomScoreAdj                                                             int
	// lifecycle flags: the monitor's pid file, fds passed on, --rmi (run)
	conmonPidfile string
	preserveFDs   uint
	rmi           bool
	kernelMemory  string
	// flags of the container-commands work (issue 11)
	unsetEnv, hostUsers, attach []string
	unsetEnvAll, passwd         bool
	passwdEntry                 string
	httpProxy                   bool
}

func (f *createFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.Bool("help", false, "help for "+cmd.Name()) // -h is --hostname, as in podman
	fl.StringVar(&f.name, "name", "", "assign a name to the container")
	fl.BoolVar(&f.replace, "replace", false, "if a container with the same name exists, replace it")
	fl.StringVarP(&f.hostname, "hostname", "h", "", "set container hostname")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringArrayVar(&f.groupAdd, "group-add", nil, "add additional groups to the primary container process")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "overwrite the default ENTRYPOINT of the image")
	fl.StringVar(&f.network, "network", "", "connect a container to a network (host, none, slirp4netns, pasta, private)")
	fl.StringVar(&f.pidNS, "pid", "", "PID namespace to use (host, private, ns:PATH)")
	fl.StringVar(&f.ipcNS, "ipc", "", "IPC namespace to use (host, private, shareable, none, ns:PATH)")
	fl.StringVar(&f.utsNS, "uts", "", "UTS namespace to use (host, private, ns:PATH)")
	fl.StringVar(&f.network, "net", "", "connect a container to a network")
	_ = fl.MarkHidden("net")
	fl.StringVar(&f.restart, "restart", "", "restart policy to apply when a container exits (no, on-failure[:N], always, unless-stopped)")
	fl.StringVar(&f.stopSignal, "stop-signal", "", "signal to stop a container (default SIGTERM)")
	fl.UintVar(&f.stopTimeout, "stop-timeout", 10, "timeout (in seconds) that containers stopped by user command have to exit; then they are killed")
	fl.UintVar(&f.timeout, "timeout", 0, "maximum length of time a container is allowed to run; then it is killed")
	fl.StringVar(&f.logDriver, "log-driver", "k8s-file", "logging driver for the container (k8s-file, json-file, none, passthrough)")
	fl.StringArrayVar(&f.logOpts, "log-opt", nil, "logging driver options (max-size=, max-file=, path=, tag=)")
	fl.StringVar(&f.pull, "pull", "missing", "pull image policy (always, missing, never, newer)")
	fl.StringVar(&f.cidFile, "cidfile", "", "write the container ID to the file")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set environment variables in container")
	fl.StringArrayVar(&f.envFiles, "env-file", nil, "read in a file of environment variables")
	fl.BoolVar(&f.httpProxy, "http-proxy", true, "set proxy environment variables in the container based on the host proxy vars")
	fl.BoolVar(&f.envHost, "env-host", false, "use all current host environment variables in container")
	fl.StringArrayVar(&f.envMerge, "env-merge", nil, "preprocess environment variables from image before injecting them into the container")
	fl.StringArrayVarP(&f.labels, "label", "l", nil, "set metadata on container")
	fl.StringArrayVar(&f.labelFiles, "label-file", nil, "read in a line delimited file of labels")
	fl.StringArrayVar(&f.annotations, "annotation", nil, "add annotations to container (key=value)")
	fl.StringArrayVarP(&f.publish, "publish", "p", nil, "publish a container's port, or a range of ports, to the host")
	fl.BoolVarP(&f.publishAll, "publish-all", "P", false, "publish all exposed ports to random ports on the host interface")
	fl.StringArrayVar(&f.expose, "expose", nil, "expose a port or a range of ports")
	fl.StringArrayVar(&f.addHosts, "add-host", nil, "add a custom host-to-IP mapping (host:ip)")
	fl.StringArrayVar(&f.dns, "dns", nil, "set custom DNS servers")
	fl.StringArrayVar(&f.dnsSearch, "dns-search", nil, "set custom DNS search domains")
	fl.StringArrayVar(&f.dnsOptions, "dns-option", nil, "set custom DNS options")
	fl.StringArrayVar(&f.dnsOptions, "dns-opt", nil, "set custom DNS options")
	_ = fl.MarkHidden("dns-opt")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "keep STDIN open even if not attached")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-TTY for container")
	fl.BoolVar(&f.rm, "rm", false, "remove container and any anonymous unnamed volume associated with the container after exit")
	fl.StringArrayVarP(&f.volumes, "volume", "v", nil, "bind mount a volume into the container (/host/dir:/ctr/dir[:ro,rw,z,Z,U])")
	fl.StringArrayVar(&f.mounts, "mount", nil, "attach a filesystem mount to the container (type=bind|tmpfs,...)")
	fl.StringArrayVar(&f.tmpfs, "tmpfs", nil, "mount a temporary filesystem (tmpfs) into a container")
	fl.BoolVar(&f.readOnly, "read-only", false, "make containers root filesystem read-only")
	fl.BoolVar(&f.readOnlyTmpfs, "read-only-tmpfs", true, "when running containers in read-only mode mount a read-write tmpfs on /run, /tmp and /var/tmp")
	fl.StringArrayVar(&f.capAdd, "cap-add", nil, "add capabilities to the container")
	fl.StringArrayVar(&f.capDrop, "cap-drop", nil, "drop capabilities from the container")
	fl.BoolVar(&f.privileged, "privileged", false, "give extended privileges to container")
	fl.StringArrayVar(&f.securityOpts, "security-opt", nil, "security options")
	fl.StringArrayVar(&f.ulimits, "ulimit", nil, "ulimit options")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "tune container pids limit (set -1 for unlimited)")
	fl.StringVarP(&f.memory, "memory", "m", "", "memory limit (format: <number>[<unit>], where unit = b, k, m or g)")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	fl.StringVar(&f.cpus, "cpus", "", "number of CPUs. The default is 0.000 which means no limit")
	fl.Uint64VarP(&f.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fl.StringArrayVar(&f.devices, "device", nil, "add a host device to the container")
	fl.StringArrayVar(&f.deviceCgroupRules, "device-cgroup-rule", nil, "add a rule to the cgroup allowed devices list ('TYPE MAJOR:MINOR ACCESS', such as 'c 1:3 rwm')")
	fl.StringVar(&f.userns, "userns", "", "user namespace to use (host, keep-id, nomap)")
	fl.BoolVar(&f.init, "init", false, "run an init binary inside the container that forwards signals and reaps processes")
	fl.StringVar(&f.initPath, "init-path", "", "path to the container-init binary")
	fl.StringVar(&f.tz, "tz", "", "set timezone in container (local, or a zone name such as Europe/Paris)")
	fl.StringVar(&f.shmSize, "shm-size", "", "size of /dev/shm (format: <number>[<unit>], where unit = b, k, m or g)")
	fl.StringArrayVar(&f.sysctls, "sysctl", nil, "sysctl options")
	fl.StringVar(&f.umask, "umask", "", "set umask in container (default 0022)")
	fl.IntVar(&f.oomScoreAdj, "oom-score-adj", 0, "tune the host's OOM preferences (-1000 to 1000)")
	// lifecycle flags
	fl.StringVar(&f.conmonPidfile, "conmon-pidfile", "", "path to the file that will receive the PID of the container's monitor (berth's conmon)")
	fl.UintVar(&f.preserveFDs, "preserve-fds", 0, "pass a number of additional file descriptors into the container")
	fl.StringVar(&f.kernelMemory, "kernel-memory", "", "no longer supported: accepted, with a warning, and ignored (as podman)")
	_ = fl.MarkHidden("kernel-memory")
	fl.StringArrayVar(&f.unsetEnv, "unsetenv", nil, "unset environment default variables in container")
	fl.BoolVar(&f.unsetEnvAll, "unsetenv-all", false, "unset all default environment variables in container")
	fl.StringSliceVar(&f.hostUsers, "hostuser", nil, "host user account to add to /etc/passwd within container")
	fl.StringSliceVarP(&f.attach, "attach", "a", nil, "attach to STDIN, STDOUT or STDERR")
	fl.BoolVar(&f.passwd, "passwd", true, "add entries to /etc/passwd and /etc/group")
	fl.StringVar(&f.passwdEntry, "passwd-entry", "", "entry to write to /etc/passwd ($USERNAME, $UID, $GID, $NAME, $HOME)")
}

// newContainerSpec maps the flags onto the engine's container spec. Only
// what a flag's syntax decides is checked here; the engine checks the rest
// (libpod.Runtime.CreateContainer) before anything is created.
func newContainerSpec(cmd *cobra.Command, f *createFlags, imageName string, args []string) (*libpod.ContainerSpec, error) {
	changed := cmd.Flags().Changed
	s := &libpod.ContainerSpec{
		Name: f.name, Replace: f.replace, Image: imageName, PullPolicy: f.pull, CreateCommand: os.Args,
		Terminal: f.tty, Stdin: f.interactive, Hostname: f.hostname, AutoRemove: f.rm, RemoveImage: f.rmi,
		Timeout: f.timeout, PreserveFDs: f.preserveFDs,
		DNSServers: f.dns, DNSSearch: f.dnsSearch, DNSOptions: f.dnsOptions, AddHosts: f.addHosts,
		ReadOnly: f.readOnly, ReadOnlyTmpfs: f.readOnlyTmpfs, Privileged: f.privileged,
		CapAdd: f.capAdd, CapDrop: f.capDrop, PublishAll: f.publishAll, User: f.user, GroupAdd: f.groupAdd,
		WorkDir: f.workdir, Init: f.init || f.initPath != "", InitPath: f.initPath, Timezone: f.tz,
		UserNS: f.userns, Network: f.network, EnvHost: f.envHost, UnsetEnv: f.unsetEnv, UnsetEnvAll: f.unsetEnvAll,
		HostUsers: f.hostUsers, NoPasswd: !f.passwd, PasswdEntry: f.passwdEntry, EnvMerge: f.envMerge,
	}
	var err error
	if changed("http-proxy") {
		s.HTTPProxy = &f.httpProxy
	}
	if changed("log-driver") { // else containers.conf's log_driver
		s.LogDriver = f.logDriver
	}
	if changed("stop-timeout") {
		s.StopTimeout = &f.stopTimeout
	}
	if f.conmonPidfile != "" {
		if s.MonitorPidFile, err = filepath.Abs(f.conmonPidfile); err != nil {
			return nil, fmt.Errorf("--conmon-pidfile %s: %w", f.conmonPidfile, err)
		}
	}
	if _, err := parse.PullPolicy(f.pull); err != nil {
		return nil, err
	}

	// logging, restart, stop
	lo, err := parse.LogOpts(f.logOpts)
	if err != nil {
		return nil, err
	}
	s.LogPath, s.LogMaxSize, s.LogTag = lo.Path, lo.MaxSize, lo.Tag
	for k, v := range lo.Other {
		if k != "max-file" {
			continue // kept by podman for drivers that use them; k8s-file does not
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid --log-opt max-file=%s: must be a number, 1 or more", v)
		}
		s.LogMaxFiles = n
	}
	if s.RestartPolicy, s.RestartMax, err = parse.RestartPolicy(f.restart); err != nil {
		return nil, err
	}
	if f.stopSignal != "" {
		if s.StopSignal, err = parse.StopSignal(f.stopSignal); err != nil {
			return nil, err
		}
	}

	// labels, annotations
	if s.Labels, err = labels(f.labelFiles, f.labels); err != nil {
		return nil, err
	}
	for _, a := range f.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid --annotation %q: annotations must be formatted KEY=VALUE", a)
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}

	// process
	if changed("entrypoint") {
		s.Entrypoint = specgen.ParseEntrypoint(f.entrypoint)
	}
	if len(args) > 0 {
		s.Command = args
	}
	if f.umask != "" {
		m, err := parse.Umask(f.umask)
		if err != nil {
			return nil, err
		}
		s.Umask = &m
	}
	if changed("oom-score-adj") {
		s.OOMScoreAdj = &f.oomScoreAdj
	}
	if s.Env, err = environment(f); err != nil {
		return nil, err
	}
	for _, a := range f.attach {
		switch strings.ToLower(a) {
		case "stdin", "stdout", "stderr":
		default:
			return nil, fmt.Errorf("invalid stream %q for --attach - must be one of stdin, stdout, or stderr: invalid argument", a)
		}
	}
	if len(f.attach) > 0 && f.logDriver == "passthrough" {
		return nil, errors.New("cannot specify --attach with --log-driver=passthrough: invalid argument")
	}

	// security
	so, err := parse.SecurityOpts(f.securityOpts)
	if err != nil {
		return nil, err
	}
	s.NoNewPrivileges, s.Unmask, s.Mask, s.ProcOpts = so.NoNewPrivileges, so.Unmask, so.Mask, so.ProcOpts
	s.SeccompProfile, s.AppArmorProfile = so.SeccompProfile, so.AppArmorProfile
	if s.SeccompProfile != "" && s.SeccompProfile != specgen.SeccompUnconfined {
		if s.SeccompProfile, err = filepath.Abs(s.SeccompProfile); err != nil {
			return nil, err
		}
	}

	// resources
	for _, u := range f.ulimits {
		if u == "host" {
			s.UlimitHost = true
			continue
		}
		rl, err := parse.Ulimit(u)
		if err != nil {
			return nil, err
		}
		s.Ulimits = append(s.Ulimits, rl)
	}
	if f.memory != "" {
		m, err := parse.Memory(f.memory)
		if err != nil {
			return nil, err
		}
		s.Memory = &m
	}
	if f.memorySwap != "" {
		if s.MemorySwap, err = parse.MemorySwap(f.memorySwap); err != nil {
			return nil, err
		}
	}
	if f.cpus != "" {
		if s.CPUQuota, s.CPUPeriod, err = parse.CPUs(f.cpus); err != nil {
			return nil, err
		}
	}
	s.CPUShares = f.cpuShares
	if changed("pids-limit") {
		s.PidsLimit = &f.pidsLimit
	}
	if changed("kernel-memory") {
		logrus.Warn("The --kernel-memory flag is no longer supported. This flag is a noop.")
	}
	if f.shmSize != "" {
		if s.ShmSize, err = parse.Size("--shm-size", f.shmSize); err != nil {
			return nil, err
		}
		if s.ShmSize == 0 {
			return nil, fmt.Errorf("invalid --shm-size %q: the size must be above 0", f.shmSize)
		}
	}
	if s.Sysctls, err = parse.Sysctls(f.sysctls); err != nil {
		return nil, err
	}
	for _, d := range f.devices {
		host, ctr, perms, err := parse.Device(d)
		if err != nil {
			return nil, err
		}
		s.Devices = append(s.Devices, specgen.Device{HostPath: host, ContainerPath: ctr, Permissions: perms})
	}
	for _, r := range f.deviceCgroupRules {
		rule, err := parse.DeviceCgroupRule(r)
		if err != nil {
			return nil, err
		}
		s.DeviceCgroupRules = append(s.DeviceCgroupRules, rule)
	}

	// mounts
	if s.Mounts, err = userMounts(f); err != nil {
		return nil, err
	}

	// pid, ipc and uts namespaces
	for _, ns := range []struct {
		flag, value string
		dst         *specgen.Namespace
		modes       []string
	}{
		{"pid", f.pidNS, &s.PID, []string{"host", "private"}},
		{"ipc", f.ipcNS, &s.IPC, []string{"host", "private", "shareable", "none"}},
		{"uts", f.utsNS, &s.UTS, []string{"host", "private"}},
	} {
		n, err := namespaceFlag(ns.flag, ns.value, ns.modes)
		if err != nil {
			return nil, err
		}
		*ns.dst = n
	}

	// ports
	published, err := parse.Ports(f.publish)
	if err != nil {
		return nil, err
	}
	for _, p := range published {
		s.Ports = append(s.Ports, libpod.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Range: p.Range, Protocol: p.Protocol})
	}
	exposed, err := parse.ExposedPorts(nil, f.expose)
	if err != nil {
		return nil, err
	}
	for _, p := range exposed {
		s.Expose = append(s.Expose, libpod.PortMapping{ContainerPort: p.ContainerPort, Range: p.Range, Protocol: p.Protocol})
	}
	return s, nil
}

// environment is the user's environment: --env-file, then -e, each
// overriding the ones before; a name without a value takes the host's.
// --env-host and --env-merge are the engine's (they need the host's and the
// image's environment).
func environment(f *createFlags) ([]string, error) {
	var env []string
	host := os.Environ()
	for _, file := range f.envFiles {
		fe, err := parse.EnvFile(file, host)
		if err != nil {
			return nil, err
		}
		env = parse.MergeEnv(env, fe)
	}
	e, err := parse.Env(f.env, host)
	if err != nil {
		return nil, err
	}
	return parse.MergeEnv(env, e), nil
}

// labels reads --label-file files, then --label values (a later one wins).
func labels(files, values []string) (map[string]string, error) {
	m := map[string]string{}
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("reading --label-file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, _ := strings.Cut(line, "=")
			if k == "" {
				_ = fh.Close()
				return nil, fmt.Errorf("%s, line %d: invalid label %q: the name is empty", file, n, line)
			}
			m[k] = v
		}
		err = sc.Err()
		_ = fh.Close()
		if err != nil {
			return nil, fmt.Errorf("reading --label-file %s: %w", file, err)
		}
	}
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid label %q: the key must not be empty", v)
		}
		m[k] = val
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// userMounts turns -v, --mount and --tmpfs into spec mounts (the engine
// checks them). Engine-only options stay in the mount's options for the
// engine (U: chown the source at start); the spec generator drops them.
func userMounts(f *createFlags) ([]specs.Mount, error) {
	var out []specs.Mount
	add := func(m parse.Mount, flag, spec string) error {
		switch m.Type {
		case parse.TypeVolume:
			if m.Source == "" {
				return fmt.Errorf("named volumes are not supported yet (%s %s is an anonymous volume): use a bind mount, such as -v /host/dir:%s", flag, spec, m.Destination)
			}
			return fmt.Errorf("named volumes are not supported yet (%s %s): use a bind mount, such as -v /host/dir:%s", flag, spec, m.Destination)
		case parse.TypeImage:
			return fmt.Errorf("image mounts are not supported yet (%s %s)", flag, spec)
		}
		if m.Overlay {
			return fmt.Errorf("overlay mounts (the O option) are not supported yet (%s %s)", flag, spec)
		}
		if m.SubPath != "" {
			return fmt.Errorf("subpath is not supported yet (%s %s)", flag, spec)
		}
		sm := specs.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options}
		if m.Chown {
			sm.Options = append(sm.Options, "U")
		}
		switch m.Type {
		case parse.TypeTmpfs:
			sm.Source = "tmpfs"
		case parse.TypeDevpts:
			sm.Source = "devpts"
		}
		out = append(out, sm)
		return nil
	}
	for _, v := range f.volumes {
		m, err := parse.Volume(v)
		if err != nil {
			return nil, err
		}
		if err := add(m, "-v", v); err != nil {
			return nil, err
		}
	}
	for _, v := range f.mounts {
		m, err := parse.MountFlag(v)
		if err != nil {
			return nil, err
		}
		if err := add(m, "--mount", v); err != nil {
			return nil, err
		}
	}
	for _, v := range f.tmpfs {
		m, err := parse.Tmpfs(v)
		if err != nil {
			return nil, err
		}
		if err := add(m, "--tmpfs", v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseSignal reads a signal name or number (used by kill and inspect).
func parseSignal(s string) (syscall.Signal, error) {
	return parse.StopSignal(s)
}

// namespaceFlag maps --pid, --ipc or --uts: one of modes ("shareable" is
// private: berth's IPC namespaces can always be joined), or ns:PATH.
// Joining another container's namespace comes with pods.
func namespaceFlag(flag, value string, modes []string) (specgen.Namespace, error) {
	if p, ok := strings.CutPrefix(value, "ns:"); ok {
		if !filepath.IsAbs(p) {
			return specgen.Namespace{}, fmt.Errorf("invalid --%s %q: ns: needs an absolute path", flag, value)
		}
		return specgen.Namespace{Mode: specgen.NSPath, Path: p}, nil
	}
	if strings.HasPrefix(value, "container:") {
		return specgen.Namespace{}, fmt.Errorf("--%s %s is not supported yet", flag, value)
	}
	if value == "" {
		return specgen.Namespace{}, nil
	}
	if !slices.Contains(modes, value) {
		return specgen.Namespace{}, fmt.Errorf("invalid --%s %q: use %s or ns:PATH", flag, value, strings.Join(modes, ", "))
	}
	switch value {
	case "host":
		return specgen.Namespace{Mode: specgen.NSHost}, nil
	case "none":
		return specgen.Namespace{Mode: specgen.NSNone}, nil
	}
	return specgen.Namespace{}, nil
}
