package monitor

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Run is the monitor's whole life. sync is a socket to the berth process
// that started it: the monitor reports the pid once the container exists,
// waits for "start" (sent once berth has recorded the state and attached),
// starts the container and reports again. If berth dies before saying
// "start", the container is deleted instead of being left half-made. With
// RunAtOnce it reports ready first, and creates and starts the container
// in one step on "start".
func Run(cfg *Config, sync *os.File) int {
	m := &monitor{cfg: cfg, hub: newHub(), startRequests: make(chan startRequest)}
	var pid int
	if cfg.RunAtOnce {
		var ok bool
		if pid, ok = m.runWhenAsked(sync); !ok {
			return 1
		}
	} else if pid = m.createAndStart(sync); pid == 0 {
		return 1
	}
	var timeout *time.Timer
	var timedOut atomicBool
	if cfg.Timeout > 0 {
		timeout = time.AfterFunc(time.Duration(cfg.Timeout)*time.Second, func() {
			timedOut.set()
			_ = unix.Kill(pid, unix.SIGKILL)
		})
	}
	code := m.wait(pid)
	if timeout != nil {
		timeout.Stop()
	}
	if timedOut.get() && code == 128+int32(unix.SIGKILL) {
		// conmon records -1 for a container its --timeout killed (podman
		// then exits 255).
		code = -1
	}
	m.finish(code)
	return 0
}

// runWhenAsked (RunAtOnce) serves attach, reports ready, and on "start"
// creates and starts the container with one `runtime run --detach`. A
// berth that goes away before saying "start" leaves nothing to undo.
func (m *monitor) runWhenAsked(sync *os.File) (int, bool) {
	if err := m.prepare(); err != nil {
		reply(sync, SyncMessage{Error: err.Error()})
		m.cleanupStdio()
		return 0, false
	}
	reply(sync, SyncMessage{Ready: true})
	line, err := bufio.NewReader(sync).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "start" {
		m.cleanupStdio()
		return 0, false
	}
	// The helper configures the namespace berth made (no {pid} in its
	// command) before the container's process starts.
	err = m.startNetwork(0)
	if err == nil {
		err = m.forwardPorts()
	}
	pid := 0
	if err == nil {
		pid, err = m.runtimeCreate(true)
	}
	if err != nil {
		reply(sync, SyncMessage{Error: err.Error()})
		_ = sync.Close()
		m.stopNetwork()
		m.cleanupStdio()
		return 0, false
	}
	reply(sync, SyncMessage{Pid: pid, Started: true})
	_ = sync.Close()
	return pid, true
}

// createAndStart creates the container, reports its pid, and starts it
// when asked: at once on "start" from berth, or (Deferred) on a
// FrameStart from an attach client. It returns 0 when the container did
// not start (the exit is then already handled).
func (m *monitor) createAndStart(sync *os.File) int {
	cfg := m.cfg
	pid, err := m.create()
	if err != nil {
		reply(sync, SyncMessage{Error: err.Error()})
		m.cleanupStdio()
		return 0
	}
	reply(sync, SyncMessage{Pid: pid})
	if cfg.Deferred {
		// `berth init`: the container waits, created, until a later
		// `berth start` asks over the attach socket.
		_ = sync.Close()
		if !m.startOnRequest(pid) {
			return 0
		}
	} else {
		line, err := bufio.NewReader(sync).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "start" {
			m.abort(pid)
			return 0
		}
		if err := m.start(); err != nil {
			reply(sync, SyncMessage{Error: err.Error()})
			_ = sync.Close()
			m.abort(pid)
			return 0
		}
		reply(sync, SyncMessage{Pid: pid, Started: true})
		_ = sync.Close()
	}
	return pid
}

type atomicBool struct {
	mu sync.Mutex
	v  bool
}

func (b *atomicBool) set() { b.mu.Lock(); b.v = true; b.mu.Unlock() }
func (b *atomicBool) get() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.v
}

func reply(sync *os.File, msg SyncMessage) {
	if sync == nil {
		return
	}
	b, _ := json.Marshal(msg)
	_, _ = sync.Write(append(b, '\n'))
}

