package e2e

import (
	"encoding/json"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// ccSortedLines is r's stdout as sorted lines.
func ccSortedLines(r *Result) []string {
	l := r.Lines()
	sort.Strings(l)
	return l
}

// ccStdout fails t unless r's trimmed stdout is want.
func ccStdout(t *testing.T, r *Result, want string) {
	t.Helper()
	if got := r.Out(); got != want {
		t.Fatalf("%s: stdout %q, want %q", r.describe(), got, want)
	}
}

// Commands that act on containers print what was typed (a name stays a
// name), the full IDs with --all; they choose containers with --all,
// --latest, --cidfile, --filter and --ignore, as podman's do.
func TestContainerCmdsPrintInput(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := e.BerthOK("run", "-d", "--name", "named", "--network", "none", img, "sleep", "1000").Out()
		ccStdout(t, e.BerthOK("stop", "-t", "0", "named"), "named")
		ccStdout(t, e.BerthOK("start", "named"), "named")
		ccStdout(t, e.BerthOK("restart", "-t", "0", "named"), "named")
		ccStdout(t, e.BerthOK("kill", "named"), "named")
		e.BerthOK("wait", "named")
		ccStdout(t, e.BerthOK("start", id[:12]), id[:12])

		// --all: IDs; start --all leaves running containers alone, kill -a
		// signals only running ones
		other := e.BerthOK("create", "--name", "other", "--network", "none", img, "sleep", "1000").Out()
		ccStdout(t, e.BerthOK("start", "--all"), other)
		if got := ccSortedLines(e.BerthOK("kill", "-a")); !reflect.DeepEqual(got, ccSortedIDs(id, other)) {
			t.Fatalf("kill -a printed %q, want both IDs", got)
		}
		for _, c := range []string{id, other} {
			e.BerthOK("wait", c)
		}
		if got := ccSortedLines(e.BerthOK("stop", "--all")); !reflect.DeepEqual(got, ccSortedIDs(id, other)) {
			t.Fatalf("stop --all printed %q, want both IDs", got)
		}
		if r := e.BerthOK("kill", "-a"); r.Out() != "" {
			t.Fatalf("kill -a with nothing running printed %q", r.Out())
		}

		// --filter (start also filters the containers named)
		e.BerthFail(1, "run", "--name", "fails", "--network", "none", img, "false")
		ccStdout(t, e.BerthOK("start", "--filter", "restart-policy=always", "named"), "")
		ccStdout(t, e.BerthOK("start", "--filter", "restart-policy=none", "named"), "named")
		r := e.BerthFail(125, "start", "--filter", "restart-policy=fakepolicy", "named")
		if !strings.Contains(r.Stderr, "Error: fakepolicy invalid restart policy") {
			t.Fatalf("bad restart-policy filter: %s", r.Stderr)
		}
		e.BerthOK("stop", "-t", "0", "named")
		e.BerthOK("wait", "named", "fails")
		failsID := ccFullID(e, "fails")
		ccStdout(t, e.BerthOK("start", "--all", "--filter", "exited=1"), failsID)
		e.BerthOK("wait", "fails")

		// --cidfile, --latest
		cidfile := e.WriteFile("cid", id+"\n")
		ccStdout(t, e.BerthOK("start", "named"), "named")
		ccStdout(t, e.BerthOK("stop", "-t", "0", "--cidfile", cidfile), id)
		last := e.BerthOK("create", "--name", "last", "--network", "none", img, "sleep", "1000").Out()
		ccStdout(t, e.BerthOK("start", "--latest"), last)
		ccStdout(t, e.BerthOK("stop", "-t", "0", "-l"), last)

		// bad input: podman's messages and exit codes, nothing done
		for _, c := range [][]string{{"stop"}, {"start"}, {"kill"}, {"restart"}, {"pause"}, {"unpause"}} {
			e.BerthFail(125, c...)
		}
		r = e.BerthFail(125, "start", "--all", "named")
		if !strings.Contains(r.Stderr, "Error: either start all containers or the container(s) provided in the arguments") {
			t.Fatalf("start --all NAME: %s", r.Stderr)
		}
		e.BerthFail(125, "stop", "--all", "named")
		e.BerthFail(125, "stop", "--all", "--cidfile", cidfile)
		for _, c := range []string{"stop", "kill", "start", "restart", "pause", "unpause"} {
			r := e.BerthFail(125, c, "nosuchctr")
			if want := `Error: no container with name or ID "nosuchctr" found: no such container`; strings.TrimSpace(r.Stderr) != want {
				t.Fatalf("%s nosuchctr: stderr %q, want %q", c, r.Stderr, want)
			}
		}
		// a missing name fails the command before it acts on the others
		e.BerthOK("start", "named")
		e.BerthFail(125, "stop", "-t", "0", "named", "nosuchctr")
		ccStdout(t, e.BerthOK("inspect", "--format", "{{.State.Status}}", "named"), "running")
		ccStdout(t, e.BerthOK("stop", "-t", "0", "--ignore", "nosuchctr", "named"), "named")
		ccStdout(t, e.BerthOK("stop", "--ignore", "nosuchctr"), "")
		e.BerthFail(125, "stop", "--cidfile", filepath.Join(e.Dir, "no-such-cidfile"))

		if !e.Rootless() { // rootless pause needs a cgroup freezer
			ccStdout(t, e.BerthOK("start", "named"), "named")
			ccStdout(t, e.BerthOK("pause", "named"), "named")
			ccStdout(t, e.BerthOK("unpause", id), id)
			ccStdout(t, e.BerthOK("pause", "-a"), id)
			ccStdout(t, e.BerthOK("unpause", "--all"), id)
		}
	})
}

