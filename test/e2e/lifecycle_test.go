package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A foreground `run --rm` owns its container's cleanup. Killed (SIGKILL)
// while the container runs, or after the container exited but before it
// cleaned up (stopped, then killed), it must not leave the container and
// its name behind: --rm still happens.
func TestRunRmOwnerKilled(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		gone := func(name string) func() bool {
			return func() bool {
				r := e.Berth("ps", "-a", "--format", "{{.Names}}")
				return r.ExitCode == 0 && !strings.Contains(r.Stdout, name)
			}
		}
		running := func(name string) func() bool {
			return func() bool {
				return e.Berth("inspect", "--format", "{{.State.Status}}", name).Out() == "running"
			}
		}

		// killed while the container runs
		var out, errb strings.Builder
		cli := e.Start(&out, &errb, "run", "--rm", "--name", "victim", "--network", "none", img, "sleep", "100")
		waitFor(t, running("victim"))
		_ = cli.Process.Kill()
		_ = cli.Wait()
		e.BerthOK("kill", "victim")
		waitFor(t, gone("victim"))
		e.BerthOK("run", "--rm", "--name", "victim", "--network", "none", img, "true")

		// killed after the container exited, before it cleaned up: the
		// run is stopped (SIGSTOP) across the exit, then killed
		cli = e.Start(&out, &errb, "run", "--rm", "--name", "late", "--network", "none", img, "sleep", "2")
		waitFor(t, running("late"))
		_ = cli.Process.Signal(syscall.SIGSTOP)
		time.Sleep(4 * time.Second) // the container exits meanwhile
		_ = cli.Process.Kill()
		_ = cli.Wait()
		waitFor(t, gone("late"))
		if r := e.Berth("container", "exists", "late"); r.ExitCode != 1 {
			t.Fatalf("the killed run's container is still there:\n%s", r.describe())
		}
		e.BerthOK("run", "--rm", "--name", "late", "--network", "none", img, "true")
	})
}

// A restart policy's runs are atomic to an observer: a container shown
// exited has its final restart count, and its logs hold every run; in
// between it shows running; logs never fail meanwhile.
func TestRestartObservedAtomically(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		for try := 0; try < 10; try++ {
			name := fmt.Sprintf("restarts%d", try)
			e.BerthOK("run", "-d", "--name", name, "--network", "none", "--restart", "on-failure:2", img, "sh", "-c", "echo run; exit 4")
			deadline := time.Now().Add(30 * time.Second)
			for {
				if time.Now().After(deadline) {
					t.Fatalf("%s did not end as exited with RestartCount 2 in 30s", name)
				}
				r := e.BerthOK("inspect", "--format", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", name)
				logs := e.Berth("logs", name)
				if logs.ExitCode != 0 {
					t.Fatalf("logs failed while %s was %q:\n%s", name, r.Out(), logs.describe())
				}
				state := strings.Fields(r.Out())
				if state[0] == "created" || state[0] == "exited" && state[1] != "2" {
					t.Fatalf("between runs %s shows %q (status, restart count, exit code)", name, r.Out())
				}
				if state[0] == "exited" {
					if n := strings.Count(logs.Stdout, "run\n"); n != 3 {
						t.Fatalf("%s shows %q but its logs have %d of 3 runs:\n%s", name, r.Out(), n, logs.Stdout)
					}
					if state[2] != "4" {
						t.Fatalf("%s exited with %s, want 4", name, state[2])
					}
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			// and no further run follows
			time.Sleep(300 * time.Millisecond)
			if r := e.BerthOK("inspect", "--format", "{{.State.Status}} {{.RestartCount}}", name); r.Out() != "exited 2" {
				t.Fatalf("%s changed after its final exit: %q", name, r.Out())
			}
			if n := strings.Count(e.BerthOK("logs", name).Stdout, "run\n"); n != 3 {
				t.Fatalf("%s ran %d times, want 3", name, n)
			}
		}
	})
}

// There are no healthchecks yet: waiting for health is refused at once
// rather than waiting forever; unknown conditions get podman's message.
func TestWaitConditions(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "w", "--network", "none", img, "sleep", "100")
		for _, cond := range []string{"healthy", "unhealthy"} {
			start := time.Now()
			r := e.BerthFail(125, "wait", "--condition", cond, "w")
			if !strings.Contains(r.Stderr, "not supported yet") {
				t.Fatalf("wait --condition %s: want a 'not supported yet' error:\n%s", cond, r.describe())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("wait --condition %s took %s to refuse", cond, d)
			}
		}
		r := e.BerthFail(125, "wait", "--condition", "bogus", "w")
		if !strings.Contains(r.Stderr, "unknown container state: bogus: invalid argument") {
			t.Fatalf("wait --condition bogus:\n%s", r.describe())
		}
		if out := e.BerthOK("wait", "--condition", "running", "w").Out(); out != "0" {
			t.Fatalf("wait --condition running printed %q", out)
		}
		e.BerthOK("kill", "w")
		if out := e.BerthOK("wait", "--condition", "stopped", "--condition", "exited", "w").Out(); out != "137" {
			t.Fatalf("wait for a killed container printed %q, want 137", out)
		}
		// as podman: a container that never ran does not make wait wait
		e.BerthOK("create", "--name", "never", img, "true")
		start := time.Now()
		if out := e.BerthOK("wait", "never").Out(); out != "0" {
			t.Fatalf("wait for a created container printed %q, want 0", out)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("wait for a created container took %s", d)
		}
		// nor one that failed to start (start exits 125 there, as podman)
		e.BerthOK("create", "--name", "nocmd", img, "/no/such/command")
		e.BerthOK("wait", "nocmd")
		e.BerthFail(125, "start", "nocmd")
		e.BerthOK("wait", "nocmd")
	})
}

