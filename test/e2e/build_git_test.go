package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepo makes a repository with two commits on main (tag v1 on the
// first) and serves it over git's plain ("dumb") http protocol on
// 127.0.0.1. It returns the repository's URL and the first commit.
func gitRepo(t *testing.T) (url, first string) {
	t.Helper()
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@example.com"}, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	write("Containerfile", "FROM "+buildBase+"\nCOPY version.txt /version.txt\n")
	write("version.txt", "one\n")
	write("sub/Containerfile", "FROM "+buildBase+"\nCOPY app.txt /app.txt\n")
	write("sub/app.txt", "app from sub\n")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	git("tag", "v1")
	first = git("rev-parse", "HEAD")
	write("version.txt", "two\n")
	git("commit", "-q", "-am", "two")
	bare := filepath.Join(dir, "repo.git")
	git("clone", "-q", "--bare", work, bare)
	cmd := exec.Command("git", "update-server-info")
	cmd.Dir = bare
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git update-server-info: %v\n%s", err, out)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git", first
}

// TestBuildFromGit: a git repository as the build context (#ref and
// #ref:subdir), as a --build-context, and as an ADD source (cached by
// commit, .git kept only with --keep-git-dir, --checksum checked).
func TestBuildFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed (make deps installs it): %v", err)
	}
	repo, first := gitRepo(t)
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		e.BerthOK("build", "-q", "-t", "git-head", repo)
		e.BerthOK("build", "-q", "-t", "git-v1", repo+"#v1")
		e.BerthOK("build", "-q", "-t", "git-sub", repo+"#main:sub")
		for img, want := range map[string]string{"git-head": "two", "git-v1": "one"} {
			if got := e.runIn(img, "cat /version.txt"); got != want {
				t.Errorf("%s: version.txt = %q, want %q", img, got, want)
			}
		}
		if got := e.runIn("git-sub", "cat /app.txt"); got != "app from sub" {
			t.Errorf("context #main:sub: app.txt = %q", got)
		}

		dir := e.buildContext("ctx-add-git", `FROM {{BASE}}
ARG REPO
ADD $REPO#v1 /src/
ADD --keep-git-dir=true $REPO /kept
COPY --from=sub app.txt /from-named.txt
`, nil)
		build := func() *Result {
			return e.BerthOK("build", "--build-arg", "REPO="+repo, "--build-context", "sub="+repo+"#main:sub", "-t", "add-git", dir)
		}
		build()
		got := e.runIn("add-git", "cat /src/version.txt /src/sub/app.txt /from-named.txt; ls -a /src | grep -c '^.git$'; ls -d /kept/.git")
		if want := "one\napp from sub\napp from sub\n0\n/kept/.git"; got != want {
			t.Errorf("ADD from git: %q, want %q", got, want)
		}
		if r := build(); countCached(r.Stdout) != 4 {
			t.Errorf("a rebuild at the same commits was not taken from the cache:\n%s", r.Stdout)
		}

		sum := e.buildContext("ctx-add-git-sum", "FROM {{BASE}}\nARG REPO\nARG SUM\nADD --checksum=$SUM $REPO#v1 /src/\n", nil)
		e.BerthOK("build", "-q", "--build-arg", "REPO="+repo, "--build-arg", "SUM="+first, sum)
		r := e.Berth("build", "--build-arg", "REPO="+repo, "--build-arg", "SUM=0123456789abcdef", sum)
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "checksum mismatch") {
			t.Errorf("ADD --checksum with another commit: want exit 125, checksum mismatch:\n%s", r.describe())
		}
		if r := e.Berth("build", strings.TrimSuffix(repo, "repo.git")+"missing.git"); r.ExitCode != 125 || !strings.Contains(r.Stderr, "missing.git") {
			t.Errorf("a repository that is not there: want exit 125 naming it:\n%s", r.describe())
		}
	})
}
