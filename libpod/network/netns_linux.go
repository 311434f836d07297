package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// threadNetNS is the current thread's network namespace.
func threadNetNS() string {
	return fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
}

// ensureSharedDir makes dir a mount point with shared propagation (as
// `ip netns` does with /run/netns), so that unmounting a namespace here also
// unmounts its copies in mount namespaces created meanwhile.
func ensureSharedDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if err != unix.EINVAL { // EINVAL: not a mount point yet
		return fmt.Errorf("making %s a shared mount: %w", dir, err)
	}
	if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %s onto itself: %w", dir, err)
	}
	if err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making %s a shared mount: %w", dir, err)
	}
	return nil
}

// createNetNS creates a network namespace with its loopback up and
// bind-mounts it on path, which must not exist.
func createNetNS(path string) error {
	dir := filepath.Dir(path)
	// under the directory's lock: the last removal unmounts the directory
	return withDirLock(dir, func() error {
		if err := ensureSharedDir(dir); err != nil {
			return err
		}
		return createNetNSIn(path)
	})
}

func createNetNSIn(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	_ = f.Close()

	err = inOtherNetNS(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		return nil
	}, func() error {
		if err := unix.Mount(threadNetNS(), path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting the namespace on %s: %w", path, err)
		}
		return loopbackUp()
	})
	if err != nil {
		_ = unmountAndRemove(path)
		return err
	}
	return nil
}

// loopbackUp sets lo up in the current thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	return nil
}

// removeNetNS unmounts and removes a namespace created by createNetNS; a
// missing or unmounted path is not an error.
// The last one out also unmounts the directory's own bind mount, so that a
// run root can be removed once no container uses it.
func removeNetNS(path string) error {
	dir := filepath.Dir(path)
	return withDirLock(dir, func() error {
		if err := unmountAndRemove(path); err != nil {
			return err
		}
		if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
				return fmt.Errorf("unmounting %s: %w", dir, err)
			}
			_ = os.Remove(dir)
		}
		return nil
	})
}

func unmountAndRemove(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// withNetNS runs fn on a locked thread inside the namespace at path.
func withNetNS(path string, fn func() error) error {
	return inOtherNetNS(func() error {
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("entering network namespace %s: %w", path, err)
		}
		return nil
	}, fn)
}

// inOtherNetNS runs enter and then fn on a locked thread of their own and
// returns the thread to its original network namespace. A thread that
// cannot return stays locked, and Go discards it when the goroutine ends.
func inOtherNetNS(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open(threadNetNS(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(orig)
		if err := enter(); err != nil {
			runtime.UnlockOSThread() // enter failed before leaving the namespace
			errc <- err
			return
		}
		err = fn()
		if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
			// Rootless, the host's namespace belongs to the initial
			// user namespace and cannot be joined again: the thread
			// stays locked and is discarded, fn's work is done.
			errc <- err
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// withDirLock runs fn holding an flock on dir/../.<base>.lock.
func withDirLock(dir string, fn func() error) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(parent, "."+filepath.Base(dir)+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return err
	}
	return fn()
}

// CreateNetNS creates a network namespace with its loopback up,
// bind-mounted at path (which must not exist), for a network set up by
// another program (slirp4netns) before the container starts in it. Its
// directory is not made a shared mount, unlike createNetNS's:
// slirp4netns' sandbox makes only "/" private before it detaches the old
// root, which would unmount the namespace here through a shared peer.
func CreateNetNS(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return createNetNSIn(path)
}

// RemoveNetNS undoes CreateNetNS; a missing path is not an error.
func RemoveNetNS(path string) error { return unmountAndRemove(path) }
