package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildPullNeverAndCommitName: buildah's --pull-never uses the local
// base image and refuses a missing one with podman's message (no step
// named); the COMMIT line shows the tag as typed; RUN does not read
// build's standard input.
func TestBuildPullNeverAndCommitName(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		dir := e.buildContext("ctx-pull-never", "FROM {{BASE}}\nRUN echo ran-here; cat\n", nil)

		// standard input is left to whoever comes after build
		rd, wr, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		if _, err := wr.WriteString("left for the next command\n"); err != nil {
			t.Fatal(err)
		}
		_ = wr.Close()
		r := e.BerthIn(rd, "build", "--pull-never", "-t", "e2e-commit", dir)
		if r.ExitCode != 0 {
			t.Fatalf("build --pull-never with a local base:\n%s", r.describe())
		}
		if !strings.Contains(r.Stdout, "ran-here\n") || !strings.Contains(r.Stdout, "\nCOMMIT e2e-commit\n") ||
			!strings.Contains(r.Stdout, "\nSuccessfully tagged localhost/e2e-commit:latest\n") {
			t.Errorf("build output is not podman's (COMMIT shows the tag as typed):\n%s", r.Stdout)
		}
		rest := make([]byte, 100)
		if n, _ := rd.Read(rest); string(rest[:n]) != "left for the next command\n" {
			t.Errorf("build consumed its standard input: %q left", rest[:n])
		}

		missing := e.buildContext("ctx-pull-never-missing", "FROM localhost/e2e/nosuchimage:nosuchtag\nRUN echo no\n", nil)
		f := e.BerthFail(125, "build", "-t", "e2e-missing", "--pull-never", missing)
		if !strings.Contains(f.Stderr, "Error: creating build container: localhost/e2e/nosuchimage:nosuchtag: image not known") {
			t.Errorf("--pull-never with a missing base: want podman's message:\n%s", f.Stderr)
		}
		if e.Berth("image", "exists", "e2e-missing").ExitCode == 0 {
			t.Errorf("a failed build made an image")
		}
		c := e.BerthFail(125, "build", "--pull-never", "--pull=always", dir)
		if !strings.Contains(c.Stderr, "can only set one of 'pull' or 'pull-always' or 'pull-never'") {
			t.Errorf("--pull-never with --pull: %s", c.Stderr)
		}
	})
}

// TestBuildLogfile: --logfile receives everything build prints (steps,
// RUN's output on both streams, the image ID), truncated each time, mode
// 0600; the terminal gets nothing but the final error.
func TestBuildLogfile(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		dir := e.buildContext("ctx-logfile", "FROM {{BASE}}\nRUN echo to-stdout; echo to-stderr >&2\n", nil)
		logfile := filepath.Join(e.Dir, "build.log")
		r := e.BerthOK("build", "--format=docker", "-t", "e2e-logfile", "--logfile", logfile, dir)
		if r.Stdout != "" || r.Stderr != "" {
			t.Errorf("build --logfile printed on the terminal:\n%s", r.describe())
		}
		data, err := os.ReadFile(logfile)
		if err != nil {
			t.Fatal(err)
		}
		log := string(data)
		for _, want := range []string{"STEP 1/2: FROM " + buildBase, "to-stdout\n", "to-stderr\n", "COMMIT e2e-logfile\n"} {
			if !strings.Contains(log, want) {
				t.Errorf("the log file lacks %q:\n%s", want, log)
			}
		}
		id := e.BerthOK("image", "inspect", "--format", "{{.Id}}", "e2e-logfile").Out()
		if got := lastLine(log); got != id {
			t.Errorf("the log file ends with %q, want the image ID %s", got, id)
		}
		if st, err := os.Stat(logfile); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("log file mode: %v %v", st.Mode(), err)
		}

		// a failure: the log has the step, stderr podman's Error line
		bad := e.buildContext("ctx-logfile-bad", "FROM {{BASE}}\nRUN echo failing-step; exit 3\n", nil)
		f := e.BerthFail(3, "build", "--logfile", logfile, bad)
		if !strings.Contains(f.Stderr, `Error: building at STEP "RUN echo failing-step; exit 3"`) || f.Stdout != "" {
			t.Errorf("a failed build with --logfile:\n%s", f.describe())
		}
		data, _ = os.ReadFile(logfile)
		if !strings.Contains(string(data), "failing-step\n") {
			t.Errorf("the log of the failed build:\n%s", data)
		}
		if strings.Contains(string(data), "COMMIT e2e-logfile") {
			t.Errorf("the log file was not truncated:\n%s", data)
		}
	})
}

