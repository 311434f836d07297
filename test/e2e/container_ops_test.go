package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestExec(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "box", "--network", "host", img, "sleep", "1000")
		if out := e.BerthOK("exec", "box", "echo", "hi").Out(); out != "hi" {
			t.Fatalf("exec output %q", out)
		}
		e.BerthFail(4, "exec", "box", "sh", "-c", "exit 4")
		e.BerthFail(127, "exec", "box", "/no/such")
		e.BerthFail(126, "exec", "box", "/etc/passwd")
		if out := e.BerthOK("exec", "-e", "FOO=bar", "-w", "/tmp", "box", "sh", "-c", "echo $FOO $PWD").Out(); out != "bar /tmp" {
			t.Fatalf("exec -e -w: %q", out)
		}
		if out := e.BerthIn(strings.NewReader("piped\n"), "exec", "-i", "box", "cat").Out(); out != "piped" {
			t.Fatalf("exec -i: %q", out)
		}
		if out := e.BerthOK("exec", "-u", "1000:1000", "box", "id", "-u").Out(); out != "1000" {
			t.Fatalf("exec -u: %q", out)
		}
		if out := e.BerthOK("exec", "box", "grep", "CapEff", "/proc/self/status").Out(); strings.HasSuffix(out, "000001ffffffffff") {
			t.Fatalf("plain exec has all capabilities: %q", out)
		}
		e.BerthOK("exec", "-d", "box", "sh", "-c", "echo detached > /tmp/d")
		waitFor(t, func() bool { return e.Berth("exec", "box", "cat", "/tmp/d").Out() == "detached" })
		e.BerthOK("stop", "-t", "0", "box")
		e.BerthFail(125, "exec", "box", "true")
	})
}

func TestCpCommitExportDiff(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "box", "--network", "host", img, "sleep", "1000")
		src := e.WriteFile("in.txt", "into the container\n")
		e.BerthOK("cp", src, "box:/tmp/")
		if out := e.BerthOK("exec", "box", "cat", "/tmp/in.txt").Out(); out != "into the container" {
			t.Fatalf("cp into container: %q", out)
		}
		e.BerthOK("exec", "box", "sh", "-c", "mkdir /out && echo out > /out/f")
		dst := filepath.Join(e.Dir, "copied")
		e.BerthOK("cp", "box:/out", dst)
		if b, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || string(b) != "out\n" {
			t.Fatalf("cp out of container: %q %v", b, err)
		}
		tarOut := e.BerthOK("cp", "box:/out/f", "-")
		if !strings.Contains(tarOut.Stdout, "out\n") {
			t.Fatalf("cp to stdout is not a tar with the file")
		}
		e.BerthFail(125, "cp", "box:/no/such/file", dst)
		// a symlink must not lead cp out of the container
		e.BerthOK("exec", "box", "ln", "-s", "/", "/escape")
		e.BerthOK("cp", src, "box:/escape/tmp/via-link.txt")
		if _, err := os.Stat("/tmp/via-link.txt"); err == nil {
			t.Fatal("cp followed a symlink out of the container onto the host")
		}

		changes := e.BerthOK("diff", "box").Stdout
		for _, want := range []string{"A /out", "A /tmp/in.txt"} {
			if !strings.Contains(changes, want) {
				t.Fatalf("diff lacks %q:\n%s", want, changes)
			}
		}
		export := e.BerthOK("export", "box")
		if !bytes.Contains([]byte(export.Stdout), []byte("into the container")) {
			t.Fatal("export does not contain the copied file")
		}

		id := e.BerthOK("commit", "-q", "-c", `CMD ["cat","/out/f"]`, "-m", "from e2e", "box", "committed").Out()
		if len(id) != 64 {
			t.Fatalf("commit printed %q", id)
		}
		if out := e.BerthOK("run", "--rm", "--network", "host", "committed").Out(); out != "out" {
			t.Fatalf("run of the committed image: %q", out)
		}
		var hist []map[string]any
		if err := json.Unmarshal([]byte(e.BerthOK("history", "--format", "json", "committed").Stdout), &hist); err != nil || len(hist) < 2 {
			t.Fatalf("history of committed image: %v %v", hist, err)
		}
		if !strings.Contains(e.BerthOK("history", "committed").Stdout, "from e2e") {
			t.Fatal("commit message missing from history")
		}
		// pushed and pulled back while it is still here: the same image
		ref := sharedRegistry(t, false).Ref("committed-" + map[bool]string{true: "rootless", false: "root"}[e.Rootless()])
		e.BerthOK("push", "--tls-verify=false", "committed", ref)
		if got := lastLine(e.BerthOK("pull", "--tls-verify=false", ref).Stdout); got != id {
			t.Errorf("pulling the pushed commit gave %s, want %s", got, id)
		}
	})
}