// start runs `runtime start`.
func (m *monitor) start() error {
	cmd := exec.Command(m.cfg.Runtime, m.cfg.runtimeArgs("--log", filepath.Join(m.cfg.Bundle, "runtime.log"), "--log-format", "json", "start", m.cfg.ID)...)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %s", filepath.Base(m.cfg.Runtime), runtimeError(filepath.Join(m.cfg.Bundle, "runtime.log"), err))
	}
	return nil
}

// startOnRequest waits for a FrameStart from an attach client, starts the
// container and answers that client. It returns false if the container
// went away instead (deleted by `berth rm`).
func (m *monitor) startOnRequest(pid int) bool {
	exited := make(chan struct{})
	go func() {
		// The container's init is blocked in the runtime until started;
		// it only exits if the container is deleted.
		for processAlive(pid) {
			time.Sleep(100 * time.Millisecond)
		}
		close(exited)
	}()
	select {
	case req := <-m.startRequests:
		err := m.start()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		req.answer <- msg
		// The answer is queued to the client before the container's exit
		// (which may come at once) closes it.
		<-req.queued
		if err != nil {
			m.abort(pid)
			return false
		}
		return true
	case <-exited:
		m.finish(m.wait(pid))
		return false
	}
}

func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// abort deletes a container that will never be started.
func (m *monitor) abort(pid int) {
	_ = exec.Command(m.cfg.Runtime, m.cfg.runtimeArgs("delete", "--force", m.cfg.ID)...).Run()
	code := m.wait(pid)
	m.finish(code)
}

type monitor struct {
	cfg *Config
	hub *hub
	log *logWriter

	listener net.Listener
	stdinMu  sync.Mutex
	stdin    io.WriteCloser // container stdin (pipe or pty master), nil if closed
	outputs  sync.WaitGroup
	pty      *os.File
	closers  []io.Closer
	network  *exec.Cmd
	// startRequests carries FrameStart requests of deferred containers;
	// the requester receives the error text ("" for success).
	startRequests chan startRequest
}

// create runs `runtime create` with stdio the monitor owns and returns the
// container's pid.
func (m *monitor) create() (int, error) {
	if err := m.prepare(); err != nil {
		return 0, err
	}
	return m.runtimeCreate(false)
}

// prepare makes what must exist before the container: the monitor as
// subreaper, the log, the attach socket and the monitor's pid file.
func (m *monitor) prepare() error {
	cfg := m.cfg
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("becoming subreaper: %w", err)
	}
	switch cfg.LogDriver {
	case "k8s-file", "":
		lw, err := openLog(cfg.LogPath, cfg.LogMaxSize, cfg.LogMaxFiles)
		if err != nil {
			return err
		}
		m.log = lw
	}
	if err := m.listen(); err != nil {
		return err
	}
	if cfg.MonitorPidFile != "" {
		if err := os.WriteFile(cfg.MonitorPidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("writing the monitor's pid file: %w", err)
		}
	}
	return nil
}