// TestBuildRunSecurityFlags: --ulimit and --security-opt apply to the
// containers of RUN steps (podman's check_seccomp_ulimits).
func TestBuildRunSecurityFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		dir := e.buildContext("ctx-security", `FROM {{BASE}}
RUN grep Seccomp: /proc/self/status | awk '{ print "seccomp=" $2 }'
RUN grep "Max open files" /proc/self/limits | awk '{ print "nofile=" $4 ":" $5 }'
`, nil)
		r := e.BerthOK("build", "--no-cache", "--ulimit", "nofile=101:102", dir)
		if !strings.Contains(r.Stdout, "seccomp=2\n") || !strings.Contains(r.Stdout, "nofile=101:102\n") {
			t.Errorf("--ulimit nofile=101:102 with the default seccomp profile:\n%s", r.Stdout)
		}
		r = e.BerthOK("build", "--no-cache", "--security-opt", "seccomp=unconfined", dir)
		if !strings.Contains(r.Stdout, "seccomp=0\n") {
			t.Errorf("--security-opt seccomp=unconfined:\n%s", r.Stdout)
		}
		if strings.Contains(r.Stdout, "nofile=101:102") {
			t.Errorf("a limit of an earlier build stayed:\n%s", r.Stdout)
		}
		before := len(e.BerthOK("images", "-a", "-q").Lines())
		for _, args := range [][]string{{"--ulimit", "nofile=abc"}, {"--ulimit", "nosuch=1"}, {"--security-opt", "bogus"}} {
			f := e.Berth(append(append([]string{"build"}, args...), dir)...)
			if f.ExitCode != 125 || !strings.Contains(f.Stderr, "invalid --") || strings.Contains(f.Stdout, "STEP") {
				t.Errorf("build %v: want exit 125 before any step:\n%s", args, f.describe())
			}
		}
		if after := len(e.BerthOK("images", "-a", "-q").Lines()); after != before {
			t.Errorf("refused builds made images: %d before, %d after", before, after)
		}
	})
}

// TestBuildAuthfileMissing: an --authfile that does not exist is refused
// before anything is built, with podman's message.
func TestBuildAuthfileMissing(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		dir := e.buildContext("ctx-authfile", "FROM scratch\nLABEL a=b\n", nil)
		bogus := filepath.Join(e.Dir, "no-such-auth.json")
		f := e.BerthFail(125, "build", "--authfile", bogus, dir)
		want := "Error: checking authfile: stat " + bogus + ": no such file or directory"
		if !strings.Contains(f.Stderr, want) || strings.Contains(f.Stdout, "STEP") {
			t.Errorf("want %q and no step:\n%s", want, f.describe())
		}
		if e.BerthOK("images", "-a", "-q").Out() != "" {
			t.Errorf("a refused build made an image")
		}
		// an existing file is fine; as podman, only the flag is checked
		// (a build that pulls nothing does not need $REGISTRY_AUTH_FILE)
		e.WriteFile("auth.json", "{}\n")
		e.BerthOK("build", "--authfile", filepath.Join(e.Dir, "auth.json"), dir)
		e.SetEnv("REGISTRY_AUTH_FILE", bogus)
		e.BerthOK("build", dir)
	})
}

