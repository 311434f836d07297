package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tarBytes makes a tar archive (gzip-compressed when gz) of files.
func tarBytes(t *testing.T, files map[string]string, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !gz {
		return buf.Bytes()
	}
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	if _, err := zw.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return zbuf.Bytes()
}

// serveFiles serves name -> content over http on 127.0.0.1.
func serveFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBuildContextSources: the context from stdin (a tar archive or a bare
// Containerfile), from a tar archive file, from an http URL; several -f;
// -f from a URL; --build-arg-file; the syntax directive.
func TestBuildContextSources(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		cf := "FROM " + buildBase + "\nARG WHO=nobody\nCOPY hello.txt /hello.txt\nRUN echo \"$WHO\" > /who\n"
		files := map[string]string{"Containerfile": cf, "hello.txt": "hello from the archive\n"}
		check := func(img, want string) {
			t.Helper()
			if got := e.runIn(img, "cat /hello.txt /who"); got != "hello from the archive\n"+want {
				t.Errorf("%s: files = %q, want the archive's hello.txt and who=%s", img, got, want)
			}
		}

		// stdin: a plain tar, then a gzip'd one
		e.BerthIn(bytes.NewReader(tarBytes(t, files, false)), "build", "-q", "-t", "ctx-stdin-tar", "-").must(t)
		check("ctx-stdin-tar", "nobody")
		e.BerthIn(bytes.NewReader(tarBytes(t, files, true)), "build", "-q", "--build-arg", "WHO=gz", "-t", "ctx-stdin-tgz", "-").must(t)
		check("ctx-stdin-tgz", "gz")

		// stdin: a Containerfile with no context
		r := e.BerthIn(strings.NewReader("FROM "+buildBase+"\nLABEL from=stdin\nRUN echo hi > /x\n"), "build", "-t", "ctx-stdin-cf", "-")
		r.must(t)
		if got := e.BerthOK("image", "inspect", "--format", "{{.Config.Labels.from}}", "ctx-stdin-cf").Out(); got != "stdin" {
			t.Errorf("label from a stdin Containerfile = %q", got)
		}
		// both from stdin is refused
		if r := e.BerthIn(strings.NewReader(""), "build", "-f", "-", "-"); r.ExitCode != 125 || !strings.Contains(r.Stderr, "cannot both come from stdin") {
			t.Errorf("-f - with context -: want exit 125 and a message:\n%s", r.describe())
		}

		// a tar archive file as the context, with -f naming a file in it
		alt := map[string]string{"alt.Containerfile": cf, "hello.txt": files["hello.txt"]}
		archive := e.WriteFile("ctx.tar.gz", string(tarBytes(t, alt, true)))
		e.BerthOK("build", "-q", "-f", "alt.Containerfile", "--build-arg", "WHO=file", "-t", "ctx-file", archive)
		check("ctx-file", "file")
		notTar := e.WriteFile("not-a-tar", "just text\n")
		if r := e.Berth("build", notTar); r.ExitCode != 125 || !strings.Contains(r.Stderr, "neither a directory nor a tar archive") {
			t.Errorf("a context that is a text file: want exit 125:\n%s", r.describe())
		}

		// an http URL of a tar archive, and -f from a URL
		url := serveFiles(t, map[string][]byte{
			"ctx.tgz":       tarBytes(t, files, true),
			"Containerfile": []byte("FROM " + buildBase + "\nLABEL via=url\n"),
		})
		e.BerthOK("build", "-q", "--build-arg", "WHO=url", "-t", "ctx-url", url+"/ctx.tgz")
		check("ctx-url", "url")
		empty := filepath.Join(e.Dir, "empty-ctx")
		if err := mkdirOwned(empty, 0o755, e.user); err != nil {
			t.Fatal(err)
		}
		e.BerthOK("build", "-q", "-f", url+"/Containerfile", "-t", "cf-url", empty)
		if got := e.BerthOK("image", "inspect", "--format", "{{.Config.Labels.via}}", "cf-url").Out(); got != "url" {
			t.Errorf("label from a Containerfile URL = %q", got)
		}
		if r := e.Berth("build", url+"/missing.tgz"); r.ExitCode != 125 || !strings.Contains(r.Stderr, "404") {
			t.Errorf("a context URL that is not there: want exit 125 and the status:\n%s", r.describe())
		}

		// several -f: later files' instructions follow the first's
		dir := e.buildContext("ctx-multi-f", "FROM "+buildBase+"\nLABEL one=1\n", map[string]string{
			"second": "LABEL two=2\nRUN echo both > /both\n",
		})
		e.BerthOK("build", "-q", "-f", filepath.Join(dir, "Containerfile"), "-f", filepath.Join(dir, "second"), "-t", "multi-f", dir)
		if got := e.BerthOK("image", "inspect", "--format", "{{.Config.Labels.one}}{{.Config.Labels.two}}", "multi-f").Out(); got != "12" {
			t.Errorf("labels after two -f = %q, want 12", got)
		}

		// --build-arg-file, overridden by --build-arg; the syntax directive is noted
		dir = e.buildContext("ctx-argfile", "# syntax=docker/dockerfile:1\nFROM "+buildBase+"\nARG A\nARG B\nRUN echo \"$A $B\" > /ab\n", nil)
		argFile := e.WriteFile("args.conf", "# comment\nA=from-file\n\nB=file-b\n")
		r = e.BerthOK("build", "--build-arg-file", argFile, "--build-arg", "B=flag-b", "-t", "argfile", dir)
		if got := e.runIn("argfile", "cat /ab"); got != "from-file flag-b" {
			t.Errorf("args from --build-arg-file and --build-arg = %q, want \"from-file flag-b\"", got)
		}
		if !strings.Contains(r.Stderr, "ignoring the syntax directive") {
			t.Errorf("the syntax directive was not noted:\n%s", r.describe())
		}
	})
}