// ccFullID is the ID of the container named name.
func ccFullID(e *Env, name string) string {
	e.T.Helper()
	return e.BerthOK("ps", "-a", "--no-trunc", "--filter", "name="+name, "--format", "{{.ID}}").Out()
}

func ccSortedIDs(ids ...string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

// diff lists what the container changed, not the mount points and files
// berth provides (/dev, /proc, /sys, /run, /etc/hosts, ...), and what the
// container wrote below them.
func TestDiffOnlyContainerChanges(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "--name", "changer", img, "sh", "-c", "touch /newfile; rm /bin/ls /etc/group; mkdir /run/mine")
		var got map[string][]string
		out := e.BerthOK("diff", "--format", "json", "changer").Stdout
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("diff --format json: %v\n%s", err, out)
		}
		want := map[string][]string{"added": {"/newfile", "/run/mine"}, "changed": {"/bin", "/etc"}, "deleted": {"/bin/ls", "/etc/group"}}
		for _, v := range got {
			sort.Strings(v)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("diff --format json = %v, want %v", got, want)
		}
		lines := ccSortedLines(e.BerthOK("diff", "changer"))
		if w := []string{"A /newfile", "A /run/mine", "C /bin", "C /etc", "D /bin/ls", "D /etc/group"}; !reflect.DeepEqual(lines, w) {
			t.Fatalf("diff = %q, want %q", lines, w)
		}
		if got := ccSortedLines(e.BerthOK("diff", "-l")); !reflect.DeepEqual(got, lines) {
			t.Fatalf("diff -l = %q, want %q", got, lines)
		}
		e.BerthFail(125, "diff", "--format", "table", "changer")
		r := e.BerthFail(125, "diff", "nosuchctr")
		if !strings.Contains(r.Stderr, "Error: nosuchctr not found: layer not known") {
			t.Fatalf("diff nosuchctr: %s", r.Stderr)
		}
		// an image: the changes of its top layer
		if d := e.BerthOK("diff", img).Stdout; !strings.Contains(d, "A /bin/busybox\n") {
			t.Fatalf("diff IMAGE:\n%s", d)
		}
		// a container of another tool sharing the store
		if _, err := exec.LookPath("buildah"); err != nil {
			t.Skip("buildah is not installed")
		}
		bargs := []string{"--root", e.Root, "--runroot", e.RunRoot, "--storage-driver", "overlay"}
		if r := e.Run("buildah", append(bargs, "from", "--name", "bctr", img)...); r.ExitCode != 0 {
			t.Fatalf("buildah from: %s", r.describe())
		}
		if r := e.Run("buildah", append(bargs, "copy", "bctr", e.WriteFile("added.txt", "x\n"), "/added.txt")...); r.ExitCode != 0 {
			t.Fatalf("buildah copy: %s", r.describe())
		}
		ccStdout(t, e.BerthOK("diff", "bctr"), "A /added.txt")
		e.Run("buildah", append(bargs, "rm", "bctr")...)
	})
}

