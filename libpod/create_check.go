package libpod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// completeSpec checks every value of spec, before anything is written, and
// fills the defaults: containers.conf's, the image's (pulled if the policy
// says so) and the engine's. The spec is generated once against an empty
// root filesystem, so that what only the generator checks fails here too.
func (r *Runtime) completeSpec(ctx context.Context, s *ContainerSpec, opts *CreateOptions) error {
	isRootless := rootless.IsRootless()
	if s.Name != "" && !ValidName(s.Name) {
		return fmt.Errorf("invalid container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", s.Name)
	}
	if s.Replace && s.Name == "" {
		return errors.New("cannot replace container without --name being set")
	}
	pull, err := parse.PullPolicy(s.PullPolicy)
	if err != nil {
		return err
	}
	s.PullPolicy = pull
	conf, err := r.ContainersConf()
	if err != nil {
		return err
	}
	if err := applyContainersConf(s, conf, isRootless); err != nil {
		return err
	}

	if err := checkLifecycle(s); err != nil {
		return err
	}
	if err := checkProcess(s); err != nil {
		return err
	}
	if err := checkSecurity(s); err != nil {
		return err
	}
	if err := checkResources(s, isRootless, opts); err != nil {
		return err
	}
	if err := checkMounts(s.Mounts); err != nil {
		return err
	}
	if s.Timezone != "" {
		if _, err := TimezoneFile(s.Timezone); err != nil {
			return err
		}
	}
	if err := checkUserNS(s, isRootless); err != nil {
		return err
	}
	if err := checkNetwork(s, isRootless); err != nil {
		return err
	}

	// the image
	ir, err := r.Images()
	if err != nil {
		return err
	}
	img, err := ir.LookupOrPull(ctx, s.Image, s.PullPolicy, image.CopyOptions{Progress: opts.PullProgress})
	if err != nil {
		return err
	}
	icfg, err := ir.Config(img)
	if err != nil {
		return err
	}
	s.ImageID, s.ImageName = img.ID, s.Image
	if len(img.Names) > 0 {
		s.ImageName = img.Names[0]
	}
	imgConfig := icfg.Config
	s.ImageConfig = &imgConfig
	// Image VOLUMEs would get anonymous volumes; volumes are a later
	// issue, so they are ignored for now (the directories stay in the
	// container's own layer).

	if s.Args, err = specgen.Command(s.ImageConfig, s.Entrypoint, s.Command); err != nil {
		return err
	}
	if s.StopSignal, err = specgen.StopSignal(s.StopSignal, s.ImageConfig); err != nil {
		return fmt.Errorf("the image's STOPSIGNAL: %w", err)
	}
	if err := completeEnv(s); err != nil {
		return err
	}
	if err := r.completePorts(s, opts); err != nil {
		return err
	}
	if s.OCIRuntime, err = r.ociRuntimeName(); err != nil {
		return err
	}
	if s.StopTimeout == nil {
		t := uint(DefaultStopTimeout.Seconds())
		s.StopTimeout = &t
	}
	s.SchemaVersion = SpecSchemaVersion
	return checkGenerate(s, isRootless)
}

