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
	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/oci"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/stringid"
	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned for operations that need a running container.
var ErrNotRunning = errors.New("container is not running")

// ErrRunning is returned when removing a running container without force.
var ErrRunning = errors.New("container state improper")

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
// container whose monitor died is stopped and cleaned up, and what the
// cleanup would have done then happens now: the restart policy, or --rm
// (when the berth that owned the cleanup was killed too). Call with the
// container locked; it saves what it changes, and reports whether it
// removed the container, and an error when the new state could not be
// recorded.
func (c *Container) reconcile() (removed bool, err error) {
	if !c.State.active() && c.State.Status != StatusStopped &&
		!(c.State.Status == StatusCreated && c.State.MonitorPid != 0) {
		return false, nil
	}
	if c.monitorAlive() {
		return false, nil
	}
	ran := c.State.Status != StatusCreated
	code, ok := c.exitCode()
	why := ""
	if !ok {
		// The monitor was killed: nothing can collect the container's
		// output or exit code any more, so stop it rather than leave it
		// unmanaged.
		if rt, err := c.ociRuntime(); err == nil {
			_ = rt.Kill(c.ID(), int(syscall.SIGKILL), false)
			_ = rt.Delete(c.ID(), true)
		}
		code, why = 137, "the container's monitor process died"
	}
	logrus.Debugf("reconcile %s: exited with %d, monitor gone", c.ID(), code)
	return c.exitedLocked(code, why, ran)
}

// exitedLocked does what follows a container's exit, under its lock: the
// restart policy (the state goes from running straight to running again,
// with the new run's RestartCount), else it records the exit and does
// --rm. ran is false for a container that never started (berth init):
// no restart then. It reports whether it removed the container, and an
// error when the exit could not be recorded. A --rm container is removed
// without recording its exit first; only if that fails is the exit
// recorded, so the container is either gone or shown exited.
func (c *Container) exitedLocked(code int32, why string, ran bool) (removed bool, err error) {
	if ran && c.shouldRestart(code) {
		c.releaseLocked()
		c.State.ExitCode = code
		c.State.FinishedAt = time.Now()
		c.State.RestartCount++
		err := c.startLocked(nil, startRestart)
		if err == nil {
			return false, nil
		}
		logrus.Warnf("restarting container %s: %v", c.Name(), err)
		why = err.Error()
	}
	if !c.Config.AutoRemove {
		return false, c.cleanupLocked(code, why)
	}
	// --rm: the exit is recorded only if the container cannot be removed
	// (one state write less on the way to none at all).
	c.releaseLocked()
	c.noteExit(code, why)
	if err := c.rt.removeLocked(c); err != nil {
		logrus.Warnf("removing container %s (--rm): %v", c.Name(), err)
		if err := c.save(); err != nil {
			return false, fmt.Errorf("recording the exit of container %s: %w", c.ID(), err)
		}
		return false, nil
	}
	return true, nil
}

// removeImageOf does --rmi for a container just removed: its image goes
// unless another container (of berth or another tool) uses it.
func (r *Runtime) removeImageOf(c *Container) {
	if !c.Config.RemoveImage {
		return
	}
	name := c.Config.ImageName
	if name == "" {
		name = c.Config.ImageID
	}
	// Any container using the image keeps it whole: removing by a name
	// of an image with several would otherwise just untag it.
	if st, err := r.Store(); err == nil && c.Config.ImageID != "" {
		if cs, err := st.Containers(); err == nil {
			for _, other := range cs {
				if other.ImageID == c.Config.ImageID {
					logrus.Debugf("--rmi: keeping image %s: container %s uses it", name, other.ID)
					return
				}
			}
		}
	}
	ir, err := r.Images()
	if err == nil {
		_, err = ir.Remove(name, false)
	}
	switch {
	case err == nil:
	case errors.Is(err, image.ErrInUse), errors.Is(err, image.ErrNotFound):
		logrus.Debugf("--rmi: keeping image %s: %v", name, err)
	default:
		logrus.Warnf("Failed removing image %s: %v", name, err)
	}
}

