// Package e2e drives the built berth binary end to end, as root and as the
// unprivileged user berthtest (uid mapped through /etc/subuid).
//
// The tests must run as root: they run berth as root ("root" mode) and, with
// SysProcAttr.Credential, as berthtest ("rootless" mode). Every Env has its
// own --root/--runroot. All scratch space of one `go test` process lives
// under one run directory that is removed at the end (BERTH_E2E_KEEP=1 keeps
// it for debugging).
//
// Isolation from the rest of the machine: commands get a clean environment
// with HOME and TMPDIR inside the run directory. Rootless commands run
// without XDG_RUNTIME_DIR, so the pause process' pid file is
// $TMPDIR/berth-run-UID/pause.pid: this process has its own pause process
// (killed at the end) and never disturbs other users of berthtest.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	rootlessUserName = "berthtest"
	commandTimeout   = 2 * time.Minute
	cleanupTimeout   = 30 * time.Second
	systemPath       = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

var (
	// berthBinary is the binary under test: a private copy of
	// $BERTH_BINARY (or ../../bin/berth), with the berth-* helpers next to
	// it, made at start, so that a rebuild while the tests run changes
	// nothing and berthtest can execute it.
	berthBinary string
	// runDir holds everything this test process creates (mode 0755).
	runDir string

	rootlessUser *sysUser
	// modeEnv is the fixed part of the environment of each mode.
	modeEnv = map[string][]string{}

	suiteCleanupMu sync.Mutex
	suiteCleanups  []func()
)

// sysUser is an account the tests run commands as.
type sysUser struct {
	Name     string
	UID, GID int
	Groups   []uint32
	Home     string // HOME given to its commands (inside runDir)
	TmpDir   string // TMPDIR given to its commands (inside runDir)
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if err := setupSuite(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cannot run the end-to-end tests: %v\n", err)
		teardownSuite()
		return 2
	}
	code := m.Run()
	teardownSuite()
	return code
}

func setupSuite() error {
	src := os.Getenv("BERTH_BINARY")
	if src == "" {
		src = "../../bin/berth"
	}
	src, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("berth binary %s: %w: build it first with `make build` (or point BERTH_BINARY at one)", src, err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("berth binary %s is not an executable file", src)
	}
	if os.Geteuid() != 0 {
		return errors.New("the e2e tests must run as root: they run berth both as root and as the unprivileged user " +
			rootlessUserName + " (run `sudo make test`)")
	}
	if rootlessUser, err = lookupUser(rootlessUserName); err != nil {
		return fmt.Errorf("%w: run `make test-setup` to create it", err)
	}
	if !hasSubIDs("/etc/subuid", rootlessUserName) || !hasSubIDs("/etc/subgid", rootlessUserName) {
		return fmt.Errorf("user %s has no range in /etc/subuid or /etc/subgid: run `make test-setup`", rootlessUserName)
	}

	sweepStaleRuns()
	runDir, err = os.MkdirTemp("", runDirPrefix)
	if err != nil {
		return err
	}
	if err := os.Chmod(runDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(runDir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(runDir, "bin"), 0o755); err != nil {
		return err
	}
	berthBinary = filepath.Join(runDir, "bin", "berth")
	if err := copyFile(src, berthBinary, 0o755); err != nil {
		return fmt.Errorf("copying the berth binary: %w", err)
	}
	// The helpers berth finds next to itself (berth-monitor, ...).
	helpers, _ := filepath.Glob(filepath.Join(filepath.Dir(src), "berth-*"))
	for _, h := range helpers {
		if st, err := os.Stat(h); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			if err := copyFile(h, filepath.Join(runDir, "bin", filepath.Base(h)), 0o755); err != nil {
				return fmt.Errorf("copying %s: %w", h, err)
			}
		}
	}

	rootUser := &sysUser{Name: "root"}
	for _, u := range []*sysUser{rootUser, rootlessUser} {
		u.Home = filepath.Join(runDir, "home-"+u.Name)
		u.TmpDir = filepath.Join(runDir, "tmp-"+u.Name)
		for _, d := range []string{u.Home, u.TmpDir} {
			if err := mkdirOwned(d, 0o700, u); err != nil {
				return err
			}
		}
	}
	rootXDG := filepath.Join(runDir, "xdg-root")
	if err := os.Mkdir(rootXDG, 0o700); err != nil {
		return err
	}
	modeEnv["root"] = append(userEnv(rootUser), "XDG_RUNTIME_DIR="+rootXDG)
	// No XDG_RUNTIME_DIR for rootless: berth must find its own runtime dir,
	// as it does in an ssh or `su` session without systemd-logind.
	modeEnv["rootless"] = userEnv(rootlessUser)
	return nil
}

