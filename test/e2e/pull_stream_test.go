package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// storeLayers lists the layer IDs (and their tar-split files) recorded in
// e's store, whatever the driver.
func storeLayers(t *testing.T, e *Env) (ids []string, tarSplits []string) {
	t.Helper()
	for _, driver := range []string{"overlay", "vfs"} {
		dir := filepath.Join(e.Root, driver+"-layers")
		data, err := os.ReadFile(filepath.Join(dir, "layers.json"))
		if err == nil {
			var layers []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(data, &layers); err != nil {
				t.Fatalf("parsing %s/layers.json: %v", dir, err)
			}
			for _, l := range layers {
				ids = append(ids, l.ID)
			}
		}
		m, _ := filepath.Glob(filepath.Join(dir, "*.tar-split.gz"))
		tarSplits = append(tarSplits, m...)
	}
	return ids, tarSplits
}

// noImagesNoLayers fails if a (failed) pull left an image or a layer,
// complete or not: in the layer store's records, tar-split files or the
// driver's directories (faults_test.go's mustHaveNoLayers).
func noImagesNoLayers(t *testing.T, e *Env) {
	t.Helper()
	e.mustBeEmpty()
	e.mustHaveNoLayers(t)
	if ids, files := storeLayers(t, e); len(ids) != 0 || len(files) != 0 {
		t.Errorf("after a failed pull the store holds layers %q (tar-split files %q), want none", ids, files)
	}
}

// usesStreamingPull fails if berth pulled ref with copy.Image instead of
// the streaming path (its debug log says so).
func usesStreamingPull(t *testing.T, r *Result) {
	t.Helper()
	if strings.Contains(r.Stderr, "with copy.Image") {
		t.Errorf("a plain registry image was pulled with copy.Image, not streamed:\n%s", r.describe())
	}
}

func TestPullStreamCorruptBlob(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		reg := startRegistry(t, false) // its blobs get corrupted: not the shared one
		ref, id := e.pushBusybox(reg)
		e.BerthOK("rmi", busyboxName)
		e.mustBeEmpty()

		// intact, it streams, and runs
		r := e.BerthOK("--log-level=debug", "pull", "--tls-verify=false", ref)
		usesStreamingPull(t, r)
		if got := lastLine(r.Stdout); got != id {
			t.Errorf("pull printed %q, want the ID %s", got, id)
		}
		if out := e.BerthOK("run", "--rm", "--network=none", ref, "echo", "streamed").Out(); out != "streamed" {
			t.Errorf("run of the pulled image printed %q, want \"streamed\"", out)
		}
		e.BerthOK("rmi", ref)
		noImagesNoLayers(t, e)

		// the layer is the largest blob; flip bytes in its middle, keeping its size
		blobs, _ := filepath.Glob(filepath.Join(reg.Dir, "data/docker/registry/v2/blobs/sha256/*/*/data"))
		slices.SortFunc(blobs, func(a, b string) int { return int(fileSize(t, b) - fileSize(t, a)) })
		if len(blobs) < 2 {
			t.Fatalf("want a layer and a config blob in the registry, found %q", blobs)
		}
		layer := blobs[0]
		layerDigest := "sha256:" + filepath.Base(filepath.Dir(layer))
		f, err := os.OpenFile(layer, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("corrupted by the e2e test"), fileSize(t, layer)/2); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}

		r = e.BerthFail(125, "pull", "--tls-verify=false", ref)
		if !strings.Contains(r.Stderr, "digest mismatch") || !strings.Contains(r.Stderr, layerDigest) {
			t.Errorf("pull of a corrupted blob: want a digest mismatch naming %s:\n%s", layerDigest, r.describe())
		}
		noImagesNoLayers(t, e)
	})
}

