package libpod

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// inRootTree makes a container-like tree whose symlinks point at "/" and
// ".." and whose absolute paths name a host file outside it.
func inRootTree(t *testing.T) (root *os.File, hostFile string) {
	t.Helper()
	outside := t.TempDir()
	hostFile = filepath.Join(outside, "secret")
	if err := os.WriteFile(hostFile, []byte("HOST"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "d", outside), 0o755))
	must(os.WriteFile(filepath.Join(dir, "d", hostFile), []byte("CONTAINER"), 0o644))
	must(os.Symlink("/", filepath.Join(dir, "toroot")))
	must(os.Symlink("../../../../../..", filepath.Join(dir, "d", "up")))
	must(os.Symlink("/d"+hostFile, filepath.Join(dir, "abs")))
	root, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	must(err)
	t.Cleanup(func() { _ = root.Close() })
	return root, hostFile
}

func readInRoot(t *testing.T, open func(*os.File, string, int) (*os.File, error), root *os.File, p string) string {
	t.Helper()
	f, err := open(root, p, unix.O_RDONLY)
	if err != nil {
		return "error: " + err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

// Paths through symlinks to "/" or ".." stay in the root, with openat2 and
// with the fallback for kernels without it.
func TestOpenInRootStaysInRoot(t *testing.T) {
	root, hostFile := inRootTree(t)
	for name, open := range map[string]func(*os.File, string, int) (*os.File, error){
		"openat2": openInRoot, "fallback": openInRootFallback,
	} {
		t.Run(name, func(t *testing.T) {
			for _, p := range []string{"/toroot" + hostFile, "/d/up" + hostFile, "d/up/toroot/d/up" + hostFile, "/toroot/../.." + hostFile} {
				if got := readInRoot(t, open, root, p); got == "HOST" {
					t.Errorf("%s read the host's file", p)
				}
			}
			if got := readInRoot(t, open, root, "/abs"); got != "CONTAINER" {
				t.Errorf("an absolute symlink in the root: read %q, want the tree's file", got)
			}
			if got := readInRoot(t, open, root, "/toroot/d"+hostFile); got != "CONTAINER" {
				t.Errorf("a symlink to / in the root: read %q, want the tree's file", got)
			}
		})
	}
}

func TestResolveInRoot(t *testing.T) {
	root, hostFile := inRootTree(t)
	for in, want := range map[string]string{
		"/toroot/d/up" + hostFile: "/" + strings.TrimPrefix(hostFile, "/"),
		"/abs":                    "/d" + hostFile,
		"/nosuch/x":               "/nosuch/x",
	} {
		if got, err := resolveInRoot(root, in); err != nil || got != want {
			t.Errorf("resolveInRoot(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// The walker archives symlinks as symlinks: a directory holding a link to
// "/" does not pull in the host.
func TestTarWalkerKeepsSymlinks(t *testing.T) {
	root, _ := inRootTree(t)
	h, err := openInRoot(root, "/", unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	w := &tarWalker{tw: tw, prefix: "pre"}
	if err := w.add(h, "top", "/"); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	links := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hdr.Name, "pre/top/") && hdr.Name != "pre/top/" {
			t.Errorf("entry %q is not under the prefix", hdr.Name)
		}
		if b, _ := io.ReadAll(tr); string(b) == "HOST" {
			t.Errorf("%s holds the host's file", hdr.Name)
		}
		if hdr.Typeflag == tar.TypeSymlink {
			links[hdr.Name] = hdr.Linkname
		}
	}
	if links["pre/top/toroot"] != "/" || links["pre/top/d/up"] != "../../../../../.." {
		t.Errorf("symlinks not archived as such: %v", links)
	}
}
