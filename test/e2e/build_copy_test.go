package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The COPY/ADD side of build: here-documents, ADD of URLs (from an http
// server on 127.0.0.1 in this process), --link, --parents, --exclude,
// --unpack, --checksum, symbolic --chmod and the COPY rules of docker.

const copyFileContent = "downloaded\n"

// copyFileModTime is the Last-Modified of the served files.
var copyFileModTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

var copySrv struct {
	once     sync.Once
	url      string
	mu       sync.Mutex
	changing string // what /changing.txt serves
	archive  []byte // /arch.tar.gz
}

// copyServerURL starts (once) the server ADD downloads from and returns
// its address. /file.txt and /arch.tar.gz have a Last-Modified time,
// /nolm.txt has none, /changing.txt serves what setChanging set, anything
// else is 404.
func copyServerURL() string {
	copySrv.once.Do(func() {
		copySrv.changing = "v1\n"
		copySrv.archive = tarGz(map[string]string{"inside.txt": "inside\n"})
		mux := http.NewServeMux()
		mux.HandleFunc("/file.txt", func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "file.txt", copyFileModTime, strings.NewReader(copyFileContent))
		})
		mux.HandleFunc("/arch.tar.gz", func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "arch.tar.gz", copyFileModTime, bytes.NewReader(copySrv.archive))
		})
		mux.HandleFunc("/nolm.txt", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("no last-modified\n")) //nolint:errcheck
		})
		mux.HandleFunc("/changing.txt", func(w http.ResponseWriter, r *http.Request) {
			copySrv.mu.Lock()
			defer copySrv.mu.Unlock()
			w.Write([]byte(copySrv.changing)) //nolint:errcheck
		})
		// the server lives as long as the test binary
		copySrv.url = httptest.NewServer(mux).URL
	})
	return copySrv.url
}

func setChanging(content string) {
	copySrv.mu.Lock()
	defer copySrv.mu.Unlock()
	copySrv.changing = content
}

// srvArg passes the server's address to the build as ARG SRV.
func srvArg(string) []string { return []string{"--build-arg", "SRV=" + copyServerURL()} }

// tarGz is a gzipped tarball of files (writing to memory cannot fail).
func tarGz(files map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: copyFileModTime, Typeflag: tar.TypeReg}) //nolint:errcheck
		tw.Write([]byte(content))                                                                                                        //nolint:errcheck
	}
	tw.Close() //nolint:errcheck
	gz.Close() //nolint:errcheck
	return buf.Bytes()
}

