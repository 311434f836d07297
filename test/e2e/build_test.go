package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// buildCase is one Containerfile built by TestBuildDockerfiles: it must
// build (or fail with wantCode and wantErr in stderr), and the image must
// pass the checks.
type buildCase struct {
	name string
	// dockerfile uses {{BASE}} for the busybox image.
	dockerfile string
	// files are the build context (name -> content); dirs end in "/".
	files map[string]string
	// modes set file modes in the context after writing.
	modes map[string]os.FileMode
	// flags are extra build flags; the context is added last. flagsFn
	// adds flags that name the context.
	flags   []string
	flagsFn func(ctx string) []string
	// inspect maps an `image inspect --format` template to its output.
	inspect map[string]string
	// run maps a shell command run in the image to its stdout.
	run map[string]string
	// stdout and stderr are substrings the build's output must contain.
	stdout, stderr []string
	// wantCode: the build must fail with this exit code.
	wantCode int
	// prepare runs before the build (other images, special files); after
	// runs after the checks.
	prepare, after func(t *testing.T, e *Env, ctx string)
}

const buildBase = "localhost/e2e/busybox:latest"

// buildCaseTables are the tables TestBuildDockerfiles builds; other files
// add theirs in init (one table per area of the builder).
var buildCaseTables = [][]buildCase{buildCases}

