package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// containerEnv is an Env with a busybox image, whose containers are
// removed before the store is.
func containerEnv(t *testing.T, e *Env) string {
	t.Helper()
	e.BusyboxImage("localhost/busybox:latest")
	t.Cleanup(func() { e.Berth("rm", "-a", "-f") })
	return "localhost/busybox:latest"
}

func TestRunForeground(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		r := e.BerthOK("run", "--rm", "--network", "host", img, "echo", "hello")
		if r.Out() != "hello" {
			t.Fatalf("stdout = %q, want hello", r.Stdout)
		}
		r = e.BerthFail(3, "run", "--name", "three", img, "sh", "-c", "echo out; echo err >&2; exit 3")
		if r.Out() != "out" || strings.TrimSpace(r.Stderr) != "err" {
			t.Fatalf("stdout %q stderr %q: streams mixed up", r.Stdout, r.Stderr)
		}
		ps := e.BerthOK("ps", "-a", "--format", "{{.Names}} {{.Status}}")
		if !strings.Contains(ps.Stdout, "three Exited (3)") {
			t.Fatalf("ps after a foreground run: %q", ps.Stdout)
		}
		if e.BerthOK("ps", "-aq").Out() != e.BerthOK("ps", "-aq", "--filter", "name=three").Out() {
			t.Fatalf("--rm left a container behind: %s", e.BerthOK("ps", "-a").Stdout)
		}
		r = e.BerthIn(strings.NewReader("from stdin\n"), "run", "--rm", "-i", img, "cat")
		if r.ExitCode != 0 || r.Out() != "from stdin" {
			t.Fatalf("run -i: %s", r.describe())
		}
	})
}

func TestRunExitCodesForBadCommands(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		r := e.BerthFail(127, "run", "--rm", img, "/no/such/command")
		if !strings.Contains(r.Stderr, "/no/such/command") {
			t.Fatalf("127 without naming the command: %s", r.Stderr)
		}
		e.BerthFail(126, "run", "--rm", img, "/etc/passwd")
		e.BerthFail(125, "run", "--rm", "-p", "99999", img, "true")
		e.BerthFail(125, "run", "--rm", "--restart", "sometimes", img, "true")
		e.BerthFail(125, "run", "--rm", "localhost/no-such-image:1", "true")
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Fatalf("failed runs left containers: %s", out)
		}
	})
}

func TestDetachedLifecycle(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := e.BerthOK("run", "-d", "--name", "sleeper", img, "sh", "-c", "echo started; echo warn >&2; exec sleep 1000").Out()
		if len(id) != 64 {
			t.Fatalf("run -d printed %q, want a 64-character ID", id)
		}
		if st := e.BerthOK("ps", "--format", "{{.Names}} {{.State}}").Out(); !strings.HasPrefix(st, "sleeper Up ") {
			t.Fatalf("ps: %q", st)
		}
		waitFor(t, func() bool { return strings.Contains(e.BerthOK("logs", "sleeper").Stdout, "started") })
		logs := e.BerthOK("logs", "sleeper")
		if logs.Out() != "started" || strings.TrimSpace(logs.Stderr) != "warn" {
			t.Fatalf("logs: stdout %q stderr %q", logs.Stdout, logs.Stderr)
		}
		if ts := e.BerthOK("logs", "-t", "sleeper").Out(); !strings.HasPrefix(ts, time.Now().UTC().Format("2006-01-02")) && !strings.HasPrefix(ts, time.Now().Format("2006-01-02")) {
			t.Fatalf("logs -t: %q", ts)
		}
		e.BerthFail(2, "rm", "sleeper")
		// sleep as pid 1 ignores SIGTERM: stop must resort to SIGKILL.
		start := time.Now()
		e.BerthOK("stop", "-t", "1", "sleeper")
		if d := time.Since(start); d > 8*time.Second {
			t.Fatalf("stop -t 1 took %s", d)
		}
		st := e.BerthOK("ps", "-a", "--format", "{{.State}} {{.ExitCode}}").Out()
		if !strings.HasPrefix(st, "Exited (137) ") || !strings.HasSuffix(st, " ago 137") {
			t.Fatalf("after stop: %q", st)
		}
		if code := e.BerthOK("wait", "sleeper").Out(); code != "137" {
			t.Fatalf("wait: %q", code)
		}
		e.BerthOK("start", "sleeper")
		if st := e.BerthOK("ps", "--format", "{{.State}}").Out(); !strings.HasPrefix(st, "Up ") {
			t.Fatalf("after start: %q", st)
		}
		e.BerthOK("kill", "sleeper")
		e.BerthOK("wait", "sleeper")
		e.BerthOK("rm", "sleeper")
		e.BerthFail(1, "rm", "sleeper")
		e.BerthFail(1, "container", "exists", "sleeper")
	})
}