// must fails the test unless r exited 0.
func (r *Result) must(t *testing.T) {
	t.Helper()
	if r.ExitCode != 0 {
		t.Fatalf("command failed:\n%s", r.describe())
	}
}

// TestBuildJobs: with --jobs, independent stages run at the same time (the
// two stages below only finish if they run together: one listens, the
// other connects); a failing stage stops the others and the build exits
// with its code.
func TestBuildJobs(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		dir := e.buildContext("ctx-jobs", fmt.Sprintf(`FROM {{BASE}} AS listener
RUN timeout 60 nc -l -p %d > /got
FROM {{BASE}} AS talker
RUN for i in $(seq 200); do echo hello | nc 127.0.0.1 %d && echo sent > /sent && exit 0; sleep 0.1; done; exit 1
FROM {{BASE}}
COPY --from=listener /got /got
COPY --from=talker /sent /sent
`, port, port), nil)
		e.BerthOK("build", "--jobs", "2", "-t", "jobs", dir)
		if got := e.runIn("jobs", "cat /got /sent"); got != "hello\nsent" {
			t.Errorf("files of the parallel stages = %q", got)
		}

		before := len(e.BerthOK("images", "-a", "-q").Lines())
		dir = e.buildContext("ctx-jobs-fail", `FROM {{BASE}} AS slow
RUN sleep 41.5
FROM {{BASE}} AS failing
RUN sleep 0.5; exit 7
FROM {{BASE}}
COPY --from=slow / /slow
COPY --from=failing / /failing
`, nil)
		start := time.Now()
		r := e.Berth("build", "--jobs", "0", dir)
		if r.ExitCode != 7 || !strings.Contains(r.Stderr, "exit 7") {
			t.Errorf("a failing stage: want exit code 7 and the step named:\n%s", r.describe())
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("the build took %s: the other stage was not stopped", d)
		}
		if out, _ := exec.Command("pgrep", "-f", "sleep 41.5").Output(); len(out) > 0 {
			t.Errorf("the other stage's RUN still runs: pids %s", out)
		}
		if after := len(e.BerthOK("images", "-a", "-q").Lines()); after != before {
			t.Errorf("the failed build left images: %d before, %d after", before, after)
		}
		if r := e.Berth("build", "--jobs", "-1", dir); r.ExitCode != 125 {
			t.Errorf("--jobs -1: want exit 125:\n%s", r.describe())
		}
	})
}

// TestBuildPullNewer: --pull=newer pulls the base image again when the
// registry has a different one under its name, and not otherwise.
func TestBuildPullNewer(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref := reg.Ref("build-newer-" + map[bool]string{true: "rootless", false: "root"}[e.Rootless()])
		e.BusyboxImage(buildBase)
		e.BerthOK("push", "--tls-verify=false", buildBase, ref)
		e.BerthOK("pull", "-q", "--tls-verify=false", ref)
		dir := e.buildContext("ctx-newer", "FROM "+ref+"\nRUN cat /marker 2>/dev/null || echo none\n", nil)

		r := e.BerthOK("build", "--pull=newer", "--tls-verify=false", dir)
		if strings.Contains(r.Stderr, "Copying blob") || !strings.Contains(r.Stdout, "none") {
			t.Errorf("--pull=newer with the same image in the registry pulled or ran wrong:\n%s", r.describe())
		}
		// a different image under the same name
		upd := e.buildContext("ctx-newer-upd", "FROM "+buildBase+"\nRUN echo updated > /marker\n", nil)
		e.BerthOK("build", "-q", "-t", "localhost/e2e/updated", upd)
		e.BerthOK("push", "--tls-verify=false", "localhost/e2e/updated", ref)
		r = e.BerthOK("build", "--pull=newer", "--tls-verify=false", "--no-cache", dir)
		if !strings.Contains(r.Stdout, "updated") {
			t.Errorf("--pull=newer did not use the newer image:\n%s", r.describe())
		}
		// the pulled image is the one built here: one image, both names
		built := e.BerthOK("image", "inspect", "--format", "{{.Id}}", "localhost/e2e/updated").Out()
		if pulled := e.BerthOK("image", "inspect", "--format", "{{.Id}}", ref).Out(); pulled != built {
			t.Errorf("pulling the pushed build gave image %s, want the built %s", pulled, built)
		}
		if r := e.Berth("build", "--pull=sometimes", dir); r.ExitCode != 125 || !strings.Contains(r.Stderr, "invalid --pull") {
			t.Errorf("--pull=sometimes: want exit 125:\n%s", r.describe())
		}
	})
}

