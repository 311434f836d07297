package libpod

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/berth-containers/berth/libpod/monitor"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning is returned when starting a running container.
var ErrAlreadyRunning = errors.New("container is already running")

// StartError carries the exit code podman uses for a failed start: 127
// when the command is not found, 126 when it cannot be executed.
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Start runs the container under a new monitor. beforeStart, if not nil,
// runs once the container exists but before its process starts (to attach
// without missing output).
func (c *Container) Start(beforeStart func() error) error {
	err := c.start(beforeStart)
	if err != nil && c.Config.AutoRemove && !errors.Is(err, ErrAlreadyRunning) {
		// --rm: a container that could not start is removed too. The
		// start's error is the one returned (its message and exit code are
		// podman's); a container left behind is said in a warning.
		if rmErr := c.rt.RemoveContainer(c, RemoveOptions{Force: true, Volumes: true}); rmErr != nil {
			logrus.Warnf("removing container %s (--rm) after its start failed: %v", c.ID(), rmErr)
		}
	}
	return err
}

func (c *Container) start(beforeStart func() error) error {
	lock, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer lock.unlock()
	switch c.State.Status {
	case StatusRunning, StatusStopping:
		return fmt.Errorf("%s: %w", c.Name(), ErrAlreadyRunning)
	case StatusPaused:
		return fmt.Errorf("%s is paused: unpause it instead", c.Name())
	}
	if c.State.Status == StatusCreated && c.State.MonitorPid != 0 && c.monitorAlive() {
		return c.startInitialized(beforeStart)
	}
	return c.startLocked(beforeStart, startFirst)
}

// How startLocked starts the container.
type startMode int

const (
	startFirst    startMode = iota // berth start/run: created, then started
	startDeferred                  // berth init: created, started on request
	startRestart                   // the restart policy, from cleanup
)

// ErrInitialized is returned by Init for a container already created in
// the runtime.
var ErrInitialized = errors.New("container has already been created in runtime")

// Init creates the container in the OCI runtime, with its monitor, storage
// and network, without starting its process; `start` does that later.
func (c *Container) Init() error {
	lock, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer lock.unlock()
	if c.State.Status == StatusCreated && c.State.MonitorPid != 0 {
		return fmt.Errorf("%s: %w", c.Name(), ErrInitialized)
	}
	if c.State.Status == StatusRunning || c.State.Status == StatusPaused {
		return fmt.Errorf("%s: %w", c.Name(), ErrAlreadyRunning)
	}
	return c.startLocked(nil, startDeferred)
}

// startInitialized starts a container made by Init: its monitor waits for
// a start request on the attach socket.
func (c *Container) startInitialized(beforeStart func() error) error {
	if beforeStart != nil {
		if err := beforeStart(); err != nil {
			return err
		}
	}
	s, err := c.Dial()
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.send(monitor.FrameStart, nil); err != nil {
		return fmt.Errorf("asking the monitor of %s to start it: %w", c.Name(), err)
	}
	for {
		typ, payload, err := monitor.ReadFrame(s.conn)
		if err != nil {
			return fmt.Errorf("the monitor of %s went away while starting it", c.Name())
		}
		if typ != monitor.FrameStartResult {
			continue
		}
		if len(payload) > 0 {
			name := ""
			if rt, err := c.ociRuntime(); err == nil {
				name = filepath.Base(rt.Path)
			}
			return startError(string(payload), name)
		}
		break
	}
	c.State.Status = StatusRunning
	c.State.StartedAt = time.Now()
	c.State.Error = ""
	return c.save()
}