func teardownSuite() {
	suiteCleanupMu.Lock()
	cleanups := suiteCleanups
	suiteCleanups = nil
	suiteCleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	if runDir == "" {
		return
	}
	if rootlessUser != nil {
		killPauseProcess(rootlessUser)
	}
	killProcessesMentioning(runDir + "/")
	if os.Getenv("BERTH_E2E_KEEP") != "" {
		fmt.Fprintf(os.Stderr, "e2e: BERTH_E2E_KEEP is set: keeping %s\n", runDir)
		return
	}
	unmountUnder(runDir)
	if err := os.RemoveAll(runDir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: removing %s: %v\n", runDir, err)
	}
}

const runDirPrefix = "berth-e2e-"

// sweepStaleRuns removes what test processes that were killed (so never ran
// their teardown) left behind: run directories and pause processes.
func sweepStaleRuns() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue // not ours, or still being set up
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && processAlive(pid) {
			continue
		}
		if u, err := lookupUser(rootlessUserName); err == nil {
			u.TmpDir = filepath.Join(dir, "tmp-"+u.Name)
			killPauseProcess(u)
		}
		xdgPidFiles, _ := filepath.Glob(filepath.Join(dir, "rootless-*", "xdg", "berth", "pause.pid"))
		for _, f := range xdgPidFiles {
			killPauseByPidFile(f)
		}
		killProcessesMentioning(dir + "/")
		unmountUnder(dir)
		_ = os.RemoveAll(dir)
	}
}

// addSuiteCleanup registers fn to run at the end of the test process.
func addSuiteCleanup(fn func()) {
	suiteCleanupMu.Lock()
	defer suiteCleanupMu.Unlock()
	suiteCleanups = append(suiteCleanups, fn)
}

func userEnv(u *sysUser) []string {
	return []string{
		"PATH=" + systemPath,
		"HOME=" + u.Home,
		"USER=" + u.Name,
		"LOGNAME=" + u.Name,
		"TMPDIR=" + u.TmpDir,
		"LANG=C.UTF-8",
	}
}

func lookupUser(name string) (*sysUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("looking up user %s: %w", name, err)
	}
	su := &sysUser{Name: name}
	su.UID, _ = strconv.Atoi(u.Uid)
	su.GID, _ = strconv.Atoi(u.Gid)
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.Atoi(g); err == nil {
			su.Groups = append(su.Groups, uint32(n))
		}
	}
	return su, nil
}

func hasSubIDs(file, name string) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, name+":") {
			return true
		}
	}
	return false
}

// pausePidFile is where berth keeps the pause pid of u in our environment.
func pausePidFile(u *sysUser) string {
	return filepath.Join(u.TmpDir, fmt.Sprintf("berth-run-%d", u.UID), "pause.pid")
}