// pushRaw uploads a one-layer image whose config's diff ID is diffID
// (the layer's real one when "") and returns its reference.
func pushRaw(t *testing.T, reg *Registry, repo string, diffID string) string {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	content := []byte("streamed by berth\n")
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for _, err := range []error{must(tw.Write(content)), tw.Close(), must(zw.Write(tarBuf.Bytes())), zw.Close()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if diffID == "" {
		diffID = sha256Digest(tarBuf.Bytes())
	}
	config := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","config":{"Cmd":["/hello.txt"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, diffID))
	upload := func(blob []byte) string {
		d := sha256Digest(blob)
		resp, err := http.Post(fmt.Sprintf("http://%s/v2/%s/blobs/uploads/", reg.Addr, repo), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "http") {
			loc = "http://" + reg.Addr + loc
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+d, bytes.NewReader(blob))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("uploading blob %s: %s %s", d, resp.Status, body)
		}
		return d
	}
	layerDigest, configDigest := upload(gz.Bytes()), upload(config)
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}]}`,
		configDigest, len(config), layerDigest, gz.Len())
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/v2/%s/manifests/latest", reg.Addr, repo), strings.NewReader(manifest))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("uploading manifest: %s %s", resp.Status, body)
	}
	return reg.Addr + "/" + repo + ":latest"
}

func must(_ int, err error) error { return err }

func sha256Digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func fileSize(t *testing.T, p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestPullStreamDiffIDMismatch(t *testing.T) {
	reg := sharedRegistry(t, false)
	good := pushRaw(t, reg, "e2e/stream-good", "")
	wrong := "sha256:" + strings.Repeat("ab", 32)
	bad := pushRaw(t, reg, "e2e/stream-lying-config", wrong)
	forEachMode(t, func(t *testing.T, e *Env) {
		// The blob is intact, but the config claims other contents: the
		// layer would be stored under the ID of those; nothing may be.
		r := e.BerthFail(125, "pull", "--tls-verify=false", bad)
		if !strings.Contains(r.Stderr, "uncompressed layer digest mismatch") || !strings.Contains(r.Stderr, wrong) {
			t.Errorf("pull of an image whose config lies about its layer: want an uncompressed digest mismatch naming %s:\n%s", wrong, r.describe())
		}
		noImagesNoLayers(t, e)

		r = e.BerthOK("--log-level=debug", "pull", "--tls-verify=false", good)
		usesStreamingPull(t, r)
		id := e.BerthOK("image", "inspect", "--format", "{{.ID}}", good).Out()
		if ids, _ := storeLayers(t, e); len(ids) != 1 {
			t.Errorf("after pulling a one-layer image, the store has layers %q", ids)
		}
		e.BerthOK("rmi", id)
		noImagesNoLayers(t, e)
	})
}

// podman runs podman on e's store (rootless: inside berth's user namespace,
// as buildah does in shared_store_test.go). Only to set up a shared store.
func podman(t *testing.T, e *Env, args ...string) *Result {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (make deps installs it)")
	}
	global := buildahArgs(t, e)
	if i := slices.Index(global, "--runroot"); i >= 0 && len(global[i+1]) > 50 {
		global[i+1] = shortRunRoot(t, global[i+1])
	}
	args = append(append(global, "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"), args...)
	if e.Rootless() {
		return e.Berth(append([]string{"unshare", "podman"}, args...)...)
	}
	return e.Run("podman", args...)
}

var shortRunRoots sync.Map // run root -> a shorter path to it

// shortRunRoot is the same directory by a path podman accepts (it refuses
// run roots longer than 50 characters in a user namespace, and then wants
// the same path every time).
func shortRunRoot(t *testing.T, runRoot string) string {
	if link, ok := shortRunRoots.Load(runRoot); ok {
		return link.(string)
	}
	{
		dir, err := os.MkdirTemp("/tmp", "bp")
		if err != nil {
			t.Fatal(err)
		}
		addSuiteCleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "r")
		if err := os.Symlink(runRoot, link); err != nil {
			t.Fatal(err)
		}
		shortRunRoots.Store(runRoot, link)
		return link
	}
}

func TestPullStreamSharedWithPodman(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref, id := e.pushBusybox(reg) // also makes the store, for podman's flags
		e.BerthOK("rmi", busyboxName)
		noImagesNoLayers(t, e)

		// podman pulls; berth's pull of the same image reuses its layer
		if r := podman(t, e, "pull", "-q", "--tls-verify=false", ref); r.ExitCode != 0 {
			t.Fatalf("podman pull (setting up the store): %s", r.describe())
		}
		before, _ := storeLayers(t, e)
		if len(before) != 1 {
			t.Fatalf("after podman's pull the store has layers %q, want one", before)
		}
		r := e.BerthOK("--log-level=debug", "pull", "--tls-verify=false", ref)
		usesStreamingPull(t, r)
		if !strings.Contains(r.Stderr, "Copying blob") || !strings.Contains(r.Stderr, "Writing manifest") {
			t.Errorf("pull did not report its progress:\n%s", r.describe())
		}
		if got := lastLine(r.Stdout); got != id {
			t.Errorf("berth pull over podman's image printed %q, want %s", got, id)
		}
		if after, _ := storeLayers(t, e); !slices.Equal(after, before) {
			t.Errorf("berth pull of an image podman pulled changed the layers from %q to %q", before, after)
		}
		if out := e.BerthOK("run", "--rm", "--network=none", ref, "echo", "shared").Out(); out != "shared" {
			t.Errorf("run printed %q, want \"shared\"", out)
		}
		e.BerthOK("rmi", ref)
		noImagesNoLayers(t, e)

		// berth pulls; podman reads the image (and its layer) berth stored
		e.BerthOK("pull", "-q", "--tls-verify=false", ref)
		r = podman(t, e, "image", "inspect", "--format", "{{.ID}} {{.Digest}} {{len .RootFS.Layers}}", ref)
		digest := e.BerthOK("image", "inspect", "--format", "{{.Digest}}", ref).Out()
		if r.ExitCode != 0 || r.Out() != id+" "+digest+" 1" {
			t.Errorf("podman image inspect of berth's pull: want %q:\n%s", id+" "+digest+" 1", r.describe())
		}
		if r := podman(t, e, "image", "tree", ref); r.ExitCode != 0 || !strings.Contains(r.Stdout, id[:12]) {
			t.Errorf("podman image tree of berth's pull:\n%s", r.describe())
		}
		// and podman's pull of it is a no-op on the layers
		before, _ = storeLayers(t, e)
		if r := podman(t, e, "pull", "-q", "--tls-verify=false", ref); r.ExitCode != 0 || r.Out() != id {
			t.Errorf("podman pull over berth's image: want %s:\n%s", id, r.describe())
		}
		if after, _ := storeLayers(t, e); !slices.Equal(after, before) {
			t.Errorf("podman pull of an image berth pulled changed the layers from %q to %q", before, after)
		}
		e.BerthOK("rmi", ref)
		noImagesNoLayers(t, e)
	})
}
