package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests are about the rootless machinery itself (user namespace, pause
// process, subordinate ids), so they run as berthtest only.

// idMapLines counts the mappings in info's uidmap/gidmap, which berth gives
// as /proc/self/uid_map text and podman as a list of objects.
func idMapLines(raw json.RawMessage) (int, string) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		n := 0
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				n++
			}
		}
		return n, s
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err == nil {
		return len(list), string(raw)
	}
	return 0, string(raw)
}

func TestRootlessInfo(t *testing.T) {
	e := newEnv(t, "rootless")
	out := e.BerthOK("info", "--format", "json").Stdout
	var info struct {
		Host struct {
			Security struct {
				Rootless bool `json:"rootless"`
			} `json:"security"`
			IDMappings struct {
				UIDMap json.RawMessage `json:"uidmap"`
				GIDMap json.RawMessage `json:"gidmap"`
			} `json:"idMappings"`
		} `json:"host"`
		Store struct {
			GraphRoot string `json:"graphRoot"`
			RunRoot   string `json:"runRoot"`
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("info --format json does not parse: %v\n%s", err, out)
	}
	if !info.Host.Security.Rootless {
		t.Errorf("info: host.security.rootless = false for uid %d", e.UID())
	}
	for name, raw := range map[string]json.RawMessage{"uidmap": info.Host.IDMappings.UIDMap, "gidmap": info.Host.IDMappings.GIDMap} {
		n, text := idMapLines(raw)
		if n < 2 {
			t.Errorf("info: %s has %d mapping(s), want the user and the subordinate range:\n%s", name, n, text)
		}
		if !strings.Contains(text, "100000") || !strings.Contains(text, "65536") {
			t.Errorf("info: %s does not map the range 100000:65536 of /etc/subuid:\n%s", name, text)
		}
	}
	if info.Store.GraphRoot != e.Root || info.Store.RunRoot != e.RunRoot {
		t.Errorf("info: store %s, %s, want --root %s and --runroot %s", info.Store.GraphRoot, info.Store.RunRoot, e.Root, e.RunRoot)
	}

	root := newEnv(t, "root")
	if got := root.BerthOK("info", "--format", "{{.Host.Security.Rootless}}").Out(); got != "false" {
		t.Errorf("info as root: rootless = %s, want false", got)
	}
}

// pausePID asks berth for the pause process it runs in.
func (e *Env) pausePID() int {
	e.T.Helper()
	out := e.BerthOK("info", "--format", "{{.Host.PausePID}}").Out()
	pid, err := strconv.Atoi(out)
	if err != nil || pid <= 0 {
		e.T.Fatalf("info --format {{.Host.PausePID}} = %q, want a pid", out)
	}
	return pid
}

// stopPause runs system migrate and checks the pause process is gone.
func (e *Env) stopPause() {
	e.T.Helper()
	old := livePausePid(rootlessUser)
	e.BerthOK("system", "migrate")
	if old != 0 && !waitGone(old, 5*time.Second) {
		e.T.Fatalf("pause process %d still runs after system migrate", old)
	}
	if pid := livePausePid(rootlessUser); pid != 0 {
		e.T.Fatalf("a pause process (%d) runs after system migrate", pid)
	}
	if pids := pauseProcesses(); len(pids) != 0 {
		e.T.Fatalf("pause processes %v run after system migrate", pids)
	}
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func TestRootlessPauseProcess(t *testing.T) {
	e := newEnv(t, "rootless")

	t.Run("concurrent first invocations share one", func(t *testing.T) {
		for round := 0; round < 3; round++ {
			e.stopPause()
			const n = 3
			results := make([]*Result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = e.Berth("info", "--format", "{{.Host.PausePID}}")
				}()
			}
			wg.Wait()
			for _, r := range results {
				if r.ExitCode != 0 {
					t.Fatalf("concurrent first invocation failed:\n%s", r.describe())
				}
				if r.Out() != results[0].Out() || r.Out() == "" {
					t.Fatalf("concurrent first invocations ended up in different pause processes: %q vs %q", r.Out(), results[0].Out())
				}
			}
			if live := livePausePid(rootlessUser); strconv.Itoa(live) != results[0].Out() {
				t.Fatalf("berth reports pause pid %s, the pid file says %d", results[0].Out(), live)
			}
			if pids := pauseProcesses(); len(pids) != 1 {
				t.Fatalf("after %d concurrent first invocations, pause processes %v run, want exactly one", n, pids)
			}
		}
	})

	t.Run("system migrate stops it", func(t *testing.T) {
		old := e.pausePID()
		if !processAlive(old) {
			t.Fatalf("pause pid %d reported by info is not running", old)
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", old))
		if !strings.Contains(string(cmdline), "__pause") {
			t.Errorf("pid %d is not a pause process: %q", old, cmdline)
		}
		e.BerthOK("system", "migrate")
		if !waitGone(old, 5*time.Second) {
			t.Fatalf("pause process %d still runs after system migrate", old)
		}
		if _, err := os.Stat(pausePidFile(rootlessUser)); err == nil {
			t.Errorf("pid file %s still exists after system migrate", pausePidFile(rootlessUser))
		}
		e.BerthOK("system", "migrate") // nothing to stop: still fine

		// The next command creates a new one and works.
		e.BusyboxImage(busyboxName)
		e.BerthOK("image", "exists", busyboxName)
		if pid := e.pausePID(); pid == old || !processAlive(pid) {
			t.Errorf("after system migrate, pause pid = %d (old %d), want a new live one", pid, old)
		}
	})

	t.Run("stale pid file", func(t *testing.T) {
		e.stopPause()
		// A pid file naming a process that is not a pause process.
		pidFile := pausePidFile(rootlessUser)
		if err := mkdirOwned(filepath.Dir(pidFile), 0o700, rootlessUser); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(pidFile, rootlessUser.UID, rootlessUser.GID); err != nil {
			t.Fatal(err)
		}
		if pid := e.pausePID(); pid == os.Getpid() || !processAlive(pid) {
			t.Errorf("with a stale pid file, pause pid = %d, want a new live pause process", pid)
		}
	})
}

func TestRootlessVersionNeedsNoPause(t *testing.T) {
	e := newEnv(t, "rootless")
	e.stopPause()
	r := e.BerthOK("version")
	if !strings.Contains(r.Stdout, "Version:") {
		t.Errorf("berth version: unexpected output:\n%s", r.describe())
	}
	e.BerthOK("--version")
	e.BerthOK("version", "--format", "{{.Client.Version}}")
	e.BerthOK("--help")
	e.BerthOK("pull", "--help")
	if pids := pauseProcesses(); len(pids) != 0 {
		t.Errorf("berth version/--help created pause processes %v", pids)
	}
	if _, err := os.Stat(pausePidFile(rootlessUser)); err == nil {
		t.Errorf("berth version/--help wrote %s", pausePidFile(rootlessUser))
	}
	if _, err := os.Stat(e.Root); err == nil {
		t.Errorf("berth version/--help created the graph root %s", e.Root)
	}
}

const noSubUser = "berthnosub"

// withUserWithoutSubIDs creates user berthnosub (no /etc/subuid or
// /etc/subgid range) for the duration of the test. A lock keeps concurrent
// test processes on this machine from racing on the account.
func withUserWithoutSubIDs(t *testing.T) *sysUser {
	t.Helper()
	lock, err := os.OpenFile("/run/lock/berth-e2e-"+noSubUser+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	userdel := func() {
		if _, err := lookupUser(noSubUser); err == nil {
			if out, err := exec.Command("userdel", noSubUser).CombinedOutput(); err != nil {
				t.Logf("userdel %s: %v: %s", noSubUser, err, out)
			}
		}
	}
	t.Cleanup(func() {
		userdel()
		_ = lock.Close()
	})
	userdel() // a leftover of an interrupted run
	out, err := exec.Command("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
		"-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", noSubUser).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", noSubUser, err, out)
	}
	if hasSubIDs("/etc/subuid", noSubUser) || hasSubIDs("/etc/subgid", noSubUser) {
		t.Fatalf("useradd gave %s a subordinate id range", noSubUser)
	}
	u, err := lookupUser(noSubUser)
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp(runDir, noSubUser+"-")
	if err != nil {
		t.Fatal(err)
	}
	u.Home, u.TmpDir = filepath.Join(base, "home"), filepath.Join(base, "tmp")
	for _, d := range []string{base, u.Home, u.TmpDir} {
		if err := mkdirOwned(d, 0o700, u); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func TestRootlessWithoutSubordinateIDs(t *testing.T) {
	u := withUserWithoutSubIDs(t)
	base := filepath.Dir(u.Home)
	for _, args := range [][]string{{"info"}, {"images"}} {
		full := append([]string{"--root", filepath.Join(base, "root"), "--runroot", filepath.Join(base, "runroot")}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		r := runCommand(ctx, userCommand(ctx, u, userEnv(u), u.Home, berthBinary, full...), nil)
		cancel()
		t.Logf("$ berth %s (as %s)  [exit %d]", strings.Join(args, " "), noSubUser, r.ExitCode)
		if r.ExitCode != 125 {
			t.Errorf("as a user without subordinate ids: want exit 125:\n%s", r.describe())
		}
		if !strings.Contains(r.Stderr, "/etc/subuid") || !strings.Contains(r.Stderr, "usermod") {
			t.Errorf("the message should name /etc/subuid and how to fix it (usermod):\n%s", r.describe())
		}
		if strings.Count(r.Stderr, "Error:") != 1 {
			t.Errorf("want exactly one error message:\n%s", r.describe())
		}
	}
	// Commands that need no storage work all the same.
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	r := runCommand(ctx, userCommand(ctx, u, userEnv(u), u.Home, berthBinary, "version"), nil)
	if r.ExitCode != 0 {
		t.Errorf("berth version as a user without subordinate ids:\n%s", r.describe())
	}
}