func TestNameClashAndConcurrentCreate(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "taken", img, "true")
		r := e.BerthFail(125, "create", "--name", "taken", img, "true")
		if !strings.Contains(r.Stderr, "already in use") {
			t.Fatalf("name clash message: %s", r.Stderr)
		}
		if n := len(e.BerthOK("ps", "-aq").Lines()); n != 1 {
			t.Fatalf("%d containers after a name clash, want 1", n)
		}
		var wg sync.WaitGroup
		codes := make([]int, 10)
		for i := range codes {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				codes[i] = e.Berth("create", "--name", "same", img, "true").ExitCode
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == 0 {
				ok++
			} else if c != 125 {
				t.Errorf("concurrent create exit code %d", c)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 10 concurrent creates of one name succeeded, want 1 (codes %v)", ok, codes)
		}
		if n := len(e.BerthOK("ps", "-aq").Lines()); n != 2 {
			t.Fatalf("%d containers, want 2", n)
		}
	})
}

func TestPublishedPortServesHTTP(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		e.BerthOK("run", "-d", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), img,
			"sh", "-c", "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www")
		var body string
		waitFor(t, func() bool {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			return resp.StatusCode == 200
		})
		if strings.TrimSpace(body) != "hello-from-berth" {
			t.Fatalf("page: %q", body)
		}
		if ports := e.BerthOK("ps", "--format", "{{.Ports}}").Out(); ports != fmt.Sprintf("127.0.0.1:%d->80/tcp", port) {
			t.Fatalf("ps ports: %q", ports)
		}
		e.BerthOK("rm", "-f", "web")
		if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
			t.Fatalf("port %d still answers after rm -f", port)
		}
	})
}

func TestMonitorKilledIsReconciled(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "orphan", "--network", "host", img, "sleep", "1000")
		pid := monitorPid(t, e, "orphan")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return !processAlive(pid) })
		st := e.BerthOK("inspect", "--format", "{{.Name}} {{.State.Status}}", "orphan").Out()
		if st != "orphan exited" {
			t.Fatalf("ps after the monitor was killed: %q", st)
		}
		if rootfsMounted(e) {
			t.Fatalf("the container's rootfs is still mounted")
		}
		e.BerthOK("rm", "orphan")
	})
}

func TestRestartPolicyOnFailure(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "flaky", "--network", "host", "--restart", "on-failure:2", img, "sh", "-c", "echo run; exit 1")
		waitFor(t, func() bool {
			return e.BerthOK("inspect", "--format", "{{.State.Status}}", "flaky").Out() == "exited" &&
				strings.Count(e.BerthOK("logs", "flaky").Stdout, "run") == 3
		})
	})
}

// monitorPid reads the monitor's pid from the state, through inspect-free means:
// the monitor is the parent of the container's init.
func monitorPid(t *testing.T, e *Env, name string) int {
	t.Helper()
	out := e.BerthOK("ps", "--format", "{{.Pid}}", "--filter", "name="+name).Out()
	pid, err := strconv.Atoi(out)
	if err != nil || pid == 0 {
		t.Fatalf("no pid for %s: %q", name, out)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ppid, _ := strconv.Atoi(fields[1])
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	if strings.TrimSpace(string(comm)) != "berth-monitor" {
		t.Fatalf("parent of container pid %d is %q, not berth-monitor", pid, comm)
	}
	return ppid
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met within 20s")
}

func TestFiftyConcurrentRuns(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		var wg sync.WaitGroup
		results := make([]*Result, 50)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = e.Berth("run", "-d", "--name", fmt.Sprintf("c%02d", i), "--network", "host", img, "sleep", "1000")
			}(i)
		}
		wg.Wait()
		for i, r := range results {
			if r.ExitCode != 0 {
				t.Fatalf("run -d c%02d failed:\n%s", i, r.describe())
			}
		}
		if n := len(e.BerthOK("ps", "-q").Lines()); n != 50 {
			t.Fatalf("%d running containers, want 50", n)
		}
		e.BerthOK("rm", "-a", "-f")
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Fatalf("rm -a -f left: %s", out)
		}
	})
}