// ValidName tells whether name may name a container (podman's rule).
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i, ch := range name {
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
		if i > 0 {
			ok = ok || ch == '_' || ch == '.' || ch == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

func checkLifecycle(s *ContainerSpec) error {
	if err := CheckLogDriver(s.LogDriver); err != nil {
		return err
	}
	if s.LogPath != "" && !filepath.IsAbs(s.LogPath) {
		return fmt.Errorf("invalid --log-opt path=%s: the path must be absolute", s.LogPath)
	}
	if s.LogMaxFiles < 0 {
		return fmt.Errorf("invalid --log-opt max-file=%d: must be a number, 1 or more", s.LogMaxFiles)
	}
	switch s.RestartPolicy {
	case "", "no", "always", "unless-stopped":
		if s.RestartMax != 0 {
			return fmt.Errorf("invalid --restart %s:%d: a retry count is only allowed with on-failure", s.RestartPolicy, s.RestartMax)
		}
	case "on-failure":
		if s.RestartMax < 0 {
			return fmt.Errorf("invalid --restart on-failure:%d: the retry count must be a number, 0 or more", s.RestartMax)
		}
	default:
		return fmt.Errorf("invalid --restart %q: use no, on-failure[:max-retries], always or unless-stopped", s.RestartPolicy)
	}
	if s.RestartPolicy != "" && s.RestartPolicy != "no" && s.AutoRemove {
		return errors.New("the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\"")
	}
	if s.RemoveImage && !s.AutoRemove {
		return errors.New("--rmi needs --rm: the image can only go with the container")
	}
	if s.MonitorPidFile != "" && !filepath.IsAbs(s.MonitorPidFile) {
		return fmt.Errorf("invalid --conmon-pidfile %q: must be an absolute path", s.MonitorPidFile)
	}
	if err := CheckPreserveFDs(s.PreserveFDs); err != nil {
		return err
	}
	for k := range s.Labels {
		if k == "" {
			return errors.New("invalid label: the key must not be empty")
		}
	}
	for k := range s.Annotations {
		if k == "" {
			return errors.New("invalid --annotation: annotations must be formatted KEY=VALUE")
		}
	}
	return nil
}

func checkProcess(s *ContainerSpec) error {
	if s.User != "" {
		u, g, hasGroup := strings.Cut(s.User, ":")
		if u == "" || hasGroup && g == "" {
			return fmt.Errorf("invalid --user %q: use <name|uid>[:<group|gid>]", s.User)
		}
	}
	for _, g := range s.GroupAdd {
		if g == "keep-groups" && len(s.GroupAdd) > 1 {
			return errors.New("the '--group-add keep-groups' option is not allowed with any other --group-add options")
		}
		if g == "keep-groups" {
			return errors.New("--group-add keep-groups is not supported yet")
		}
		if g == "" {
			return errors.New("invalid --group-add \"\": give a group name or number")
		}
	}
	if s.WorkDir != "" {
		if !filepath.IsAbs(s.WorkDir) {
			return fmt.Errorf("invalid --workdir %q: must be an absolute path", s.WorkDir)
		}
		s.WorkDir = filepath.Clean(s.WorkDir)
	}
	if s.Umask != nil && *s.Umask > 0o777 {
		return fmt.Errorf("invalid umask %o: it must be between 0000 and 0777", *s.Umask)
	}
	if s.OOMScoreAdj != nil && (*s.OOMScoreAdj < -1000 || *s.OOMScoreAdj > 1000) {
		return fmt.Errorf("invalid --oom-score-adj %d: must be between -1000 and 1000", *s.OOMScoreAdj)
	}
	if s.Init {
		p, err := initBinary(s.InitPath)
		if err != nil {
			return err
		}
		s.InitPath = p
	}
	for _, e := range s.Env {
		if k, _, _ := strings.Cut(e, "="); k == "" {
			return fmt.Errorf("invalid environment variable %q: the name is empty", e)
		}
	}
	return nil
}

// proxyVars are the host variables podman passes on unless --http-proxy=false.
var proxyVars = []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ftp_proxy", "FTP_PROXY", "no_proxy", "NO_PROXY"}

// completeEnv puts the engine's proxy variables (HTTPProxy), its whole
// environment (EnvHost) and EnvMerge's expressions, expanded against the
// defaults and the image's environment, under the user's.
func completeEnv(s *ContainerSpec) error {
	var base []string
	if s.HTTPProxy == nil || *s.HTTPProxy {
		for _, k := range proxyVars {
			if v, ok := os.LookupEnv(k); ok {
				base = append(base, k+"="+v)
			}
		}
	}
	if s.EnvHost {
		base = parse.MergeEnv(base, os.Environ())
	}
	if len(s.EnvMerge) > 0 {
		imageEnv := parse.MergeEnv([]string{"PATH=" + specgen.DefaultPath, "TERM=xterm", "container=podman"}, s.DefaultEnv, s.ImageConfig.Env)
		merged, err := parse.EnvMerge(s.EnvMerge, imageEnv)
		if err != nil {
			return err
		}
		base = parse.MergeEnv(base, merged)
	}
	if len(base) > 0 {
		s.Env = parse.MergeEnv(base, s.Env)
	}
	return nil
}

// initBinary finds --init's binary: the given path, else catatonit where
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

func checkSecurity(s *ContainerSpec) error {
	if s.SeccompProfile != "" && s.SeccompProfile != specgen.SeccompUnconfined && !filepath.IsAbs(s.SeccompProfile) {
		return fmt.Errorf("invalid seccomp profile %q: must be an absolute path", s.SeccompProfile)
	}
	// SELinux labels mean nothing on a host without SELinux, which is
	// every host berth supports so far: the CLI accepts and ignores them,
	// as podman does there.
	if s.AppArmorProfile == "unconfined" {
		s.AppArmorProfile = ""
	}
	if s.AppArmorProfile != "" {
		if data, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); strings.TrimSpace(string(data)) != "Y" {
			return fmt.Errorf("--security-opt apparmor=%s: AppArmor is not enabled on this host", s.AppArmorProfile)
		}
	}
	return nil
}

// checkResources checks the limits; rootless, with no cgroup berth could
// use, they are dropped with podman's warning.
func checkResources(s *ContainerSpec, isRootless bool, opts *CreateOptions) error {
	memory := s.memory()
	if memory < 0 {
		return fmt.Errorf("invalid memory limit %d: must be positive", memory)
	}
	if memory > 0 && memory < 6*1024*1024 {
		return fmt.Errorf("invalid --memory %d: the minimum memory limit allowed is 6MB", memory)
	}
	if s.MemorySwap < -1 {
		return fmt.Errorf("invalid --memory-swap %d: use a size, or -1 for unlimited", s.MemorySwap)
	}
	if s.MemorySwap > 0 && s.MemorySwap < memory {
		return errors.New("--memory-swap must be larger than or equal to --memory")
	}
	if memory == 0 && s.MemorySwap != 0 {
		return errors.New("--memory-swap needs --memory")
	}
	if s.CPUQuota < 0 {
		return fmt.Errorf("invalid CPU quota %d: must be positive", s.CPUQuota)
	}
	if s.PidsLimit != nil && *s.PidsLimit < -1 {
		return fmt.Errorf("invalid --pids-limit %d: use a number of processes, or -1 for unlimited", *s.PidsLimit)
	}
	if s.ShmSize < 0 {
		return fmt.Errorf("invalid --shm-size %d: the size must be above 0", s.ShmSize)
	}
	limits := s.Memory != nil || s.MemorySwap != 0 || s.CPUQuota != 0 || s.CPUPeriod != 0 || s.CPUShares != 0 ||
		s.PidsLimit != nil
	if isRootless && limits {
		// No cgroup a rootless berth could use: like podman 4.3 on
		// cgroup v1, warn and run without the limits.
		msg := "Resource limits are not supported and ignored on cgroups V1 rootless systems"
		if oci.CgroupsUnified() {
			msg = "Resource limits are not supported yet for rootless containers and are ignored"
		}
		opts.warn(msg)
	}
	if isRootless {
		s.Memory, s.MemorySwap, s.CPUQuota, s.CPUPeriod, s.CPUShares, s.PidsLimit = nil, 0, 0, 0, 0, nil
	}
	if len(s.Sysctls) == 0 {
		s.Sysctls = nil
	}
	return nil
}

// checkMounts refuses mount types berth cannot make, missing bind sources
// and two mounts on one destination.
func checkMounts(mounts []specs.Mount) error {
	seen := map[string]bool{}
	for _, m := range mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("invalid mount destination %q: must be an absolute path", m.Destination)
		}
		dest := filepath.Clean(m.Destination)
		if seen[dest] {
			return fmt.Errorf("%s: duplicate mount destination", dest)
		}
		seen[dest] = true
		switch m.Type {
		case parse.TypeBind:
			if _, err := os.Stat(m.Source); err != nil {
				var pe *os.PathError
				if errors.As(err, &pe) {
					return fmt.Errorf("statfs %s: %w", m.Source, pe.Err)
				}
				return err
			}
		case parse.TypeTmpfs:
			if hasOption(m.Options, "U") {
				return fmt.Errorf("the U option is not supported yet on tmpfs mounts (%s)", m.Destination)
			}
		case parse.TypeDevpts:
		default:
			return fmt.Errorf("mount type %q is not supported yet (%s)", m.Type, m.Destination)
		}
	}
	return nil
}

