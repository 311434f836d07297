package libpod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/pkg/oci"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned for operations that need a running container.
var ErrNotRunning = errors.New("container is not running")

// ErrRunning is returned when removing a running container without force.
var ErrRunning = errors.New("container is running")

// monitorAlive reports whether the recorded monitor process still runs.
func (c *Container) monitorAlive() bool {
	if c.State.MonitorPid == 0 {
		return false
	}
	start := processStart(c.State.MonitorPid)
	return start != 0 && (c.State.MonitorStart == 0 || start == c.State.MonitorStart) && !isZombie(c.State.MonitorPid)
}

func (c *Container) runDir() (string, error) {
	st, err := c.rt.Store()
	if err != nil {
		return "", err
	}
	return st.ContainerRunDirectory(c.ID())
}

// exitCode reads the code the monitor recorded, if it did.
func (c *Container) exitCode() (int32, bool) {
	dir, err := c.runDir()
	if err != nil {
		return 0, false
	}
	data, err := os.ReadFile(filepath.Join(dir, "exit"))
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// reconcile makes the recorded state true again after a crash: a running
// container whose monitor died is stopped and cleaned up. Call with the
// container locked; it saves what it changes.
func (c *Container) reconcile() {
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused && c.State.Status != StatusStopped &&
		!(c.State.Status == StatusCreated && c.State.MonitorPid != 0) {
		return
	}
	if c.monitorAlive() {
		return
	}
	if code, ok := c.exitCode(); ok {
		c.cleanupLocked(code, "")
		return
	}
	// The monitor was killed: nothing can collect the container's output or
	// exit code any more, so stop it rather than leave it unmanaged.
	if rt, _, err := c.rt.OCIRuntime(); err == nil {
		_ = rt.Kill(c.ID(), int(syscall.SIGKILL), false)
		_ = rt.Delete(c.ID(), true)
	}
	c.cleanupLocked(137, "the container's monitor process died")
}

// cleanupLocked records the exit and releases what the running container
// held: the runtime's record and the storage mount.
func (c *Container) cleanupLocked(code int32, why string) {
	// A live monitor deletes the runtime's record itself after the exit
	// (and startLocked removes any stale one), so only an orphaned
	// container needs it here.
	if !c.monitorAlive() {
		logrus.Debugf("cleanup %s: deleting from runtime", c.ID())
		if rt, _, err := c.rt.OCIRuntime(); err == nil {
			if err := rt.Delete(c.ID(), true); err != nil && !errors.Is(err, oci.ErrNotExist) {
				c.State.Error = err.Error()
			}
		}
	}
	c.teardownNetwork()
	logrus.Debugf("cleanup %s: unmounting", c.ID())
	if st, err := c.rt.Store(); err == nil {
		_, _ = st.Unmount(c.ID(), true)
	}
	logrus.Debugf("cleanup %s: saving", c.ID())
	if c.State.Status != StatusExited || c.State.FinishedAt.IsZero() {
		c.State.FinishedAt = time.Now()
	}
	c.State.Status = StatusExited
	c.State.ExitCode = code
	c.State.Pid = 0
	c.State.MonitorPid = 0
	c.State.MonitorStart = 0
	c.State.Mountpoint = ""
	if why != "" {
		c.State.Error = why
	}
	_ = c.save()
}

// Cleanup is run by the monitor after the container exits (and by stop):
// it records the exit code, unmounts, and applies --rm and the restart policy.
func (r *Runtime) Cleanup(nameOrID string) error {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	lock, err := r.lockContainer(c.ID())
	if err != nil {
		return err
	}
	if err := c.refresh(); err != nil {
		lock.unlock()
		return err
	}
	if c.State.Status == StatusExited || c.State.Status == StatusCreated && c.State.MonitorPid == 0 {
		lock.unlock()
		if c.Config.AutoRemove && c.State.Status == StatusExited {
			// Someone else cleaned up; make sure --rm is done before returning.
			err := r.RemoveContainer(c, RemoveOptions{Force: true, Volumes: true})
			if errors.Is(err, state.ErrNoSuchContainer) {
				return nil
			}
			return err
		}
		return nil
	}
	if c.monitorAlive() && c.State.Pid != 0 && processStart(c.State.Pid) != 0 && !isZombie(c.State.Pid) {
		lock.unlock()
		return nil // still running: nothing to clean
	}
	code, ok := c.exitCode()
	if !ok {
		code = 137
	}
	c.cleanupLocked(code, "")
	restart := c.shouldRestart()
	if restart {
		c.State.RestartCount++
		if err := c.startLocked(nil, false); err == nil {
			lock.unlock()
			return nil
		}
	}
	lock.unlock()
	if c.Config.AutoRemove {
		return r.RemoveContainer(c, RemoveOptions{Force: true, Volumes: true})
	}
	return nil
}

func (c *Container) shouldRestart() bool {
	if c.State.StoppedByUser || c.Config.AutoRemove {
		return false
	}
	switch c.Config.RestartPolicy {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return c.State.ExitCode != 0 && (c.Config.RestartMax == 0 || c.State.RestartCount < c.Config.RestartMax)
	}
	return false
}

// Kill sends a signal to the container's process.
func (c *Container) Kill(sig syscall.Signal) error {
	lock, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer lock.unlock()
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		return fmt.Errorf("can only kill running containers. %s is in state %s: %w", c.ID()[:12], c.State.Status, ErrNotRunning)
	}
	rt, _, err := c.rt.OCIRuntime()
	if err != nil {
		return err
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		c.State.StoppedByUser = true
		_ = c.save()
	}
	return rt.Kill(c.ID(), int(sig), false)
}

