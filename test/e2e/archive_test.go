package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// archiveInspect is the part of `image inspect` the tests look at.
type archiveInspect struct {
	ID          string   `json:"Id"`
	Digest      string   `json:"Digest"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
	Parent      string   `json:"Parent"`
	Comment     string   `json:"Comment"`
	Created     string   `json:"Created"`
	Config      struct {
		Env          []string            `json:"Env"`
		Cmd          []string            `json:"Cmd"`
		Entrypoint   []string            `json:"Entrypoint"`
		Labels       map[string]string   `json:"Labels"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		WorkingDir   string              `json:"WorkingDir"`
		User         string              `json:"User"`
		Volumes      map[string]struct{} `json:"Volumes"`
		StopSignal   string              `json:"StopSignal"`
	} `json:"Config"`
	Architecture string `json:"Architecture"`
	Os           string `json:"Os"`
	Size         int64  `json:"Size"`
	VirtualSize  int64  `json:"VirtualSize"`
	GraphDriver  struct {
		Name string            `json:"Name"`
		Data map[string]string `json:"Data"`
	} `json:"GraphDriver"`
	RootFS struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
	Labels       map[string]string `json:"Labels"`
	Annotations  map[string]string `json:"Annotations"`
	ManifestType string            `json:"ManifestType"`
	User         string            `json:"User"`
	History      []struct {
		Created    string `json:"created"`
		CreatedBy  string `json:"created_by"`
		Comment    string `json:"comment"`
		EmptyLayer bool   `json:"empty_layer"`
	} `json:"History"`
	NamesHistory []string `json:"NamesHistory"`
}

// archiveInspectImages runs `image inspect` and parses its JSON array.
func (e *Env) archiveInspectImages(names ...string) []archiveInspect {
	e.T.Helper()
	r := e.BerthOK(append([]string{"image", "inspect"}, names...)...)
	var list []archiveInspect
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		e.T.Fatalf("image inspect output does not parse: %v\n%s", err, r.Stdout)
	}
	if len(list) != len(names) {
		e.T.Fatalf("image inspect %s gave %d elements, want %d:\n%s", strings.Join(names, " "), len(list), len(names), r.Stdout)
	}
	return list
}

// archiveImageIDs is `images -a -q --no-trunc` without the sha256: prefixes, sorted.
func (e *Env) archiveImageIDs() []string {
	e.T.Helper()
	ids := e.BerthOK("images", "-a", "-q", "--no-trunc").Lines()
	for i := range ids {
		ids[i] = strings.TrimPrefix(ids[i], "sha256:")
	}
	slices.Sort(ids)
	return ids
}

// archiveLayerCount counts the layers in e's store, whichever driver it uses.
func (e *Env) archiveLayerCount() int {
	e.T.Helper()
	files, _ := filepath.Glob(filepath.Join(e.Root, "*-layers", "layers.json"))
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			e.T.Fatal(err)
		}
		var layers []json.RawMessage
		if err := json.Unmarshal(data, &layers); err != nil {
			e.T.Fatalf("%s does not parse: %v", f, err)
		}
		n += len(layers)
	}
	return n
}

// archiveRequireEmpty fails unless e's store holds no image and no layer.
func (e *Env) archiveRequireEmpty(after string) {
	e.T.Helper()
	if ids := e.archiveImageIDs(); len(ids) != 0 {
		e.T.Errorf("after %s, images -a lists %q, want nothing", after, ids)
	}
	if n := e.archiveLayerCount(); n != 0 {
		e.T.Errorf("after %s, the store holds %d layer(s), want none", after, n)
	}
}

// archiveWriteBytes writes data to name in e.Dir (readable by the mode's user).
func (e *Env) archiveWriteBytes(name string, data []byte) string {
	e.T.Helper()
	p := e.WriteFile(name, "")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.T.Fatal(err)
	}
	return p
}

func archiveReadFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func archiveGzip(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestArchiveImport(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		rootfs := busyboxRootfsTar(t)

		t.Run("file with changes", func(t *testing.T) {
			r := e.BerthOK("import",
				"--change", `CMD ["/bin/echo", "hello"]`,
				"-c", "ENV FOO=bar BAZ=\"two words\"",
				"-c", "ENTRYPOINT /bin/sh",
				"-c", "LABEL org.example.a=1 b=2",
				"-c", "EXPOSE 8080/tcp 53/udp",
				"-c", "WORKDIR /srv",
				"-c", "USER 1000",
				"-c", "VOLUME /data",
				"-c", "STOPSIGNAL SIGINT",
				"-m", "imported for e2e",
				rootfs, "e2e/changes")
			id := strings.TrimPrefix(lastLine(r.Stdout), "sha256:")
			if !isImageID(id) || !strings.HasPrefix(lastLine(r.Stdout), "sha256:") {
				t.Fatalf("import printed %q as its last line, want sha256:<image ID>", lastLine(r.Stdout))
			}
			if !strings.Contains(r.Stderr, "Writing manifest") {
				t.Errorf("import without -q shows no progress on stderr:\n%s", r.Stderr)
			}
			img := e.archiveInspectImages("e2e/changes")[0]
			if img.ID != id {
				t.Errorf("inspect Id = %q, want the ID import printed, %q", img.ID, id)
			}
			if !slices.Equal(img.RepoTags, []string{"localhost/e2e/changes:latest"}) {
				t.Errorf("RepoTags = %q, want [localhost/e2e/changes:latest] (short names go to localhost/)", img.RepoTags)
			}
			c := img.Config
			if !slices.Equal(c.Cmd, []string{"/bin/echo", "hello"}) {
				t.Errorf("Cmd = %q, want the exec form [/bin/echo hello]", c.Cmd)
			}
			if !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", "/bin/sh"}) {
				t.Errorf("Entrypoint = %q, want the shell form [/bin/sh -c /bin/sh]", c.Entrypoint)
			}
			if !slices.Contains(c.Env, "FOO=bar") || !slices.Contains(c.Env, "BAZ=two words") {
				t.Errorf("Env = %q, want FOO=bar and BAZ=two words", c.Env)
			}
			if c.Labels["org.example.a"] != "1" || c.Labels["b"] != "2" || img.Labels["b"] != "2" {
				t.Errorf("Config.Labels = %v, Labels = %v, want org.example.a=1 b=2 in both", c.Labels, img.Labels)
			}
			for _, p := range []string{"8080/tcp", "53/udp"} {
				if _, ok := c.ExposedPorts[p]; !ok {
					t.Errorf("ExposedPorts = %v, want %s", c.ExposedPorts, p)
				}
			}
			if _, ok := c.Volumes["/data"]; !ok || c.WorkingDir != "/srv" || c.User != "1000" || img.User != "1000" || c.StopSignal != "SIGINT" {
				t.Errorf("Volumes %v, WorkingDir %q, User %q/%q, StopSignal %q: want /data, /srv, 1000, SIGINT",
					c.Volumes, c.WorkingDir, c.User, img.User, c.StopSignal)
			}
			if img.Comment != "imported for e2e" || len(img.History) != 1 || img.History[0].Comment != "imported for e2e" {
				t.Errorf("Comment = %q, History = %+v, want the -m message", img.Comment, img.History)
			}
			if len(img.History) == 1 && !strings.Contains(img.History[0].CreatedBy, "ADD file:") {
				t.Errorf("history created_by = %q, want podman's \"/bin/sh -c #(nop) ADD file:... in /\"", img.History[0].CreatedBy)
			}
			if img.Os != "linux" || img.Architecture != goruntime.GOARCH || len(img.RootFS.Layers) != 1 || img.RootFS.Type != "layers" {
				t.Errorf("Os %q, Architecture %q, RootFS %+v: want linux, %s, one layer", img.Os, img.Architecture, img.RootFS, goruntime.GOARCH)
			}
			if img.Created == "" || strings.HasPrefix(img.Created, "0001") {
				t.Errorf("Created = %q, want a time", img.Created)
			}
		})

		t.Run("stdin, compressed", func(t *testing.T) {
			plain := e.archiveInspectImages("e2e/changes")[0].RootFS.Layers
			gz := e.archiveWriteBytes("rootfs.tar.gz", archiveGzip(t, archiveReadFile(t, rootfs)))
			f, err := os.Open(gz)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := e.BerthIn(f, "import", "-q", "-c", "CMD /bin/true", "-", "e2e/stdin:v1")
			if r.ExitCode != 0 {
				t.Fatalf("import - failed:\n%s", r.describe())
			}
			if len(r.Lines()) != 1 || !strings.HasPrefix(r.Out(), "sha256:") || r.Stderr != "" {
				t.Errorf("import -q printed stdout %q, stderr %q; want only sha256:<ID>", r.Stdout, r.Stderr)
			}
			img := e.archiveInspectImages("e2e/stdin:v1")[0]
			if !slices.Equal(img.RootFS.Layers, plain) {
				t.Errorf("the gzip tarball gave layers %q, the plain one %q: want the same diff ID", img.RootFS.Layers, plain)
			}
			if !slices.Equal(img.Config.Cmd, []string{"/bin/sh", "-c", "/bin/true"}) {
				t.Errorf("Cmd = %q, want [/bin/sh -c /bin/true]", img.Config.Cmd)
			}
			if !slices.Contains(e.names(), "localhost/e2e/stdin:v1") {
				t.Errorf("images does not list localhost/e2e/stdin:v1: %q", e.names())
			}
		})

		t.Run("no name is dangling", func(t *testing.T) {
			tiny := e.TarFile("tiny.tar", map[string]string{"hello.txt": "hi\n"})
			id := strings.TrimPrefix(lastLine(e.BerthOK("import", "-q", tiny).Stdout), "sha256:")
			got := e.BerthOK("images", "-q", "--no-trunc", "--filter", "dangling=true").Lines()
			if !slices.Contains(got, "sha256:"+id) {
				t.Errorf("images --filter dangling=true = %q, want sha256:%s", got, id)
			}
			if img := e.archiveInspectImages(id)[0]; len(img.RepoTags) != 0 {
				t.Errorf("RepoTags = %q, want none", img.RepoTags)
			}
		})

		t.Run("unknown instruction", func(t *testing.T) {
			r := e.BerthFail(125, "import", "-c", "FROBNICATE now", rootfs, "e2e/bad")
			if !strings.Contains(r.Stderr, "FROBNICATE") {
				t.Errorf("stderr does not name the bad instruction:\n%s", r.Stderr)
			}
			e.BerthFail(1, "image", "exists", "e2e/bad")
		})

		t.Run("relative path", func(t *testing.T) {
			tiny := e.TarFile("relative.tar", map[string]string{"r.txt": "r\n"})
			r := e.Berth("import", "-q", filepath.Base(tiny), "e2e/relative")
			if r.ExitCode != 0 {
				t.Fatalf("import of a relative path (cwd %s) failed:\n%s", e.Dir, r.describe())
			}
		})
	})
}

