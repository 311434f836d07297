package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The output side of build: --squash, --squash-all, --timestamp,
// --source-date-epoch, --rewrite-timestamp, --output.

func init() { buildCaseTables = append(buildCaseTables, buildOutputCases) }

// squashDockerfile changes files in several steps: a later step deletes
// files of the base and of an earlier step, and replaces a directory.
const squashDockerfile = `FROM {{BASE}}
RUN mkdir -p /d/sub && echo old > /d/sub/old && echo one > /one && echo gone > /gone
ENV E=1
COPY a.txt /
RUN rm /gone /bin/vi && rm -rf /d && mkdir /d && echo new > /d/new && echo two > /two
`

// squashCheck is what the image of squashDockerfile must hold, squashed
// or not: the files of every step, none of the deleted ones.
const squashCheck = "cat /one /two /a.txt /d/new; ls /d; ls /gone /bin/vi /d/sub 2>/dev/null || echo deleted; echo $E"

const squashWant = "one\ntwo\na\nnew\nnew\ndeleted\n1"

// fixtureTime is the modification time of the base image's files.
var fixtureTime = itoa(fixtureEpoch.Unix())

var buildOutputCases = []buildCase{
	{
		// podman: --squash is a build without layers, the new layers in one
		// on top of the base's, the stage's last history entry owning it
		name:       "squash-new-layers",
		dockerfile: squashDockerfile,
		files:      map[string]string{"a.txt": "a\n"},
		flags:      []string{"--squash"},
		inspect: map[string]string{
			"{{len .RootFS.Layers}}":            "2",
			"{{len .History}}":                  "5",
			"{{(index .History 1).EmptyLayer}}": "true",
			"{{(index .History 3).EmptyLayer}}": "true",
			"{{(index .History 4).EmptyLayer}}": "false",
		},
		run: map[string]string{squashCheck: squashWant},
	},
	{
		name:       "squash-all-one-layer",
		dockerfile: squashDockerfile,
		files:      map[string]string{"a.txt": "a\n"},
		flags:      []string{"--squash-all"},
		inspect: map[string]string{
			"{{len .RootFS.Layers}}": "1",
			// the base's history goes, the build's stays
			"{{len .History}}":                  "4",
			"{{(index .History 0).CreatedBy}}":  "/bin/sh -c mkdir -p /d/sub && echo old > /d/sub/old && echo one > /one && echo gone > /gone",
			"{{(index .History 0).EmptyLayer}}": "true",
			"{{(index .History 3).EmptyLayer}}": "false",
		},
		run: map[string]string{squashCheck: squashWant, "busybox | head -1 | cut -c1-7": "BusyBox"},
	},
	{
		// with --layers, each step is an image and only the last is squashed
		name:       "squash-all-with-layers",
		dockerfile: squashDockerfile,
		files:      map[string]string{"a.txt": "a\n"},
		flags:      []string{"--squash-all", "--layers"},
		inspect:    map[string]string{"{{len .RootFS.Layers}}": "1", "{{len .History}}": "1"},
		run:        map[string]string{squashCheck: squashWant},
	},
	{
		name:       "squash-all-only-config-steps",
		dockerfile: "FROM {{BASE}}\nENV E=1\n",
		flags:      []string{"--squash-all"},
		inspect: map[string]string{"{{len .RootFS.Layers}}": "1", "{{len .History}}": "1",
			"{{(index .History 0).CreatedBy}}": "/bin/sh -c #(nop) ENV E=1", "{{(index .History 0).EmptyLayer}}": "false"},
		run: map[string]string{"echo $E; head -1 /etc/group": "1\nroot:x:0:"},
	},
	{
		name:       "squash-all-from-only",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"--squash-all"},
		// buildah's history entry for a commit without instructions
		inspect: map[string]string{"{{len .RootFS.Layers}}": "1", "{{len .History}}": "1", "{{(index .History 0).CreatedBy}}": "/bin/sh"},
		run:     map[string]string{"head -1 /etc/group": "root:x:0:"},
	},
	{
		// without layers, podman gives every stage with instructions a
		// layer, even when no step changed files
		name:       "without-layers-config-only",
		dockerfile: "FROM {{BASE}}\nRUN echo x > /x\nENV E=1\n",
		flags:      []string{"--layers=false"},
		inspect: map[string]string{"{{len .RootFS.Layers}}": "2",
			"{{(index .History 1).EmptyLayer}}": "true", "{{(index .History 2).EmptyLayer}}": "false"},
		run: map[string]string{"cat /x": "x"},
	},
	{
		// a child that only inherits ONBUILD triggers: their files are the
		// stage's one layer without layers
		name: "squash-onbuild-only-child",
		prepare: func(t *testing.T, e *Env, ctx string) {
			e.WriteFile(filepath.Join(filepath.Base(ctx), "Parentfile"), strings.ReplaceAll("FROM {{BASE}}\nONBUILD RUN echo triggered > /triggered\n", "{{BASE}}", buildBase))
			e.BerthOK("build", "--format", "docker", "-f", filepath.Join(ctx, "Parentfile"), "-t", "localhost/e2e/squash-onbuild-parent", ctx)
		},
		dockerfile: "FROM localhost/e2e/squash-onbuild-parent\n",
		flags:      []string{"--format", "docker", "--squash"},
		inspect:    map[string]string{"{{len .RootFS.Layers}}": "2", "{{len .History}}": "3", "{{(index .History 2).EmptyLayer}}": "false"},
		run:        map[string]string{"cat /triggered": "triggered"},
	},
	{
		name:       "squash-with-squash-all",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--squash", "--squash-all"},
		wantCode:   125,
		stderr:     []string{"cannot specify --squash with --layers and --squash-all with --squash"},
	},
	{
		name:       "squash-with-layers",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--squash", "--layers"},
		wantCode:   125,
		stderr:     []string{"cannot specify --squash with --layers"},
	},
	{
		// every created time and every file of the new layers at the
		// timestamp; the base's files and history keep theirs
		name: "timestamp-sets-times",
		dockerfile: `FROM {{BASE}}
RUN mkdir /dir && echo new > /dir/new
COPY old.txt /
`,
		files:   map[string]string{"old.txt": "old\n"},
		prepare: setOld("old.txt"),
		flags:   []string{"--timestamp", "1000000000"},
		inspect: map[string]string{
			"{{.Created}}":                   "2001-09-09 01:46:40 +0000 UTC",
			"{{(index .History 1).Created}}": "2001-09-09 01:46:40 +0000 UTC",
			"{{(index .History 2).Created}}": "2001-09-09 01:46:40 +0000 UTC",
		},
		run: map[string]string{"stat -c %Y /dir /dir/new /old.txt /bin/busybox": "1000000000\n1000000000\n1000000000\n" + fixtureTime},
	},
	{
		// the source date epoch sets the created times and the
		// SOURCE_DATE_EPOCH arg, not the files' times
		name: "source-date-epoch",
		dockerfile: `FROM {{BASE}}
ARG SOURCE_DATE_EPOCH
RUN echo "$SOURCE_DATE_EPOCH" > /sde
`,
		flags: []string{"--source-date-epoch", "1600000000"},
		inspect: map[string]string{
			"{{.Created}}":                   "2020-09-13 12:26:40 +0000 UTC",
			"{{(index .History 2).Created}}": "2020-09-13 12:26:40 +0000 UTC",
		},
		run: map[string]string{"cat /sde; test $(stat -c %Y /sde) -gt 1600000000 && echo later": "1600000000\nlater"},
	},
	{
		// --rewrite-timestamp: times later than the epoch become it, older
		// ones stay
		name: "rewrite-timestamp-clamps",
		dockerfile: `FROM {{BASE}}
RUN echo new > /new
COPY old.txt new.txt /
`,
		files:   map[string]string{"old.txt": "old\n", "new.txt": "new\n"},
		prepare: setOld("old.txt"),
		flags:   []string{"--source-date-epoch", "1600000000", "--rewrite-timestamp"},
		run:     map[string]string{"stat -c %Y /new /new.txt /old.txt /bin/busybox": "1600000000\n1600000000\n1000\n" + fixtureTime},
	},
	{
		name:       "source-date-epoch-build-arg",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--build-arg", "SOURCE_DATE_EPOCH=1600000000"},
		inspect:    map[string]string{"{{.Created}}": "2020-09-13 12:26:40 +0000 UTC"},
	},
	{
		name:       "source-date-epoch-unused-no-warning",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--source-date-epoch", "1600000000"},
		after: func(t *testing.T, e *Env, ctx string) {
			r := e.BerthOK("build", "--source-date-epoch", "1600000000", ctx)
			if strings.Contains(r.Stderr, "not consumed") {
				t.Errorf("the SOURCE_DATE_EPOCH arg was reported unused:\n%s", r.Stderr)
			}
		},
	},
	{
		name:       "timestamp-not-a-number",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"--timestamp", "abc"},
		wantCode:   125,
		stderr:     []string{`invalid argument "abc" for "--timestamp" flag`},
	},
	{
		name:       "source-date-epoch-not-a-number",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"--source-date-epoch", "abc"},
		wantCode:   125,
		stderr:     []string{`error parsing source-date-epoch offset "abc"`},
	},
	{
		name:       "timestamp-with-source-date-epoch",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"--timestamp", "1", "--source-date-epoch", "2"},
		wantCode:   125,
		stderr:     []string{"--timestamp and --source-date-epoch cannot be used together"},
	},
	{
		name:       "output-bad-type",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"--output", "type=zip,dest=x"},
		wantCode:   125,
		stderr:     []string{`Error: failed to parse build output: invalid type "zip" selected for build output options "type=zip,dest=x"`},
	},
	{
		name:       "output-bad-key",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"-o", "type=local,dest=x,mode=1"},
		wantCode:   125,
		stderr:     []string{`unrecognized key "mode" in build output option: "type=local,dest=x,mode=1"`},
	},
	{
		name:       "output-local-to-stdout",
		dockerfile: "FROM {{BASE}}\n",
		flags:      []string{"--output", "type=local,dest=-"},
		wantCode:   125,
		stderr:     []string{`type=local and dest=- is not supported`},
	},
}

