package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// lifecycleConfig maps --conmon-pidfile, --preserve-fds and --rmi.
func lifecycleConfig(f *createFlags, cfg *libpod.ContainerConfig) error {
	if f.conmonPidfile != "" {
		p, err := filepath.Abs(f.conmonPidfile)
		if err != nil {
			return fmt.Errorf("--conmon-pidfile %s: %w", f.conmonPidfile, err)
		}
		cfg.MonitorPidFile = p
	}
	if err := libpod.CheckPreserveFDs(f.preserveFDs); err != nil {
		return err
	}
	cfg.PreserveFDs = f.preserveFDs
	cfg.RemoveImage = f.rmi // run sets --rm with it
	return nil
}

var containerNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// newContainerConfig validates the flags and builds the container's config.
// Every value is checked before the image is looked up or pulled, and the
// spec is generated once, against an empty root filesystem, so that a bad
// value fails here and nothing is created.
func newContainerConfig(cmd *cobra.Command, f *createFlags, imageName string, args []string) (*libpod.ContainerConfig, error) {
	changed := cmd.Flags().Changed
	isRootless := rootless.IsRootless()
	o := &specgen.Options{Terminal: f.tty, ReadOnly: f.readOnly, ReadOnlyTmpfs: f.readOnlyTmpfs, Privileged: f.privileged,
		CapAdd: f.capAdd, CapDrop: f.capDrop, AutoRemove: f.rm, PublishAll: f.publishAll}
	cfg := &libpod.ContainerConfig{
		Name: f.name, Terminal: f.tty, Stdin: f.interactive, Hostname: f.hostname, AutoRemove: f.rm,
		LogDriver: f.logDriver, StopTimeout: f.stopTimeout, Timeout: f.timeout,
		DNSServers: f.dns, DNSSearch: f.dnsSearch, DNSOptions: f.dnsOptions, CreateCommand: os.Args,
	}
	var err error
	if err := lifecycleConfig(f, cfg); err != nil {
		return nil, err
	}

	if f.name != "" && !containerNameRE.MatchString(f.name) {
		return nil, fmt.Errorf("invalid container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", f.name)
	}
	pull, err := parse.PullPolicy(f.pull)
	if err != nil {
		return nil, err
	}

	// logging, restart, stop
	if err := libpod.CheckLogDriver(f.logDriver); err != nil {
		return nil, err
	}
	lo, err := parse.LogOpts(f.logOpts)
	if err != nil {
		return nil, err
	}
	cfg.LogPath, cfg.LogMaxSize, cfg.LogTag = lo.Path, lo.MaxSize, lo.Tag
	if cfg.LogPath != "" && !filepath.IsAbs(cfg.LogPath) {
		return nil, fmt.Errorf("invalid --log-opt path=%s: the path must be absolute", cfg.LogPath)
	}
	for k, v := range lo.Other {
		if k != "max-file" {
			continue // kept by podman for drivers that use them; k8s-file does not
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid --log-opt max-file=%s: must be a number, 1 or more", v)
		}
		cfg.LogMaxFiles = n
	}
	if cfg.RestartPolicy, cfg.RestartMax, err = parse.RestartPolicy(f.restart); err != nil {
		return nil, err
	}
	if cfg.RestartPolicy != "" && cfg.RestartPolicy != "no" && f.rm {
		return nil, errors.New("the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\"")
	}
	if f.stopSignal != "" {
		if o.StopSignal, err = parse.StopSignal(f.stopSignal); err != nil {
			return nil, err
		}
	}

	// labels, annotations
	if cfg.Labels, err = labels(f.labelFiles, f.labels); err != nil {
		return nil, err
	}
	for _, a := range f.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid --annotation %q: annotations must be formatted KEY=VALUE", a)
		}
		if cfg.Annotations == nil {
			cfg.Annotations = map[string]string{}
		}
		cfg.Annotations[k] = v
	}
	o.Annotations = cfg.Annotations

	// user, process
	if f.user != "" {
		u, g, hasGroup := strings.Cut(f.user, ":")
		if u == "" || hasGroup && g == "" {
			return nil, fmt.Errorf("invalid --user %q: use <name|uid>[:<group|gid>]", f.user)
		}
	}
	o.User = f.user
	for _, g := range f.groupAdd {
		if g == "keep-groups" && len(f.groupAdd) > 1 {
			return nil, errors.New("the '--group-add keep-groups' option is not allowed with any other --group-add options")
		}
		if g == "keep-groups" {
			return nil, errors.New("--group-add keep-groups is not supported yet")
		}
		if g == "" {
			return nil, errors.New("invalid --group-add \"\": give a group name or number")
		}
	}
	o.GroupAdd = f.groupAdd
	if f.workdir != "" {
		if !filepath.IsAbs(f.workdir) {
			return nil, fmt.Errorf("invalid --workdir %q: must be an absolute path", f.workdir)
		}
		o.WorkDir = filepath.Clean(f.workdir)
	}
	if changed("entrypoint") {
		o.Entrypoint = specgen.ParseEntrypoint(f.entrypoint)
	}
	if len(args) > 0 {
		o.Command = args
	}
	if f.umask != "" {
		m, err := parse.Umask(f.umask)
		if err != nil {
			return nil, err
		}
		o.Umask = &m
	}
	if changed("oom-score-adj") {
		if f.oomScoreAdj < -1000 || f.oomScoreAdj > 1000 {
			return nil, fmt.Errorf("invalid --oom-score-adj %d: must be between -1000 and 1000", f.oomScoreAdj)
		}
		o.OOMScoreAdj = &f.oomScoreAdj
	}
	if f.init || f.initPath != "" {
		if o.InitBinary, err = initBinary(f.initPath); err != nil {
			return nil, err
		}
	}

	// security
	so, err := parse.SecurityOpts(f.securityOpts)
	if err != nil {
		return nil, err
	}
	o.NoNewPrivileges, o.Unmask, o.Mask, o.ProcOpts = so.NoNewPrivileges, so.Unmask, so.Mask, so.ProcOpts
	if so.SeccompProfile != "" && so.SeccompProfile != specgen.SeccompUnconfined {
		if o.SeccompProfile, err = filepath.Abs(so.SeccompProfile); err != nil {
			return nil, err
		}
	} else {
		o.SeccompProfile = so.SeccompProfile
	}
	// SELinux labels (label=...) mean nothing on a host without SELinux,
	// which is every host berth supports so far: accepted and ignored, as
	// podman does there.
	if so.AppArmorProfile != "" && so.AppArmorProfile != "unconfined" {
		if data, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); strings.TrimSpace(string(data)) != "Y" {
			return nil, fmt.Errorf("--security-opt apparmor=%s: AppArmor is not enabled on this host", so.AppArmorProfile)
		}
		o.AppArmorProfile = so.AppArmorProfile
	}

	// resources
	for _, u := range f.ulimits {
		if u == "host" {
			o.UlimitHost = true
			continue
		}
		rl, err := parse.Ulimit(u)
		if err != nil {
			return nil, err
		}
		o.Ulimits = append(o.Ulimits, rl)
	}
	limits := false
	if f.memory != "" {
		if o.Memory, err = parse.Memory(f.memory); err != nil {
			return nil, err
		}
		if o.Memory > 0 && o.Memory < 6*1024*1024 {
			return nil, fmt.Errorf("invalid --memory %q: the minimum memory limit allowed is 6MB", f.memory)
		}
		limits = true // even 0: podman warns for any limit given
	}
	if f.memorySwap != "" {
		if o.MemorySwap, err = parse.MemorySwap(f.memorySwap); err != nil {
			return nil, err
		}
		if o.MemorySwap > 0 && o.MemorySwap < o.Memory {
			return nil, errors.New("--memory-swap must be larger than or equal to --memory")
		}
		if o.Memory == 0 && o.MemorySwap != 0 {
			return nil, errors.New("--memory-swap needs --memory")
		}
		limits = true
	}
	if f.cpus != "" {
		if o.CPUQuota, o.CPUPeriod, err = parse.CPUs(f.cpus); err != nil {
			return nil, err
		}
		limits = true
	}
	if changed("cpu-shares") {
		o.CPUShares = f.cpuShares
		limits = true
	}
	if changed("pids-limit") {
		if f.pidsLimit < -1 {
			return nil, fmt.Errorf("invalid --pids-limit %d: use a number of processes, or -1 for unlimited", f.pidsLimit)
		}
		o.PidsLimit = &f.pidsLimit
		limits = true
	}
	if isRootless && limits {
		// No cgroup a rootless berth could use: like podman 4.3 on
		// cgroup v1, warn and run without the limits.
		msg := "Resource limits are not supported and ignored on cgroups V1 rootless systems"
		if libpod.CgroupsV2() {
			msg = "Resource limits are not supported yet for rootless containers and are ignored"
		}
		fmt.Fprintln(os.Stderr, msg) // podman prints these warnings bare
		o.Memory, o.MemorySwap, o.CPUQuota, o.CPUPeriod, o.CPUShares, o.PidsLimit = 0, 0, 0, 0, 0, nil
	}
	if changed("kernel-memory") {
		fmt.Fprintln(os.Stderr, "WARN[0000] The --kernel-memory flag is no longer supported. This flag is a noop.")
	}
	if f.shmSize != "" {
		if o.ShmSize, err = parse.Size("--shm-size", f.shmSize); err != nil {
			return nil, err
		}
		if o.ShmSize == 0 {
			return nil, fmt.Errorf("invalid --shm-size %q: the size must be above 0", f.shmSize)
		}
	}
	if o.Sysctls, err = parse.Sysctls(f.sysctls); err != nil {
		return nil, err
	}
	if len(o.Sysctls) == 0 {
		o.Sysctls = nil
	}
	for _, d := range f.devices {
		host, ctr, perms, err := parse.Device(d)
		if err != nil {
			return nil, err
		}
		o.Devices = append(o.Devices, specgen.Device{HostPath: host, ContainerPath: ctr, Permissions: perms})
	}
	for _, r := range f.deviceCgroupRules {
		rule, err := parse.DeviceCgroupRule(r)
		if err != nil {
			return nil, err
		}
		o.DeviceCgroupRules = append(o.DeviceCgroupRules, rule)
	}

	// mounts
	if o.Mounts, err = userMounts(f); err != nil {
		return nil, err
	}

	// time zone
	if f.tz != "" {
		if _, err := libpod.TimezoneFile(f.tz); err != nil {
			return nil, err
		}
		cfg.Timezone = f.tz
	}

	// user namespace
	uns, err := parse.ParseUserNS(f.userns)
	if err != nil {
		return nil, err
	}
	switch uns.Mode {
	case parse.UserNSHost:
	case parse.UserNSNoMap:
		// The container's root would be an ID that cannot reach the
		// storage berth creates (not ID-mapped yet).
		return nil, errors.New("--userns=nomap is not supported yet: it needs ID-mapped container storage")
	case parse.UserNSKeepID:
		if !isRootless {
			return nil, fmt.Errorf("%s is only supported in rootless mode", uns.Mode)
		}
		if uns.Size != nil {
			return nil, errors.New("--userns=keep-id:size= is not supported yet")
		}
		cfg.UserNS = f.userns
		if uns.Mode == parse.UserNSKeepID && o.User == "" {
			uid, gid := uint32(rootless.UID()), uint32(rootless.GID())
			if uns.UID != nil {
				uid = *uns.UID
			}
			if uns.GID != nil {
				gid = *uns.GID
			}
			o.User = fmt.Sprintf("%d:%d", uid, gid)
		}
	default:
		return nil, fmt.Errorf("--userns=%s is not supported yet: use host or keep-id", f.userns)
	}

	// pid, ipc and uts namespaces
	for _, ns := range []struct {
		flag, value string
		dst         *specgen.Namespace
		modes       []string
	}{
		{"pid", f.pidNS, &o.PID, []string{"host", "private"}},
		{"ipc", f.ipcNS, &o.IPC, []string{"host", "private", "shareable", "none"}},
		{"uts", f.utsNS, &o.UTS, []string{"host", "private"}},
	} {
		n, err := namespaceFlag(ns.flag, ns.value, ns.modes)
		if err != nil {
			return nil, err
		}
		*ns.dst = n
	}

	// network
	switch netMode, netOpts, _ := strings.Cut(f.network, ":"); netMode {
	case "", "private", "bridge", "podman", "slirp4netns":
		if netOpts != "" {
			return nil, fmt.Errorf("--network %s: network options are not supported yet", f.network)
		}
		// Rootful containers join the default CNI bridge ("podman"), as
		// with podman; rootless ones (and --network slirp4netns) use
		// slirp4netns until rootless bridges land.
		cfg.Network = "slirp4netns"
		if !isRootless && netMode != "slirp4netns" {
			cfg.Network = "bridge"
		}
	case "pasta":
		if netOpts != "" {
			return nil, fmt.Errorf("--network %s: pasta options are not supported yet", f.network)
		}
		if !isRootless {
			return nil, errors.New("pasta networking is only supported for rootless mode")
		}
		if _, err := exec.LookPath("pasta"); err != nil {
			return nil, errors.New("--network pasta: pasta not found: install the passt package")
		}
		cfg.Network = "pasta"
	case "host", "none":
		if netOpts != "" {
			return nil, fmt.Errorf("invalid --network %q", f.network)
		}
		cfg.Network = netMode
	default:
		return nil, fmt.Errorf("--network %q is not supported yet: use host, none, slirp4netns, pasta or private", f.network)
	}
	for _, h := range f.addHosts {
		e, err := parse.AddHost(h)
		if err != nil {
			return nil, err
		}
		if e.IP == parse.HostGateway && cfg.Network == "none" {
			return nil, fmt.Errorf("--add-host %s: host-gateway has no address with --network none", h)
		}
	}
	cfg.AddHosts = f.addHosts
	for _, d := range f.dns {
		if net.ParseIP(d) == nil {
			return nil, fmt.Errorf("invalid --dns %q: not an IP address", d)
		}
	}
	published, err := parse.Ports(f.publish)
	if err != nil {
		return nil, err
	}
	if _, err := parse.ExposedPorts(nil, f.expose); err != nil {
		return nil, err
	}

	// the image
	ir, err := imageRuntime()
	if err != nil {
		return nil, err
	}
	img, err := lookupOrPull(ir, imageName, pull)
	if err != nil {
		return nil, err
	}
	icfg, err := ir.Config(img)
	if err != nil {
		return nil, err
	}
	cfg.ImageID, cfg.ImageName = img.ID, imageName
	if len(img.Names) > 0 {
		cfg.ImageName = img.Names[0]
	}
	imgConfig := icfg.Config
	o.Image = &imgConfig
	// Image VOLUMEs would get anonymous volumes; volumes are a later
	// issue, so they are ignored for now (the directories stay in the
	// container's own layer).

	// command
	if cfg.Command, err = specgen.Command(o.Image, o.Entrypoint, o.Command); err != nil {
		return nil, err
	}
	sig, err := specgen.StopSignal(o.StopSignal, o.Image)
	if err != nil {
		return nil, fmt.Errorf("the image's STOPSIGNAL: %w", err)
	}
	cfg.StopSignal = int(sig)

	// environment
	if o.DefaultEnv, err = runtime().DefaultEnv(); err != nil {
		return nil, err
	}
	if o.Env, err = environment(f, o.Image, o.DefaultEnv); err != nil {
		return nil, err
	}
	o.UnsetEnv, o.UnsetEnvAll = f.unsetEnv, f.unsetEnvAll
	o.HostUsers = f.hostUsers
	o.NoPasswd, o.PasswdEntry = !f.passwd, f.passwdEntry
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

	// ports
	if cfg.Network == "slirp4netns" || cfg.Network == "pasta" || cfg.Network == "bridge" {
		if f.publishAll {
			exposed, err := parse.ExposedPorts(o.Image.ExposedPorts, f.expose)
			if err != nil {
				return nil, err
			}
			published = parse.PublishAll(published, exposed)
		}
		if cfg.Ports, err = portMappings(published); err != nil {
			return nil, err
		}
		for _, p := range cfg.Ports {
			if cfg.Network == "pasta" && p.Protocol == "sctp" {
				return nil, fmt.Errorf("publishing %d/sctp: pasta forwards only tcp and udp", p.ContainerPort)
			}
		}
	} else if len(published) > 0 || f.publishAll {
		fmt.Fprintln(os.Stderr, "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use")
	}

	// One generation against an empty root filesystem checks what the
	// options alone decide (capabilities, limits, sysctls, devices,
	// mounts, seccomp profile) before anything is created.
	check := *o
	check.Rootfs = "/nonexistent/berth-check-rootfs"
	check.User, check.GroupAdd = "", nil
	if check.Image != nil {
		// the image's USER is resolved in its root filesystem, later
		img := *check.Image
		img.User = ""
		check.Image = &img
	}
	check.Rootless = isRootless
	check.CanRaiseRlimits = specgen.CanRaiseRlimits()
	check.UseCgroups = !isRootless
	check.Hostname = "check"
	switch cfg.Network {
	case "host":
		check.Network = specgen.Namespace{Mode: specgen.NSHost}
	case "none":
		check.Network = specgen.Namespace{Mode: specgen.NSNone}
	}
	if _, err := specgen.Generate(&check); err != nil {
		return nil, err
	}

	spec, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	cfg.Spec = spec
	return cfg, nil
}