func (c *Container) startLocked(beforeStart func() error, mode startMode) error {
	deferred := mode == startDeferred
	st, err := c.rt.Store()
	if err != nil {
		return err
	}
	runDir, err := st.ContainerRunDirectory(c.ID())
	if err != nil {
		return fmt.Errorf("finding run directory of %s: %w", c.Name(), err)
	}
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("creating run directory: %w", err)
	}
	for _, stale := range []string{"exit", "exit.tmp", "pidfile", "runtime.log", "attach"} {
		_ = os.Remove(filepath.Join(runDir, stale))
	}
	logrus.Debugf("start %s: mounting", c.ID())
	rootfs, err := st.Mount(c.ID(), "")
	if err != nil {
		return fmt.Errorf("mounting storage of container %s: %w", c.Name(), err)
	}
	fail := func(err error) error {
		c.teardownNetwork()
		_, _ = st.Unmount(c.ID(), true)
		c.State.Mountpoint = ""
		c.State.Error = err.Error()
		// err, the start's failure, is what the caller must see (podman's
		// message and exit code); the state not recorded is a warning.
		if saveErr := c.save(); saveErr != nil {
			logrus.Warnf("recording the failed start of container %s: %v", c.ID(), saveErr)
		}
		return err
	}
	if c.Config.LogPath != "" {
		if err := os.MkdirAll(filepath.Dir(c.Config.LogPath), 0o700); err != nil {
			return fail(fmt.Errorf("creating log directory: %w", err))
		}
	}
	if mode != startRestart {
		// a restart keeps its ports; its old forwarder may still be going
		if err := c.checkPortsFree(); err != nil {
			return fail(err)
		}
	}
	if err := c.setupNetwork(); err != nil {
		return fail(err)
	}
	files, err := c.prepareFiles(runDir, c.Config.ImageName)
	if err != nil {
		return fail(err)
	}
	if err := ensureEtcMtab(rootfs); err != nil {
		return fail(err)
	}
	spec, err := c.generateSpec(rootfs, files)
	if err != nil {
		return fail(err)
	}
	if c.consoleSize != nil && spec.Process != nil && spec.Process.Terminal {
		spec.Process.ConsoleSize = c.consoleSize
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, "config.json"), specJSON, 0o600); err != nil {
		return fail(fmt.Errorf("writing OCI spec: %w", err))
	}
	mcfg, err := c.monitorConfig(runDir)
	if err != nil {
		return fail(err)
	}
	mcfg.Deferred = deferred
	if mode == startFirst {
		if err := CheckPreserveFDs(c.Config.PreserveFDs); err != nil {
			return fail(err)
		}
		mcfg.PreserveFDs = c.Config.PreserveFDs
	}
	rt, err := c.ociRuntime()
	if err != nil {
		return fail(err)
	}
	if rt.Exists(c.ID()) {
		// left over by a monitor that died before deleting it
		_ = rt.Delete(c.ID(), true)
	}
	// Unless a network helper must join the container's namespace between
	// the runtime's create and start (pasta; slirp4netns for a container
	// with its own user namespace), the monitor does both in one
	// `run --detach` once we have attached: one runtime process and one
	// state write less. slirp4netns is started on the namespace made
	// beforehand, then the container.
	mcfg.RunAtOnce = !deferred && (len(mcfg.NetworkCommand) == 0 || c.Config.Network == "slirp4netns" && c.slirpOnOwnNetNS())
	logrus.Debugf("start %s: spawning monitor", c.ID())
	proc, sock, msg, err := c.rt.spawnMonitor(mcfg, runDir)
	logrus.Debugf("start %s: monitor reported %+v", c.ID(), msg)
	if err != nil {
		return fail(err)
	}
	if msg.Error != "" {
		_, _ = proc.Wait()
		return fail(startError(msg.Error, filepath.Base(rt.Path)))
	}
	prev := c.State
	c.State = ContainerState{
		Status: StatusCreated, Pid: msg.Pid, MonitorPid: proc.Pid, MonitorStart: processStart(proc.Pid),
		Mountpoint: rootfs, RestartCount: prev.RestartCount, Network: prev.Network,
	}
	if mode == startRestart {
		// To an observer a restart goes from running to running: the
		// previous run's exit is kept, and the container is never shown
		// exited (nor created) in between.
		c.State.Status = StatusRunning
		c.State.ExitCode, c.State.FinishedAt, c.State.StartedAt = prev.ExitCode, prev.FinishedAt, time.Now()
	}
	if !mcfg.RunAtOnce {
		if err := c.save(); err != nil {
			_ = sock.Close()
			return err
		}
	}
	if deferred {
		_ = sock.Close()
		_ = proc.Release()
		return nil
	}
	if beforeStart != nil {
		if err := beforeStart(); err != nil {
			_ = sock.Close() // the monitor deletes the container
			if mcfg.RunAtOnce {
				c.State = prev
				return fail(err)
			}
			return err
		}
	}
	msg, err = sendStart(sock)
	logrus.Debugf("start %s: started %+v", c.ID(), msg)
	_ = sock.Close()
	if mcfg.RunAtOnce && err == nil && msg.Error != "" {
		// the runtime could not create the container: as a failed
		// create above, nothing ran
		_, _ = proc.Wait()
		c.State = prev
		return fail(startError(msg.Error, filepath.Base(rt.Path)))
	}
	if err != nil || msg.Error != "" {
		if err == nil {
			err = startError(msg.Error, filepath.Base(rt.Path))
		}
		_, _ = proc.Wait()
		c.State.Status = StatusExited
		c.State.Error = err.Error()
		_, _ = st.Unmount(c.ID(), true)
		c.State.Mountpoint = ""
		// As in fail: the start's error is returned, a failed recording
		// of it is a warning.
		if saveErr := c.save(); saveErr != nil {
			logrus.Warnf("recording the failed start of container %s: %v", c.ID(), saveErr)
		}
		return err
	}
	_ = proc.Release()
	c.State.Status = StatusRunning
	c.State.Pid = msg.Pid
	if mode != startRestart {
		c.State.StartedAt = time.Now()
	}
	c.State.Error = ""
	return c.save()
}