// TestBuildRmFlags: berth keeps no build containers, so --rm=false and
// --force-rm=false are accepted and change nothing: a failed build leaves
// no container, working layer or mount behind (podman would keep its
// build container with --force-rm=false).
func TestBuildRmFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		ctx := e.buildContext("rm-flags", "FROM {{BASE}}\nRUN echo half > /half && exit 3\n", nil)
		r := e.BerthFail(3, "build", "--rm=false", "--force-rm=false", "-t", "localhost/e2e/rm-flags", ctx)
		if !strings.Contains(r.Stderr, "exit status 3") {
			t.Errorf("the error does not give the step's exit status:\n%s", r.Stderr)
		}
		if out := e.BerthOK("ps", "-a", "-q").Out(); out != "" {
			t.Errorf("a failed build left containers: %s", out)
		}
		checkNoBuildLeftovers(t, e)
		e.BerthOK("build", "-q", "--rm=false", "--force-rm=false", "-t", "localhost/e2e/rm-flags",
			e.buildContext("rm-flags", "FROM {{BASE}}\nRUN echo whole > /whole\n", nil))
		if got := e.runIn("localhost/e2e/rm-flags", "cat /whole"); got != "whole" {
			t.Errorf("build with --rm=false: %q", got)
		}
		checkNoBuildLeftovers(t, e)
	})
}