// Stop sends the stop signal, then SIGKILL after timeout, and waits until
// the container has exited and is cleaned up.
func (c *Container) Stop(timeout time.Duration) error {
	lock, err := c.lockFresh()
	if err != nil {
		return err
	}
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		lock.unlock()
		return nil // podman: stopping a stopped container succeeds
	}
	rt, _, err := c.rt.OCIRuntime()
	if err != nil {
		lock.unlock()
		return err
	}
	c.State.StoppedByUser = true
	_ = c.save()
	if c.State.Status == StatusPaused {
		_ = rt.Resume(c.ID())
	}
	sig := syscall.Signal(c.Config.StopSignal)
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	pid := c.State.Pid
	lock.unlock()
	if timeout > 0 {
		if err := rt.Kill(c.ID(), int(sig), false); err != nil && !errors.Is(err, oci.ErrNotExist) {
			return fmt.Errorf("stopping %s: %w", c.Name(), err)
		}
		if waitGone(pid, timeout) {
			return c.waitCleaned()
		}
	}
	if timeout > 0 {
		fmt.Fprintf(os.Stderr, "WARN[%04d] StopSignal %s failed to stop container %s in %d seconds, resorting to SIGKILL\n",
			0, unix.SignalName(sig), c.Name(), int(timeout.Seconds()))
	}
	// SIGKILL to the container's init ends its whole pid namespace.
	if err := rt.Kill(c.ID(), int(syscall.SIGKILL), false); err != nil && !errors.Is(err, oci.ErrNotExist) {
		if _, ok := c.exitCode(); !ok {
			return fmt.Errorf("killing %s: %w", c.Name(), err)
		}
	}
	waitGone(pid, 10*time.Second)
	return c.waitCleaned()
}

// waitGone waits until pid has exited.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if pid == 0 || syscall.Kill(pid, 0) != nil || isZombie(pid) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

// waitCleaned waits for the monitor to record the exit, then makes sure
// cleanup ran (it is idempotent, the monitor also runs it).
func (c *Container) waitCleaned() error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := c.exitCode(); ok || !c.monitorAlive() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c.rt.Cleanup(c.ID())
}

// Wait blocks until the container is in one of the given statuses (by
// default exited) and returns its exit code.
func (c *Container) Wait(conditions []string, interval time.Duration) (int32, error) {
	defaultCond := len(conditions) == 0
	if defaultCond {
		conditions = []string{StatusExited}
	}
	for {
		lock, err := c.lockFresh()
		if err != nil {
			return -1, err
		}
		lock.unlock()
		if defaultCond && c.State.Status == StatusCreated && c.State.MonitorPid == 0 {
			// never started: podman's wait returns at once (exit code 0)
			return c.State.ExitCode, nil
		}
		for _, want := range conditions {
			if c.State.Status == want || want == "stopped" && c.State.Status == StatusExited {
				return c.State.ExitCode, nil
			}
		}
		time.Sleep(interval)
	}
}

// RemoveOptions control RemoveContainer.
type RemoveOptions struct {
	Force   bool
	Volumes bool
	// StopTimeout is how long a forced removal lets a running container
	// stop before killing it (0: kill at once).
	StopTimeout time.Duration
}

// RemoveContainer deletes a container: its storage, then its row.
func (r *Runtime) RemoveContainer(c *Container, opts RemoveOptions) error {
	lock, err := c.lockFresh()
	if err != nil {
		return err
	}
	running := c.State.Status == StatusRunning || c.State.Status == StatusPaused
	lock.unlock()
	if running {
		if !opts.Force {
			return fmt.Errorf("cannot remove container %s as it is running - running or paused containers cannot be removed without force: %w", c.ID(), ErrRunning)
		}
		if err := c.Stop(opts.StopTimeout); err != nil {
			return err
		}
	}
	lock, err = r.lockContainer(c.ID())
	if err != nil {
		return err
	}
	defer lock.unlock()
	if err := c.refresh(); err != nil {
		return err // removed meanwhile by another berth
	}
	st, err := r.Store()
	if err != nil {
		return err
	}
	if c.State.Status == StatusCreated && c.State.MonitorPid != 0 {
		// initialized (berth init): delete it from the runtime; its monitor
		// then exits, and what it held is released here.
		if rt, _, err := r.OCIRuntime(); err == nil {
			_ = rt.Delete(c.ID(), true)
		}
		waitGone(c.State.Pid, 5*time.Second)
		c.cleanupLocked(0, "")
	} else if c.State.Status != StatusExited && c.State.Status != StatusCreated {
		if rt, _, err := r.OCIRuntime(); err == nil {
			_ = rt.Delete(c.ID(), true)
		}
	}
	if c.State.Mountpoint != "" {
		_, _ = st.Unmount(c.ID(), true)
	}
	logrus.Debugf("remove %s: deleting storage", c.ID())
	if err := st.DeleteContainer(c.ID()); err != nil && !errors.Is(err, storage.ErrContainerUnknown) && !errors.Is(err, storage.ErrNotAContainer) {
		return fmt.Errorf("removing storage of container %s: %w", c.Name(), err)
	}
	db, err := r.DB()
	if err != nil {
		return err
	}
	logrus.Debugf("remove %s: deleting row", c.ID())
	if err := db.RemoveContainer(c.ID()); err != nil {
		return fmt.Errorf("removing container %s: %w", c.Name(), err)
	}
	logrus.Debugf("remove %s: done", c.ID())
	r.removeLock(c.ID())
	return nil
}

// WaitMonitor waits for the container's monitor to exit (it exits after the
// cleanup command has run), so the caller sees the final state.
func (c *Container) WaitMonitor(timeout time.Duration) {
	waitGone(c.State.MonitorPid, timeout)
}