// livePausePid returns the pid of u's live pause process, or 0.
func livePausePid(u *sysUser) int {
	data, err := os.ReadFile(pausePidFile(u))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !processAlive(pid) {
		return 0
	}
	return pid
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// pauseProcesses lists the live pause processes running the binary under
// test, wherever their pid files are.
func pauseProcesses() []int {
	want := []byte(berthBinary + "\x00__pause\x00")
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(data, want) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil && processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killPauseProcess(u *sysUser) {
	killPauseByPidFile(pausePidFile(u))
}

func killPauseByPidFile(pidFile string) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !processAlive(pid) {
		return
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !bytes.Contains(cmdline, []byte("__pause")) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// Env is one berth store (--root/--runroot) used as one user.
type Env struct {
	T *testing.T
	// Mode is "root" or "rootless".
	Mode          string
	Root, RunRoot string
	// Dir is a scratch directory writable by the mode's user.
	Dir string

	base  string
	user  *sysUser // nil for root
	extra []string // environment added with SetEnv
	unset []string // variables removed with UnsetEnv
	// pausePidFiles are the pid files of pause processes started for
	// UseXDGRuntimeDir and UseTmpDir, killed at the end.
	pausePidFiles []string
}

// forEachMode runs fn as subtests "root" and "rootless", each with a fresh store.
func forEachMode(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, mode := range []string{"root", "rootless"} {
		t.Run(mode, func(t *testing.T) {
			fn(t, newEnv(t, mode))
		})
	}
}

// newEnv creates a fresh store for mode; it is removed when t ends.
func newEnv(t *testing.T, mode string) *Env {
	t.Helper()
	var u *sysUser
	switch mode {
	case "root":
	case "rootless":
		u = rootlessUser
	default:
		t.Fatalf("newEnv: unknown mode %q (want root or rootless)", mode)
	}
	base, err := os.MkdirTemp(runDir, mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Mode: mode, base: base, user: u,
		Root: filepath.Join(base, "root"), RunRoot: filepath.Join(base, "runroot"), Dir: filepath.Join(base, "work")}
	if err := os.Chmod(base, 0o700); err != nil {
		t.Fatal(err)
	}
	if u != nil {
		if err := os.Chown(base, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
	if err := mkdirOwned(e.Dir, 0o755, u); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.cleanup)
	return e
}

// SetEnv adds an environment variable to every later command of e.
func (e *Env) SetEnv(key, value string) {
	e.extra = append(e.extra, key+"="+value)
}

// UnsetEnv removes key from the environment of every later command of e
// (the mode's fixed environment included), until a later SetEnv of it.
func (e *Env) UnsetEnv(key string) {
	e.unset = append(e.unset, key)
	kept := e.extra[:0]
	for _, kv := range e.extra {
		if !strings.HasPrefix(kv, key+"=") {
			kept = append(kept, kv)
		}
	}
	e.extra = kept
}

// UseXDGRuntimeDir gives e's commands an XDG_RUNTIME_DIR of their own, as a
// systemd-logind session has (/run/user/UID), and returns it. For rootless
// this also moves the pause process' pid file there: a pause process started
// in it is killed when the test ends.
func (e *Env) UseXDGRuntimeDir() string {
	e.T.Helper()
	dir := filepath.Join(e.base, "xdg")
	if err := mkdirOwned(dir, 0o700, e.user); err != nil {
		e.T.Fatal(err)
	}
	e.SetEnv("XDG_RUNTIME_DIR", dir)
	e.pausePidFiles = append(e.pausePidFiles, filepath.Join(dir, "berth", "pause.pid"))
	return dir
}

// UseTmpDir gives e's commands TMPDIR=dir. For rootless without
// XDG_RUNTIME_DIR this also moves the pause process' pid file there: a
// pause process started for it is killed when the test ends.
func (e *Env) UseTmpDir(dir string) {
	e.SetEnv("TMPDIR", dir)
	if e.user != nil {
		e.pausePidFiles = append(e.pausePidFiles, filepath.Join(dir, fmt.Sprintf("berth-run-%d", e.user.UID), "pause.pid"))
	}
}

// Rootless reports whether e runs berth as the unprivileged user.
func (e *Env) Rootless() bool { return e.user != nil }

// UID is the host uid berth runs as in e.
func (e *Env) UID() int {
	if e.user == nil {
		return 0
	}
	return e.user.UID
}

func (e *Env) cleanup() {
	// Containers first (processes, mounts), then images, by berth itself:
	// it can remove what subordinate uids own and what is mounted in the
	// pause process' namespace. Root's RemoveAll below deletes the rest.
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	store := []string{"--root", e.Root, "--runroot", e.RunRoot}
	if _, err := os.Stat(e.Root); err == nil {
		e.run(ctx, nil, berthBinary, append(store, "rm", "-a", "-f")...)
		if e.user != nil {
			r := e.run(ctx, nil, berthBinary, append(store, "rmi", "-a", "-f")...)
			if r.ExitCode != 0 {
				e.T.Logf("cleanup: %s: exit %d: %s", r, r.ExitCode, strings.TrimSpace(r.Stderr))
			}
		}
	}
	// Whatever still runs from this store (monitors, a hung berth) goes.
	killProcessesMentioning(e.base + "/")
	// after the berth commands above, which may have started them
	for _, f := range e.pausePidFiles {
		killPauseByPidFile(f)
	}
	if os.Getenv("BERTH_E2E_KEEP") != "" {
		return
	}
	unmountUnder(e.base)
	if err := os.RemoveAll(e.base); err != nil {
		e.T.Logf("cleanup: removing %s: %v", e.base, err)
	}
}

// killProcessesMentioning kills every process (but this one) whose command
// line contains s.
func killProcessesMentioning(s string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(p)
		if err == nil && bytes.Contains(data, []byte(s)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Result is the outcome of one command.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
	// Args is the command line, program first.
	Args []string
}

// String is the command line, shell-quoted where needed.
func (r *Result) String() string {
	parts := make([]string, len(r.Args))
	for i, a := range r.Args {
		if i == 0 && a == berthBinary {
			a = "berth"
		}
		parts[i] = shellQuote(a)
	}
	return strings.Join(parts, " ")
}

// Out is stdout without surrounding white space.
func (r *Result) Out() string { return strings.TrimSpace(r.Stdout) }

// Lines are the non-empty lines of stdout.
func (r *Result) Lines() []string {
	var lines []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func (r *Result) describe() string {
	return fmt.Sprintf("%s\nexit code: %d\nstdout:\n%s\nstderr:\n%s", r, r.ExitCode, indent(r.Stdout), indent(r.Stderr))
}

// Berth runs berth --root e.Root --runroot e.RunRoot ARGS as the mode's user.
// It never fails the test itself, so it may be called from goroutines.
func (e *Env) Berth(args ...string) *Result {
	e.T.Helper()
	return e.BerthIn(nil, args...)
}

// BerthIn is Berth with stdin.
func (e *Env) BerthIn(stdin io.Reader, args ...string) *Result {
	e.T.Helper()
	full := append([]string{"--root", e.Root, "--runroot", e.RunRoot}, args...)
	start := time.Now()
	r := e.run(context.Background(), stdin, berthBinary, full...)
	e.T.Logf("$ berth %s  [exit %d, %.2fs]", shellJoin(args), r.ExitCode, time.Since(start).Seconds())
	return r
}

// BerthOK fails the test unless berth exits 0.
func (e *Env) BerthOK(args ...string) *Result {
	e.T.Helper()
	r := e.Berth(args...)
	if r.ExitCode != 0 {
		e.T.Fatalf("command failed, want exit code 0:\n%s", r.describe())
	}
	return r
}

// BerthFail fails the test unless berth exits with code.
func (e *Env) BerthFail(code int, args ...string) *Result {
	e.T.Helper()
	r := e.Berth(args...)
	if r.ExitCode != code {
		e.T.Fatalf("want exit code %d:\n%s", code, r.describe())
	}
	return r
}

// Start starts berth in the background (for tests that kill it or race it).
// The returned command has stdout and stderr in the given buffers.
func (e *Env) Start(stdout, stderr io.Writer, args ...string) *exec.Cmd {
	e.T.Helper()
	full := append([]string{"--root", e.Root, "--runroot", e.RunRoot}, args...)
	cmd := e.command(context.Background(), berthBinary, full...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		e.T.Fatalf("starting berth %s: %v", shellJoin(args), err)
	}
	e.T.Logf("$ berth %s &  [pid %d]", shellJoin(args), cmd.Process.Pid)
	return cmd
}

// Run runs any program as the mode's user, in e.Dir, with e's environment.
func (e *Env) Run(name string, args ...string) *Result {
	return e.run(context.Background(), nil, name, args...)
}

func (e *Env) environ() []string {
	var env []string
	for _, kv := range modeEnv[e.Mode] {
		unset := false
		for _, k := range e.unset {
			unset = unset || strings.HasPrefix(kv, k+"=")
		}
		if !unset {
			env = append(env, kv)
		}
	}
	return append(env, e.extra...)
}

func (e *Env) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return userCommand(ctx, e.user, e.environ(), e.Dir, name, args...)
}

func (e *Env) run(ctx context.Context, stdin io.Reader, name string, args ...string) *Result {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := e.command(ctx, name, args...)
	return runCommand(ctx, cmd, stdin)
}

// userCommand prepares name ARGS to run as u (nil: as root) in its own
// process group, killed as a group when ctx ends.
func userCommand(ctx context.Context, u *sysUser, env []string, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if u != nil {
		groups := u.Groups
		if groups == nil {
			groups = []uint32{}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: groups}
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func runCommand(ctx context.Context, cmd *exec.Cmd, stdin io.Reader) *Result {
	var stdout, stderr bytes.Buffer
	cmd.Stdin = stdin
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &Result{Args: cmd.Args, ExitCode: 0}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	default:
		r.ExitCode = -1
		fmt.Fprintf(&stderr, "\n[e2e: running the command: %v]", err)
	}
	if ctx.Err() == context.DeadlineExceeded {
		r.ExitCode = -1
		fmt.Fprintf(&stderr, "\n[e2e: killed after the %s timeout]", commandTimeout)
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	return r
}

// WriteFile writes content to name in e.Dir, owned by the mode's user, and
// returns its path.
func (e *Env) WriteFile(name, content string) string {
	e.T.Helper()
	p := filepath.Join(e.Dir, name)
	if err := mkdirOwned(filepath.Dir(p), 0o755, e.user); err != nil {
		e.T.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.T.Fatal(err)
	}
	if e.user != nil {
		if err := os.Chown(p, e.user.UID, e.user.GID); err != nil {
			e.T.Fatal(err)
		}
	}
	return p
}

// mkdirOwned creates dir (and missing parents) owned by u (nil: root).
func mkdirOwned(dir string, perm os.FileMode, u *sysUser) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirOwned(filepath.Dir(dir), perm, u); err != nil {
		return err
	}
	if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := os.Chmod(dir, perm); err != nil {
		return err
	}
	if u != nil && u.UID != 0 {
		return os.Chown(dir, u.UID, u.GID)
	}
	return nil
}

// unmountUnder lazily unmounts every mount point at or below dir in this
// mount namespace, deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMountPath(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		_ = unix.Unmount(p, unix.MNT_DETACH)
	}
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Registry is a docker-registry (distribution) instance on 127.0.0.1.
type Registry struct {
	// Addr is host:port, e.g. 127.0.0.1:40123.
	Addr string
	// User and Password are set when the registry requires them.
	User, Password string
	// Dir holds its configuration, storage and log.
	Dir string

	cmd *exec.Cmd
}

// startRegistry starts a registry for t; it is killed when t ends.
func startRegistry(t *testing.T, auth bool) *Registry {
	t.Helper()
	r, err := launchRegistry(auth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

var (
	sharedRegistryMu sync.Mutex
	sharedRegistries = map[bool]*Registry{}
)

// sharedRegistry is one registry per test process (and per auth setting),
// started on first use and killed at the end. Use unique repository names.
func sharedRegistry(t *testing.T, auth bool) *Registry {
	t.Helper()
	sharedRegistryMu.Lock()
	defer sharedRegistryMu.Unlock()
	if r := sharedRegistries[auth]; r != nil {
		return r
	}
	r, err := launchRegistry(auth)
	if err != nil {
		t.Fatal(err)
	}
	sharedRegistries[auth] = r
	addSuiteCleanup(r.stop)
	return r
}

var refCounter struct {
	sync.Mutex
	n int
}

// Ref returns a repository reference in r that no other test uses.
func (r *Registry) Ref(name string) string {
	refCounter.Lock()
	refCounter.n++
	n := refCounter.n
	refCounter.Unlock()
	return fmt.Sprintf("%s/e2e/%s-%d:latest", r.Addr, name, n)
}

// Log is what the registry logged so far.
func (r *Registry) Log() string {
	data, _ := os.ReadFile(filepath.Join(r.Dir, "registry.log"))
	return string(data)
}

func launchRegistry(auth bool) (*Registry, error) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return nil, fmt.Errorf("docker-registry not found: install Debian's docker-registry package (make deps)")
	}
	dir, err := os.MkdirTemp(runDir, "registry-")
	if err != nil {
		return nil, err
	}
	r := &Registry{Dir: dir}
	authConf := ""
	if auth {
		r.User, r.Password = "berthuser", "s3cret-"+strconv.Itoa(os.Getpid())
		out, err := exec.Command("htpasswd", "-Bbn", r.User, r.Password).Output()
		if err != nil {
			return nil, fmt.Errorf("htpasswd (apache2-utils): %w", err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, out, 0o600); err != nil {
			return nil, err
		}
		authConf = fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-e2e\n    path: %s\n", htpasswd)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		conf := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), r.Addr, authConf)
		confPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		logf, err := os.Create(filepath.Join(dir, "registry.log"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "serve", confPath)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			_ = logf.Close()
			return nil, fmt.Errorf("starting docker-registry: %w", err)
		}
		_ = logf.Close()
		r.cmd = cmd
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if err := waitRegistry(r.Addr, exited); err != nil {
			r.stop()
			lastErr = fmt.Errorf("docker-registry on %s: %w\nlog:\n%s", r.Addr, err, indent(r.Log()))
			if strings.Contains(r.Log(), "address already in use") {
				continue
			}
			return nil, lastErr
		}
		return r, nil
	}
	return nil, lastErr
}

func waitRegistry(addr string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited before it answered")
		default:
		}
		resp, err := client.Get("http://" + addr + "/v2/")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("/v2/ did not answer within 30s")
}

func (r *Registry) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	_ = r.cmd.Process.Kill()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