// mount with no arguments lists the mounted containers.
func TestMountList(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := e.BerthOK("create", "--name", "m", img, "true").Out()
		if e.Rootless() {
			r := e.BerthFail(125, "mount")
			if !strings.Contains(r.Stderr, "berth unshare") {
				t.Fatalf("rootless mount: %s", r.Stderr)
			}
			return
		}
		ccStdout(t, e.BerthOK("mount"), "")
		path := e.BerthOK("mount", "m").Out()
		ccStdout(t, e.BerthOK("mount"), id[:12]+"  "+path)
		ccStdout(t, e.BerthOK("mount", "--notruncate"), id+"  "+path)
		var list []struct {
			ID         string `json:"id"`
			Names      []string
			Mountpoint string `json:"mountpoint"`
		}
		out := e.BerthOK("mount", "--format", "json").Stdout
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].ID != id ||
			list[0].Mountpoint != path || !reflect.DeepEqual(list[0].Names, []string{"m"}) {
			t.Fatalf("mount --format json: %v %s", err, out)
		}
		ccStdout(t, e.BerthOK("umount", "m"), "m")
		ccStdout(t, e.BerthOK("mount"), "")
	})
}

// --userns=keep-id gives the user a name in the container; --hostuser adds
// host users; a numeric --user gets an entry, as with podman.
func TestPasswdEntries(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		r := e.BerthOK("run", "--rm", "--network", "none", "--user", "1234", img, "sh", "-c", "id -un; tail -1 /etc/passwd; tail -1 /etc/group")
		if l := r.Lines(); len(l) != 3 || l[0] != "1234" || l[1] != "1234:*:1234:0:container user:/:/bin/sh" || l[2] != "1234:x:1234:1234" {
			t.Fatalf("--user 1234: %q", l)
		}
		ccStdout(t, e.BerthOK("run", "--rm", "--network", "none", "--hostuser", "daemon", img, "grep", "^daemon:", "/etc/passwd"),
			"daemon:*:1:1:daemon:/:/bin/sh")
		e.BerthFail(126, "run", "--rm", "--network", "none", "--hostuser", "bogususer", img, "true")
		// --passwd=false adds nothing; --passwd-entry is the line's template
		r = e.BerthOK("run", "--rm", "--network", "none", "--passwd=false", "--user", "1234", img, "sh", "-c", "grep -c 1234 /etc/passwd /etc/group; true")
		ccStdout(t, r, "/etc/passwd:0\n/etc/group:0")
		r = e.BerthOK("run", "--rm", "--network", "none", "--passwd-entry", "X$USERNAME:$UID:$GID:$NAME:$HOME", "--user", "1234", img, "tail", "-1", "/etc/passwd")
		ccStdout(t, r, "X1234:1234:0:container user:/")
		// read-only: the additions are bind-mounted, the image's file is intact
		e.BerthOK("run", "--name", "ro", "--read-only", "--network", "none", "--user", "4321", img, "grep", "-q", "^4321:", "/etc/passwd")
		if d := e.BerthOK("diff", "ro").Stdout; strings.Contains(d, "/etc/passwd") {
			t.Fatalf("--read-only wrote the image's /etc/passwd:\n%s", d)
		}
		if !e.Rootless() {
			e.BerthFail(125, "run", "--rm", "--userns=keep-id", img, "true")
			return
		}
		u, err := user.Lookup(e.user.Name)
		if err != nil {
			t.Fatal(err)
		}
		r = e.BerthOK("run", "--rm", "--network", "none", "--userns=keep-id", img, "sh", "-c", "id -un; echo $HOME; grep ^"+u.Username+": /etc/passwd")
		if l := r.Lines(); len(l) != 3 || l[0] != u.Username || l[1] != "/" ||
			!strings.HasPrefix(l[2], u.Username+":*:"+u.Uid+":"+u.Gid+":") || !strings.HasSuffix(l[2], ":/:/bin/sh") {
			t.Fatalf("keep-id: %q", l)
		}
		// the user's home directory when it is mounted, else the workdir
		home := filepath.Join(e.Dir, "home")
		e.Run("mkdir", "-p", home)
		r = e.BerthOK("run", "--rm", "--network", "none", "--userns=keep-id", "-w", "/tmp", "-v", home+":"+u.HomeDir, img, "sh", "-c", "echo $HOME; pwd")
		ccStdout(t, r, u.HomeDir+"\n/tmp")
		r = e.BerthOK("run", "--rm", "--network", "none", "--userns=keep-id", "-w", "/tmp", "-v", home+":/elsewhere", img, "sh", "-c", "echo $HOME")
		ccStdout(t, r, "/tmp")
		ccStdout(t, e.BerthOK("run", "--rm", "--network", "none", "--userns=keep-id", "--user", "0", img, "id", "-un"), "root")
		// exec sees the name; --user NAME resolves in the container
		e.BerthOK("run", "-d", "--name", "kid", "--network", "none", "--userns=keep-id", img, "sleep", "1000")
		ccStdout(t, e.BerthOK("exec", "kid", "id", "-un"), u.Username)
		ccStdout(t, e.BerthOK("exec", "--user", u.Username, "kid", "id", "-u"), strconv.Itoa(e.UID()))
		if d := e.BerthOK("diff", "kid").Stdout; !strings.Contains(d, "C /etc/passwd") {
			t.Fatalf("diff of a keep-id container lacks its /etc/passwd (podman writes it):\n%s", d)
		}
		ccStdout(t, e.BerthOK("stop", "-t", "0", "kid"), "kid")
		ccStdout(t, e.BerthOK("start", "kid"), "kid")
		if n := e.BerthOK("exec", "kid", "grep", "-c", "^"+u.Username+":", "/etc/passwd").Out(); n != "1" {
			t.Fatalf("a restart added the user again: %s entries", n)
		}
	})
}