func TestArchiveImportDamaged(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		full := archiveReadFile(t, busyboxRootfsTar(t))
		gz := archiveGzip(t, full)
		cases := map[string][]byte{
			"truncated.tar":    full[:len(full)/2+100],
			"truncated.tar.gz": gz[:len(gz)/2],
			"junk.tar":         bytes.Repeat([]byte("not a tarball\n"), 1000),
			"empty.tar":        nil,
		}
		for name, data := range cases {
			p := e.archiveWriteBytes(name, data)
			r := e.BerthFail(125, "import", p, "e2e/damaged")
			if !strings.Contains(r.Stderr, "Error:") {
				t.Errorf("import %s: no error message:\n%s", name, r.describe())
			}
			e.archiveRequireEmpty("import " + name)
		}
		r := e.BerthIn(bytes.NewReader(cases["truncated.tar"]), "import", "-", "e2e/damaged")
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "truncated") {
			t.Errorf("import - of a truncated tarball: want exit 125 and a message saying it is truncated:\n%s", r.describe())
		}
		e.archiveRequireEmpty("import - of a truncated tarball")
		if ids := e.BerthOK("images", "-q").Lines(); len(ids) != 0 {
			t.Errorf("images -q = %q, want nothing", ids)
		}
		e.BerthFail(125, "import", filepath.Join(e.Dir, "does-not-exist.tar"))
	})
}

