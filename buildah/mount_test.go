package buildah

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

func TestCheckRunFlags(t *testing.T) {
	ok := []string{
		"RUN --mount=type=cache,target=/c,id=x,sharing=locked,mode=0700,uid=1,gid=2 true",
		"RUN --mount=type=bind,source=a,target=/a,rw --mount=type=tmpfs,target=/t,size=1m true",
		"RUN --mount=type=secret,id=s,env=S,required true",
		"RUN --network=none --security=sandbox true",
		"RUN --mount=type=cache,target=/c,mode=$MODE true", // checked when it runs
		"RUN <<EOF\ntrue\nEOF",
		"RUN python3 <<EOF\nprint(1)\nEOF",
	}
	for _, line := range ok {
		if _, err := parseDockerfile("Containerfile", []byte("FROM x\n"+line+"\n")); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	for line, want := range map[string]string{
		"RUN --mount=type=ssh true":                       "Containerfile:2: RUN --mount=type=ssh is not supported yet",
		"RUN --security=insecure true":                    "Containerfile:2: RUN --security=insecure is not supported yet",
		"RUN --device=foo true":                           "Containerfile:2: RUN --device is not supported yet",
		"RUN --mount=type=cache,target=/c,sharing=x true": `Containerfile:2: RUN --mount: unsupported sharing value "x"`,
		"RUN --mount=type=tmpfs,target=/t,uid=1 true":     `uid not allowed for "tmpfs" type mounts`,
		"RUN --mount=type=bogus,target=/t true":           `unsupported mount type "bogus"`,
		"RUN --network=bridge true":                       `invalid network mode "bridge"`,
	} {
		_, err := parseDockerfile("Containerfile", []byte("FROM x\n"+line+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", line, err, want)
		}
	}
}

// testStage is a stage of a parsed Containerfile, enough to plan RUN
// steps without a store.
func testStage(t *testing.T, content, contextDir string) (*stage, []*instructions.RunCommand) {
	t.Helper()
	d := parseString(t, content)
	b := &builder{o: &Options{ContextDir: contextDir, Network: "host"}, df: d, ctx: context.Background(), lex: shell.NewLex(d.escape)}
	s := &stage{b: b, st: &d.stages[0], args: newArgList(), shell: defaultShell, cfg: &dockerspec.DockerOCIImage{}}
	var runs []*instructions.RunCommand
	for _, cmd := range d.stages[0].Commands {
		if c, ok := cmd.(*instructions.RunCommand); ok {
			runs = append(runs, c)
		}
	}
	return s, runs
}

func TestRunArgvHeredocs(t *testing.T) {
	s, runs := testStage(t, "FROM x\n"+
		"RUN <<EOF\necho $A\nEOF\n"+
		"RUN <<-EOF\n\techo tab\n\tEOF\n"+
		"RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n"+
		"RUN python3 <<\"EOF\"\nprint($x)\nEOF\n"+
		"RUN cat <<A <<-B > /f\na\nA\n\tb\n\tB\n"+
		"RUN [\"echo\", \"exec form\"]\n", "")
	want := []struct {
		argv   []string
		script string
	}{
		{[]string{"/bin/sh", "-c", "echo $A\n"}, ""},
		{[]string{"/bin/sh", "-c", "echo tab\n"}, ""},
		{[]string{"/bin/sh", "-c", "/dev/pipes/EOF"}, "#!/usr/bin/env python3\nprint(1)\n"},
		{[]string{"/bin/sh", "-c", "python3 <<\"EOF\"\nprint($x)\nEOF"}, ""},
		{[]string{"/bin/sh", "-c", "cat <<A <<-B > /f\na\nA\n\tb\nB"}, ""}, // the shell strips the tabs
		{[]string{"echo", "exec form"}, ""},
	}
	if len(runs) != len(want) {
		t.Fatalf("%d RUN commands", len(runs))
	}
	for i, c := range runs {
		argv, script, err := s.runArgv(c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		got := ""
		if script != nil {
			got = script.data
			if script.name != "EOF" {
				t.Errorf("%s: script named %q", c, script.name)
			}
		}
		if !reflect.DeepEqual(argv, want[i].argv) || got != want[i].script {
			t.Errorf("%s: argv %q script %q, want %q %q", c, argv, got, want[i].argv, want[i].script)
		}
	}
}

func TestRunHistory(t *testing.T) {
	s, runs := testStage(t, "FROM x\nRUN echo  plain\nRUN --network=none   echo flags\nRUN cat <<A <<B\n  a  \nA\nb\nB\n", "")
	v := "1"
	s.args.set("V", &v)
	for i, want := range []string{
		"|1 V=1 /bin/sh -c echo  plain",
		"|1 V=1 /bin/sh -c --network=none   echo flags",
		"|1 V=1 /bin/sh -c cat <<A <<B\na\nb",
	} {
		if got := s.runHistory(runs[i]); got != want {
			t.Errorf("history %q, want %q", got, want)
		}
	}
}

func TestPlanRunKeysAndNetwork(t *testing.T) {
	ctxDir := t.TempDir()
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(ctxDir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("src/a", "a")
	write("src/b.log", "log")
	write(".dockerignore", "**/*.log\n")
	keys := func(content string) (*runPlan, string) {
		t.Helper()
		s, runs := testStage(t, content, ctxDir)
		s.cfg.Config.WorkingDir = "/w"
		p, err := s.planRun(runs[0])
		if err != nil {
			t.Fatal(err)
		}
		return p, strings.Join(p.key, "|")
	}
	const bind = "FROM x\nRUN --network=none --mount=type=bind,source=src,target=s cat s/a\n"
	p, k1 := keys(bind)
	if p.network != "none" || len(p.mounts) != 1 || p.mounts[0].target != "/w/s" || !p.mounts[0].filtered {
		t.Errorf("plan: network %s, mounts %+v", p.network, p.mounts)
	}
	write("src/b.log", "another log")
	if _, k := keys(bind); k != k1 {
		t.Errorf("an ignored file changed the key")
	}
	write("src/a", "changed")
	if _, k := keys(bind); k == k1 {
		t.Errorf("a bound file did not change the key")
	}

	const heredoc = "FROM x\nRUN <<EOF\necho one\nEOF\n"
	_, h1 := keys(heredoc)
	if _, h2 := keys(strings.Replace(heredoc, "one", "two", 1)); h1 == h2 {
		t.Errorf("the here-document is not in the key")
	}
	if p, _ := keys("FROM x\nRUN --network=host true\n"); p.network != "host" {
		t.Errorf("--network=host: %s", p.network)
	}
	if p, _ := keys("FROM x\nRUN --network=default true\n"); p.network != "host" {
		t.Errorf("--network=default: %s, want the build's", p.network)
	}
	_, c1 := keys("FROM x\nRUN --mount=type=cache,target=/c,id=a true\n")
	if _, c2 := keys("FROM x\nRUN --mount=type=cache,target=/c,id=b true\n"); c1 == c2 {
		t.Errorf("the mount options are not in the key")
	}
	s, runs := testStage(t, "FROM x\nRUN --mount=type=bind,source=../../etc,target=/e true\n", ctxDir)
	if _, err := s.planRun(runs[0]); err == nil || !strings.Contains(err.Error(), "no such file or directory in the build context") {
		t.Errorf("a source out of the context: %v", err)
	}
	s, runs = testStage(t, "FROM x\nRUN --mount=type=bind,source=src/b.log,target=/e true\n", ctxDir)
	if _, err := s.planRun(runs[0]); err == nil || !strings.Contains(err.Error(), "excluded by .containerignore/.dockerignore") {
		t.Errorf("an ignored source: %v", err)
	}
	s, runs = testStage(t, "FROM x\nRUN --mount=type=secret,id=tok,required true\n", ctxDir)
	if _, err := s.planRun(runs[0]); err == nil || !strings.Contains(err.Error(), `secret required but no secret with id "tok" found`) {
		t.Errorf("a missing required secret: %v", err)
	}
	s.b.o.Secrets = map[string]Secret{"tok": {Source: "/some/file"}}
	if _, err := s.planRun(runs[0]); err != nil {
		t.Errorf("a given required secret: %v", err)
	}
	s, runs = testStage(t, "FROM x\nRUN --mount=type=tmpfs,target=/ true\n", ctxDir)
	if _, err := s.planRun(runs[0]); err == nil || !strings.Contains(err.Error(), `invalid mount target "/"`) {
		t.Errorf("a mount on /: %v", err)
	}
}

func TestPlanBuildsMountStages(t *testing.T) {
	d := parseString(t, "FROM x AS a\nFROM x AS unused\nFROM x AS b\nFROM x\nRUN --mount=from=a,target=/a --mount=type=cache,target=/c,from=b true\n")
	lex := shell.NewLex(d.escape)
	global, err := d.globalArgs(lex, nil, map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	if _, order, _, err := d.plan("", lex, global); err != nil || !reflect.DeepEqual(order, []int{0, 2, 3}) {
		t.Errorf("plan = %v %v, want [0 2 3]", order, err)
	}
}

func TestParseSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s")
	if err := os.WriteFile(file, []byte("v"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BERTH_TEST_SECRET", "e")
	got, err := ParseSecrets([]string{
		"id=f,src=" + file,
		"id=e,env=BERTH_TEST_SECRET",
		"id=BERTH_TEST_SECRET", // an environment variable of that name is set
		"id=t,type=file,source=" + file + ",unknown=1",
		"id=x,type=env,src=NOT_SET_ANYWHERE",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Secret{
		"f": {Source: file}, "e": {Source: "BERTH_TEST_SECRET", Env: true},
		"BERTH_TEST_SECRET": {Source: "BERTH_TEST_SECRET", Env: true}, "t": {Source: file},
		"x": {Source: "NOT_SET_ANYWHERE", Env: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSecrets = %+v, want %+v", got, want)
	}
	if data, ok, err := got["f"].read(); string(data) != "v" || !ok || err != nil {
		t.Errorf("read file secret: %q %v %v", data, ok, err)
	}
	if _, ok, _ := got["x"].read(); ok {
		t.Errorf("a secret from an unset variable is given")
	}
	for spec, want := range map[string]string{
		"src=" + file:             "incorrect secret flag format: should be --secret id=foo,src=bar[,env=ENV,type=file|env]",
		"id=":                     "incorrect secret flag format",
		"id=a,type=ssh":           "invalid secret type, must be file or env",
		"id=a,src=/nonexistent/x": "could not parse secrets: stat /nonexistent/x: no such file or directory",
		"id=a,src=" + dir:         "is not a regular file",
	} {
		if _, err := ParseSecrets([]string{spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", spec, err, want)
		}
	}
}

func TestSecretID(t *testing.T) {
	for _, c := range []struct {
		m    instructions.Mount
		want string
	}{
		{instructions.Mount{CacheID: "a", Target: "/x/y"}, "a"},
		{instructions.Mount{Source: "b", Target: "/x/y"}, "b"},
		{instructions.Mount{Target: "/x/y"}, "y"},
	} {
		if got := secretID(&c.m); got != c.want {
			t.Errorf("secretID(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestLockCache(t *testing.T) {
	base := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s := &stage{b: &builder{ctx: ctx}}
	lock := func(sharing instructions.ShareMode) (string, func(), error) {
		return s.lockCache(base, sharing)
	}
	d1, un1, err := lock(instructions.MountSharingShared)
	if err != nil {
		t.Fatal(err)
	}
	d2, un2, err := lock(instructions.MountSharingShared)
	if err != nil || d1 != d2 {
		t.Fatalf("two shared users: %s %s %v", d1, d2, err)
	}
	// private: another instance while this one is in use
	d3, un3, err := lock(instructions.MountSharingPrivate)
	if err != nil || d3 != filepath.Join(base, "data-1") {
		t.Fatalf("private while shared: %s %v", d3, err)
	}
	un3()
	// locked waits for the shared users
	cancel()
	if _, _, err := lock(instructions.MountSharingLocked); !errors.Is(err, errCancelled) {
		t.Fatalf("locked while shared: %v, want to wait (cancelled)", err)
	}
	un1()
	un2()
	s.b.ctx = context.Background()
	d4, un4, err := lock(instructions.MountSharingLocked)
	if err != nil || d4 != d1 {
		t.Fatalf("locked when free: %s %v", d4, err)
	}
	un4()
}

func TestCloneTree(t *testing.T) {
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "d/skip"), 0o750))
	must(os.WriteFile(filepath.Join(src, "d/f"), []byte("f"), 0o640))
	must(os.WriteFile(filepath.Join(src, "d/skip/x"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(src, "d/a.log"), []byte("l"), 0o644))
	must(os.Symlink("f", filepath.Join(src, "d/link")))
	must(os.WriteFile(filepath.Join(src, ".dockerignore"), []byte("d/skip\n*/*.log\n"), 0o644))
	ig, err := loadIgnore(src, "")
	must(err)
	item, err := contextSource(src, "d", ig)
	must(err)
	if ex, err := hasExcluded(*item, ig); err != nil || !ex {
		t.Errorf("hasExcluded = %v %v", ex, err)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	must(cloneTree(*item, ig, dst, false))
	var names []string
	must(filepath.Walk(dst, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(dst, p)
		names = append(names, rel+" "+info.Mode().String())
		return err
	}))
	want := []string{". drwxr-x---", "f -rw-r-----", "link Lrwxrwxrwx"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("copy = %v, want %v", names, want)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "link")); l != "f" {
		t.Errorf("link = %q", l)
	}
}

// TestCloneTreeOwners: a clone keeps each file's owner and mode (the
// setuid bit survives the chown, a fifo escapes the umask); a directory
// made for re-included files is berth's, mode 0755.
func TestCloneTreeOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "d/skip/keep"), 0o700))
	must(os.WriteFile(filepath.Join(src, "d/suid"), nil, 0o755))
	must(os.Chown(filepath.Join(src, "d/suid"), 1000, 1001))
	must(os.Chmod(filepath.Join(src, "d/suid"), 0o755|os.ModeSetuid))
	must(unix.Mkfifo(filepath.Join(src, "d/fifo"), 0o666))
	must(os.Chmod(filepath.Join(src, "d/fifo"), 0o666))
	must(os.Chown(filepath.Join(src, "d/fifo"), 5, 6))
	must(os.WriteFile(filepath.Join(src, ".dockerignore"), []byte("d/skip\n!d/skip/keep\n"), 0o644))
	ig, err := loadIgnore(src, "")
	must(err)
	item, err := contextSource(src, "d", ig)
	must(err)
	dst := filepath.Join(t.TempDir(), "copy")
	must(cloneTree(*item, ig, dst, false))
	for name, want := range map[string]string{
		"suid":      "104755 1000:1001",
		"fifo":      "10666 5:6",
		"skip":      "40755 0:0",
		"skip/keep": "40700 0:0",
	} {
		var st syscall.Stat_t
		must(syscall.Lstat(filepath.Join(dst, name), &st))
		if got := fmt.Sprintf("%o %d:%d", st.Mode, st.Uid, st.Gid); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestMountTarget(t *testing.T) {
	s := &stage{cfg: &dockerspec.DockerOCIImage{}}
	if got := s.mountTarget("c"); got != "/c" {
		t.Errorf("relative target without WORKDIR: %s", got)
	}
	s.cfg.Config.WorkingDir = "/w"
	for in, want := range map[string]string{"c": "/w/c", "/a/../b/": "/b", "../x": "/x"} {
		if got := s.mountTarget(in); got != want {
			t.Errorf("mountTarget(%q) = %q, want %q", in, got, want)
		}
	}
}