func sha256Of(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// rebuild builds the case's context again and returns the output.
func rebuild(t *testing.T, e *Env, ctx, img string, extra ...string) *Result {
	t.Helper()
	args := append([]string{"build", "-t", img}, extra...)
	return e.BerthOK(append(args, ctx)...)
}

func init() { buildCaseTables = append(buildCaseTables, copyCases) }

var copyCases = []buildCase{
	{
		name: "copy-heredocs",
		dockerfile: `FROM {{BASE}}
ARG NAME=world
ENV GREETING=hello
WORKDIR /w
COPY <<EOF /greeting.txt
$GREETING ${NAME}
EOF
COPY <<"EOF" /literal.txt
$GREETING ${NAME}
EOF
COPY --chmod=0755 --chown=nobody:nobody <<script.sh <<other.txt /dir/
#!/bin/sh
echo from-script
script.sh
other "quoted" $NAME
other.txt
COPY <<-EOF rel.txt
	tab stripped
	EOF
ADD <<EOF /added.txt
added
EOF
`,
		flags: []string{"--build-arg", "NAME=berth"},
		run: map[string]string{
			"cat /greeting.txt /literal.txt":                   "hello berth\n$GREETING ${NAME}",
			"/dir/script.sh; cat /dir/other.txt":               "from-script\nother \"quoted\" berth",
			"stat -c '%u:%g %a' /dir/script.sh /dir/other.txt": "65534:65534 755\n65534:65534 755",
			"stat -c '%u:%g %a' /greeting.txt":                 "0:0 644",
			"cat /w/rel.txt /added.txt":                        "tab stripped\nadded",
		},
		after: func(t *testing.T, e *Env, ctx string) {
			// the same here-documents: every step from the cache
			r := rebuild(t, e, ctx, "localhost/e2e/build-copy-heredocs", "--build-arg", "NAME=berth")
			if n := countCached(r.Stdout); n != 8 {
				t.Errorf("a rebuild took %d steps from the cache, want 8:\n%s", n, r.Stdout)
			}
			// another ARG value changes the expanded content
			rebuild(t, e, ctx, "localhost/e2e/build-copy-heredocs-other", "--build-arg", "NAME=other")
			if got := e.runIn("localhost/e2e/build-copy-heredocs-other", "cat /greeting.txt"); got != "hello other" {
				t.Errorf("with NAME=other, /greeting.txt = %q", got)
			}
		},
	},
	{
		name: "copy-heredoc-into-file-and-several-need-a-directory",
		dockerfile: `FROM {{BASE}}
COPY <<a <<b /file
1
a
2
b
`,
		wantCode: 125,
		stderr:   []string{"Containerfile:2:", "the destination must be a directory and end with a /"},
	},
	{
		name: "add-urls",
		dockerfile: `FROM {{BASE}}
ARG SRV
ADD $SRV/file.txt /d/
ADD $SRV/file.txt /named
ADD $SRV/arch.tar.gz /d/
ADD --chmod=0644 --chown=nobody $SRV/nolm.txt /d/
ADD $SRV/file.txt?query=1 /q/
ADD $SRV/changing.txt /changing.txt
`,
		prepare: func(t *testing.T, e *Env, ctx string) { setChanging("v1\n") },
		flagsFn: srvArg,
		run: map[string]string{
			"cat /d/file.txt /named /q/file.txt":               "downloaded\ndownloaded\ndownloaded",
			"stat -c '%a %u:%g' /d/file.txt /named":            "600 0:0\n600 0:0",
			"date -u -r /d/file.txt +%Y-%m-%dT%H:%M:%S":        "2001-02-03T04:05:06",
			"ls /d | tr '\\n' ' '":                             "arch.tar.gz file.txt nolm.txt",
			"stat -c '%a %u' /d/nolm.txt; cat /d/nolm.txt":     "644 65534\nno last-modified",
			"gunzip -c /d/arch.tar.gz | tar -xOf - inside.txt": "inside",
			"cat /changing.txt":                                "v1",
		},
		after: func(t *testing.T, e *Env, ctx string) {
			img := "localhost/e2e/build-add-urls"
			arg := srvArg("")
			// downloaded again, the same content: from the cache
			r := rebuild(t, e, ctx, img, arg...)
			if n := countCached(r.Stdout); n != 7 {
				t.Errorf("a rebuild took %d steps from the cache, want 7:\n%s", n, r.Stdout)
			}
			// the content changes: the step runs again
			setChanging("v2\n")
			r = rebuild(t, e, ctx, img, arg...)
			if n := countCached(r.Stdout); n != 6 {
				t.Errorf("after the served file changed, %d steps came from the cache, want 6:\n%s", n, r.Stdout)
			}
			if got := e.runIn(img, "cat /changing.txt"); got != "v2" {
				t.Errorf("after the served file changed, the image has %q", got)
			}
		},
	},
	{
		name: "add-url-checksum",
		dockerfile: `FROM {{BASE}}
ARG SRV
ADD --checksum=` + sha256Of(copyFileContent) + ` $SRV/file.txt /ok.txt
`,
		flagsFn: srvArg,
		run:     map[string]string{"cat /ok.txt": "downloaded"},
	},
	{
		name: "add-url-checksum-mismatch",
		dockerfile: `FROM {{BASE}}
ARG SRV
ADD --checksum=` + sha256Of("other") + ` $SRV/file.txt /bad.txt
`,
		flagsFn:  srvArg,
		wantCode: 125,
		stderr:   []string{"Containerfile:3:", "/file.txt", "checksum mismatch", sha256Of(copyFileContent)},
	},
	{
		name:       "add-checksum-needs-a-url",
		dockerfile: "FROM {{BASE}}\nADD --checksum=" + sha256Of("x") + " a.txt /a\n",
		files:      map[string]string{"a.txt": "x"},
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", "checksum requires HTTP(S) or Git sources"},
	},
	{
		name:       "add-url-not-found",
		dockerfile: "FROM {{BASE}}\nARG SRV\nADD $SRV/missing.txt /m/\n",
		flagsFn:    srvArg,
		wantCode:   125,
		stderr:     []string{"Containerfile:3:", "/missing.txt", "invalid response status 404"},
	},
	{
		name:       "add-url-connection-refused",
		dockerfile: "FROM {{BASE}}\nADD http://127.0.0.1:1/x.txt /x\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", `"http://127.0.0.1:1/x.txt"`, "connection refused"},
	},
	{
		name:       "copy-refuses-git",
		dockerfile: "FROM {{BASE}}\nCOPY http://127.0.0.1:1/repo.git /repo\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", "source can't be a git ref for COPY"},
	},
	{
		name:       "copy-refuses-urls",
		dockerfile: "FROM {{BASE}}\nCOPY http://127.0.0.1:1/x /x\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", "source can't be a URL for COPY"},
	},
	{
		// --link gives what the copy without it gives
		name: "copy-add-link",
		dockerfile: `FROM {{BASE}}
COPY --link a.txt /l/
ADD --link --chown=1:2 dir /d/
COPY --link=false a.txt /nolink
`,
		files: map[string]string{"a.txt": "a\n", "dir/sub/f": "f\n"},
		run: map[string]string{
			"cat /l/a.txt /d/sub/f /nolink":        "a\nf\na",
			"stat -c '%u:%g %a' /l/a.txt /d/sub/f": "0:0 644\n1:2 644",
		},
		inspect: map[string]string{"{{len .RootFS.Layers}}": "4"},
	},
	{
		name: "copy-parents",
		dockerfile: `FROM {{BASE}}
COPY --parents x/a.txt y/a.txt /parents/
COPY --parents ./src/**/*.txt /glob/
COPY --parents src/./x/y/*.txt /pivot/
WORKDIR /w
COPY --parents x/a.txt .
COPY --parents nothing*/a /none/
`,
		files: map[string]string{"x/a.txt": "xa", "y/a.txt": "ya", "src/a.txt": "1", "src/x/b.txt": "2", "src/x/y/c.txt": "3", "src/x/y/d.md": "4"},
		prepare: func(t *testing.T, e *Env, ctx string) {
			if err := os.Chmod(filepath.Join(ctx, "x"), 0o750); err != nil {
				t.Fatal(err)
			}
		},
		run: map[string]string{
			"cd / && find parents glob pivot w none | sort | tr '\\n' ' '": "glob glob/src glob/src/a.txt glob/src/x glob/src/x/b.txt glob/src/x/y glob/src/x/y/c.txt " +
				"none parents parents/x parents/x/a.txt parents/y parents/y/a.txt pivot pivot/x pivot/x/y pivot/x/y/c.txt w w/x w/x/a.txt",
			"cat /parents/x/a.txt /parents/y/a.txt": "xaya",
			// parent directories are made like the source's
			"stat -c %a /parents/x /w/x": "750\n750",
		},
	},
	{
		name: "copy-parents-from-a-stage",
		dockerfile: `FROM {{BASE}} AS base
RUN mkdir -p /test/a/b/c/d/e /test/a/b2/c/d/e && touch /test/a/b/c/d/foo /test/a/b/c/d/e/bay /test/a/b2/c/d/e/bar
FROM {{BASE}}
COPY --from=base --parents /test/a/b/./c/d /out1/
COPY --from=base --parents /test/a/./*/c /out2/
COPY --from=base --parents /test/a/b*/./c/**/e /out3/
COPY --from=base --parents /test/a/b/c/d/. /out4/
`,
		run: map[string]string{
			"cd /out1 && find . -type f | sort | tr '\\n' ' '": "./c/d/e/bay ./c/d/foo",
			"cd /out2 && find . -type f | sort | tr '\\n' ' '": "./b/c/d/e/bay ./b/c/d/foo ./b2/c/d/e/bar",
			"cd /out3 && find . -type f | sort | tr '\\n' ' '": "./c/d/e/bar ./c/d/e/bay",
			"cd /out4 && find . -type f | sort | tr '\\n' ' '": "./test/a/b/c/d/e/bay ./test/a/b/c/d/foo",
		},
	},
	{
		name:       "copy-parents-missing-source",
		dockerfile: "FROM {{BASE}}\nCOPY --parents a/nothing /out/\n",
		files:      map[string]string{"a/x": "x"},
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", `"a/nothing": no such file or directory`},
	},
	{
		name: "copy-add-exclude",
		dockerfile: `FROM {{BASE}} AS base
RUN mkdir -p /data/sub && touch /data/keep.txt /data/drop.log /data/sub/drop.log /data/sub/keep.md
FROM {{BASE}}
COPY --exclude=*/*.png --exclude=**/*.pdf --exclude=Containerfile . /all/
COPY --exclude=*.txt hom* /hom/
ADD --exclude=*.txt --exclude=!keep.txt dir1 /add/
COPY --from=base --exclude=**/*.log /data /fromstage/
`,
		files: map[string]string{
			"dir1/a.png": "p", "dir1/b.txt": "t", "dir1/keep.txt": "k", "dir2/c.pdf": "d", "dir2/sub/e.pdf": "e",
			"home.txt": "h", "home.md": "m", "homedir/x.txt": "x", "homedir/y.go": "y",
		},
		run: map[string]string{
			"cd /all && find . -type f | sort | tr '\\n' ' '":       "./dir1/b.txt ./dir1/keep.txt ./home.md ./home.txt ./homedir/x.txt ./homedir/y.go",
			"ls /hom | tr '\\n' ' '":                                "home.md y.go",
			"ls /add | tr '\\n' ' '":                                "a.png keep.txt",
			"cd /fromstage && find . -type f | sort | tr '\\n' ' '": "./keep.txt ./sub/keep.md",
		},
	},
	{
		name: "add-unpack",
		dockerfile: `FROM {{BASE}}
ARG SRV
ADD files.tar.gz /default/
ADD --unpack=false files.tar.gz /kept/
ADD --unpack=true $SRV/arch.tar.gz /remote/
COPY files.tar.gz /copied/
`,
		flagsFn: srvArg,
		prepare: func(t *testing.T, e *Env, ctx string) {
			writeTarGz(t, e, filepath.Join(ctx, "files.tar.gz"), map[string]string{"top.txt": "top\n"})
		},
		run: map[string]string{
			"cat /default/top.txt /remote/inside.txt": "top\ninside",
			"ls /kept /copied | tr '\\n' ' '":         "/copied: files.tar.gz  /kept: files.tar.gz",
		},
	},
	{
		name: "add-extracts-every-archive-format",
		dockerfile: `FROM {{BASE}}
ADD plain.tar /plain/
ADD x.tar.xz /xz
ADD x.tar.bz2 x.tar.zst /more/
`,
		files: map[string]string{"src/in.txt": "in\n"},
		prepare: func(t *testing.T, e *Env, ctx string) {
			for name, flag := range map[string]string{"plain.tar": "", "x.tar.xz": "--xz", "x.tar.bz2": "--bzip2", "x.tar.zst": "--zstd"} {
				args := []string{"-C", filepath.Join(ctx, "src"), "-cf", filepath.Join(ctx, name)}
				if flag != "" {
					args = append(args, flag)
				}
				if out, err := exec.Command("tar", append(args, "in.txt")...).CombinedOutput(); err != nil {
					t.Skipf("tar %s: %v: %s", flag, err, out)
				}
			}
		},
		run: map[string]string{"cat /plain/in.txt /xz/in.txt /more/in.txt; ls /more": "in\nin\nin\nin.txt"},
	},
	{
		name: "copy-chmod-symbolic",
		dockerfile: `FROM {{BASE}}
COPY --chmod=u+x,go-w script.sh /s/
COPY --chmod=u=rwX,go=rX dir exe.sh /d/
COPY --chmod=g=u exe.sh /g/
ADD --chmod=+x script.sh /a/
`,
		files: map[string]string{"script.sh": "#!/bin/sh\necho ran\n", "exe.sh": "e", "dir/f": "f", "dir/sub/g": "g"},
		modes: map[string]os.FileMode{"script.sh": 0o664, "exe.sh": 0o750, "dir/f": 0o600, "dir/sub": 0o700},
		run: map[string]string{
			"stat -c %a /s/script.sh /d/exe.sh /d/f /d/sub /g/exe.sh /a/script.sh": "744\n755\n644\n755\n770\n775",
			"/s/script.sh": "ran",
		},
	},
	{
		name:       "copy-chmod-invalid",
		dockerfile: "FROM {{BASE}}\nARG M=u+q\nCOPY --chmod=$M a /a\n",
		files:      map[string]string{"a": "a"},
		wantCode:   125,
		stderr:     []string{"Containerfile:3:", "invalid chmod parameter: 'u+q'"},
	},
	{
		// a symlink named as a source is followed; it keeps its name
		name: "copy-symlink-sources",
		dockerfile: `FROM {{BASE}}
COPY link /l
COPY link dlink /multi/
COPY l* /glob/
COPY dir/ /tree/
`,
		files: map[string]string{"a.txt": "a\n", "d/sub/x": "x\n", "dir/f": "f\n"},
		prepare: func(t *testing.T, e *Env, ctx string) {
			for link, target := range map[string]string{"link": "a.txt", "dlink": "d", "dir/rel": "f"} {
				if err := os.Symlink(target, filepath.Join(ctx, link)); err != nil {
					t.Fatal(err)
				}
			}
		},
		run: map[string]string{
			"test -L /l || cat /l":              "a",
			"ls /multi /glob | tr '\\n' ' '":    "/glob: link  /multi: link sub",
			"cat /multi/link /multi/sub/x":      "a\nx",
			"readlink /tree/rel; cat /tree/rel": "f\nf",
		},
	},
	{
		name: "copy-destinations-and-from-wildcards",
		dockerfile: `FROM {{BASE}} AS base
RUN mkdir /data && echo 1 > /data/a.txt && echo 2 > /data/b.txt && echo 3 > /data/c.md
FROM {{BASE}}
COPY a.txt /nodir
COPY a.txt /withslash/
RUN mkdir /existing
COPY a.txt /existing
COPY --from=base /data/*.txt /fromglob/
COPY --from=base /data/?.md /single.md
`,
		files: map[string]string{"a.txt": "a\n"},
		run: map[string]string{
			"test -f /nodir && cat /nodir /withslash/a.txt /existing/a.txt": "a\na\na",
			"ls /fromglob | tr '\\n' ' '; cat /single.md":                   "a.txt b.txt 3",
		},
	},
	{
		name: "copy-chown-names-from-the-image",
		dockerfile: `FROM {{BASE}}
RUN echo 'app:x:4242:4343::/home/app:/bin/sh' >> /etc/passwd && echo 'grp:x:4343:' >> /etc/group && echo 'other:x:4545:' >> /etc/group
COPY --chown=app a.txt /user
COPY --chown=app:other a.txt /usergroup
COPY --chown=4242:grp <<EOF /doc
doc
EOF
`,
		files: map[string]string{"a.txt": "a"},
		run:   map[string]string{"stat -c '%u:%g' /user /usergroup /doc": "4242:4343\n4242:4545\n4242:4343"},
	},
	{
		name:       "copy-chown-unknown-user",
		dockerfile: "FROM {{BASE}}\nCOPY --chown=nosuchuser a.txt /a\n",
		files:      map[string]string{"a.txt": "a"},
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", "--chown=nosuchuser"},
	},
}