func TestArchiveSaveLoad(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		id := e.BusyboxImage(busyboxName)
		e.BerthOK("tag", busyboxName, "e2e/other:2")

		roundTrip := func(t *testing.T, path, wantName string, saveArgs ...string) {
			t.Helper()
			r := e.BerthOK(append([]string{"save"}, saveArgs...)...)
			if r.Stdout != "" {
				t.Errorf("save -o printed to stdout: %q", r.Stdout)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("save did not write %s: %v", path, err)
			}
			e.BerthOK("rmi", "-a", "-f")
			e.archiveRequireEmpty("rmi -a")
			r = e.BerthOK("load", "-i", path)
			want := "Loaded image: " + wantName
			if !slices.Contains(r.Lines(), want) {
				t.Errorf("load printed %q, want a line %q", r.Lines(), want)
			}
			if got := e.archiveImageIDs(); !slices.Equal(got, []string{id}) {
				t.Errorf("after load, images = %q, want the original ID %s", got, id)
			}
		}
		for _, format := range []string{"docker-archive", "oci-archive", "oci-dir"} {
			t.Run(format, func(t *testing.T) {
				out := filepath.Join(e.Dir, "saved-"+format)
				roundTrip(t, out, busyboxName, "--format", format, "-o", out, busyboxName)
				if !slices.Contains(e.names(), busyboxName) {
					t.Errorf("after load, images = %q, want %s", e.names(), busyboxName)
				}
				e.BerthOK("tag", busyboxName, "e2e/other:2")
			})
		}

		t.Run("docker-dir is unnamed", func(t *testing.T) {
			out := filepath.Join(e.Dir, "saved-docker-dir")
			roundTrip(t, out, "sha256:"+id, "--format", "docker-dir", "-o", out, busyboxName)
			e.BerthOK("tag", id, busyboxName, "e2e/other:2")
		})

		t.Run("by ID is unnamed", func(t *testing.T) {
			out := filepath.Join(e.Dir, "by-id.tar")
			roundTrip(t, out, "sha256:"+id, "-o", out, id[:12])
			e.BerthOK("tag", id, busyboxName, "e2e/other:2")
		})

		t.Run("stdout and stdin", func(t *testing.T) {
			r := e.BerthOK("save", busyboxName)
			if len(r.Stdout) < 1<<20 {
				t.Fatalf("save to stdout wrote %d bytes, want the archive (more than 1 MiB)", len(r.Stdout))
			}
			e.BerthOK("rmi", "-a", "-f")
			r = e.BerthIn(strings.NewReader(r.Stdout), "load")
			if r.ExitCode != 0 || !slices.Contains(r.Lines(), "Loaded image: "+busyboxName) {
				t.Fatalf("load from stdin:\n%s", r.describe())
			}
			if got := e.archiveImageIDs(); !slices.Equal(got, []string{id}) {
				t.Errorf("after load, images = %q, want %s", got, id)
			}
			e.BerthOK("tag", busyboxName, "e2e/other:2")
		})

		t.Run("extra names are tags", func(t *testing.T) {
			out := filepath.Join(e.Dir, "tags.tar")
			e.BerthOK("save", "-q", "-o", out, busyboxName, "e2e/other:2")
			e.BerthOK("rmi", "-a", "-f")
			r := e.BerthOK("load", "-q", "-i", out)
			for _, n := range []string{busyboxName, "localhost/e2e/other:2"} {
				if !slices.Contains(r.Lines(), "Loaded image: "+n) {
					t.Errorf("load printed %q, want Loaded image: %s", r.Lines(), n)
				}
			}
			if got := e.archiveInspectImages(id)[0].RepoTags; len(got) != 2 {
				t.Errorf("RepoTags = %q, want both names on the one image", got)
			}
		})

		t.Run("multi-image", func(t *testing.T) {
			tiny := e.ImportImage(e.TarFile("multi.tar", map[string]string{"m.txt": "m\n"}), "e2e/tiny:1")
			out := filepath.Join(e.Dir, "multi-image.tar")
			e.BerthOK("save", "-q", "-m", "-o", out, busyboxName, "e2e/tiny:1")
			e.BerthOK("rmi", "-a", "-f")
			r := e.BerthOK("load", "-i", out)
			for _, n := range []string{busyboxName, "localhost/e2e/tiny:1"} {
				if !slices.Contains(r.Lines(), "Loaded image: "+n) {
					t.Errorf("load printed %q, want Loaded image: %s", r.Lines(), n)
				}
			}
			want := []string{id, tiny}
			slices.Sort(want)
			if got := e.archiveImageIDs(); !slices.Equal(got, want) {
				t.Errorf("after load, images = %q, want %q", got, want)
			}
			e.BerthFail(125, "save", "--format", "oci-archive", "-o", filepath.Join(e.Dir, "two-oci.tar"), busyboxName, "e2e/tiny:1")
		})

	})
}