// runtimeCreate runs `runtime create` (or, started, `runtime run
// --detach`) with stdio the monitor owns, sets up the network helper, and
// returns the container's pid.
func (m *monitor) runtimeCreate(started bool) (int, error) {
	cfg := m.cfg
	op := []string{"create"}
	if started {
		op = []string{"run", "--detach"}
	}
	args := cfg.runtimeArgs(append(append([]string{"--log", filepath.Join(cfg.Bundle, "runtime.log"), "--log-format", "json"},
		op...), "--bundle", cfg.Bundle, "--pid-file", cfg.PidFile)...)
	cmd := exec.Command(cfg.Runtime)
	if cfg.PreserveFDs > 0 {
		// fds 3..3+N-1, passed on by berth, become the container's.
		args = append(args, "--preserve-fds", strconv.FormatUint(uint64(cfg.PreserveFDs), 10))
		for fd := 3; fd < 3+int(cfg.PreserveFDs); fd++ {
			f := os.NewFile(uintptr(fd), fmt.Sprintf("fd%d", fd))
			cmd.ExtraFiles = append(cmd.ExtraFiles, f)
			defer f.Close() //nolint:gocritic // every fd stays open until the runtime's create is done
		}
	}
	var console *consoleSocket
	if cfg.Terminal {
		var err error
		console, err = newConsoleSocket()
		if err != nil {
			return 0, err
		}
		defer console.close()
		args = append(args, "--console-socket", console.path)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	} else {
		if err := m.pipes(cmd); err != nil {
			return 0, err
		}
	}
	cmd.Args = append([]string{cfg.Runtime}, append(args, cfg.ID)...)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s create: %w", cfg.Runtime, err)
	}
	var ptyErr error
	var ptyDone chan struct{}
	if console != nil {
		ptyDone = make(chan struct{})
		go func() {
			m.pty, ptyErr = console.receive()
			close(ptyDone)
		}()
	}
	err := cmd.Wait()
	m.closeChildEnds()
	if err != nil {
		if console != nil {
			console.close()
			<-ptyDone
		}
		return 0, fmt.Errorf("%s: %s", filepath.Base(cfg.Runtime), runtimeError(filepath.Join(cfg.Bundle, "runtime.log"), err))
	}
	if console != nil {
		<-ptyDone
		if ptyErr != nil {
			return 0, ptyErr
		}
		m.stdin = m.pty
		m.copyOutput("stdout", m.pty)
	}
	data, err := os.ReadFile(cfg.PidFile)
	if err != nil {
		return 0, fmt.Errorf("reading container pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("bad container pid %q", data)
	}
	if started {
		return pid, nil // its network was set up before (runWhenAsked)
	}
	if err := m.startNetwork(pid); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return 0, err
	}
	if err := m.forwardPorts(); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return 0, err
	}
	return pid, nil
}

// stopNetwork ends the network helper, if one runs.
func (m *monitor) stopNetwork() {
	if m.network != nil && m.network.Process != nil {
		_ = m.network.Process.Kill()
		_, _ = m.network.Process.Wait()
		m.network = nil
	}
}

// runtimeError extracts the runtime's own error message from its JSON log.
func runtimeError(logPath string, err error) string {
	f, ferr := os.Open(logPath)
	if ferr != nil {
		return err.Error()
	}
	defer f.Close()
	msg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var entry struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &entry) == nil && entry.Level == "error" {
			msg = entry.Msg
		}
	}
	if msg == "" {
		return err.Error()
	}
	return msg
}

func (m *monitor) pipes(cmd *exec.Cmd) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	m.closers = append(m.closers, outW, errW)
	if m.cfg.Stdin {
		inR, inW, err := os.Pipe()
		if err != nil {
			return err
		}
		cmd.Stdin = inR
		m.closers = append(m.closers, inR)
		m.stdin = inW
	} else {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		cmd.Stdin = devnull
		m.closers = append(m.closers, devnull)
	}
	m.copyOutput("stdout", outR)
	m.copyOutput("stderr", errR)
	return nil
}

func (m *monitor) closeChildEnds() {
	for _, c := range m.closers {
		_ = c.Close()
	}
	m.closers = nil
}

func (m *monitor) cleanupStdio() {
	m.closeChildEnds()
	if m.listener != nil {
		_ = m.listener.Close()
	}
}

// copyOutput logs a stream and forwards it to attached clients until EOF.
func (m *monitor) copyOutput(stream string, r *os.File) {
	typ := FrameStdout
	if stream == "stderr" {
		typ = FrameStderr
	}
	if m.cfg.LogDriver == "passthrough" {
		w := os.Stdout
		if typ == FrameStderr {
			w = os.Stderr
		}
		m.outputs.Add(1)
		go func() {
			defer m.outputs.Done()
			_, _ = io.Copy(w, r)
		}()
		return
	}
	m.outputs.Add(1)
	go func() {
		defer m.outputs.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if m.log != nil {
					m.log.write(stream, buf[:n])
				}
				m.hub.send(typ, buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
}

// listen serves the attach socket: clients receive output frames and send
// stdin, resize and close-stdin frames.
func (m *monitor) listen() error {
	if m.cfg.AttachPath == "" {
		return nil
	}
	_ = os.Remove(m.cfg.AttachPath)
	path, release, err := SocketPath(filepath.Dir(m.cfg.AttachPath), filepath.Base(m.cfg.AttachPath))
	if err != nil {
		return err
	}
	l, err := net.Listen("unix", path)
	release()
	if err != nil {
		return fmt.Errorf("listening on attach socket: %w", err)
	}
	m.listener = l
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c := m.hub.add(conn)
			if c != nil {
				go m.serveClient(c)
			}
		}
	}()
	return nil
}