func TestKilledRunDetachedIsConsistent(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		for round := 0; round < 5; round++ {
			name := fmt.Sprintf("k%d", round)
			cmd := e.Start(io.Discard, io.Discard, "run", "-d", "--name", name, "--network", "host", img, "sleep", "1000")
			time.Sleep(time.Duration(10+round*15) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			// Whatever the moment, the state is one berth can show and act on.
			st := e.BerthOK("ps", "-a", "--filter", "name="+name, "--format", "{{.State}}").Out()
			// (podman 4.3's ps shows the state for people)
			switch {
			case st == "", st == "Created", strings.HasPrefix(st, "Up "), strings.HasPrefix(st, "Exited ("):
			default:
				t.Fatalf("round %d: state %q after kill -9 of run -d", round, st)
			}
			if st != "" {
				e.BerthOK("rm", "-f", name)
			}
			e.BerthOK("run", "--rm", "--name", name, "--network", "host", img, "true")
		}
		if rootfsMounted(e) {
			t.Fatalf("a container rootfs is still mounted")
		}
	})
}

// rootfsMounted reports whether a container rootfs of e's store is mounted,
// looking where berth mounts: the host, or the rootless user namespace.
func rootfsMounted(e *Env) bool {
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if e.Rootless() {
		mounts = []byte(e.BerthOK("unshare", "cat", "/proc/self/mountinfo").Stdout)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, e.Root) && strings.Contains(line, "/merged") {
			return true
		}
	}
	return false
}

func TestSigProxyAndTerminal(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		// --sig-proxy (the default): SIGTERM to a foreground run reaches the container.
		var stdout bytes.Buffer
		cmd := e.Start(&stdout, io.Discard, "run", "--name", "proxied", "--network", "host", img,
			"sh", "-c", `trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done`)
		waitFor(t, func() bool { return strings.Contains(e.Berth("logs", "proxied").Stdout, "ready") })
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Fatalf("run after SIGTERM: %v, want exit 7 (stdout %q)", err, stdout.String())
		}
		if !strings.Contains(stdout.String(), "got-term") {
			t.Fatalf("the container did not get SIGTERM: %q", stdout.String())
		}
		// -t: the process gets a terminal (through the console socket)
		if _, err := exec.LookPath("script"); err == nil {
			r := e.Run("script", "-qec", berthBinary+" --root "+e.Root+" --runroot "+e.RunRoot+" run --rm -t "+img+" tty", "/dev/null")
			if !strings.Contains(r.Stdout, "/dev/pts/") {
				t.Fatalf("run -t: tty printed %q", r.Stdout)
			}
		}
	})
}

func TestLogRotation(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "--name", "chatty", "--network", "host", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", img,
			"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
		path := e.BerthOK("inspect", "--format", "{{.LogPath}}", "chatty").Out()
		for _, p := range []string{path, path + ".1"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("log file %s: %v", p, err)
			}
			if st.Size() > 2048+200 {
				t.Fatalf("%s is %d bytes, over max-size 2k", p, st.Size())
			}
		}
		if _, err := os.Stat(path + ".2"); err == nil {
			t.Fatalf("max-file=2 kept a third file")
		}
		if out := e.BerthOK("logs", "--tail", "1", "chatty").Out(); out != "line-199-xxxxxxxxxxxxxxxxxxxx" {
			t.Fatalf("last line after rotation: %q", out)
		}
	})
}

// TestStorageFallbacks runs a container on the storage configurations
// berth falls back to when native overlay is not available.
func TestStorageFallbacks(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		for _, tc := range []struct{ name, driverFlag string }{
			{"fuse-overlayfs", "--storage-opt=overlay.mount_program=/usr/bin/fuse-overlayfs"},
			{"vfs", "--storage-driver=vfs"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				root, run := e.Root+"-"+tc.name, e.RunRoot+"-"+tc.name
				b := func(args ...string) *Result {
					return e.BerthOK(append([]string{"--root", root, "--runroot", run, tc.driverFlag}, args...)...)
				}
				b("import", "-q", busyboxRootfsTar(t), "localhost/busybox:latest")
				if out := b("run", "--rm", "--network", "host", "localhost/busybox:latest", "sh", "-c", "echo ok > /f && cat /f").Out(); out != "ok" {
					t.Fatalf("run on %s: %q", tc.name, out)
				}
				info := b("info", "--format", "{{.Store.GraphDriverName}} {{.Store.GraphOptions}}").Out()
				if !strings.Contains(info, map[string]string{"vfs": "vfs", "fuse-overlayfs": "fuse-overlayfs"}[tc.name]) {
					t.Fatalf("info on %s: %q", tc.name, info)
				}
				b("rmi", "-a", "-f")
			})
		}
	})
}