func TestArchiveLoadDamaged(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(busyboxName)
		archives := map[string][]byte{}
		for _, format := range []string{"docker-archive", "oci-archive"} {
			p := filepath.Join(e.Dir, format+".tar")
			e.BerthOK("save", "-q", "--format", format, "-o", p, busyboxName)
			archives[format] = archiveReadFile(t, p)
		}
		e.BerthOK("rmi", "-a", "-f")
		for format, data := range archives {
			p := e.archiveWriteBytes("cut-"+format+".tar", data[:len(data)/2])
			r := e.BerthFail(125, "load", "-i", p)
			if !strings.Contains(r.Stderr, "truncated") {
				t.Errorf("load of a truncated %s: the message does not say so:\n%s", format, r.Stderr)
			}
			e.archiveRequireEmpty("load of a truncated " + format)
			r = e.BerthIn(bytes.NewReader(data[:len(data)/3]), "load")
			if r.ExitCode != 125 {
				t.Errorf("load from stdin of a truncated %s: want exit 125:\n%s", format, r.describe())
			}
			e.archiveRequireEmpty("load from stdin of a truncated " + format)
		}
		junk := e.archiveWriteBytes("junk.tar", bytes.Repeat([]byte("junk"), 1000))
		if r := e.BerthFail(125, "load", "-i", junk); !strings.Contains(r.Stderr, "payload does not match any of the supported image formats:") {
			t.Errorf("load of junk: not podman's message:\n%s", r.Stderr)
		}
		e.BerthFail(125, "load", "-i", filepath.Join(e.Dir, "missing.tar"))
		e.archiveRequireEmpty("load of junk")
	})
}

