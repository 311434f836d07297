package e2e

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// debianCacheDir survives test runs: the debian rootfs is built once per machine.
	debianCacheDir = "/var/cache/berth-test"
	debianTarName  = "debian-bookworm-rootfs.tar"
	// debianTreeName is a debootstrapped tree the tarball is made from.
	debianTreeName = "debian-rootfs"
	busyboxPath    = "/bin/busybox"
)

// fixtureEpoch is the mtime of generated files, so fixtures are byte-identical.
var fixtureEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// memo caches one fixture per test process, including a failure.
type memo struct {
	once sync.Once
	val  string
	err  error
}

func (m *memo) get(t *testing.T, build func() (string, error)) string {
	t.Helper()
	m.once.Do(func() { m.val, m.err = build() })
	if m.err != nil {
		t.Fatal(m.err)
	}
	return m.val
}

var busyboxTar, debianTar memo

// busyboxRootfsTar is a rootfs tarball of /bin/busybox (busybox-static) with
// its applets as symlinks (as `busybox --install -s` makes them), etc/passwd,
// etc/group and tmp. It is built once per test process and readable by
// berthtest.
func busyboxRootfsTar(t *testing.T) string {
	t.Helper()
	return busyboxTar.get(t, func() (string, error) {
		dir := filepath.Join(runDir, "fixtures")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		p := filepath.Join(dir, "busybox-rootfs.tar")
		if err := writeBusyboxTar(p); err != nil {
			return "", fmt.Errorf("building the busybox rootfs tarball: %w", err)
		}
		return p, nil
	})
}

