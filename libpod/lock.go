package libpod

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-containers/berth/libpod/state"
	"golang.org/x/sys/unix"
)

// containerLock serialises operations on one container across processes.
type containerLock struct{ f *os.File }

func (r *Runtime) lockContainer(id string) (*containerLock, error) {
	dir, err := r.RunDir()
	if err != nil {
		return nil, err
	}
	dir = filepath.Join(dir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, id), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock of container %s: %w", id, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking container %s: %w", id, err)
	}
	return &containerLock{f: f}, nil
}

func (l *containerLock) unlock() {
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
}

func (r *Runtime) removeLock(id string) {
	if dir, err := r.RunDir(); err == nil {
		_ = os.Remove(filepath.Join(dir, "locks", id))
	}
}

// lockFresh locks the container and brings its state up to date,
// reconciling it if a crash left it stale. The caller unlocks.
func (c *Container) lockFresh() (*containerLock, error) {
	lock, err := c.rt.lockContainer(c.ID())
	if err != nil {
		return nil, err
	}
	if err := c.refresh(); err != nil {
		lock.unlock()
		return nil, err
	}
	removed, err := c.reconcile()
	if err != nil {
		lock.unlock()
		return nil, err
	}
	if removed {
		lock.unlock()
		return nil, fmt.Errorf("%s: %w", c.ID(), state.ErrNoSuchContainer)
	}
	return lock, nil
}