func TestRenamePortInspectPrune(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "old", "-p", "127.0.0.1:18089:80", img, "true")
		e.BerthOK("rename", "old", "new")
		e.BerthFail(125, "rename", "new", "bad name")
		if out := e.BerthOK("port", "new").Out(); out != "80/tcp -> 127.0.0.1:18089" {
			t.Fatalf("port: %q", out)
		}
		if out := e.BerthOK("inspect", "--format", "{{.Name}} {{.State.Status}} {{.Config.Cmd}}", "new").Out(); out != "new created [true]" {
			t.Fatalf("inspect: %q", out)
		}
		var data []map[string]any
		if err := json.Unmarshal([]byte(e.BerthOK("container", "inspect", "new").Stdout), &data); err != nil || len(data) != 1 || data[0]["Name"] != "new" {
			t.Fatalf("inspect json: %v %v", data, err)
		}
		e.BerthOK("run", "--name", "done", "--network", "host", img, "true")
		e.BerthOK("run", "-d", "--name", "up", "--network", "host", img, "sleep", "1000")
		if out := e.BerthOK("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}").Out(); out != "done" {
			t.Fatalf("ps --filter status=exited: %q", out)
		}
		e.BerthOK("run", "--name", "writer", "--network", "host", img, "sh", "-c", "dd if=/dev/zero of=/big bs=1k count=300")
		if size := e.BerthOK("ps", "-a", "-s", "--filter", "name=writer", "--format", "{{.Size}}").Out(); !strings.HasPrefix(size, "30") || !strings.Contains(size, "kB (virtual 2.") {
			t.Fatalf("ps -s: %q, want about 307kB written over a 2.x MB image", size)
		}
		e.BerthOK("container", "prune", "-f")
		if out := e.BerthOK("ps", "-a", "--format", "{{.Names}}").Out(); out != "up" {
			t.Fatalf("after prune: %q", out)
		}
	})
}

func TestLogsFollowAndTail(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "talker", "--network", "host", img, "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done")
		follow := e.BerthOK("logs", "-f", "talker")
		if follow.Out() != "line1\nline2\nline3\nline4\nline5" {
			t.Fatalf("logs -f: %q", follow.Stdout)
		}
		if tail := e.BerthOK("logs", "--tail", "2", "talker").Out(); tail != "line4\nline5" {
			t.Fatalf("logs --tail 2: %q", tail)
		}
		e.BerthFail(125, "logs", "--tail", "x", "talker")
	})
}

func TestUnshareAndMount(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "m", img, "true")
		if e.Rootless() {
			e.BerthFail(125, "mount", "m")
			maps := e.BerthOK("unshare", "cat", "/proc/self/uid_map").Stdout
			if len(strings.Split(strings.TrimSpace(maps), "\n")) < 2 {
				t.Fatalf("unshare: uid_map without the subuid range:\n%s", maps)
			}
			out := e.BerthOK("unshare", "sh", "-c", berthBinary+" --root "+e.Root+" --runroot "+e.RunRoot+" mount m").Out()
			if !strings.HasSuffix(out, "/merged") {
				t.Fatalf("mount inside unshare: %q", out)
			}
		} else {
			e.BerthFail(125, "unshare", "true")
			dir := e.BerthOK("mount", "m").Out()
			if _, err := os.Stat(filepath.Join(dir, "bin", "busybox")); err != nil {
				t.Fatalf("mounted rootfs: %v", err)
			}
		}
		e.BerthOK("unmount", "m")
	})
}

func TestInitThenStart(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "i1", img, "sh", "-c", "echo started-after-init")
		e.BerthOK("init", "i1")
		if st := e.BerthOK("ps", "-a", "--format", "{{.State}} {{.Pid}}").Out(); !strings.HasPrefix(st, "Created ") || st == "Created 0" {
			t.Fatalf("after init: %q, want created with a pid", st)
		}
		e.BerthFail(125, "init", "i1")
		if out := e.BerthOK("start", "-a", "i1").Out(); out != "started-after-init" {
			t.Fatalf("start -a after init: %q", out)
		}
		if st := e.BerthOK("ps", "-a", "--format", "{{.State}} {{.ExitCode}}").Out(); !strings.HasPrefix(st, "Exited (0) ") || !strings.HasSuffix(st, " ago 0") {
			t.Fatalf("after start: %q", st)
		}
		// an initialized container that is removed leaves nothing behind
		e.BerthOK("create", "--name", "i2", img, "sleep", "1000")
		e.BerthOK("init", "i2")
		e.BerthOK("rm", "i2")
		if rootfsMounted(e) {
			t.Fatal("rm of an initialized container left its rootfs mounted")
		}
	})
}