// --unsetenv, --unsetenv-all, run --attach and a missing --workdir, as podman.
func TestRunEnvAndAttachFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		env := e.BerthOK("run", "--rm", "--network", "none", "--unsetenv", "TERM", img, "/bin/busybox", "env").Stdout
		if strings.Contains(env, "TERM=") || !strings.Contains(env, "container=podman") {
			t.Fatalf("--unsetenv TERM:\n%s", env)
		}
		env = e.BerthOK("run", "--rm", "--network", "none", "--unsetenv-all", "-e", "TERM=abc", img, "/bin/busybox", "env").Stdout
		if strings.Contains(env, "PATH=") || strings.Contains(env, "container=") || !strings.Contains(env, "TERM=abc") {
			t.Fatalf("--unsetenv-all -e TERM=abc:\n%s", env)
		}
		r := e.BerthOK("run", "--name", "att", "--network", "none", "--attach", "stdin", img, "echo", "hello")
		ccStdout(t, r, ccFullID(e, "att"))
		r = e.BerthOK("run", "--rm", "--network", "none", "-a", "stderr", img, "sh", "-c", "echo out; echo err >&2")
		if r.Out() != "" || strings.TrimSpace(r.Stderr) != "err" {
			t.Fatalf("-a stderr: stdout %q stderr %q", r.Stdout, r.Stderr)
		}
		e.BerthFail(125, "run", "--rm", "-a", "stdfoo", img, "true")
		// a --workdir the image lacks (and no mount provides): podman's 126
		r = e.BerthFail(126, "run", "--rm", "--network", "none", "--workdir", "/i/do/not/exist", img, "pwd")
		if !strings.Contains(r.Stderr, `workdir "/i/do/not/exist" does not exist on container`) {
			t.Fatalf("missing --workdir: %s", r.Stderr)
		}
		// ... unless a mount below it makes the runtime create it
		content := e.WriteFile("content", "mounted\n")
		ccStdout(t, e.BerthOK("run", "--rm", "--network", "none", "--workdir", "/NotOnTheImage", "-v", content+":/NotOnTheImage/foo", img, "cat", "foo"), "mounted")
	})
}

// wait on a container that never ran returns at once; start of one whose
// command is missing exits 125 (not run's 127); kill's signals as podman's.
func TestWaitStartKillEdges(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "never", img, "/no/such/command")
		ccStdout(t, e.BerthOK("wait", "never"), "0")
		e.BerthFail(125, "start", "never")
		e.BerthOK("wait", "never")
		for sig, msg := range map[string]string{"0": "invalid signal: 0", "-0": "invalid signal: 0", "SIGBADSIG": "invalid signal: SIGBADSIG",
			"65": "valid signals are 1 through 64", "-65": "valid signals are 1 through 64"} {
			r := e.BerthFail(125, "kill", "-s", sig, "nosuchctr")
			if strings.TrimSpace(r.Stderr) != "Error: "+msg {
				t.Fatalf("kill -s %s: %q, want %q", sig, r.Stderr, msg)
			}
		}
		e.BerthOK("run", "-d", "--name", "sig", "--network", "none", img, "sh", "-c", "trap 'exit 3' HUP; echo READY; while :; do sleep 0.1; done")
		waitFor(t, func() bool { return e.Berth("logs", "sig").Out() == "READY" })
		ccStdout(t, e.BerthOK("kill", "-s", "-HUP", "sig"), "sig")
		ccStdout(t, e.BerthOK("wait", "sig"), "3")
	})
}