// TestBuildPlatformFlags: this machine's platform builds; others are
// refused before anything runs.
func TestBuildPlatformFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		dir := e.buildContext("ctx-platform", "FROM scratch\nLABEL p=1\n", nil)
		arch := hostArch()
		e.BerthOK("build", "-q", "--platform", "linux/"+arch, "--os", "linux", "--arch", arch, dir)
		for _, flags := range [][]string{{"--platform", "linux/s390x"}, {"--arch", "s390x"}, {"--os", "windows"}} {
			r := e.Berth(append(append([]string{"build"}, flags...), dir)...)
			if r.ExitCode != 125 || !strings.Contains(r.Stderr, "is not supported yet") {
				t.Errorf("build %v: want exit 125 and \"not supported yet\":\n%s", flags, r.describe())
			}
		}
	})
}

// TestBuildNamedContexts: --build-context as a directory, an image and an
// http URL of an archive, for FROM, COPY --from and RUN --mount from=; a
// named context replaces a stage of the same name.
func TestBuildNamedContexts(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		extra := e.buildContext("ctx-named-extra", "unused\n", map[string]string{"file.txt": "from the extra dir\n", "a": "a from the context\n", ".dockerignore": "file.txt\n"})
		url := serveFiles(t, map[string][]byte{"web.tgz": tarBytes(t, map[string]string{"web.txt": "from the web\n"}, true)})
		dir := e.buildContext("ctx-named", `FROM base AS assets
RUN echo "from the stage" > /a
FROM base
COPY --from=extra file.txt /extra.txt
COPY --from=assets a /a
COPY --from=web web.txt /web.txt
RUN --mount=type=bind,from=extra,target=/m cat /m/file.txt > /mounted
`, map[string]string{".dockerignore": "file.txt\nweb.txt\na\n"}) // the main context's: not the named ones'

		e.BerthOK("build", "-t", "named",
			"--build-context", "base=docker-image://"+buildBase,
			"--build-context", "extra="+extra,
			"--build-context", "assets="+extra,
			"--build-context", "web="+url+"/web.tgz", dir)
		want := "from the extra dir\na from the context\nfrom the web\nfrom the extra dir"
		if got := e.runIn("named", "cat /extra.txt /a /web.txt /mounted"); got != want {
			t.Errorf("files from the named contexts = %q, want %q", got, want)
		}
		for _, bad := range []string{"noequals", "=x", "dup=" + extra, "x=oci-layout://foo"} {
			args := []string{"build", "--build-context", "dup=" + extra, "--build-context", bad, dir}
			if r := e.Berth(args...); r.ExitCode != 125 || !strings.Contains(r.Stderr, "build-context") {
				t.Errorf("--build-context %s: want exit 125 and a message:\n%s", bad, r.describe())
			}
		}
		// FROM a directory context: its files are the stage's first layer
		fromDir := e.buildContext("ctx-named-from-dir", "FROM extra AS files\nLABEL from=dir\nFROM {{BASE}}\nCOPY --from=files /file.txt /a /\n", nil)
		e.BerthOK("build", "-q", "--build-context", "extra="+extra, "-t", "from-dir", fromDir)
		if got := e.runIn("from-dir", "cat /file.txt /a"); got != "from the extra dir\na from the context" {
			t.Errorf("files of a stage FROM a directory context: %q", got)
		}
		e.BerthOK("build", "-q", "--build-context", "extra="+extra, "--target", "files", "-t", "dir-stage", fromDir)
		if got := e.BerthOK("image", "inspect", "--format", "{{len .RootFS.Layers}} {{.Config.Labels.from}}", "dir-stage").Out(); got != "1 dir" {
			t.Errorf("a stage FROM a directory context: layers and label = %q, want \"1 dir\"", got)
		}
	})
}