// A failed download or checksum leaves nothing: no image of the step, no
// working layer, no temporary files.
func TestBuildAddURLFailureLeavesNothing(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		tmp := filepath.Join(e.Dir, "tmp")
		if err := mkdirOwned(tmp, 0o700, e.user); err != nil {
			t.Fatal(err)
		}
		e.UseTmpDir(tmp)
		ctx := e.buildContext("urlfail", "FROM {{BASE}}\nARG SRV\nCOPY <<EOF /doc\ndoc\nEOF\nADD --checksum="+sha256Of("nope")+" $SRV/file.txt /f\n", nil)
		before := e.BerthOK("images", "-a", "-q").Lines()
		r := e.BerthFail(125, "build", "--build-arg", "SRV="+copyServerURL(), "-t", "localhost/e2e/urlfail", ctx)
		if !strings.Contains(r.Stderr, "checksum mismatch") {
			t.Errorf("no checksum mismatch error:\n%s", r.Stderr)
		}
		if e.Berth("image", "exists", "localhost/e2e/urlfail").ExitCode == 0 {
			t.Errorf("a failed build tagged an image")
		}
		// the ARG and the COPY steps are cached, nothing of the ADD
		if after := e.BerthOK("images", "-a", "-q").Lines(); len(after) != len(before)+2 {
			t.Errorf("images -a went from %d to %d, want 2 more (ARG, COPY)", len(before), len(after))
		}
		checkNoBuildLeftovers(t, e)
		if left, _ := filepath.Glob(filepath.Join(tmp, "berth-build-copy-*")); len(left) != 0 {
			t.Errorf("the build left temporary files: %v", left)
		}
		// a build that succeeds leaves none either
		e.WriteFile("urlfail/Containerfile", strings.ReplaceAll("FROM {{BASE}}\nARG SRV\nCOPY <<EOF /doc\ndoc\nEOF\nADD $SRV/file.txt /f\n", "{{BASE}}", buildBase))
		e.BerthOK("build", "--build-arg", "SRV="+copyServerURL(), "-t", "localhost/e2e/urlok", ctx)
		if left, _ := filepath.Glob(filepath.Join(tmp, "berth-build-copy-*")); len(left) != 0 {
			t.Errorf("the build left temporary files: %v", left)
		}
	})
}