func writeBusyboxTar(dst string) error {
	bb, err := os.ReadFile(busyboxPath)
	if err != nil {
		return fmt.Errorf("%w (install busybox-static)", err)
	}
	list, err := exec.Command(busyboxPath, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", busyboxPath, err)
	}
	dirs := map[string]os.FileMode{
		"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o755, "root": 0o700,
		"sbin": 0o755, "sys": 0o755, "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
		"var": 0o755, "var/tmp": 0o1777,
	}
	links := map[string]bool{}
	for _, l := range strings.Split(string(list), "\n") {
		l = strings.Trim(strings.TrimSpace(l), "/")
		if l == "" || l == "bin/busybox" {
			continue
		}
		links[l] = true
		for d := path.Dir(l); d != "."; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"bin/busybox", 0o755, bb},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\n")},
		{"etc/hostname", 0o644, []byte("busybox\n")},
	}

	tmp := dst + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(f)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Uname, h.Gname, h.Format = fixtureEpoch, "root", "root", tar.FormatPAX
		return tw.WriteHeader(h)
	}
	dirNames := make([]string, 0, len(dirs))
	for d := range dirs {
		dirNames = append(dirNames, d)
	}
	sort.Strings(dirNames)
	for _, d := range dirNames {
		if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: int64(dirs[d])}); err != nil {
			return err
		}
	}
	for _, fl := range files {
		if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: fl.name, Mode: fl.mode, Size: int64(len(fl.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(fl.data); err != nil {
			return err
		}
	}
	linkNames := make([]string, 0, len(links))
	for l := range links {
		linkNames = append(linkNames, l)
	}
	sort.Strings(linkNames)
	for _, l := range linkNames {
		if err := hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: l, Linkname: "/bin/busybox", Mode: 0o777}); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// debianRootfsTar is a Debian bookworm minbase rootfs tarball (about 200 MB),
// cached at /var/cache/berth-test/debian-bookworm-rootfs.tar across runs. It
// is made from the debootstrapped tree /var/cache/berth-test/debian-rootfs,
// which is created with debootstrap when missing. Concurrent test processes
// build it once (flock).
func debianRootfsTar(t *testing.T) string {
	t.Helper()
	return debianTar.get(t, func() (string, error) {
		p := filepath.Join(debianCacheDir, debianTarName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if err := os.MkdirAll(debianCacheDir, 0o755); err != nil {
			return "", err
		}
		lock, err := os.OpenFile(filepath.Join(debianCacheDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return "", err
		}
		defer lock.Close()
		if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil // another process built it while we waited
		}
		tree := filepath.Join(debianCacheDir, debianTreeName)
		if _, err := os.Stat(filepath.Join(tree, "usr/bin/dpkg")); err != nil {
			if err := debootstrap(tree); err != nil {
				return "", err
			}
		}
		t.Logf("creating %s from %s", p, tree)
		tmp := p + ".tmp"
		out, err := exec.Command("tar", "--create", "--file", tmp, "--numeric-owner", "--directory", tree,
			"--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./run/*",
			"--exclude=./var/cache/apt/*.bin", "--exclude=./var/lib/apt/lists/*", ".").CombinedOutput()
		if err != nil {
			_ = os.Remove(tmp)
			return "", fmt.Errorf("tar of %s: %v: %s", tree, err, out)
		}
		if err := os.Chmod(tmp, 0o644); err != nil {
			return "", err
		}
		return p, os.Rename(tmp, p)
	})
}

func debootstrap(tree string) error {
	mirror := os.Getenv("BERTH_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	tmp := tree + ".tmp"
	_ = os.RemoveAll(tmp)
	cmd := exec.Command("debootstrap", "--variant=minbase", "bookworm", tmp, mirror)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := string(out)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("debootstrap --variant=minbase bookworm %s %s: %v\n%s", tmp, mirror, err, tail)
	}
	_ = os.RemoveAll(tree)
	return os.Rename(tmp, tree)
}

var importCheck struct {
	once sync.Once
	ok   bool
}

// importAvailable reports whether the berth under test has `import`.
func importAvailable() bool {
	importCheck.once.Do(func() {
		out, err := exec.Command(berthBinary, "import", "--help").Output()
		importCheck.ok = err == nil && strings.Contains(string(out), "berth import")
	})
	return importCheck.ok
}

// requireImport skips t while berth has no `import` command.
func requireImport(t *testing.T) {
	t.Helper()
	if !importAvailable() {
		t.Skip("berth import is not implemented yet")
	}
}

// BusyboxImage imports the busybox rootfs tarball as name into e's store and
// returns the image ID (64 hex digits).
func (e *Env) BusyboxImage(name string) string {
	e.T.Helper()
	return e.ImportImage(busyboxRootfsTar(e.T), name)
}

// ImportImage imports a rootfs tarball as name with `berth import` and returns
// the image ID. While berth has no import command, it builds an OCI layout
// from the tarball and pulls it through the oci: transport instead, then tags
// the image as name.
func (e *Env) ImportImage(tarball, name string) string {
	e.T.Helper()
	var id string
	if importAvailable() {
		r := e.BerthOK("import", tarball, name)
		id = lastLine(r.Stdout)
	} else {
		layout := ociLayoutFor(e.T, tarball)
		r := e.BerthOK("pull", "-q", "oci:"+layout+":latest")
		id = lastLine(r.Stdout)
		e.BerthOK("tag", id, name)
	}
	id = strings.TrimPrefix(id, "sha256:")
	if !isImageID(id) {
		e.T.Fatalf("importing %s as %s printed %q as its last line, want the image ID", tarball, name, id)
	}
	return id
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func isImageID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

var ociLayouts struct {
	sync.Mutex
	m map[string]*memo
}

// ociLayoutFor makes (once per process) an OCI image layout with one
// uncompressed layer, the tarball, tagged "latest".
func ociLayoutFor(t *testing.T, tarball string) string {
	t.Helper()
	ociLayouts.Lock()
	if ociLayouts.m == nil {
		ociLayouts.m = map[string]*memo{}
	}
	m := ociLayouts.m[tarball]
	if m == nil {
		m = &memo{}
		ociLayouts.m[tarball] = m
	}
	ociLayouts.Unlock()
	return m.get(t, func() (string, error) {
		dir, err := os.MkdirTemp(runDir, "oci-"+strings.TrimSuffix(filepath.Base(tarball), ".tar")+"-")
		if err != nil {
			return "", err
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return "", err
		}
		if err := writeOCILayout(dir, tarball); err != nil {
			return "", fmt.Errorf("building an OCI layout from %s: %w", tarball, err)
		}
		return dir, nil
	})
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func writeOCILayout(dir, tarball string) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	for _, d := range []string{filepath.Join(dir, "blobs"), blobs} {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	_ = f.Close()
	if err != nil {
		return err
	}
	layerHex := hex.EncodeToString(h.Sum(nil))
	layerPath := filepath.Join(blobs, layerHex)
	if err := os.Link(tarball, layerPath); err != nil {
		if err := copyFile(tarball, layerPath, 0o644); err != nil {
			return err
		}
	}
	putJSON := func(v any) (ociDescriptor, error) {
		data, err := json.Marshal(v)
		if err != nil {
			return ociDescriptor{}, err
		}
		sum := sha256.Sum256(data)
		hx := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(blobs, hx), data, 0o644); err != nil {
			return ociDescriptor{}, err
		}
		return ociDescriptor{Digest: "sha256:" + hx, Size: int64(len(data))}, nil
	}
	created := fixtureEpoch.Format(time.RFC3339)
	config, err := putJSON(map[string]any{
		"created":      created,
		"architecture": goruntime.GOARCH,
		"os":           "linux",
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd": []string{"/bin/sh"},
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerHex}},
		"history": []map[string]string{{"created": created, "created_by": "berth e2e fixture " + filepath.Base(tarball)}},
	})
	if err != nil {
		return err
	}
	config.MediaType = "application/vnd.oci.image.config.v1+json"
	manifest, err := putJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        config,
		"layers": []ociDescriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar",
			Digest: "sha256:" + layerHex, Size: size}},
	})
	if err != nil {
		return err
	}
	manifest.MediaType = "application/vnd.oci.image.manifest.v1+json"
	manifest.Annotations = map[string]string{"org.opencontainers.image.ref.name": "latest"}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []ociDescriptor{manifest}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// TarFile writes a rootfs tarball with the given files (name -> content) to
// name in e.Dir and returns its path: a small, distinct image for tests that
// need more than one.
func (e *Env) TarFile(name string, files map[string]string) string {
	e.T.Helper()
	p := filepath.Join(e.Dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		e.T.Fatal(err)
	}
	tw := tar.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: fixtureEpoch}
		if err := tw.WriteHeader(h); err != nil {
			e.T.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[n]); err != nil {
			e.T.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		e.T.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.T.Fatal(err)
	}
	if e.user != nil {
		if err := os.Chown(p, e.user.UID, e.user.GID); err != nil {
			e.T.Fatal(err)
		}
	}
	return p
}