func TestRunPullPolicies(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		containerEnv(t, e)
		publisher := newEnv(t, e.Mode) // another store pushes new versions
		publisher.BusyboxImage("localhost/busybox:latest")
		conf := e.WriteFile("registries.conf", "[[registry]]\nlocation = \""+reg.Addr+"\"\ninsecure = true\n")
		pubConf := publisher.WriteFile("registries.conf", "[[registry]]\nlocation = \""+reg.Addr+"\"\ninsecure = true\n")
		ref := reg.Ref("e2e/pullpolicy")
		publish := func(version string) {
			p := func(args ...string) *Result {
				return publisher.BerthOK(append([]string{"--registries-conf", pubConf}, args...)...)
			}
			p("run", "--name", "mk-"+version, "--network", "host", "localhost/busybox:latest", "sh", "-c", "echo "+version+" > /version")
			p("commit", "-q", "-c", `CMD ["cat","/version"]`, "mk-"+version, ref)
			p("push", ref)
			p("rm", "mk-"+version)
		}
		run := func(args ...string) string {
			return e.BerthOK(append([]string{"--registries-conf", conf, "run", "--rm", "--network", "host"}, args...)...).Out()
		}
		publish("v1")
		if out := run(ref); out != "v1" {
			t.Fatalf("first run (pulls): %q", out)
		}
		publish("v2")
		if out := run("--pull", "missing", ref); out != "v1" {
			t.Fatalf("--pull missing with a local copy: %q, want the local v1", out)
		}
		if out := run("--pull", "newer", ref); out != "v2" {
			t.Fatalf("--pull newer: %q, want v2 from the registry", out)
		}
		if out := run("--pull", "never", ref); out != "v2" {
			t.Fatalf("--pull never: %q", out)
		}
		e.BerthFail(125, "run", "--rm", "--pull", "never", "localhost/not-here", "true")
		publish("v3")
		if out := run("--pull", "always", ref); out != "v3" {
			t.Fatalf("--pull always: %q", out)
		}
	})
}

func TestPauseUnpause(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "p", "--network", "host", img, "sh", "-c", "while true; do date +%s%N > /tmp/t; sleep 0.05; done")
		if e.Rootless() {
			r := e.BerthFail(125, "pause", "p")
			if !strings.Contains(r.Stderr, "cgroup") {
				t.Fatalf("rootless pause: want a message about cgroups:\n%s", r.describe())
			}
			return
		}
		e.BerthOK("pause", "p")
		if st := e.BerthOK("ps", "--format", "{{.Status}}").Out(); st != "Paused" {
			t.Fatalf("after pause: %q", st)
		}
		e.BerthFail(125, "pause", "p")
		e.BerthOK("unpause", "p")
		if st := e.BerthOK("ps", "--format", "{{.State}}").Out(); !strings.HasPrefix(st, "Up ") {
			t.Fatalf("after unpause: %q", st)
		}
		first := e.BerthOK("exec", "p", "cat", "/tmp/t").Out()
		waitFor(t, func() bool { return e.BerthOK("exec", "p", "cat", "/tmp/t").Out() != first })
	})
}

func TestAttachAndDetach(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is needed for a terminal")
	}
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-dit", "--name", "sh", "--network", "host", img, "sh")
		berth := berthBinary + " --root " + e.Root + " --runroot " + e.RunRoot
		// type a command, then ctrl-p ctrl-q: the session ends, the container runs on
		r := e.Run("sh", "-c", `(sleep 0.5; printf 'echo attached-$((40+2))\n'; sleep 0.5; printf '\020\021') | script -qec "`+berth+` attach sh" /dev/null`)
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "attached-42") {
			t.Fatalf("attach: exit %d, output %q", r.ExitCode, r.Stdout)
		}
		if st := e.BerthOK("ps", "--format", "{{.State}}").Out(); !strings.HasPrefix(st, "Up ") {
			t.Fatalf("after detaching: %q, want running", st)
		}
		// --no-stdin only shows output
		e.BerthOK("exec", "sh", "sh", "-c", "echo from-exec > /proc/1/fd/1")
		if !strings.Contains(e.BerthOK("logs", "sh").Stdout, "from-exec") {
			t.Fatal("output written to the container's stdout is not in its log")
		}
	})
}