func (m *monitor) serveClient(c *client) {
	defer func() {
		m.hub.remove(c)
		close(c.ended)
	}()
	for {
		typ, payload, err := ReadFrame(c.conn)
		if err != nil {
			return
		}
		switch typ {
		case FrameStdin:
			m.stdinMu.Lock()
			if m.stdin != nil {
				_, _ = m.stdin.Write(payload)
			}
			m.stdinMu.Unlock()
		case FrameCloseIn:
			m.stdinMu.Lock()
			if m.stdin != nil && m.pty == nil {
				_ = m.stdin.Close()
				m.stdin = nil
			}
			m.stdinMu.Unlock()
		case FrameStart:
			req := startRequest{answer: make(chan string, 1), queued: make(chan struct{})}
			select {
			case m.startRequests <- req:
				m.hub.sendTo(c, FrameStartResult, []byte(<-req.answer))
				close(req.queued)
			default:
				m.hub.sendTo(c, FrameStartResult, []byte("the container is not waiting to be started"))
			}
		case FrameOwnCleanup:
			m.hub.mu.Lock()
			c.owner = true
			m.hub.mu.Unlock()
		case FrameCleanupDone:
			m.hub.mu.Lock()
			c.done = true
			m.hub.mu.Unlock()
			return
		case FrameResize:
			if m.pty != nil && len(payload) == 4 {
				ws := &unix.Winsize{Row: binary.BigEndian.Uint16(payload), Col: binary.BigEndian.Uint16(payload[2:])}
				_ = unix.IoctlSetWinsize(int(m.pty.Fd()), unix.TIOCSWINSZ, ws)
			}
		}
	}
}

// startNetwork runs the network helper (slirp4netns) for the container's
// network namespace and waits until it says it is ready.
func (m *monitor) startNetwork(pid int) error {
	if len(m.cfg.NetworkCommand) == 0 {
		return nil
	}
	args := make([]string, len(m.cfg.NetworkCommand))
	for i, a := range m.cfg.NetworkCommand {
		args[i] = strings.ReplaceAll(a, "{pid}", strconv.Itoa(pid))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var ready *os.File
	if m.cfg.NetworkReadyFD > 0 {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		// ExtraFiles[i] becomes fd 3+i in the child.
		for len(cmd.ExtraFiles) < m.cfg.NetworkReadyFD-3 {
			cmd.ExtraFiles = append(cmd.ExtraFiles, nil)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, w)
		ready = r
	}
	out, err := os.Create(filepath.Join(m.cfg.Bundle, "network.log"))
	if err == nil {
		cmd.Stdout, cmd.Stderr = out, out
		defer out.Close()
	}
	err = cmd.Start()
	for _, f := range cmd.ExtraFiles {
		if f != nil {
			_ = f.Close() // only the helper may hold the write end, so its exit ends our read
		}
	}
	if err != nil {
		return fmt.Errorf("starting %s: %w", args[0], err)
	}
	m.network = cmd
	if ready != nil {
		defer ready.Close()
		done := make(chan error, 1)
		go func() {
			b := make([]byte, 1)
			_, err := ready.Read(b)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				log, _ := os.ReadFile(filepath.Join(m.cfg.Bundle, "network.log"))
				return fmt.Errorf("%s did not start: %s", filepath.Base(args[0]), strings.TrimSpace(string(log)))
			}
		case <-time.After(20 * time.Second):
			return fmt.Errorf("%s did not become ready in 20s", filepath.Base(args[0]))
		}
	}
	return nil
}