var buildCases = []buildCase{
	{
		name: "arg-env-workdir",
		dockerfile: `FROM {{BASE}}
ARG V=1
ENV A=b C=$V D="two words"
ENV E=$A F=${MISSING:-dflt}
WORKDIR /w
WORKDIR sub
RUN pwd > /pwd && echo "$A $C $E $F" > /vars
`,
		inspect: map[string]string{
			"{{.Config.WorkingDir}}": "/w/sub",
			"{{json .Config.Env}}":   `["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=b","C=1","D=two words","E=b","F=dflt"]`,
		},
		run: map[string]string{"cat /pwd /vars; pwd": "/w/sub\nb 1 b dflt\n/w/sub"},
	},
	{
		name: "env-expands-with-values-before-the-line",
		dockerfile: `FROM {{BASE}}
ENV X=old
ENV X=new Y=$X
`,
		run: map[string]string{`echo "$X $Y"`: "new old"},
	},
	{
		name: "copy-files-and-dirs",
		dockerfile: `FROM {{BASE}}
COPY hello.txt /dst/
COPY dir /dir-contents
COPY hello.txt /renamed.txt
COPY script.sh /usr/local/bin/
COPY hello.txt dir/ /multi/
`,
		files: map[string]string{"hello.txt": "hello\n", "dir/a": "A\n", "dir/sub/b": "B\n", "script.sh": "#!/bin/sh\necho script ran\n"},
		modes: map[string]os.FileMode{"script.sh": 0o755},
		run: map[string]string{
			"cat /dst/hello.txt /renamed.txt /dir-contents/a /dir-contents/sub/b": "hello\nhello\nA\nB",
			"script.sh":                             "script ran",
			"ls /multi | tr '\\n' ' '":              "a hello.txt sub",
			"stat -c '%u:%g %a' /dst/hello.txt":     "0:0 644",
			"stat -c '%u:%g' /dir-contents/sub/b":   "0:0",
			"stat -c '%a' /usr/local/bin/script.sh": "755",
		},
	},
	{
		name: "copy-chown-chmod",
		dockerfile: `FROM {{BASE}}
COPY --chown=nobody:nobody a.txt /names/
COPY --chown=1234:5678 --chmod=0640 a.txt /numbers/
COPY --chown=4321 dir /onlyuser/
`,
		files: map[string]string{"a.txt": "a\n", "dir/f": "f\n"},
		run: map[string]string{
			"stat -c '%u:%g %a' /names/a.txt":   "65534:65534 644",
			"stat -c '%u:%g %a' /numbers/a.txt": "1234:5678 640",
			"stat -c '%u:%g' /onlyuser/f":       "4321:4321",
		},
	},
	{
		name: "copy-wildcards",
		dockerfile: `FROM {{BASE}}
COPY *.txt /txt/
COPY d?r/f[12] /pick/
`,
		files: map[string]string{"a.txt": "a", "b.txt": "b", "c.md": "c", "dir/f1": "1", "dir/f2": "2", "dir/f3": "3"},
		run:   map[string]string{"ls /txt /pick | tr '\\n' ' '": "/pick: f1 f2  /txt: a.txt b.txt"},
	},
	{
		name: "copy-into-existing-directory-and-over-symlinks",
		dockerfile: `FROM {{BASE}}
RUN mkdir -p /real && ln -s /real /link
COPY a.txt /link/
COPY a.txt /tmp
`,
		files: map[string]string{"a.txt": "a\n"},
		run:   map[string]string{"cat /real/a.txt /tmp/a.txt; test -L /link && echo link": "a\na\nlink"},
	},
	{
		// a symlink in the image is followed inside the image, never to the
		// host's file of the same name
		name: "copy-through-image-symlinks-stays-in-the-image",
		dockerfile: `FROM {{BASE}}
ARG HOSTDIR
RUN mkdir -p "$HOSTDIR" && ln -s "$HOSTDIR" /linkdir
COPY tree/ /
`,
		files: map[string]string{"tree/linkdir/pwned": "x\n"},
		prepare: func(t *testing.T, e *Env, ctx string) {
			// the build gets the path of a directory on the host
			host := filepath.Join(ctx, "host-target")
			if err := mkdirOwned(host, 0o755, e.user); err != nil {
				t.Fatal(err)
			}
		},
		flagsFn: func(ctx string) []string {
			return []string{"--build-arg", "HOSTDIR=" + filepath.Join(ctx, "host-target")}
		},
		after: func(t *testing.T, e *Env, ctx string) {
			if _, err := os.Stat(filepath.Join(ctx, "host-target", "pwned")); err == nil {
				t.Errorf("COPY wrote through a symlink of the image into the host's %s", filepath.Join(ctx, "host-target"))
			}
			img := "localhost/e2e/build-copy-through-image-symlinks-stays-in-the-image"
			if got := e.runIn(img, "cat /linkdir/pwned"); got != "x" {
				t.Errorf("the file is not in the image's directory: %q", got)
			}
		},
	},
	{
		name: "copy-keeps-modification-times",
		dockerfile: `FROM {{BASE}}
COPY old.txt /
`,
		files: map[string]string{"old.txt": "old\n"},
		prepare: func(t *testing.T, e *Env, ctx string) {
			when := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			if err := os.Chtimes(filepath.Join(ctx, "old.txt"), when, when); err != nil {
				t.Fatal(err)
			}
		},
		run: map[string]string{"date -u -r /old.txt +%Y-%m-%dT%H:%M:%S": "2001-02-03T04:05:06"},
	},
	{
		name: "add-extracts-local-archives",
		dockerfile: `FROM {{BASE}}
ADD files.tar.gz /extracted/
ADD plain.txt /plain/
ADD files.tar.gz /kept.tgz/
`,
		files: map[string]string{"plain.txt": "plain\n"},
		prepare: func(t *testing.T, e *Env, ctx string) {
			writeTarGz(t, e, filepath.Join(ctx, "files.tar.gz"), map[string]string{"top.txt": "top\n", "in/deep.txt": "deep\n"})
		},
		run: map[string]string{
			"cat /extracted/top.txt /extracted/in/deep.txt /plain/plain.txt": "top\ndeep\nplain",
			"cat /kept.tgz/top.txt": "top",
		},
	},
	{
		name: "run-shell-and-exec-forms",
		dockerfile: `FROM {{BASE}}
RUN echo one > /one && echo two > /two
RUN ["sh", "-c", "echo exec > /exec"]
RUN echo to-stdout && echo to-stderr >&2
`,
		run:    map[string]string{"cat /one /two /exec": "one\ntwo\nexec"},
		stdout: []string{"to-stdout"},
		stderr: []string{"to-stderr"},
	},
	{
		name: "run-removes-files-of-lower-layers",
		dockerfile: `FROM {{BASE}}
RUN mkdir /d && echo x > /d/x && echo y > /d/y
RUN rm /d/x /bin/vi
`,
		run: map[string]string{"ls /d; ls /bin/vi 2>/dev/null || echo gone": "y\ngone"},
	},
	{
		name: "run-sees-args-and-env",
		dockerfile: `FROM {{BASE}}
ARG FROMARG=argval
ENV FROMENV=envval
ARG SHADOWED=arg
ENV SHADOWED=env
RUN echo "$FROMARG $FROMENV $SHADOWED" > /seen
`,
		run:     map[string]string{"cat /seen; echo \"[$FROMARG]\"": "argval envval env\n[]"},
		inspect: map[string]string{"{{(index .History 5).CreatedBy}}": `|2 FROMARG=argval SHADOWED=arg /bin/sh -c echo "$FROMARG $FROMENV $SHADOWED" > /seen`},
	},
	{
		name: "user-runs-as-that-user",
		dockerfile: `FROM {{BASE}}
USER nobody
RUN id -u > /tmp/uid && id -g > /tmp/gid
USER 0
`,
		run:     map[string]string{"cat /tmp/uid /tmp/gid": "65534\n65534"},
		inspect: map[string]string{"{{.Config.User}}": "0"},
	},
	{
		name: "shell-instruction",
		dockerfile: `FROM {{BASE}}
SHELL ["/bin/sh", "-ec"]
RUN echo "$0 $-" > /shell
CMD echo from-cmd
`,
		run:     map[string]string{"cat /shell | cut -c1-7": "/bin/sh"},
		inspect: map[string]string{"{{json .Config.Cmd}}": `["/bin/sh","-ec","echo from-cmd"]`},
		stderr:  []string{"SHELL is not supported for OCI image format"},
	},
	{
		name: "cmd-and-entrypoint",
		dockerfile: `FROM {{BASE}}
ENTRYPOINT ["echo", "entry"]
CMD ["default-arg"]
`,
		inspect: map[string]string{
			"{{json .Config.Entrypoint}}": `["echo","entry"]`,
			"{{json .Config.Cmd}}":        `["default-arg"]`,
		},
	},
	{
		name: "entrypoint-resets-inherited-cmd",
		dockerfile: `FROM {{BASE}} AS base
CMD ["inherited"]
FROM base
ENTRYPOINT echo shell-form
`,
		inspect: map[string]string{
			"{{json .Config.Entrypoint}}": `["/bin/sh","-c","echo shell-form"]`,
			"{{json .Config.Cmd}}":        `null`,
		},
	},
	{
		name: "config-instructions",
		dockerfile: `FROM {{BASE}}
LABEL a=1 "b c"="two words"
EXPOSE 80 53/udp 8000-8001
VOLUME /data /other
VOLUME ["/json"]
STOPSIGNAL SIGINT
MAINTAINER someone@example.com
USER nobody:nobody
`,
		flags: []string{"--label", "from-cli=yes"},
		inspect: map[string]string{
			"{{json .Config.Labels}}":           `{"a":"1","b c":"two words","from-cli":"yes"}`,
			"{{json .Config.ExposedPorts}}":     `{"53/udp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{}}`,
			"{{json .Config.Volumes}}":          `{"/data":{},"/json":{},"/other":{}}`,
			"{{.Config.StopSignal}}":            "SIGINT",
			"{{.Author}}":                       "someone@example.com",
			"{{.Config.User}}":                  "nobody:nobody",
			"{{.ManifestType}}":                 "application/vnd.oci.image.manifest.v1+json",
			"{{(index .History 2).CreatedBy}}":  "/bin/sh -c #(nop) EXPOSE 80 53/udp 8000-8001",
			"{{(index .History 2).EmptyLayer}}": "true",
		},
	},
	{
		name: "docker-format-healthcheck-onbuild",
		dockerfile: `FROM {{BASE}}
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
ONBUILD RUN echo triggered > /triggered
`,
		flags: []string{"--format", "docker"},
		inspect: map[string]string{
			"{{.ManifestType}}":          "application/vnd.docker.distribution.manifest.v2+json",
			"{{json .HealthCheck.Test}}": `["CMD","true"]`,
			"{{.HealthCheck.Interval}}":  "5s",
			"{{.HealthCheck.Retries}}":   "2",
		},
	},
	{
		name: "onbuild-triggers-run-in-the-child",
		prepare: func(t *testing.T, e *Env, ctx string) {
			e.WriteFile(filepath.Join(filepath.Base(ctx), "Parentfile"), strings.ReplaceAll("FROM {{BASE}}\nONBUILD RUN echo triggered > /triggered\n", "{{BASE}}", buildBase))
			e.BerthOK("build", "--format", "docker", "-f", filepath.Join(ctx, "Parentfile"), "-t", "localhost/e2e/onbuild-parent", ctx)
		},
		dockerfile: "FROM localhost/e2e/onbuild-parent\nRUN cat /triggered > /copy\n",
		flags:      []string{"--format", "docker"},
		run:        map[string]string{"cat /copy": "triggered"},
		stdout:     []string{"ONBUILD RUN echo triggered"},
	},
	{
		name: "build-args",
		dockerfile: `ARG IMAGE=no-such-image
FROM ${IMAGE}
ARG IMAGE
ARG GREETING=hi
ARG EMPTY
RUN echo "$GREETING from $IMAGE [$EMPTY]" > /greeting
`,
		flags:  []string{"--build-arg", "IMAGE=" + buildBase, "--build-arg", "GREETING=hello", "--build-arg", "UNUSED=1"},
		run:    map[string]string{"cat /greeting": "hello from " + buildBase + " []"},
		stderr: []string{"one or more build args were not consumed: [UNUSED]"},
	},
	{
		name: "multi-stage-copy-from",
		dockerfile: `FROM {{BASE}} AS builder
RUN mkdir /out && echo built > /out/artifact
FROM {{BASE}}
RUN echo second > /second
FROM {{BASE}}
COPY --from=builder /out/artifact /from-name
COPY --from=1 /second /from-index
COPY --from={{BASE}} /etc/passwd /from-image
`,
		run: map[string]string{"cat /from-name /from-index; grep -c nobody /from-image": "built\nsecond\n1"},
	},
	{
		name: "target-builds-only-what-it-needs",
		dockerfile: `FROM {{BASE}} AS first
RUN echo first > /first
FROM {{BASE}} AS broken
RUN exit 9
FROM first AS final
RUN echo final > /final
`,
		flags: []string{"--target", "first"},
		run:   map[string]string{"cat /first; ls /final 2>/dev/null || echo no-final": "first\nno-final"},
	},
	{
		name: "from-scratch",
		dockerfile: `FROM {{BASE}} AS tools
FROM scratch
COPY --from=tools /bin/busybox /bin/busybox
COPY --from=tools /bin/sh /bin/sh
COPY a.txt /a.txt
`,
		files: map[string]string{"a.txt": "in scratch\n"},
		inspect: map[string]string{
			"{{len .RootFS.Layers}}":    "3",
			"{{.Os}}/{{.Architecture}}": "linux/" + hostArch(),
		},
		run: map[string]string{"/bin/busybox cat /a.txt": "in scratch"},
	},
	{
		name: "dockerignore",
		dockerfile: `FROM {{BASE}}
COPY . /ctx/
RUN find /ctx | sort > /list
`,
		files: map[string]string{
			".dockerignore": "*.log\n!keep.log\nsecret/\n**/*.tmp\n",
			"a.txt":         "a", "debug.log": "x", "keep.log": "k", "secret/key": "s", "sub/b.txt": "b", "sub/c.tmp": "t",
		},
		run: map[string]string{"cat /list | tr '\\n' ' '": "/ctx /ctx/.dockerignore /ctx/Containerfile /ctx/a.txt /ctx/keep.log /ctx/sub /ctx/sub/b.txt"},
	},
	{
		name: "containerignore-wins-over-dockerignore",
		dockerfile: `FROM {{BASE}}
COPY . /ctx/
`,
		files: map[string]string{".containerignore": "a.txt\n", ".dockerignore": "b.txt\n", "a.txt": "a", "b.txt": "b"},
		run:   map[string]string{"ls /ctx | tr '\\n' ' '": "Containerfile b.txt"},
	},
	{
		name: "excluded-source-is-an-error",
		dockerfile: `FROM {{BASE}}
COPY secret.txt /
`,
		files:    map[string]string{".dockerignore": "secret.txt\n", "secret.txt": "s"},
		wantCode: 125,
		stderr:   []string{"Containerfile:2:", "excluded"},
	},
	{
		name:       "network-none",
		dockerfile: "FROM {{BASE}}\nRUN grep -c : /proc/net/dev > /ifaces\n",
		flags:      []string{"--network", "none"},
		run:        map[string]string{"cat /ifaces": "1"},
	},
	{
		name: "without-layers-one-layer",
		dockerfile: `FROM {{BASE}}
RUN echo 1 > /1
COPY a.txt /
RUN echo 2 > /2 && rm /1
`,
		files:   map[string]string{"a.txt": "a"},
		flags:   []string{"--layers=false"},
		inspect: map[string]string{"{{len .RootFS.Layers}}": "2"},
		run:     map[string]string{"ls /1 2>/dev/null; cat /2 /a.txt": "2\na"},
	},
	{
		name:       "failing-run",
		dockerfile: "FROM {{BASE}}\nRUN echo before\nRUN echo partial > /partial; exit 3\nRUN echo never\n",
		wantCode:   3,
		stderr:     []string{`Error: building at STEP "RUN echo partial > /partial; exit 3": while running runtime: exit status 3`},
		stdout:     []string{"before"},
	},
	{
		name:       "command-not-found",
		dockerfile: "FROM {{BASE}}\nRUN [\"/no/such/program\"]\n",
		wantCode:   127,
		stderr:     []string{`building at STEP "RUN ["/no/such/program"]"`},
	},
	{
		name:       "unknown-instruction",
		dockerfile: "FROM {{BASE}}\nRUN true\nFROBNICATE x\n",
		wantCode:   125,
		stderr:     []string{"line 3", "unknown instruction: FROBNICATE"},
	},
	{
		name:       "unsupported-flag-names-the-line",
		dockerfile: "FROM {{BASE}}\n\nRUN --mount=type=ssh true\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:3: RUN --mount=type=ssh is not supported yet"},
	},
	{
		name:       "missing-source",
		dockerfile: "FROM {{BASE}}\nCOPY nothere /x\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", `"nothere": no such file or directory`},
	},
	{
		name:       "several-sources-need-a-directory",
		dockerfile: "FROM {{BASE}}\nCOPY a b /file\n",
		files:      map[string]string{"a": "a", "b": "b"},
		wantCode:   125,
		stderr:     []string{"the destination must be a directory and end with a /"},
	},
	{
		name:       "unknown-target",
		dockerfile: "FROM {{BASE}} AS one\n",
		flags:      []string{"--target", "two"},
		wantCode:   125,
		stderr:     []string{`the target "two" was not found`},
	},
}