func TestArchiveInspect(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		id := e.BusyboxImage(busyboxName)
		tiny := e.ImportImage(e.TarFile("tiny.tar", map[string]string{"t.txt": "t\n"}), "e2e/tiny")

		img := e.archiveInspectImages(busyboxName)[0]
		if img.ID != id || !slices.Equal(img.RepoTags, []string{busyboxName}) || !slices.Equal(img.NamesHistory, []string{busyboxName}) {
			t.Errorf("Id %q, RepoTags %q, NamesHistory %q: want %s and [%s]", img.ID, img.RepoTags, img.NamesHistory, id, busyboxName)
		}
		if !strings.HasPrefix(img.Digest, "sha256:") || len(img.RepoDigests) != 1 ||
			img.RepoDigests[0] != "localhost/e2e/busybox@"+img.Digest {
			t.Errorf("Digest %q, RepoDigests %q: want a manifest digest and localhost/e2e/busybox@<it>", img.Digest, img.RepoDigests)
		}
		if img.Size < 1<<20 || img.VirtualSize != img.Size {
			t.Errorf("Size %d, VirtualSize %d: want more than 1 MiB, equal", img.Size, img.VirtualSize)
		}
		if img.GraphDriver.Name == "" || img.ManifestType == "" || img.Annotations == nil {
			t.Errorf("GraphDriver %+v, ManifestType %q, Annotations %v: want all set", img.GraphDriver, img.ManifestType, img.Annotations)
		}
		if img.GraphDriver.Name == "overlay" && !strings.HasPrefix(img.GraphDriver.Data["UpperDir"], e.Root) {
			t.Errorf("GraphDriver.Data = %v, want an UpperDir under %s", img.GraphDriver.Data, e.Root)
		}
		if img.Parent != "" || len(img.RootFS.Layers) != 1 || len(img.History) != 1 {
			t.Errorf("Parent %q, %d layers, %d history entries: want no parent and one of each", img.Parent, len(img.RootFS.Layers), len(img.History))
		}

		raw := e.BerthOK("image", "inspect", busyboxName).Stdout
		for _, key := range []string{"Id", "Digest", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Config",
			"Version", "Author", "Architecture", "Os", "Size", "VirtualSize", "GraphDriver", "RootFS", "Labels",
			"Annotations", "ManifestType", "User", "History", "NamesHistory"} {
			if !strings.Contains(raw, `"`+key+`":`) {
				t.Errorf("image inspect has no %q key", key)
			}
		}
		if !strings.HasPrefix(raw, "[\n     {") {
			t.Errorf("image inspect is not podman's array indented by five spaces:\n%.80s", raw)
		}

		got := e.BerthOK("image", "inspect", "--format", "{{.Id}}", busyboxName, "e2e/tiny").Lines()
		if !slices.Equal(got, []string{id, tiny}) {
			t.Errorf("--format {{.Id}} = %q, want [%s %s]", got, id, tiny)
		}
		if got := e.BerthOK("image", "inspect", "-f", "{{.ID}} {{.Os}} {{len .RootFS.Layers}}", id[:12]).Out(); got != id+" linux 1" {
			t.Errorf("--format {{.ID}} {{.Os}} ... = %q, want %q", got, id+" linux 1")
		}
		if got := e.BerthOK("inspect", "--format", "{{.Id}}", busyboxName).Out(); got != id {
			t.Errorf("top-level inspect --format {{.Id}} = %q, want %s", got, id)
		}
		if got := e.BerthOK("inspect", "--type", "image", "-f", "{{index .RepoTags 0}}", busyboxName).Out(); got != busyboxName {
			t.Errorf("inspect --type image = %q, want %s", got, busyboxName)
		}
		e.BerthFail(125, "inspect", "--type", "container", busyboxName)

		r := e.BerthFail(125, "image", "inspect", "e2e/no-such-image")
		if !strings.Contains(r.Stderr, "no such image") {
			t.Errorf("inspect of a missing image: stderr %q, want \"no such image\"", r.Stderr)
		}
		e.BerthFail(125, "inspect", "e2e/no-such-image")
		r = e.BerthFail(125, "image", "inspect", busyboxName, "e2e/no-such-image")
		var partial []archiveInspect
		if err := json.Unmarshal([]byte(r.Stdout), &partial); err != nil || len(partial) != 1 {
			t.Errorf("inspect of one found and one missing image: want the found one as JSON, got %q (%v)", r.Stdout, err)
		}
	})
}

// archiveLayoutEntry is one history entry of a test image; nil files is an empty layer.
type archiveLayoutEntry struct {
	createdBy string
	files     map[string]string
}