// wait reaps children until the container's init exits; as subreaper the
// monitor also reaps anything the container leaves behind.
func (m *monitor) wait(pid int) int32 {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			// ECHILD: the container is gone without us seeing it.
			return 255
		}
		if wpid != pid {
			continue
		}
		switch {
		case ws.Exited():
			return int32(ws.ExitStatus())
		case ws.Signaled():
			return int32(128 + int(ws.Signal()))
		}
	}
}

// ownerWait bounds how long the monitor waits for a client that owns
// cleanup (a foreground run) to do it; past it, it cleans up itself
// (cleanup is idempotent).
const ownerWait = 5 * time.Minute

// ownersCleanedUp waits until each client that took over cleanup has
// either reported it done or gone away, and reports whether all of them
// did it. A client killed before it finished (kill -9 of `berth run
// --rm`) leaves the cleanup, with --rm and the restart policy, to the
// monitor: ownership is never lost with its owner.
func (m *monitor) ownersCleanedUp(owners []*client) bool {
	if len(owners) == 0 {
		return false
	}
	deadline := time.After(ownerWait)
	for _, c := range owners {
		select {
		case <-c.ended:
		case <-deadline:
			return false
		}
	}
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	for _, c := range owners {
		if !c.done {
			return false
		}
	}
	return true
}

// finish drains output, records the exit code, tells attached clients and
// runs the exit command.
func (m *monitor) finish(code int32) {
	drained := make(chan struct{})
	go func() {
		m.outputs.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
		// Something the container spawned still holds the pipes open.
	}
	m.stopNetwork()
	if sock := m.cfg.NetworkAPISocket; sock != "" {
		_ = os.Remove(sock)
		if dir := filepath.Dir(sock); strings.HasPrefix(filepath.Base(dir), "berth-slirp") {
			_ = os.Remove(dir)
		}
	}
	// The monitor's stdio is /dev/null (or the container's, with
	// passthrough): what goes wrong from here on is written to the
	// bundle's cleanup.log, with the exit command's output.
	diag, diagErr := os.OpenFile(filepath.Join(m.cfg.Bundle, "cleanup.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if diagErr == nil {
		defer diag.Close()
	}
	note := func(format string, args ...any) {
		if diagErr == nil {
			fmt.Fprintf(diag, "berth-monitor: "+format+"\n", args...)
		}
	}
	if m.cfg.ExitFile != "" {
		if err := recordExit(m.cfg.ExitFile, code); err != nil {
			// berth then finds no exit code and records 137.
			note("container %s exited with %d, which could not be recorded: %v", m.cfg.ID, code, err)
		}
	}
	if m.log != nil {
		m.log.close()
	}
	owners := m.hub.finish(code)
	if m.listener != nil {
		_ = m.listener.Close()
	}
	// The runtime's record of the exited container goes now, in parallel
	// with the attached berth's cleanup; berth deletes it itself only when
	// the monitor is gone.
	_ = exec.Command(m.cfg.Runtime, m.cfg.runtimeArgs("delete", "--force", m.cfg.ID)...).Run()
	if len(m.cfg.ExitCommand) > 0 && !m.ownersCleanedUp(owners) {
		cmd := exec.Command(m.cfg.ExitCommand[0], m.cfg.ExitCommand[1:]...)
		if diagErr == nil {
			cmd.Stdout, cmd.Stderr = diag, diag
		}
		if err := cmd.Run(); err != nil {
			// The exit stays unrecorded until the next berth command
			// finds this monitor gone and records it (reconcile).
			note("cleanup command %s: %v", strings.Join(m.cfg.ExitCommand, " "), err)
		}
	}
}

// recordExit writes the container's exit code to path, atomically: berth
// reads it when it records the exit.
func recordExit(path string, code int32) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(int(code))), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// startRequest is a client's FrameStart: the result goes to answer, and the
// monitor waits on queued until it is on its way to the client.
type startRequest struct {
	answer chan string
	queued chan struct{}
}