// berthWithFiles runs berth with extra open files as fds 3, 4, ...
func (e *Env) berthWithFiles(files []*os.File, args ...string) *Result {
	e.T.Helper()
	full := append([]string{"--root", e.Root, "--runroot", e.RunRoot}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, berthBinary, full...)
	cmd.ExtraFiles = files
	r := runCommand(ctx, cmd, nil)
	e.T.Logf("$ berth %s  [%d extra fds, exit %d]", shellJoin(args), len(files), r.ExitCode)
	return r
}

func TestRunLifecycleFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)

		// --conmon-pidfile: the monitor's pid, as inspect reports it
		pidfile := filepath.Join(e.Dir, "monitor.pid")
		e.BerthOK("run", "-d", "--name", "pidf", "--network", "none", "--conmon-pidfile", pidfile, img, "sleep", "100")
		b, err := os.ReadFile(pidfile)
		if err != nil {
			t.Fatal(err)
		}
		pid := strings.TrimSpace(string(b))
		if got := e.BerthOK("inspect", "--format", "{{.State.ConmonPid}}", "pidf").Out(); got != pid {
			t.Fatalf("--conmon-pidfile has %q, inspect's ConmonPid is %q", pid, got)
		}
		if exe, err := os.Readlink("/proc/" + pid + "/exe"); err != nil || filepath.Base(exe) != "berth-monitor" {
			t.Fatalf("pid %s from --conmon-pidfile is %q (%v), not the monitor", pid, exe, err)
		}
		e.BerthOK("rm", "-f", "pidf")

		// --preserve-fds: fds 3 and 4 of berth reach the container
		content := "passed on as fd 4"
		tf := filepath.Join(t.TempDir(), "fd4")
		if err := os.WriteFile(tf, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		f4, err := os.Open(tf)
		if err != nil {
			t.Fatal(err)
		}
		defer f4.Close()
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		r := e.berthWithFiles([]*os.File{null, f4}, "run", "--rm", "--preserve-fds=2", "--network", "none", img, "sh", "-c", "cat <&4")
		if r.ExitCode != 0 || r.Out() != content {
			t.Fatalf("--preserve-fds=2 did not pass fd 4:\n%s", r.describe())
		}
		r = e.berthWithFiles(nil, "run", "--rm", "--name", "nofds", "--preserve-fds=2", "--network", "none", img, "true")
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "file descriptor 3 is not available") {
			t.Fatalf("--preserve-fds without the fds:\n%s", r.describe())
		}
		if e.Berth("container", "exists", "nofds").ExitCode != 1 {
			t.Fatal("a refused --preserve-fds left a container")
		}

		// --timeout: killed after N seconds; exit 255 and ExitCode -1 as podman
		start := time.Now()
		e.BerthFail(255, "run", "--name", "timed", "--network", "none", "--timeout", "2", img, "sleep", "60")
		if d := time.Since(start); d < 2*time.Second || d > 15*time.Second {
			t.Fatalf("run --timeout 2 took %s", d)
		}
		if out := e.BerthOK("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "timed").Out(); out != "exited -1" {
			t.Fatalf("after --timeout: %q, want exited -1", out)
		}
		e.BerthOK("rm", "timed") // it uses the image --rmi removes below

		// --rmi: the image goes with the container, unless another container uses it
		e.BerthOK("tag", img, "localhost/rmi-me:latest")
		e.BerthOK("create", "--name", "keepme", "localhost/rmi-me:latest", "true")
		e.BerthOK("run", "--rmi", "--network", "none", "localhost/rmi-me:latest", "true")
		e.BerthOK("image", "exists", "localhost/rmi-me:latest")
		e.BerthOK("rm", "keepme")
		e.BerthOK("run", "--rmi", "--name", "rmi2", "--network", "none", "localhost/rmi-me:latest", "true")
		e.BerthFail(1, "image", "exists", "localhost/rmi-me:latest")
		e.BerthFail(1, "container", "exists", "rmi2") // --rmi implies --rm
		e.BerthOK("image", "exists", img)

		// --noout: nothing on stdout
		if r := e.BerthOK("--noout", "run", "-d", "--name", "quiet", "--network", "none", img, "echo", "hi"); r.Stdout != "" {
			t.Fatalf("--noout run -d printed %q", r.Stdout)
		}
		if out := e.BerthOK("wait", "quiet").Out(); out != "0" {
			t.Fatalf("wait printed %q", out)
		}
		if r := e.BerthOK("--noout", "rm", "quiet"); r.Stdout != "" {
			t.Fatalf("--noout rm printed %q", r.Stdout)
		}
	})
}