// setOld dates a context file back to 1000 seconds after the epoch.
func setOld(name string) func(t *testing.T, e *Env, ctx string) {
	return func(t *testing.T, e *Env, ctx string) {
		old := time.Unix(1000, 0)
		if err := os.Chtimes(filepath.Join(ctx, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// imageFacts are what must be equal for two builds to be the same image.
func (e *Env) imageFacts(img string) string {
	e.T.Helper()
	return e.BerthOK("image", "inspect", "--format", "{{.Id}} {{.Digest}} {{json .RootFS.Layers}}", img).Out()
}

// storedLayers counts the layers in e's store.
func storedLayers(t *testing.T, e *Env) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.Root, "*-layers", "layers.json"))
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var layers []json.RawMessage
		if err := json.Unmarshal(data, &layers); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n += len(layers)
	}
	return n
}

// TestBuildReproducible builds the same Containerfile and context twice
// with fixed times: the same image ID, manifest digest and layers; the
// second build stores no second copy of the layers.
func TestBuildReproducible(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		files := map[string]string{"a.txt": "a\n", "dir/b.txt": "b\n"}
		ctx := e.buildContext("repro", `FROM {{BASE}}
ARG SOURCE_DATE_EPOCH
RUN mkdir /made && echo "$SOURCE_DATE_EPOCH" > /made/sde && rm /bin/vi
COPY a.txt dir /copied/
ENV E=1
RUN ln -s /copied/a.txt /link && ln /copied/a.txt /hard
`, files)
		for _, mode := range []struct {
			name  string
			flags []string
			env   string
		}{
			{name: "timestamp", flags: []string{"--timestamp", "1234567890"}},
			{name: "timestamp-squash-all", flags: []string{"--timestamp", "1234567890", "--squash-all"}},
			{name: "timestamp-without-layers", flags: []string{"--timestamp", "1234567890", "--layers=false"}},
			{name: "source-date-epoch", flags: []string{"--rewrite-timestamp"}, env: "1600000000"},
		} {
			t.Run(mode.name, func(t *testing.T) {
				if mode.env != "" {
					e.SetEnv("SOURCE_DATE_EPOCH", mode.env)
					defer func() { e.extra = e.extra[:len(e.extra)-1] }()
				}
				build := func(tag string) string {
					args := append([]string{"build", "-q", "--no-cache", "-t", tag}, mode.flags...)
					return e.BerthOK(append(args, ctx)...).Out()
				}
				one := build("localhost/e2e/repro-1")
				layers := storedLayers(t, e)
				two := build("localhost/e2e/repro-2")
				if one != two {
					t.Fatalf("two builds made %s and %s", one, two)
				}
				f1, f2 := e.imageFacts("localhost/e2e/repro-1"), e.imageFacts("localhost/e2e/repro-2")
				if f1 != f2 {
					t.Errorf("the images differ:\n%s\n%s", f1, f2)
				}
				if n := storedLayers(t, e); n != layers {
					t.Errorf("the second build left %d more layers in the store", n-layers)
				}
				// without the images, the cache cannot help
				e.BerthOK("rmi", "-f", "localhost/e2e/repro-1", "localhost/e2e/repro-2")
				e.BerthOK("image", "prune", "-f")
				if three := build("localhost/e2e/repro-3"); three != one {
					t.Errorf("a build after rmi made %s, want %s", three, one)
				}
				if f3 := e.imageFacts("localhost/e2e/repro-3"); f3 != f1 {
					t.Errorf("after rmi the image differs:\n%s\n%s", f3, f1)
				}
				// a fresh checkout: the same files, other modification times
				later := time.Now().Add(time.Duration(len(mode.name)) * time.Minute)
				for name := range files {
					if err := os.Chtimes(filepath.Join(ctx, name), later, later); err != nil {
						t.Fatal(err)
					}
				}
				if four := build("localhost/e2e/repro-4"); four != one {
					t.Errorf("the same files with other times made %s, want %s", four, one)
				}
				// the image works
				if got := e.runIn("localhost/e2e/repro-3", "cat /link /hard /copied/b.txt; ls /bin/vi 2>/dev/null || echo no-vi"); got != "a\na\nb\nno-vi" {
					t.Errorf("the reproducible image: %q", got)
				}
				if mode.env != "" {
					if got := e.runIn("localhost/e2e/repro-3", "cat /made/sde"); got != mode.env {
						t.Errorf("RUN saw SOURCE_DATE_EPOCH=%q, want %s", got, mode.env)
					}
				}
				e.BerthOK("rmi", "-f", "localhost/e2e/repro-3")
				checkNoBuildLeftovers(t, e)
			})
		}
		// without fixed times, two builds differ (the test above can fail)
		a := e.BerthOK("build", "-q", "--no-cache", ctx).Out()
		if b := e.BerthOK("build", "-q", "--no-cache", ctx).Out(); a == b {
			t.Errorf("two builds without fixed times made the same image %s", a)
		}
	})
}

