package e2e

import (
	"archive/tar"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
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

// BusyboxImage imports the busybox rootfs tarball as name into e's store and
// returns the image ID (64 hex digits).
func (e *Env) BusyboxImage(name string) string {
	e.T.Helper()
	return e.ImportImage(busyboxRootfsTar(e.T), name)
}

// ImportImage imports a rootfs tarball as name with `berth import` and returns
// the image ID.
func (e *Env) ImportImage(tarball, name string) string {
	e.T.Helper()
	r := e.BerthOK("import", tarball, name)
	id := strings.TrimPrefix(lastLine(r.Stdout), "sha256:")
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

// ociDescriptor is an OCI content descriptor, for tests that write OCI
// layouts by hand.
type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
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