// environment is the user's environment, applied over the image's:
// --env-merge (expanded against the image's environment), then
// --env-host, --env-file and -e, each overriding the ones before.
func environment(f *createFlags, img *ociv1.ImageConfig, defaultEnv []string) ([]string, error) {
	var env []string
	if len(f.envMerge) > 0 {
		base := parse.MergeEnv(parse.MergeEnv([]string{"PATH=" + specgen.DefaultPath, "TERM=xterm", "container=podman"}, defaultEnv), img.Env)
		merged, err := parse.EnvMerge(f.envMerge, base)
		if err != nil {
			return nil, err
		}
		env = parse.MergeEnv(env, merged)
	}
	host := os.Environ()
	if f.envHost {
		env = parse.MergeEnv(env, host)
	}
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
				fh.Close()
				return nil, fmt.Errorf("%s, line %d: invalid label %q: the name is empty", file, n, line)
			}
			m[k] = v
		}
		err = sc.Err()
		fh.Close()
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

// userMounts turns -v, --mount and --tmpfs into spec mounts. Engine-only
// options stay in the mount's options for the engine (U: chown the source
// at start); the spec generator drops them.
func userMounts(f *createFlags) ([]specs.Mount, error) {
	var out []specs.Mount
	seen := map[string]string{}
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
		if prev, ok := seen[m.Destination]; ok {
			return fmt.Errorf("%s: duplicate mount destination (also mounted by %s)", m.Destination, prev)
		}
		seen[m.Destination] = flag + " " + spec
		sm := specs.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options}
		switch m.Type {
		case parse.TypeBind:
			if _, err := os.Stat(m.Source); err != nil {
				var pe *os.PathError
				if errors.As(err, &pe) {
					return fmt.Errorf("statfs %s: %w", m.Source, pe.Err)
				}
				return err
			}
			if m.Chown {
				sm.Options = append(sm.Options, "U")
			}
		case parse.TypeTmpfs:
			sm.Source = "tmpfs"
			if m.Chown {
				return fmt.Errorf("the U option is not supported yet on tmpfs mounts (%s %s)", flag, spec)
			}
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

// portMappings expands ranges and gives a free host port to each mapping
// without one (-p 80, -P), as podman does at create time.
func portMappings(published []parse.PortMapping) ([]libpod.PortMapping, error) {
	var out []libpod.PortMapping
	for _, p := range published {
		n := max(p.Range, 1)
		for i := uint16(0); i < n; i++ {
			pm := libpod.PortMapping{HostIP: p.HostIP, ContainerPort: p.ContainerPort + i, Protocol: p.Protocol}
			if p.HostPort != 0 {
				pm.HostPort = p.HostPort + i
			} else {
				port, err := freeHostPort(p.HostIP, p.Protocol)
				if err != nil {
					return nil, err
				}
				pm.HostPort = port
			}
			out = append(out, pm)
		}
	}
	return out, nil
}

func freeHostPort(ip, proto string) (uint16, error) {
	addr := net.JoinHostPort(ip, "0")
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, fmt.Errorf("finding a free host port: %w", err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("finding a free host port: %w", err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}

// initBinary finds --init's binary: --init-path, else catatonit where
// Debian and podman put it.
func initBinary(path string) (string, error) {
	if path != "" {
		if !filepath.IsAbs(path) {
			return "", fmt.Errorf("invalid --init-path %q: must be an absolute path", path)
		}
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("--init-path: %w", err)
		}
		if !st.Mode().IsRegular() {
			return "", fmt.Errorf("--init-path %s is not a regular file", path)
		}
		return path, nil
	}
	for _, p := range []string{"/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/libexec/catatonit/catatonit"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("catatonit"); err == nil {
		return p, nil
	}
	return "", errors.New("--init: catatonit not found: install catatonit (the Debian package catatonit), or give its path with --init-path")
}

// parseSignal reads a signal name or number (used by kill and inspect).
func parseSignal(s string) (syscall.Signal, error) {
	return parse.StopSignal(s)
}

// lookupOrPull applies the --pull policy.
func lookupOrPull(ir *image.Runtime, name, policy string) (*storageImage, error) {
	ctx, cancel := signalContext()
	defer cancel()
	return pullBase(ctx, ir, name, policy, image.CopyOptions{Progress: os.Stderr})
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