func hostArch() string {
	out, err := os.ReadFile("/proc/sys/kernel/arch")
	if err == nil && strings.TrimSpace(string(out)) == "aarch64" {
		return "arm64"
	}
	return "amd64"
}

// writeTarGz writes a gzipped tarball of files, owned by e's user.
func writeTarGz(t *testing.T, e *Env, p string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: fixtureEpoch, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(e.Dir, p)
	if err != nil {
		t.Fatal(err)
	}
	e.WriteFile(rel, buf.String())
}

// buildContext writes a context directory named dir in e.Dir with a
// Containerfile and files, and returns its path.
func (e *Env) buildContext(dir, dockerfile string, files map[string]string) string {
	e.T.Helper()
	for name, content := range files {
		e.WriteFile(filepath.Join(dir, name), content)
	}
	e.WriteFile(filepath.Join(dir, "Containerfile"), strings.ReplaceAll(dockerfile, "{{BASE}}", buildBase))
	return filepath.Join(e.Dir, dir)
}

// runIn runs a shell command in an image and returns its stdout.
func (e *Env) runIn(img, cmd string) string {
	e.T.Helper()
	return e.BerthOK("run", "--rm", "--network", "host", "--entrypoint", "", img, "sh", "-c", cmd).Out()
}

func allBuildCases() []buildCase {
	var all []buildCase
	for _, table := range buildCaseTables {
		all = append(all, table...)
	}
	return all
}