// checkUserNS checks --userns; keep-id without --user runs as the user.
func checkUserNS(s *ContainerSpec, isRootless bool) error {
	if s.UserNS == "" || s.UserNS == "host" {
		s.UserNS = ""
		return nil
	}
	uns, err := parse.ParseUserNS(s.UserNS)
	if err != nil {
		return err
	}
	switch uns.Mode {
	case parse.UserNSHost:
		s.UserNS = ""
		return nil
	case parse.UserNSNoMap:
		// The container's root would be an ID that cannot reach the
		// storage berth creates (not ID-mapped yet).
		return errors.New("--userns=nomap is not supported yet: it needs ID-mapped container storage")
	case parse.UserNSKeepID:
		if !isRootless {
			return fmt.Errorf("%s is only supported in rootless mode", uns.Mode)
		}
		if uns.Size != nil {
			return errors.New("--userns=keep-id:size= is not supported yet")
		}
		if s.User == "" {
			uid, gid := uint32(rootless.UID()), uint32(rootless.GID())
			if uns.UID != nil {
				uid = *uns.UID
			}
			if uns.GID != nil {
				gid = *uns.GID
			}
			s.User = fmt.Sprintf("%d:%d", uid, gid)
		}
		return nil
	}
	return fmt.Errorf("--userns=%s is not supported yet: use host or keep-id", s.UserNS)
}