// maxInheritedFD bounds the fds NoteInheritedFDs looks at.
const maxInheritedFD = 256

// inheritedFDs[fd] tells whether berth was started with fd open; nil
// when NoteInheritedFDs was not called (then fds are checked as they are).
var inheritedFDs []bool

// NoteInheritedFDs records which fds above stderr the process was started
// with. Call it first thing in main: --preserve-fds must pass on only
// those, never a file berth itself opened meanwhile. A fd that survived
// exec has no FD_CLOEXEC, while everything Go opens (its runtime keeps
// cgroup files open from before main) has it.
func NoteInheritedFDs() {
	inheritedFDs = make([]bool, maxInheritedFD)
	for fd := 3; fd < maxInheritedFD; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		inheritedFDs[fd] = err == nil && flags&unix.FD_CLOEXEC == 0
	}
}

// CheckPreserveFDs makes sure fds 3..3+n-1 were given to berth, as podman does.
func CheckPreserveFDs(n uint) error {
	for fd := 3; fd < 3+int(n); fd++ {
		inherited := false
		if inheritedFDs != nil {
			inherited = fd < maxInheritedFD && inheritedFDs[fd]
		} else {
			flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			inherited = err == nil && flags&unix.FD_CLOEXEC == 0
		}
		if !inherited {
			return fmt.Errorf("file descriptor %d is not available - the preserve-fds option requires that all file descriptors must be passed", fd)
		}
	}
	return nil
}

// startError maps the monitor's message to podman's exit codes and
// messages. The runtime's own errors come as "RUNTIME: message".
func startError(msg, runtimeName string) error {
	code := 125
	fromRuntime := strings.HasPrefix(msg, runtimeName+": ")
	lower := strings.ToLower(msg)
	switch {
	case !fromRuntime:
	case strings.Contains(lower, "executable file not found"), strings.Contains(lower, "no such file or directory"):
		code = 127
		msg += ": OCI runtime attempted to invoke a command that was not found"
	case strings.Contains(lower, "permission denied"), strings.Contains(lower, "exec format error"):
		code = 126
		msg += ": OCI permission denied"
	}
	return &StartError{Code: code, Err: errors.New(msg)}
}