func TestBuildDockerfiles(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		t.Cleanup(func() { e.Berth("rm", "-a", "-f") })
		for _, c := range allBuildCases() {
			t.Run(c.name, func(t *testing.T) {
				parent := e.T
				e.T = t
				defer func() { e.T = parent }()
				ctx := filepath.Join(e.Dir, "ctx-"+c.name)
				if err := mkdirOwned(ctx, 0o755, e.user); err != nil {
					t.Fatal(err)
				}
				e.buildContext("ctx-"+c.name, c.dockerfile, c.files)
				if c.prepare != nil {
					c.prepare(t, e, ctx)
				}
				for name, mode := range c.modes {
					if err := os.Chmod(filepath.Join(ctx, name), mode); err != nil {
						t.Fatal(err)
					}
				}
				img := "localhost/e2e/build-" + c.name
				args := append([]string{"build", "-t", img}, c.flags...)
				if c.flagsFn != nil {
					args = append(args, c.flagsFn(ctx)...)
				}
				args = append(args, ctx)
				r := e.Berth(args...)
				if c.wantCode != 0 {
					if r.ExitCode != c.wantCode {
						t.Fatalf("want exit code %d:\n%s", c.wantCode, r.describe())
					}
				} else if r.ExitCode != 0 {
					t.Fatalf("build failed:\n%s", r.describe())
				}
				for _, s := range c.stdout {
					if !strings.Contains(r.Stdout, s) {
						t.Errorf("build stdout lacks %q:\n%s", s, r.describe())
					}
				}
				for _, s := range c.stderr {
					if !strings.Contains(r.Stderr, s) {
						t.Errorf("build stderr lacks %q:\n%s", s, r.describe())
					}
				}
				if c.wantCode != 0 {
					return
				}
				if id := lastLine(r.Stdout); !isImageID(id) {
					t.Errorf("the last line of build's stdout is %q, want the image ID", id)
				}
				for format, want := range c.inspect {
					if got := e.BerthOK("image", "inspect", "--format", format, img).Out(); got != want {
						t.Errorf("image inspect --format '%s' = %q, want %q", format, got, want)
					}
				}
				for cmd, want := range c.run {
					if got := e.runIn(img, cmd); got != want {
						t.Errorf("run %q printed %q, want %q", cmd, got, want)
					}
				}
				if c.after != nil {
					c.after(t, e, ctx)
				}
			})
		}
	})
}