// releaseLocked releases what the running container held: the runtime's
// record (when its monitor is gone), its network and its storage mount.
func (c *Container) releaseLocked() {
	// A live monitor deletes the runtime's record itself after the exit
	// (and startLocked removes any stale one), so only an orphaned
	// container needs it here.
	if !c.monitorAlive() {
		logrus.Debugf("cleanup %s: deleting from runtime", c.ID())
		if rt, err := c.ociRuntime(); err == nil {
			if err := rt.Delete(c.ID(), true); err != nil && !errors.Is(err, oci.ErrNotExist) {
				c.State.Error = err.Error()
			}
		}
	}
	c.teardownNetwork()
	logrus.Debugf("cleanup %s: unmounting", c.ID())
	if st, err := c.rt.Store(); err == nil {
		// Cleanup goes on (the exit must be recorded), but a rootfs left
		// mounted is said: storage is gone only if someone removed it.
		if _, err := st.Unmount(c.ID(), true); err != nil && !errors.Is(err, storage.ErrContainerUnknown) &&
			!errors.Is(err, storage.ErrLayerUnknown) && !errors.Is(err, storage.ErrNotAContainer) {
			logrus.Warnf("unmounting the storage of container %s: %v", c.ID(), err)
		}
	}
}

// cleanupLocked records the exit and releases what the running container
// held: the runtime's record and the storage mount. Its error is the
// recording's: the container's state in the DB is then still the old one.
func (c *Container) cleanupLocked(code int32, why string) error {
	c.releaseLocked()
	logrus.Debugf("cleanup %s: saving", c.ID())
	c.noteExit(code, why)
	if err := c.save(); err != nil {
		return fmt.Errorf("recording the exit of container %s: %w", c.ID(), err)
	}
	return nil
}

// noteExit sets the exited state in memory.
func (c *Container) noteExit(code int32, why string) {
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
}

// Cleanup is run by the monitor after the container exits (and by stop,
// and by the foreground berth that owns the cleanup): it records the exit
// code, unmounts, and applies --rm and the restart policy, all under the
// container's lock, so that an observer sees either the running
// container or its final state.
func (r *Runtime) Cleanup(nameOrID string) error {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	lock, err := r.lockContainer(c.ID())
	if err != nil {
		return err
	}
	defer lock.unlock()
	if err := c.refresh(); err != nil {
		return err
	}
	if c.State.Status == StatusExited || c.State.Status == StatusCreated && c.State.MonitorPid == 0 {
		if c.Config.AutoRemove && c.State.Status == StatusExited {
			// Someone else cleaned up; make sure --rm is done before returning.
			return r.removeLocked(c)
		}
		return nil
	}
	if c.monitorAlive() && c.State.Pid != 0 && processStart(c.State.Pid) != 0 && !isZombie(c.State.Pid) {
		return nil // still running: nothing to clean
	}
	code, ok := c.exitCode()
	if !ok {
		code = 137
	}
	_, err = c.exitedLocked(code, "", c.State.Status != StatusCreated)
	return err
}

