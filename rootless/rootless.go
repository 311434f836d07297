// Package rootless puts a non-root berth into the user and mount namespace
// held by the per-user pause process, creating that process when needed.
//
// Joining happens in a C constructor (join.c) before the Go runtime starts
// threads. When there is no pause process yet, Enter creates one, maps the
// user's subordinate ID ranges into it with newuidmap/newgidmap and then
// re-executes berth in place: the same pid, fds, cwd and signal disposition,
// so exit codes, signals and LISTEN_FDS pass through untouched.
package rootless

/*
const char *berth_join_error(void);
long berth_joined_pid(void);
unsigned berth_joined_uid(void);
unsigned berth_joined_gid(void);
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

const reexecEnv = "_BERTH_REEXEC"

// init publishes the join done by join.c in the environment, where
// go.podman.io/storage and containers/image look for it (and where the
// processes berth starts inherit it).
func init() {
	defer func() { pausePidPath = computePausePidPath() }()
	pid := int(C.berth_joined_pid())
	if pid == 0 {
		return
	}
	_ = os.Setenv("_CONTAINERS_ROOTLESS_UID", strconv.Itoa(int(C.berth_joined_uid())))
	_ = os.Setenv("_CONTAINERS_ROOTLESS_GID", strconv.Itoa(int(C.berth_joined_gid())))
	_ = os.Setenv("_CONTAINERS_USERNS_CONFIGURED", "init")
	_ = os.Setenv("_BERTH_PAUSE_PID", strconv.Itoa(pid))
	_ = os.Unsetenv(reexecEnv)
}

// IsRootless reports whether berth runs for a non-root user, whether or not
// it has joined the user namespace yet.
func IsRootless() bool {
	return os.Getuid() != 0 || os.Getenv("_CONTAINERS_ROOTLESS_UID") != ""
}

// InUserNS reports whether this process joined the pause process' namespace.
func InUserNS() bool {
	return os.Getenv("_BERTH_PAUSE_PID") != "" && os.Geteuid() == 0
}

// UID is the real user's uid, also from inside the namespace.
func UID() int {
	if v := os.Getenv("_CONTAINERS_ROOTLESS_UID"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return os.Getuid()
}

// GID is the real user's gid, also from inside the namespace.
func GID() int {
	if v := os.Getenv("_CONTAINERS_ROOTLESS_GID"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return os.Getgid()
}

// pausePidPath is computed once, from the environment berth started with,
// exactly as join.c computes it (berth later sets XDG_RUNTIME_DIR itself).
var pausePidPath string

func computePausePidPath() string {
	if dir := sessionRuntimeDir(); dir != "" {
		return filepath.Join(dir, "berth", "pause.pid")
	}
	return filepath.Join(fallbackRuntimeDir(), "pause.pid")
}

// sessionRuntimeDir is XDG_RUNTIME_DIR or the login session's /run/user/UID.
func sessionRuntimeDir() string {
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		return xdg
	}
	run := fmt.Sprintf("/run/user/%d", UID())
	if st, err := os.Stat(run); err == nil && ownedBy(st, os.Getuid()) && st.Mode().Perm()&0o022 == 0 {
		return run
	}
	return ""
}

func fallbackRuntimeDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("berth-run-%d", UID()))
}

// PausePidPath is where the pause process' pid is kept; join.c reads it.
func PausePidPath() string { return pausePidPath }

// PrepareRuntimeDir makes sure that a rootless user without a login session
// has a private fallback runtime directory ($TMPDIR/berth-run-UID): it is
// created 0700, and one that exists already must be a directory owned by
// the user and writable by nobody else. Its name is predictable, so another
// user may have created it first to receive the pause pid, auth.json and
// the run root: such a directory is refused and left as it is.
func PrepareRuntimeDir() error {
	if !IsRootless() || sessionRuntimeDir() != "" {
		return nil
	}
	dir := fallbackRuntimeDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating runtime directory %s: %w", dir, err)
	}
	return checkPrivateDir(dir)
}

// checkPrivateDir refuses dir unless it is a directory (not a symlink)
// owned by this user, without write permission for group or others. The
// uid is this process' own view: inside the user namespace the user is 0.
func checkPrivateDir(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking runtime directory %s: %w", dir, err)
	}
	uid := os.Getuid()
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("runtime directory %s is a symbolic link: refusing to use it; remove it or set XDG_RUNTIME_DIR to a private directory", dir)
	case !st.IsDir():
		return fmt.Errorf("runtime directory %s is not a directory: refusing to use it; remove it or set XDG_RUNTIME_DIR to a private directory", dir)
	case !ownedBy(st, uid):
		owner := -1
		if s, ok := st.Sys().(*syscall.Stat_t); ok {
			owner = int(s.Uid)
		}
		return fmt.Errorf("runtime directory %s is not owned by the current user (owner uid %d, current uid %d): refusing to use it; remove it or set XDG_RUNTIME_DIR to a private directory",
			dir, owner, UID())
	case st.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("runtime directory %s is writable by group or others (mode %#o): refusing to use it; remove it or make it private (chmod 700) or set XDG_RUNTIME_DIR",
			dir, st.Mode().Perm())
	}
	return nil
}

// SetRuntimeDir gives a rootless user without a login session an
// XDG_RUNTIME_DIR, as podman does, so that every berth process (inside the
// user namespace or not) agrees on where auth.json and run files live.
func SetRuntimeDir() error {
	if !IsRootless() || os.Getenv("XDG_RUNTIME_DIR") != "" {
		return nil
	}
	dir := sessionRuntimeDir()
	if dir == "" {
		if err := PrepareRuntimeDir(); err != nil {
			return err
		}
		dir = fallbackRuntimeDir()
	}
	return os.Setenv("XDG_RUNTIME_DIR", dir)
}

func ownedBy(st os.FileInfo, uid int) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(s.Uid) == uid
}

// Enter makes sure this rootless process runs inside the user namespace. It
// returns only when already inside; otherwise it re-executes berth (and does
// not return) or fails.
func Enter() error {
	if !IsRootless() {
		return nil
	}
	if err := PrepareRuntimeDir(); err != nil {
		return err
	}
	if InUserNS() {
		return nil
	}
	if msg := C.GoString(C.berth_join_error()); msg != "" {
		return fmt.Errorf("%s; if /etc/subuid or /etc/subgid changed, run `berth system migrate`", msg)
	}
	if os.Getenv(reexecEnv) != "" {
		return errors.New("could not join the rootless user namespace after creating it; run `berth system migrate` and retry")
	}
	if err := ensurePause(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding berth's own executable: %w", err)
	}
	env := append(os.Environ(), reexecEnv+"=1")
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("re-executing %s in the user namespace: %w", exe, err)
	}
	return nil
}