// countCached counts the steps a build took from the cache.
func countCached(out string) int { return strings.Count(out, "--> Using cache ") }

func TestBuildCache(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		files := map[string]string{"one.txt": "1\n", "two.txt": "2\n"}
		ctx := e.buildContext("cache", `FROM {{BASE}}
ARG V=1
ENV E=$V
COPY one.txt /
RUN echo run1 > /run1
COPY two.txt /
RUN echo run2 > /run2
LABEL done=yes
`, files)
		first := e.BerthOK("build", "-t", "localhost/e2e/cached", ctx)
		id := lastLine(first.Stdout)
		if n := countCached(first.Stdout); n != 0 {
			t.Fatalf("a first build used the cache %d times:\n%s", n, first.Stdout)
		}
		if !strings.Contains(first.Stdout, "STEP 8/8: LABEL done=yes") || !strings.Contains(first.Stdout, "\nCOMMIT localhost/e2e/cached\n") ||
			!strings.Contains(first.Stdout, "Successfully tagged localhost/e2e/cached:latest") {
			t.Errorf("build output is not podman's:\n%s", first.Stdout)
		}
		if !regexp.MustCompile(`(?m)^--> [0-9a-f]{11}$`).MatchString(first.Stdout) {
			t.Errorf("no '--> <short id>' lines:\n%s", first.Stdout)
		}

		// the intermediate images are hidden, like podman's
		if got := e.names(); len(got) != 2 {
			t.Errorf("images lists %v, want the build's image and the base only", got)
		}
		if all := e.BerthOK("images", "-a", "-q").Lines(); len(all) < 8 {
			t.Errorf("images -a lists %d images, want the intermediate ones too", len(all))
		}

		// nothing changed: every step from the cache, the same image
		again := e.BerthOK("build", "-t", "localhost/e2e/cached", ctx)
		if n := countCached(again.Stdout); n != 7 {
			t.Errorf("a rebuild took %d steps from the cache, want 7:\n%s", n, again.Stdout)
		}
		if got := lastLine(again.Stdout); got != id {
			t.Errorf("a cached rebuild made %s, want the same image %s", got, id)
		}

		// a copied file changes: the steps before it are cached, it and the
		// ones after are built again
		time.Sleep(10 * time.Millisecond)
		e.WriteFile("cache/two.txt", "2 changed\n")
		changed := e.BerthOK("build", "-t", "localhost/e2e/cached", ctx)
		if n := countCached(changed.Stdout); n != 4 {
			t.Errorf("after changing two.txt, %d steps came from the cache, want 4 (up to RUN run1):\n%s", n, changed.Stdout)
		}
		if got := e.runIn("localhost/e2e/cached", "cat /two.txt"); got != "2 changed" {
			t.Errorf("the rebuilt image has two.txt = %q", got)
		}

		// touching a file (same content, new mtime) invalidates too
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(filepath.Join(ctx, "one.txt"), later, later); err != nil {
			t.Fatal(err)
		}
		touched := e.BerthOK("build", "-t", "localhost/e2e/cached", ctx)
		if n := countCached(touched.Stdout); n != 2 {
			t.Errorf("after touching one.txt, %d steps came from the cache, want 2 (ARG, ENV):\n%s", n, touched.Stdout)
		}

		// a different build arg: from its ARG on
		arg := e.BerthOK("build", "--build-arg", "V=2", "-t", "localhost/e2e/cached", ctx)
		if n := countCached(arg.Stdout); n != 0 {
			t.Errorf("with another --build-arg, %d steps came from the cache, want 0:\n%s", n, arg.Stdout)
		}

		// --no-cache builds everything
		nc := e.BerthOK("build", "--no-cache", "-t", "localhost/e2e/cached", ctx)
		if n := countCached(nc.Stdout); n != 0 {
			t.Errorf("--no-cache took %d steps from the cache", n)
		}
		if lastLine(nc.Stdout) == lastLine(touched.Stdout) {
			t.Errorf("--no-cache made the same image ID as a cached build")
		}

		// --layers=false neither uses nor makes the cache
		nl := e.BerthOK("build", "--layers=false", "-t", "localhost/e2e/nolayers", ctx)
		if n := countCached(nl.Stdout); n != 0 {
			t.Errorf("--layers=false took %d steps from the cache", n)
		}
		if got := e.runIn("localhost/e2e/nolayers", "cat /run1 /run2 /two.txt"); got != "run1\nrun2\n2 changed" {
			t.Errorf("--layers=false image: %q", got)
		}
	})
}