// archiveWriteLayout writes an OCI layout at dir holding images (ref name ->
// history), with deterministic layers and times, so that an image whose
// history starts with another's is built on it.
func archiveWriteLayout(t *testing.T, dir string, names []string, images map[string][]archiveLayoutEntry) {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(data []byte) ociDescriptor {
		sum := sha256.Sum256(data)
		hx := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(blobs, hx), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return ociDescriptor{Digest: "sha256:" + hx, Size: int64(len(data))}
	}
	putJSON := func(v any) ociDescriptor {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return put(data)
	}
	var index []ociDescriptor
	for _, name := range names {
		var layers []ociDescriptor
		var diffIDs []string
		var history []map[string]any
		for i, h := range images[name] {
			created := fixtureEpoch.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
			entry := map[string]any{"created": created, "created_by": h.createdBy}
			if h.files == nil {
				entry["empty_layer"] = true
			} else {
				var buf bytes.Buffer
				tw := tar.NewWriter(&buf)
				for _, n := range slices.Sorted(func(yield func(string) bool) {
					for k := range h.files {
						if !yield(k) {
							return
						}
					}
				}) {
					if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644,
						Size: int64(len(h.files[n])), ModTime: fixtureEpoch}); err != nil {
						t.Fatal(err)
					}
					if _, err := tw.Write([]byte(h.files[n])); err != nil {
						t.Fatal(err)
					}
				}
				if err := tw.Close(); err != nil {
					t.Fatal(err)
				}
				d := put(buf.Bytes())
				d.MediaType = "application/vnd.oci.image.layer.v1.tar"
				layers = append(layers, d)
				diffIDs = append(diffIDs, d.Digest)
			}
			history = append(history, entry)
		}
		config := putJSON(map[string]any{
			"created":      fixtureEpoch.Add(time.Duration(len(history)) * time.Hour).Format(time.RFC3339),
			"architecture": goruntime.GOARCH, "os": "linux",
			"config":  map[string]any{"Cmd": []string{"/bin/sh"}},
			"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
			"history": history,
		})
		config.MediaType = "application/vnd.oci.image.config.v1+json"
		manifest := putJSON(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": config, "layers": layers})
		manifest.MediaType = "application/vnd.oci.image.manifest.v1+json"
		manifest.Annotations = map[string]string{"org.opencontainers.image.ref.name": name}
		index = append(index, manifest)
	}
	data, err := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": index})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveHistory(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		base := []archiveLayoutEntry{{"/bin/sh -c #(nop) ADD file:base in /", map[string]string{"etc/base": "base\n"}}}
		child := append(slices.Clone(base),
			archiveLayoutEntry{"/bin/sh -c echo a long command line that podman truncates to forty-five characters > /etc/child",
				map[string]string{"etc/child": strings.Repeat("c", 5000)}},
			archiveLayoutEntry{`/bin/sh -c #(nop) CMD ["/bin/sh"]`, nil})
		dir := filepath.Join(e.Dir, "layered")
		archiveWriteLayout(t, dir, []string{"localhost/e2e/base:1", "localhost/e2e/child:1"},
			map[string][]archiveLayoutEntry{"localhost/e2e/base:1": base, "localhost/e2e/child:1": child})
		r := e.BerthOK("load", "-q", "-i", dir)
		if !slices.Equal(r.Lines(), []string{"Loaded image: localhost/e2e/base:1", "Loaded image: localhost/e2e/child:1"}) {
			t.Fatalf("load of a two-image OCI layout printed %q", r.Lines())
		}
		ids := e.archiveInspectImages("e2e/base:1", "e2e/child:1")
		baseID, childID := ids[0].ID, ids[1].ID
		if ids[1].Parent != baseID {
			t.Errorf("child's Parent = %q, want the base image %s", ids[1].Parent, baseID)
		}
		if ids[1].GraphDriver.Name == "overlay" && ids[1].GraphDriver.Data["LowerDir"] == "" {
			t.Errorf("child's GraphDriver.Data = %v, want a LowerDir", ids[1].GraphDriver.Data)
		}

		lines := e.BerthOK("history", "e2e/child:1").Lines()
		if len(lines) != 4 {
			t.Fatalf("history has %d lines, want a header and 3 entries:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		if f := strings.Fields(lines[0]); strings.Join(f, " ") != "ID CREATED CREATED BY SIZE COMMENT" {
			t.Errorf("header = %q, want ID CREATED CREATED BY SIZE COMMENT", lines[0])
		}
		wantIDs := []string{childID[:12], "<missing>", baseID[:12]}
		for i, want := range wantIDs {
			if !strings.HasPrefix(lines[i+1], want+" ") {
				t.Errorf("history row %d = %q, want it to start with %s", i+1, lines[i+1], want)
			}
		}
		if !strings.Contains(lines[2], "...") || strings.Contains(lines[2], "forty-five characters") {
			t.Errorf("history row %q: want CREATED BY cut to 45 characters with ...", lines[2])
		}
		// The child's layer is a tar of one 5000-byte file: 512 (header) +
		// 5120 (data, in 512-byte blocks) + 1024 (end of archive) = 6656.
		if !strings.Contains(lines[1], " 0 B") || !strings.Contains(lines[2], "6.66 kB") {
			t.Errorf("sizes: %q / %q, want podman's 0 B for the empty layer and 6.66 kB for the 6656-byte one", lines[1], lines[2])
		}

		if got := e.BerthOK("history", "-q", "e2e/child:1").Lines(); !slices.Equal(got, wantIDs) {
			t.Errorf("history -q = %q, want %q", got, wantIDs)
		}
		noTrunc := e.BerthOK("history", "--no-trunc", "e2e/child:1").Stdout
		if !strings.Contains(noTrunc, childID) || !strings.Contains(noTrunc, "forty-five characters") {
			t.Errorf("history --no-trunc does not show full IDs and commands:\n%s", noTrunc)
		}
		if got := e.BerthOK("history", "-H=false", "--format", "{{.Created}}", "e2e/base:1").Out(); got != fixtureEpoch.Format(time.RFC3339) {
			t.Errorf("history -H=false {{.Created}} = %q, want %q", got, fixtureEpoch.Format(time.RFC3339))
		}
		var js []struct {
			ID        string `json:"id"`
			CreatedBy string `json:"CreatedBy"`
			Size      int64  `json:"size"`
		}
		out := e.BerthOK("history", "--format", "json", "e2e/child:1").Stdout
		if err := json.Unmarshal([]byte(out), &js); err != nil || len(js) != 3 || js[0].ID != childID || js[1].Size != 6656 {
			t.Errorf("history --format json = %s (%v), want 3 entries, the first %s", out, err, childID)
		}
		e.BerthFail(125, "history", "e2e/no-such-image")

		// The busybox import has one entry: its layer, its ID, podman's comment.
		bb := e.BusyboxImage(busyboxName)
		row := e.BerthOK("history", "--format", "{{.ID}}|{{.Size}}|{{.Comment}}", busyboxName).Out()
		if !strings.HasPrefix(row, bb[:12]+"|") || !strings.HasSuffix(row, "|imported from tarball") || strings.Contains(row, "|0 B|") {
			t.Errorf("history of the busybox import = %q, want %s|<size>|imported from tarball", row, bb[:12])
		}
	})
}