// While `stop` waits for its timeout, the container is "stopping", other
// commands can act on it, and killing it ends the stop.
func TestStopShowsStopping(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "stubborn", "--network", "none", img,
			"sh", "-c", "trap 'echo ignoring TERM' TERM; echo READY; while :; do sleep 0.2; done")
		waitFor(t, func() bool { return strings.Contains(e.Berth("logs", "stubborn").Stdout, "READY") })
		var out, errb strings.Builder
		stop := e.Start(&out, &errb, "stop", "-t", "30", "stubborn")
		waitFor(t, func() bool { return strings.Contains(e.Berth("logs", "stubborn").Stdout, "ignoring TERM") })
		if got := e.BerthOK("inspect", "--format", "{{.State.Status}}", "stubborn").Out(); got != "stopping" {
			t.Fatalf("status while stop waits: %q, want stopping", got)
		}
		start := time.Now()
		e.BerthOK("kill", "stubborn")
		if out := e.BerthOK("wait", "stubborn").Out(); out != "137" {
			t.Fatalf("wait after kill printed %q, want 137", out)
		}
		if err := stop.Wait(); err != nil {
			t.Fatalf("stop: %v\n%s", err, errb.String())
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Fatalf("stop went on %s after the container was killed", d)
		}
		if got := e.BerthOK("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "stubborn").Out(); got != "exited 137" {
			t.Fatalf("after kill: %q", got)
		}
	})
}