func TestBuildFailureLeavesNothing(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		ctx := e.buildContext("fail", "FROM {{BASE}}\nCOPY f /f\nRUN echo half > /half && false\n", map[string]string{"f": "f"})
		before := e.BerthOK("images", "-a", "-q").Lines()
		r := e.BerthFail(1, "build", "-t", "localhost/e2e/failed", ctx)
		if !strings.Contains(r.Stderr, `Error: building at STEP "RUN echo half > /half && false": while running runtime: exit status 1`) {
			t.Errorf("the error does not name the step and its exit status:\n%s", r.Stderr)
		}
		if out := e.BerthOK("ps", "-a", "-q").Out(); out != "" {
			t.Errorf("a failed build left containers: %s", out)
		}
		if e.Berth("image", "exists", "localhost/e2e/failed").ExitCode == 0 {
			t.Errorf("a failed build tagged an image")
		}
		// what podman leaves too: the images of the steps that succeeded
		// (the cache), here the COPY; nothing of the failed step
		after := e.BerthOK("images", "-a", "-q").Lines()
		if len(after) != len(before)+1 {
			t.Errorf("images -a went from %d to %d, want 1 more (the COPY step)", len(before), len(after))
		}
		checkNoBuildLeftovers(t, e)
		// the next build picks up from the cache
		e.WriteFile("fail/Containerfile", strings.ReplaceAll("FROM {{BASE}}\nCOPY f /f\nRUN echo whole > /whole\n", "{{BASE}}", buildBase))
		ok := e.BerthOK("build", "-t", "localhost/e2e/fixed", ctx)
		if countCached(ok.Stdout) != 1 {
			t.Errorf("the COPY step was not taken from the cache:\n%s", ok.Stdout)
		}
		if got := e.runIn("localhost/e2e/fixed", "ls /half 2>/dev/null; cat /whole"); got != "whole" {
			t.Errorf("the fixed build's image: %q", got)
		}
	})
}