// checkNetwork decides the network mode and checks what goes with it.
func checkNetwork(s *ContainerSpec, isRootless bool) error {
	switch mode, netOpts, _ := strings.Cut(s.Network, ":"); mode {
	case "", "private", "bridge", "podman", "slirp4netns":
		if netOpts != "" {
			return fmt.Errorf("--network %s: network options are not supported yet", s.Network)
		}
		// Rootful containers join the default CNI bridge ("podman"), as
		// with podman; rootless ones (and --network slirp4netns) use
		// slirp4netns until rootless bridges land.
		s.Network = "slirp4netns"
		if !isRootless && mode != "slirp4netns" {
			s.Network = "bridge"
		}
	case "pasta":
		if netOpts != "" {
			return fmt.Errorf("--network %s: pasta options are not supported yet", s.Network)
		}
		if !isRootless {
			return errors.New("pasta networking is only supported for rootless mode")
		}
		if _, err := exec.LookPath("pasta"); err != nil {
			return errors.New("--network pasta: pasta not found: install the passt package")
		}
		s.Network = "pasta"
	case "host", "none":
		if netOpts != "" {
			return fmt.Errorf("invalid --network %q", s.Network)
		}
		s.Network = mode
	default:
		return fmt.Errorf("--network %q is not supported yet: use host, none, slirp4netns, pasta or private", s.Network)
	}
	for _, h := range s.AddHosts {
		e, err := parse.AddHost(h)
		if err != nil {
			return err
		}
		if e.IP == parse.HostGateway && s.Network == "none" {
			return fmt.Errorf("--add-host %s: host-gateway has no address with --network none", h)
		}
	}
	for _, d := range s.DNSServers {
		if net.ParseIP(d) == nil {
			return fmt.Errorf("invalid --dns %q: not an IP address", d)
		}
	}
	for _, p := range append(append([]PortMapping(nil), s.Ports...), s.Expose...) {
		switch p.Protocol {
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("invalid protocol %q for port %d: use tcp, udp or sctp", p.Protocol, p.ContainerPort)
		}
		if p.ContainerPort == 0 {
			return errors.New("invalid port mapping: the container port must be 1 to 65535")
		}
		if int(p.ContainerPort)+int(max(p.Range, 1))-1 > 65535 || int(p.HostPort)+int(max(p.Range, 1))-1 > 65535 {
			return fmt.Errorf("invalid port range at %d: ports go up to 65535", p.ContainerPort)
		}
	}
	return nil
}

// completePorts publishes -P's ports and gives every mapping without a host
// port a free one, one mapping per port, as podman does at create time.
func (r *Runtime) completePorts(s *ContainerSpec, opts *CreateOptions) error {
	switch s.Network {
	case "slirp4netns", "pasta", "bridge":
	default:
		if len(s.Ports) > 0 || s.PublishAll {
			opts.warn("Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use")
		}
		s.Ports = nil
		return nil
	}
	published := s.Ports
	if s.PublishAll {
		var expose []string
		for _, e := range s.Expose {
			expose = append(expose, fmt.Sprintf("%d-%d/%s", e.ContainerPort, int(e.ContainerPort)+int(max(e.Range, 1))-1, e.Protocol))
		}
		exposed, err := parse.ExposedPorts(s.ImageConfig.ExposedPorts, expose)
		if err != nil {
			return err
		}
		var pm []parse.PortMapping
		for _, p := range published {
			pm = append(pm, parse.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Range: max(p.Range, 1), Protocol: p.Protocol})
		}
		published = nil
		for _, p := range parse.PublishAll(pm, exposed) {
			published = append(published, PortMapping{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Range: p.Range, Protocol: p.Protocol})
		}
	}
	var out []PortMapping
	for _, p := range published {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			pm := PortMapping{HostIP: p.HostIP, ContainerPort: p.ContainerPort + i, Protocol: p.Protocol}
			if p.HostPort != 0 {
				pm.HostPort = p.HostPort + i
			} else {
				port, err := freeHostPort(p.HostIP, p.Protocol)
				if err != nil {
					return err
				}
				pm.HostPort = port
			}
			if s.Network == "pasta" && pm.Protocol == "sctp" {
				return fmt.Errorf("publishing %d/sctp: pasta forwards only tcp and udp", pm.ContainerPort)
			}
			out = append(out, pm)
		}
	}
	s.Ports = out
	return nil
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

// checkGenerate generates the spec once against an empty root filesystem:
// what the options alone decide (capabilities, limits, sysctls, devices,
// mounts, seccomp profile) fails before anything is created.
func checkGenerate(s *ContainerSpec, isRootless bool) error {
	check := s.generatorOptions()
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
	switch s.Network {
	case "host":
		check.Network = specgen.Namespace{Mode: specgen.NSHost}
	case "none":
		check.Network = specgen.Namespace{Mode: specgen.NSNone}
	}
	_, err := specgen.Generate(&check)
	return err
}
