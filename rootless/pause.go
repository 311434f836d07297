package rootless

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// PauseCommand is the hidden argument that turns berth into the pause process.
const PauseCommand = "__pause"

// readPausePid returns the pid of a live pause process of this user, or 0.
func readPausePid() int {
	data, err := os.ReadFile(PausePidPath())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	st, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil || !ownedBy(st, os.Getuid()) {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0
	}
	args := bytes.Split(cmdline, []byte{0})
	if len(args) < 2 || string(args[1]) != PauseCommand {
		return 0
	}
	return pid
}

// ensurePause starts the pause process unless a live one exists. A lock file
// serialises racing first invocations so that they all end up in one namespace.
func ensurePause() error {
	pidPath := PausePidPath()
	if err := os.MkdirAll(filepath.Dir(pidPath), 0o700); err != nil {
		return fmt.Errorf("creating runtime directory: %w", err)
	}
	lock, err := os.OpenFile(pidPath+".lock", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("opening pause lock: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	if readPausePid() != 0 {
		return nil
	}
	uidMap, err := subIDMapping("/etc/subuid", UID())
	if err != nil {
		return err
	}
	gidMap, err := subIDMapping("/etc/subgid", GID())
	if err != nil {
		return err
	}
	pid, err := startPause(uidMap, gidMap)
	if err != nil {
		return err
	}
	tmp := pidPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o600); err != nil {
		return fmt.Errorf("writing pause pid file: %w", err)
	}
	if err := os.Rename(tmp, pidPath); err != nil {
		return fmt.Errorf("writing pause pid file: %w", err)
	}
	return nil
}

func startPause(uidMap, gidMap []string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding berth's own executable: %w", err)
	}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 0, fmt.Errorf("%s not found: install the uidmap package (apt-get install uidmap)", tool)
		}
	}
	goRead, goWrite, err := os.Pipe() // parent -> child: "mapped"
	if err != nil {
		return 0, err
	}
	ackRead, ackWrite, err := os.Pipe() // child -> parent: "ready"
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe, PauseCommand)
	cmd.Stdin = goRead
	cmd.Stdout = ackWrite
	cmd.Env = append(os.Environ(), reexecEnv+"=")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		Setsid:     true,
	}
	if err := cmd.Start(); err != nil {
		_ = goRead.Close()
		_ = goWrite.Close()
		_ = ackRead.Close()
		_ = ackWrite.Close()
		return 0, fmt.Errorf("starting the pause process: %w", err)
	}
	_ = goRead.Close()
	_ = ackWrite.Close()
	defer ackRead.Close()
	pid := cmd.Process.Pid
	fail := func(err error) (int, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = goWrite.Close()
		return 0, err
	}
	if err := runMap("newuidmap", pid, uidMap); err != nil {
		return fail(err)
	}
	if err := runMap("newgidmap", pid, gidMap); err != nil {
		return fail(err)
	}
	if _, err := goWrite.Write([]byte{'1'}); err != nil {
		return fail(fmt.Errorf("signalling the pause process: %w", err))
	}
	_ = goWrite.Close()
	ack := make([]byte, 2)
	_ = ackRead.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(ackRead, ack); err != nil || string(ack) != "ok" {
		return fail(errors.New("the pause process did not start in its user namespace"))
	}
	_ = cmd.Process.Release()
	return pid, nil
}

func runMap(tool string, pid int, mapping []string) error {
	args := append([]string{strconv.Itoa(pid)}, mapping...)
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %s: %w (check /etc/subuid and /etc/subgid and that %s is setuid root)", tool, strings.Join(args, " "), strings.TrimSpace(string(out)), err, tool)
	}
	return nil
}

// RunPause is the body of the pause process: wait to be mapped, acknowledge,
// then hold the namespaces open until killed.
func RunPause() {
	b := make([]byte, 1)
	if _, err := os.Stdin.Read(b); err != nil || os.Geteuid() != 0 {
		os.Exit(1)
	}
	_, _ = os.Stdout.Write([]byte("ok"))
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err == nil {
		for _, fd := range []int{0, 1, 2} {
			_ = unix.Dup2(int(devnull.Fd()), fd)
		}
	}
	_ = os.Chdir("/")
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	for {
		_ = unix.Pause()
	}
}

// StopPause kills the pause process so the next invocation creates a new
// namespace with the current /etc/subuid and /etc/subgid.
func StopPause() error {
	pid := readPausePid()
	if pid != 0 {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("stopping pause process %d: %w", pid, err)
		}
	}
	if err := os.Remove(PausePidPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing pause pid file: %w", err)
	}
	return nil
}