// checkNoBuildLeftovers: no working layers, mounts or RUN bundles remain.
func checkNoBuildLeftovers(t *testing.T, e *Env) {
	t.Helper()
	layerFiles, _ := filepath.Glob(filepath.Join(e.Root, "*-layers", "layers.json"))
	for _, f := range layerFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var layers []struct {
			ID    string   `json:"id"`
			Names []string `json:"names"`
		}
		if err := json.Unmarshal(data, &layers); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, l := range layers {
			for _, n := range l.Names {
				if strings.HasPrefix(n, "berth-build-working-") {
					t.Errorf("working layer %s (%s) left behind", l.ID, n)
				}
			}
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, e.Root+"/") && strings.Contains(line, "/merged") {
			t.Errorf("a mount is left: %s", line)
		}
	}
	if e.Rootless() {
		// the store's mounts are in the pause process' namespace
		if pid := livePausePid(e.user); pid > 0 {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
			for _, line := range strings.Split(string(data), "\n") {
				if strings.Contains(line, e.Root+"/") && strings.Contains(line, "/merged") {
					t.Errorf("a mount is left in the user namespace: %s", line)
				}
			}
		}
	}
	bundles, _ := os.ReadDir(filepath.Join(e.RunRoot, "berth", "build"))
	for _, b := range bundles {
		t.Errorf("RUN bundle %s left in %s", b.Name(), filepath.Join(e.RunRoot, "berth", "build"))
	}
}

func TestBuildOutputAndFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		ctx := e.buildContext("flags", "FROM {{BASE}}\nRUN echo noisy\nCMD [\"true\"]\n", nil)
		iid := filepath.Join(e.Dir, "iid")
		r := e.BerthOK("build", "-q", "--iidfile", iid, "-t", "one", "--tag", "localhost/e2e/two:v2", ctx)
		id := r.Out()
		if !isImageID(id) {
			t.Fatalf("build -q printed %q, want only the image ID", r.Stdout)
		}
		data, err := os.ReadFile(iid)
		if err != nil || string(data) != "sha256:"+id {
			t.Errorf("--iidfile holds %q (%v), want sha256:%s", data, err, id)
		}
		for _, name := range []string{"localhost/one:latest", "localhost/e2e/two:v2"} {
			if got := e.BerthOK("image", "inspect", "--format", "{{.Id}}", name).Out(); got != id {
				t.Errorf("%s is %s, want %s", name, got, id)
			}
		}

		// -f - reads the Containerfile from stdin; the context is still a directory
		e.WriteFile("stdin-ctx/data.txt", "from the context\n")
		df := strings.ReplaceAll("FROM {{BASE}}\nCOPY data.txt /\n", "{{BASE}}", buildBase)
		sr := e.BerthIn(strings.NewReader(df), "build", "-f", "-", "-t", "localhost/e2e/stdin", filepath.Join(e.Dir, "stdin-ctx"))
		if sr.ExitCode != 0 {
			t.Fatalf("build -f -:\n%s", sr.describe())
		}
		if got := e.runIn("localhost/e2e/stdin", "cat /data.txt"); got != "from the context" {
			t.Errorf("build -f -: %q", got)
		}

		// -f names another file; Dockerfile is found when there is no Containerfile
		e.WriteFile("named/Other.file", strings.ReplaceAll("FROM {{BASE}}\nRUN echo other > /which\n", "{{BASE}}", buildBase))
		e.WriteFile("named/Dockerfile", strings.ReplaceAll("FROM {{BASE}}\nRUN echo dockerfile > /which\n", "{{BASE}}", buildBase))
		e.BerthOK("build", "-f", filepath.Join(e.Dir, "named", "Other.file"), "-t", "localhost/e2e/other", filepath.Join(e.Dir, "named"))
		e.BerthOK("build", "-t", "localhost/e2e/default", filepath.Join(e.Dir, "named"))
		if got := e.runIn("localhost/e2e/other", "cat /which") + " " + e.runIn("localhost/e2e/default", "cat /which"); got != "other dockerfile" {
			t.Errorf("-f and the default Containerfile: %q", got)
		}

		// buildx build is the same command
		bx := e.BerthOK("buildx", "build", "-q", "-t", "localhost/e2e/buildx", ctx)
		if !isImageID(bx.Out()) {
			t.Errorf("buildx build -q printed %q", bx.Stdout)
		}

		// flags berth does not have yet are refused, not ignored
		u := e.BerthFail(125, "build", "--ssh", "default", ctx)
		if !strings.Contains(u.Stderr, "--ssh is not supported yet") {
			t.Errorf("--ssh: %s", u.Stderr)
		}
		e.BerthFail(125, "build", "--squash", "--squash-all", ctx)
		e.BerthFail(125, "build", "--network", "bridge", ctx)

		// an image built by build survives save and load: its layers'
		// digests are what storage reproduces, whiteouts and opaque
		// directories included
		e.WriteFile("stdin-ctx/Containerfile", strings.ReplaceAll(`FROM {{BASE}}
COPY data.txt /
RUN mkdir -p /d/sub && echo old > /d/sub/old && echo keep > /keep && echo gone > /gone
RUN rm /gone /bin/vi && rm -rf /d && mkdir /d && echo new > /d/new
`, "{{BASE}}", buildBase))
		e.BerthOK("build", "-t", "localhost/e2e/saved", filepath.Join(e.Dir, "stdin-ctx"))
		archive := filepath.Join(e.Dir, "built.tar")
		e.BerthOK("save", "-o", archive, "localhost/e2e/saved")
		e.BerthOK("rmi", "localhost/e2e/saved")
		e.BerthOK("load", "-i", archive)
		want := "from the context\nkeep\nnew\ngone"
		if got := e.runIn("localhost/e2e/saved", "cat /data.txt /keep; ls /d; ls /gone /bin/vi 2>/dev/null || echo gone"); got != want {
			t.Errorf("after save and load: %q, want %q", got, want)
		}
		checkNoBuildLeftovers(t, e)
	})
}

func TestBuildPullsBaseImage(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref, _ := e.pushBusybox(reg)
		e.BerthOK("rmi", busyboxName)
		ctx := e.buildContext("pull", "FROM "+ref+"\nRUN echo pulled > /pulled\n", nil)
		never := e.BerthFail(125, "build", "--pull=never", "--tls-verify=false", ctx)
		if !strings.Contains(never.Stderr, "image not known") {
			t.Errorf("--pull=never with no local image: %s", never.Stderr)
		}
		r := e.BerthOK("build", "--tls-verify=false", "-t", "localhost/e2e/from-registry", ctx)
		if !strings.Contains(r.Stderr, "Copying blob") {
			t.Errorf("the base image was not pulled:\n%s", r.describe())
		}
		if got := e.runIn("localhost/e2e/from-registry", "cat /pulled"); got != "pulled" {
			t.Errorf("image built on a pulled base: %q", got)
		}
		// present now: not pulled again (unless --pull=always)
		again := e.BerthOK("build", "--tls-verify=false", "-t", "localhost/e2e/from-registry", ctx)
		if strings.Contains(again.Stderr, "Copying blob") {
			t.Errorf("the base image was pulled again:\n%s", again.Stderr)
		}
		always := e.BerthOK("build", "--pull", "--tls-verify=false", "-t", "localhost/e2e/from-registry", ctx)
		if !strings.Contains(always.Stderr, "Writing manifest") {
			t.Errorf("--pull did not pull:\n%s", always.describe())
		}
	})
}

// TestBuildHistoryPairsStepImages checks that history gives each step the
// image that step made, also where steps share a top layer.
func TestBuildHistoryPairsStepImages(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage("localhost/busybox:latest")
		ctx := e.buildContext("hist", "FROM localhost/busybox:latest\nENV A=1\nRUN echo x > /x\nLABEL l=1\nCMD [\"cat\",\"/x\"]\n", nil)
		e.BerthOK("build", "-q", "-t", "hist", ctx)
		ids := e.BerthOK("history", "-q", "hist").Lines()
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "<missing>" || seen[id] {
				t.Fatalf("history IDs %v: each step should have its own image", ids)
			}
			seen[id] = true
			e.BerthOK("image", "exists", id)
		}
		if len(ids) != 5 {
			t.Fatalf("history has %d rows, want 5: %v", len(ids), ids)
		}
	})
}