// tarEntry is one file of an --output tar.
type tarEntry struct {
	typ      byte
	uid, gid int
	mtime    int64
	body     string
}

func readTar(t *testing.T, r io.Reader) map[string]tarEntry {
	t.Helper()
	out := map[string]tarEntry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the output tar: %v", err)
		}
		body, _ := io.ReadAll(tr)
		out[strings.TrimSuffix(h.Name, "/")] = tarEntry{typ: h.Typeflag, uid: h.Uid, gid: h.Gid, mtime: h.ModTime.Unix(), body: string(body)}
	}
}

func TestBuildOutput(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		ctx := e.buildContext("output", `FROM {{BASE}}
RUN mkdir -p /home/u /gone && echo mine > /home/u/f && chown -R 1000:1001 /home/u && echo root > /rootfile
RUN rm -r /gone /bin/vi && ln -s /rootfile /link
COPY a.txt /
`, map[string]string{"a.txt": "a\n"})

		// -o DIR: the image's files in DIR, and the image as usual
		dir := filepath.Join(e.Dir, "out-dir")
		id := e.BerthOK("build", "-q", "-t", "localhost/e2e/output", "-o", dir, ctx).Out()
		if got := e.BerthOK("image", "inspect", "--format", "{{.Id}}", "localhost/e2e/output").Out(); got != id {
			t.Errorf("with -o the image %s is tagged, want %s", got, id)
		}
		// (RUN's hostname file is a mount: the image's stays)
		for name, want := range map[string]string{"a.txt": "a\n", "rootfile": "root\n", "home/u/f": "mine\n", "etc/hostname": "busybox\n"} {
			if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(data) != want {
				t.Errorf("output %s: %q (%v), want %q", name, data, err, want)
			}
		}
		for _, gone := range []string{"gone", "bin/vi"} {
			if _, err := os.Lstat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output has %s, which the build deleted (%v)", gone, err)
			}
		}
		if l, err := os.Readlink(filepath.Join(dir, "link")); err != nil || l != "/rootfile" {
			t.Errorf("output link: %q (%v)", l, err)
		}
		// owners: as in the image for root; without root, the calling
		// user's, as podman writes them
		for name, want := range map[string][2]int{"rootfile": {0, 0}, "home/u/f": {1000, 1001}, "home/u": {1000, 1001}, "bin/busybox": {0, 0}, ".": {0, 0}} {
			st, err := os.Lstat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("output %s: %v", name, err)
				continue
			}
			sys := st.Sys().(*syscall.Stat_t)
			if e.Rootless() {
				want = [2]int{e.UID(), e.UID()}
			}
			if int(sys.Uid) != want[0] || int(sys.Gid) != want[1] {
				t.Errorf("output %s belongs to %d:%d, want %d:%d", name, sys.Uid, sys.Gid, want[0], want[1])
			}
		}

		// type=tar,dest=FILE: a tar of the same files, owners as in the image
		tarFile := filepath.Join(e.Dir, "out.tar")
		e.BerthOK("build", "-q", "--output", "type=tar,dest="+tarFile, ctx)
		f, err := os.Open(tarFile)
		if err != nil {
			t.Fatal(err)
		}
		entries := readTar(t, f)
		_ = f.Close()
		checkTarEntries(t, entries)
		if st, err := os.Stat(tarFile); err == nil && int(st.Sys().(*syscall.Stat_t).Uid) != e.UID() {
			t.Errorf("the output tar belongs to %d, want %d", st.Sys().(*syscall.Stat_t).Uid, e.UID())
		}

		// -o -: the tar alone on stdout, the report and ID on stderr
		r := e.Berth("build", "-o", "-", ctx)
		if r.ExitCode != 0 {
			t.Fatalf("build -o -:\n%s", r.describe())
		}
		checkTarEntries(t, readTar(t, bytes.NewReader([]byte(r.Stdout))))
		if !strings.Contains(r.Stderr, "STEP 1/4") || !strings.Contains(r.Stderr, "COMMIT") {
			t.Errorf("build -o -: the step report is not on stderr:\n%s", r.Stderr)
		}

		// with --timestamp the output's files bear it
		stamped := readTarFile(t, e, "--timestamp", "1000000000")
		for name, en := range stamped {
			if en.mtime != 1000000000 {
				t.Errorf("with --timestamp, output %s has time %d", name, en.mtime)
				break
			}
		}
		checkNoBuildLeftovers(t, e)
	})
}