// TestBuildCopyHardlinks: files hard-linked in the context stay one file
// in the image (podman's "COPY hardlinks"), through a committed layer.
func TestBuildCopyHardlinks(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		dir := e.buildContext("ctx-hardlinks", "FROM {{BASE}}\nCOPY . /test\n", map[string]string{
			"sub/subsub/other": "x\n", "alone": "not linked\n",
		})
		for _, l := range []string{"hardlink1", "sub/hardlink2", "sub/subsub/hardlink3"} {
			if err := os.Link(filepath.Join(dir, "Containerfile"), filepath.Join(dir, l)); err != nil {
				t.Fatal(err)
			}
		}
		e.BerthOK("build", "-t", "e2e-hardlinks", dir)
		got := e.runIn("e2e-hardlinks", "cd /test && stat -c '%i %h' Containerfile hardlink1 sub/hardlink2 sub/subsub/hardlink3 alone")
		lines := strings.Split(got, "\n")
		if len(lines) != 5 {
			t.Fatalf("stat in the image: %q", got)
		}
		for _, l := range lines[1:4] {
			if l != lines[0] || !strings.HasSuffix(l, " 4") {
				t.Errorf("hard links in the image: %q, want one inode with 4 links", got)
				break
			}
		}
		if strings.Fields(lines[4])[0] == strings.Fields(lines[0])[0] || !strings.HasSuffix(lines[4], " 1") {
			t.Errorf("a file not linked in the context is linked in the image: %q", got)
		}
		if c := e.runIn("e2e-hardlinks", "cat /test/sub/subsub/hardlink3"); c != "FROM "+buildBase+"\nCOPY . /test" {
			t.Errorf("content of a linked copy: %q", c)
		}
	})
}

// TestBuildIgnoreAllFindsContainerfile: a .dockerignore of "*" does not
// hide the context's Containerfile or Dockerfile; with neither, podman's
// message (the Dockerfile's stat error).
func TestBuildIgnoreAllFindsContainerfile(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		dir := e.buildContext("ctx-ignore-all", "FROM scratch\nLABEL from=containerfile\n", map[string]string{".dockerignore": "*\n"})
		e.BerthOK("build", "-t", "e2e-ignore-all", dir)
		if err := os.Rename(filepath.Join(dir, "Containerfile"), filepath.Join(dir, "Dockerfile")); err != nil {
			t.Fatal(err)
		}
		e.BerthOK("build", "-t", "e2e-ignore-all", dir)
		if err := os.Rename(filepath.Join(dir, "Dockerfile"), filepath.Join(dir, "foofile")); err != nil {
			t.Fatal(err)
		}
		f := e.BerthFail(125, "build", "-t", "e2e-ignore-all", dir)
		if want := "Error: stat " + filepath.Join(dir, "Dockerfile") + ": no such file or directory\n"; f.Stderr != want {
			t.Errorf("no Containerfile: stderr %q, want %q", f.Stderr, want)
		}
		e.BerthOK("build", "-t", "e2e-ignore-all", "-f", filepath.Join(dir, "foofile"), dir)
		if got := e.BerthOK("image", "inspect", "--format", "{{.Labels.from}}", "e2e-ignore-all").Out(); got != "containerfile" {
			t.Errorf("label of the image built with -f: %q", got)
		}
	})
}

// TestBuildCompressionFlags: -D/--disable-compression (podman's default,
// true) builds as without it; --disable-compression=false, which gives
// podman's new layers gzip media types, is refused before anything is
// built; --compress is podman's legacy no-op.
func TestBuildCompressionFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		dir := e.buildContext("ctx-compression", "FROM {{BASE}}\nRUN echo layer > /layer\n", nil)
		for _, flags := range [][]string{{"-D"}, {"--disable-compression=true"}, {"--compress"}} {
			e.BerthOK(append(append([]string{"build", "-q"}, flags...), "-t", "e2e-compress", dir)...)
			if out := e.BerthOK("run", "--rm", "e2e-compress", "cat", "/layer").Out(); out != "layer" {
				t.Errorf("build %v: the image's layer holds %q", flags, out)
			}
			e.BerthOK("rmi", "e2e-compress")
		}
		for _, flag := range []string{"--disable-compression=false", "-D=false"} {
			r := e.BerthFail(125, "build", flag, "-t", "e2e-gzip", dir)
			if !strings.Contains(r.Stderr, "Error: build --disable-compression=false is not supported") {
				t.Errorf("build %s: %s", flag, r.Stderr)
			}
			if e.Berth("image", "exists", "e2e-gzip").ExitCode == 0 {
				t.Errorf("build %s made an image", flag)
			}
		}
	})
}