func (c *Container) shouldRestart(code int32) bool {
	if c.State.StoppedByUser || c.Config.AutoRemove {
		return false
	}
	switch c.Config.RestartPolicy {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (c.Config.RestartMax == 0 || c.State.RestartCount < c.Config.RestartMax)
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
	if !c.State.active() {
		return fmt.Errorf("can only kill running containers. %s is in state %s: %w", stringid.TruncateID(c.ID()), c.State.Status, ErrNotRunning)
	}
	rt, err := c.ociRuntime()
	if err != nil {
		return err
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		c.State.StoppedByUser = true
		// Not recorded, the restart policy would restart what the
		// user killed: do not kill then.
		if err := c.save(); err != nil {
			return err
		}
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
	if !c.State.active() {
		lock.unlock()
		return nil // podman: stopping a stopped container succeeds
	}
	rt, err := c.ociRuntime()
	if err != nil {
		lock.unlock()
		return err
	}
	if c.State.Status == StatusPaused {
		_ = rt.Resume(c.ID())
	}
	// Other commands see "stopping" (and may kill it) while this waits
	// without the lock.
	c.State.StoppedByUser = true
	c.State.Status = StatusStopping
	if err := c.save(); err != nil {
		lock.unlock()
		return err
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
		logrus.Warnf("StopSignal %s failed to stop container %s in %d seconds, resorting to SIGKILL",
			unix.SignalName(sig), c.Name(), int(timeout.Seconds()))
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

// waitGone waits until pid has exited: woken by the kernel through a
// pidfd (readable once the process has exited, zombie or reaped), or, on
// kernels without pidfd_open, by polling.
func waitGone(pid int, timeout time.Duration) bool {
	if pid == 0 {
		return true
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if err != nil {
		return pollGone(pid, timeout)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms <= 0 {
			return isZombie(pid)
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return pollGone(pid, time.Until(deadline))
		case n > 0:
			return true
		}
	}
}

// pollGone is waitGone by polling.
func pollGone(pid int, timeout time.Duration) bool {
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
	err := c.rt.Cleanup(c.ID())
	if errors.Is(err, state.ErrNoSuchContainer) && c.Config.AutoRemove {
		return nil // stopped, then removed by its own --rm cleanup: done
	}
	return err
}

// ErrUnsupported is returned for what berth does not do yet.
var ErrUnsupported = errors.New("not supported yet")

// CheckWaitConditions validates `wait --condition` values as podman 4.3
// does (its container states), before any container is looked at.
// healthy and unhealthy need healthchecks, which berth does not run yet:
// they are refused rather than waited on forever.
func CheckWaitConditions(conditions []string) error {
	for _, cond := range conditions {
		switch ContainerStatus(cond) {
		case StatusCreated, StatusRunning, StatusStopped, StatusPaused, StatusExited, "removing", "unknown":
			// podman 4.3 refuses to wait for "stopping"
		case "healthy", "unhealthy":
			return fmt.Errorf("wait --condition %s: healthchecks are %w in berth", cond, ErrUnsupported)
		default:
			return fmt.Errorf("unknown container state: %s: invalid argument", cond)
		}
	}
	return nil
}

// Wait blocks until the container is in one of the given statuses (by
// default: not running nor paused) and returns its exit code.
func (c *Container) Wait(conditions []string, interval time.Duration) (int32, error) {
	if err := CheckWaitConditions(conditions); err != nil {
		return -1, err
	}
	for {
		lock, err := c.lockFresh()
		if err != nil {
			return -1, err
		}
		lock.unlock()
		if len(conditions) == 0 {
			// podman: by default, until the container does not run; one
			// that never ran (created) does not make anyone wait. A
			// restart goes from running to running: waited through.
			if !c.State.active() {
				return c.State.ExitCode, nil
			}
		}
		for _, want := range conditions {
			if c.State.Status == ContainerStatus(want) || ContainerStatus(want) == StatusStopped && c.State.Status == StatusExited {
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
	running := c.State.active()
	lock.unlock()
	if running {
		if !opts.Force {
			return fmt.Errorf("cannot remove container %s as it is running - running or paused containers cannot be removed without force: %w", c.ID(), ErrRunning)
		}
		if err := c.Stop(opts.StopTimeout); err != nil {
			if c.Config.AutoRemove && errors.Is(err, state.ErrNoSuchContainer) {
				return nil // its --rm cleanup removed it once stopped
			}
			return err
		}
	}
	lock, err = r.lockContainer(c.ID())
	if err != nil {
		return err
	}
	defer lock.unlock()
	if err := c.refresh(); err != nil {
		if running && errors.Is(err, state.ErrNoSuchContainer) {
			return nil // --rm: its cleanup removed it when it stopped
		}
		return err // removed meanwhile by another berth
	}
	return r.removeLocked(c)
}

// removeLocked deletes a container that is not running, under its lock:
// its storage, then its row.
func (r *Runtime) removeLocked(c *Container) error {
	st, err := r.Store()
	if err != nil {
		return err
	}
	if c.State.Status == StatusCreated && c.State.MonitorPid != 0 {
		// initialized (berth init): delete it from the runtime; its monitor
		// then exits, and what it held is released here.
		if rt, err := c.ociRuntime(); err == nil {
			_ = rt.Delete(c.ID(), true)
		}
		waitGone(c.State.Pid, 5*time.Second)
		if err := c.cleanupLocked(0, ""); err != nil {
			return err
		}
	} else if c.State.Status != StatusExited && c.State.Status != StatusCreated {
		if rt, err := c.ociRuntime(); err == nil {
			_ = rt.Delete(c.ID(), true)
		}
	}
	if c.State.Mountpoint != "" {
		_, _ = st.Unmount(c.ID(), true)
	}
	// what a start killed before it recorded the container's network
	// left (a no-op when nothing is left)
	c.teardownNetwork()
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
	r.removeImageOf(c)
	return nil
}

// WaitMonitor waits for the container's monitor to exit (it exits after the
// cleanup command has run), so the caller sees the final state.
func (c *Container) WaitMonitor(timeout time.Duration) {
	waitGone(c.State.MonitorPid, timeout)
}