// readTarFile builds the output context with --output type=tar and flags.
func readTarFile(t *testing.T, e *Env, flags ...string) map[string]tarEntry {
	t.Helper()
	p := filepath.Join(e.Dir, "flags.tar")
	args := append([]string{"build", "-q", "--output", "type=tar,dest=" + p}, flags...)
	e.BerthOK(append(args, filepath.Join(e.Dir, "output"))...)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readTar(t, f)
}

func checkTarEntries(t *testing.T, entries map[string]tarEntry) {
	t.Helper()
	want := map[string]tarEntry{
		"a.txt":       {typ: tar.TypeReg, body: "a\n"},
		"rootfile":    {typ: tar.TypeReg, body: "root\n"},
		"home/u/f":    {typ: tar.TypeReg, uid: 1000, gid: 1001, body: "mine\n"},
		"home/u":      {typ: tar.TypeDir, uid: 1000, gid: 1001},
		"link":        {typ: tar.TypeSymlink},
		"bin/busybox": {typ: tar.TypeReg},
	}
	for name, w := range want {
		got, ok := entries[name]
		if !ok {
			t.Errorf("the output tar lacks %s", name)
			continue
		}
		if got.typ != w.typ || got.uid != w.uid || got.gid != w.gid || (w.body != "" && got.body != w.body) {
			t.Errorf("output tar %s: type %c owner %d:%d body %q, want type %c owner %d:%d body %q",
				name, got.typ, got.uid, got.gid, got.body, w.typ, w.uid, w.gid, w.body)
		}
	}
	for _, gone := range []string{"gone", "bin/vi"} {
		if _, ok := entries[gone]; ok {
			t.Errorf("the output tar has %s, which the build deleted", gone)
		}
	}
	if len(entries) < 100 {
		names := make([]string, 0, len(entries))
		for n := range entries {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Errorf("the output tar has only %d entries: %v", len(entries), names)
	}
}
