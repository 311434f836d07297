package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeRegistry serves one image, "bad/image:latest", whose manifest or
// layer the test corrupts, to check that berth stores nothing it cannot
// verify.
type fakeRegistry struct {
	manifest, config, layer []byte
	// served replaces the layer's bytes on the wire (same length).
	served []byte
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func newFakeImage(t *testing.T) *fakeRegistry {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	content := []byte(strings.Repeat("berth fault test\n", 200))
	_ = tw.WriteHeader(&tar.Header{Name: "file.txt", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(content)
	_ = tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(tarBuf.Bytes())
	_ = zw.Close()
	f := &fakeRegistry{layer: gz.Bytes()}
	f.config = []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","config":{"Cmd":["/file.txt"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, digestOf(tarBuf.Bytes())))
	f.manifest = []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":%q},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":%q}]}`,
		len(f.config), digestOf(f.config), len(f.layer), digestOf(f.layer)))
	f.served = f.layer
	return f
}

func (f *fakeRegistry) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case strings.HasPrefix(r.URL.Path, "/v2/bad/image/manifests/"):
			w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
			w.Header().Set("Docker-Content-Digest", digestOf(f.manifest))
			_, _ = w.Write(f.manifest)
		case r.URL.Path == "/v2/bad/image/blobs/"+digestOf(f.config):
			_, _ = w.Write(f.config)
		case r.URL.Path == "/v2/bad/image/blobs/"+digestOf(f.layer):
			_, _ = w.Write(f.served)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPullVerifiesWhatItStores(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		// first, the untouched image pulls: the fake registry is a fair one
		good := newFakeImage(t)
		addr := good.start(t)
		e.BerthOK("pull", "-q", "--tls-verify=false", addr+"/bad/image:latest")
		e.BerthOK("rmi", "-a", "-f")

		t.Run("layer digest mismatch", func(t *testing.T) {
			f := newFakeImage(t)
			f.served = append([]byte{}, f.layer...)
			f.served[len(f.served)/2] ^= 0xff // same length, other bytes
			addr := f.start(t)
			r := e.BerthFail(125, "pull", "--tls-verify=false", addr+"/bad/image:latest")
			if !strings.Contains(strings.ToLower(r.Stderr), "digest") {
				t.Fatalf("digest mismatch: want a message about the digest:\n%s", r.describe())
			}
			if out := e.BerthOK("images", "-a", "-q").Out(); out != "" {
				t.Fatalf("a corrupt pull left images: %s", out)
			}
			e.mustHaveNoLayers(t)
		})
		t.Run("manifest that is not one", func(t *testing.T) {
			f := newFakeImage(t)
			f.manifest = []byte(`{"hello": "this is not a manifest"}`)
			addr := f.start(t)
			e.BerthFail(125, "pull", "--tls-verify=false", addr+"/bad/image:latest")
			if out := e.BerthOK("images", "-a", "-q").Out(); out != "" {
				t.Fatalf("a bad manifest left images: %s", out)
			}
			e.mustHaveNoLayers(t)
		})
	})
}

// mustHaveNoLayers checks the store's overlay directory holds no layer.
func (e *Env) mustHaveNoLayers(t *testing.T) {
	t.Helper()
	// layer directories are named by 64 hex digits
	out := e.Run("sh", "-c", "ls "+e.Root+"/overlay 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true").Out()
	if out != "" {
		t.Fatalf("layers left in the store: %s", out)
	}
}