func (c *Container) monitorConfig(runDir string) (*monitor.Config, error) {
	rt, err := c.ociRuntime()
	if err != nil {
		return nil, err
	}
	if err := rt.CheckFlags(); err != nil {
		return nil, err
	}
	exe := c.rt.opts.EngineBinary
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	cfg := &monitor.Config{
		ID: c.ID(), Runtime: rt.Path, RuntimeRoot: rt.Root, RuntimeFlags: rt.Flags, Bundle: runDir,
		PidFile: filepath.Join(runDir, "pidfile"), Terminal: c.Config.Terminal, Stdin: c.Config.Stdin,
		LogDriver: monitorLogDriver(c.Config.LogDriver), LogPath: c.Config.LogPath, LogMaxSize: c.Config.LogMaxSize,
		LogMaxFiles: c.Config.LogMaxFiles, AttachPath: filepath.Join(runDir, "attach"),
		ExitFile:    filepath.Join(runDir, "exit"),
		ExitCommand: append(append([]string{exe}, c.rt.globalArgs()...), "container", "cleanup", c.ID()),
		Timeout:     c.Config.Timeout, MonitorPidFile: c.Config.MonitorPidFile,
	}
	if c.Config.Network == "pasta" {
		if err := c.pastaCommand(cfg, runDir); err != nil {
			return nil, err
		}
	}
	if c.Config.Network == "slirp4netns" {
		slirp, err := exec.LookPath("slirp4netns")
		if err != nil {
			return nil, errors.New("slirp4netns not found: install the slirp4netns package, or use --network host|none")
		}
		api := filepath.Join(runDir, "slirp.sock")
		_ = os.Remove(api)
		if len(api) >= 100 { // sun_path holds 108 bytes
			dir, err := os.MkdirTemp("", "berth-slirp")
			if err != nil {
				return nil, fmt.Errorf("creating slirp4netns socket directory: %w", err)
			}
			api = filepath.Join(dir, "api.sock")
		}
		cfg.NetworkCommand = []string{slirp, "--configure", "--mtu=65520", "--disable-host-loopback",
			"--enable-sandbox", "--enable-seccomp", "--ready-fd=3", "--api-socket", api}
		if c.slirpOnOwnNetNS() {
			if c.State.Network == nil || c.State.Network.NetNSPath == "" {
				return nil, fmt.Errorf("container %s has no network namespace set up", c.Name())
			}
			cfg.NetworkCommand = append(cfg.NetworkCommand, "--netns-type=path", c.State.Network.NetNSPath, "tap0")
		} else {
			// the container's own, made by the runtime's create
			cfg.NetworkCommand = append(cfg.NetworkCommand, "{pid}", "tap0")
		}
		cfg.NetworkReadyFD = 3
		cfg.NetworkAPISocket = api
		for _, p := range c.Config.Ports {
			cfg.Ports = append(cfg.Ports, monitor.PortForward{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
		}
	}
	return cfg, nil
}

// pastaScript runs pasta for the container's network namespace. pasta
// drops its capabilities before opening the namespace, and may then not
// open /proc/PID/ns/net of a container that has more capabilities than it:
// the shell opens it (as fd 4) and pasta joins /proc/self/fd/4. pasta has
// no readiness fd: it writes its pid file once the namespace is
// configured, so a helper watches the file and writes to the monitor's
// ready fd (3). The shell then becomes pasta (-f: in the foreground), which
// the monitor kills when the container exits.
const pastaScript = `exec 4</proc/{pid}/ns/net || exit 1
pidfile=$1; shift
rm -f "$pidfile"
( while [ ! -s "$pidfile" ]; do kill -0 $$ 2>/dev/null || exit 1; sleep 0.01; done; echo ready >&3 ) &
exec "$@"`

// pastaCommand sets up pasta (rootless only; the CLI refuses it for root),
// publishing the container's ports itself.
func (c *Container) pastaCommand(cfg *monitor.Config, runDir string) error {
	pasta, err := exec.LookPath("pasta")
	if err != nil {
		return errors.New("pasta not found: install the passt package, or use --network slirp4netns|host|none")
	}
	pidFile := filepath.Join(runDir, "pasta.pid")
	args := []string{pasta, "--config-net", "--foreground", "--quiet", "--no-netns-quit", "--pid", pidFile,
		"--netns", "/proc/self/fd/4", "-T", "none", "-U", "none"}
	var tcp, udp int
	for _, p := range c.Config.Ports {
		spec := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		if p.HostIP != "" {
			spec = p.HostIP + "/" + spec
		}
		switch p.Protocol {
		case "tcp":
			args = append(args, "-t", spec)
			tcp++
		case "udp":
			args = append(args, "-u", spec)
			udp++
		default:
			return fmt.Errorf("publishing %d/%s: pasta forwards only tcp and udp", p.ContainerPort, p.Protocol)
		}
	}
	if tcp == 0 {
		args = append(args, "-t", "none")
	}
	if udp == 0 {
		args = append(args, "-u", "none")
	}
	cfg.NetworkCommand = append([]string{"/bin/sh", "-c", pastaScript, "berth-pasta", pidFile}, args...)
	cfg.NetworkReadyFD = 3
	return nil
}

// globalArgs are the flags a child berth needs to see the same store.
func (r *Runtime) globalArgs() []string {
	so, _ := r.storeOptions()
	args := []string{"--root", so.GraphRoot, "--runroot", so.RunRoot, "--log-level", "warn"}
	if r.opts.StorageDriver != "" {
		args = append(args, "--storage-driver", r.opts.StorageDriver)
	}
	for _, o := range r.opts.StorageOpts {
		args = append(args, "--storage-opt", o)
	}
	if r.opts.Runtime != "" {
		args = append(args, "--runtime", r.opts.Runtime)
	}
	for _, f := range r.opts.RuntimeFlags {
		args = append(args, "--runtime-flag", f)
	}
	return args
}

// monitorPath finds berth-monitor next to berth, then in PATH.
func monitorPath() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "berth-monitor")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	for _, p := range []string{"/usr/libexec/berth/berth-monitor", "/usr/local/libexec/berth/berth-monitor"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("berth-monitor"); err == nil {
		return p, nil
	}
	return "", errors.New("berth-monitor not found next to berth, in /usr/libexec/berth or in PATH")
}

// spawnMonitor starts a detached monitor and waits for its first report.
func (r *Runtime) spawnMonitor(cfg *monitor.Config, runDir string) (*os.Process, *os.File, monitor.SyncMessage, error) {
	var msg monitor.SyncMessage
	path, err := monitorPath()
	if err != nil {
		return nil, nil, msg, err
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, msg, err
	}
	cfgPath := filepath.Join(runDir, "monitor.json")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return nil, nil, msg, fmt.Errorf("writing monitor config: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, msg, fmt.Errorf("creating monitor socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync")
	defer theirs.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		_ = ours.Close()
		return nil, nil, msg, err
	}
	defer devnull.Close()
	cmd := exec.Command(path, cfgPath)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	if cfg.LogDriver == "passthrough" {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	}
	// fds 3..3+N-1 go on to the container (--preserve-fds), the sync
	// socket follows them.
	for fd := 3; fd < 3+int(cfg.PreserveFDs); fd++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fd), fmt.Sprintf("fd%d", fd)))
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, theirs)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = ours.Close()
		return nil, nil, msg, fmt.Errorf("starting monitor: %w", err)
	}
	_ = theirs.Close()
	line, err := bufio.NewReader(ours).ReadString('\n')
	if err != nil {
		_ = ours.Close()
		_, _ = cmd.Process.Wait()
		return nil, nil, msg, fmt.Errorf("monitor exited before creating the container (see %s)", runDir)
	}
	if err := json.Unmarshal([]byte(line), &msg); err != nil {
		_ = ours.Close()
		return nil, nil, msg, fmt.Errorf("bad monitor message %q", line)
	}
	return cmd.Process, ours, msg, nil
}

func sendStart(sock *os.File) (monitor.SyncMessage, error) {
	var msg monitor.SyncMessage
	if _, err := sock.Write([]byte("start\n")); err != nil {
		return msg, fmt.Errorf("telling the monitor to start: %w", err)
	}
	line, err := bufio.NewReader(sock).ReadString('\n')
	if err != nil {
		return msg, errors.New("the monitor exited while starting the container")
	}
	if err := json.Unmarshal([]byte(line), &msg); err != nil {
		return msg, fmt.Errorf("bad monitor message %q", line)
	}
	return msg, nil
}

// processStart returns a process' start time (field 22 of /proc/PID/stat),
// 0 if it does not exist.
func processStart(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0
	}
	var v uint64
	_, _ = fmt.Sscan(fields[19], &v) // a parse failure leaves 0
	return v
}