func TestArchivePrune(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		tagged := e.BusyboxImage(busyboxName)
		var dangling []string
		for i, content := range []string{"one\n", "two\n"} {
			tar := e.TarFile("dangling"+string(rune('a'+i))+".tar", map[string]string{"f.txt": content})
			dangling = append(dangling, strings.TrimPrefix(lastLine(e.BerthOK("import", "-q", tar).Stdout), "sha256:"))
		}
		// Same rootfs as the tagged image, other config: shares its layer.
		dangling = append(dangling, strings.TrimPrefix(lastLine(e.BerthOK("import", "-q", "-c", "ENV X=1", busyboxRootfsTar(t)).Stdout), "sha256:"))
		slices.Sort(dangling)

		r := e.BerthIn(strings.NewReader("n\n"), "image", "prune")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "WARNING! This command removes all dangling images.\nAre you sure you want to continue? [y/N] ") {
			t.Errorf("image prune without -f: want podman's question and exit 0 on no:\n%s", r.describe())
		}
		if got := e.archiveImageIDs(); len(got) != 4 {
			t.Fatalf("answering no removed images: %q left", got)
		}

		r = e.BerthIn(strings.NewReader("y\n"), "image", "prune")
		removed := r.Lines()
		if len(removed) > 0 {
			removed[0] = strings.TrimPrefix(removed[0], "WARNING! This command removes all dangling images.")
		}
		var got []string
		for _, l := range removed {
			if l = strings.TrimSpace(strings.TrimPrefix(l, "Are you sure you want to continue? [y/N] ")); isImageID(l) {
				got = append(got, l)
			}
		}
		slices.Sort(got)
		if r.ExitCode != 0 || !slices.Equal(got, dangling) {
			t.Errorf("image prune (yes) removed %q, want the dangling %q:\n%s", got, dangling, r.describe())
		}
		if left := e.archiveImageIDs(); !slices.Equal(left, []string{tagged}) {
			t.Errorf("after prune, images = %q, want only the tagged %s", left, tagged)
		}
		if got := e.BerthOK("image", "inspect", "-f", "{{.Id}}", busyboxName).Out(); got != tagged {
			t.Errorf("the tagged image is damaged after prune: %q", got)
		}
		if out := e.BerthOK("image", "prune", "-f").Out(); out != "" {
			t.Errorf("prune with nothing dangling printed %q", out)
		}

		r = e.BerthOK("image", "prune", "-a", "-f")
		if !slices.Equal(r.Lines(), []string{tagged}) {
			t.Errorf("image prune -a -f printed %q, want [%s]", r.Lines(), tagged)
		}
		e.archiveRequireEmpty("image prune -a")
	})
}
