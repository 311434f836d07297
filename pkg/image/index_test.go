package image

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
	"go.podman.io/storage/types"
)

// addImage records an image on top layer with the given history, with the
// manifest and config storage keeps for a pulled image.
func addImage(t *testing.T, st storage.Store, name, top string, history ...string) *storage.Image {
	t.Helper()
	cfg := ociv1.Image{}
	for _, h := range history {
		cfg.History = append(cfg.History, ociv1.History{CreatedBy: h})
	}
	cfgBlob, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgDigest := digest.FromBytes(cfgBlob)
	m := manifest.Schema2FromComponents(manifest.Schema2Descriptor{MediaType: manifest.DockerV2Schema2ConfigMediaType,
		Digest: cfgDigest, Size: int64(len(cfgBlob))}, nil)
	mBlob, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if name != "" {
		names = []string{name}
	}
	img, err := st.CreateImage(cfgDigest.Encoded(), names, top, "", &storage.ImageOptions{
		BigData: []storage.ImageBigDataOption{
			{Key: cfgDigest.String(), Data: cfgBlob, Digest: cfgDigest},
			{Key: storage.ImageDigestBigDataKey, Data: mBlob, Digest: digest.FromBytes(mBlob)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The index answers ParentID as the store does, image by image.
func TestIndexParentIDMatchesStore(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root for a storage store")
	}
	dir := t.TempDir()
	st, err := storage.GetStore(types.StoreOptions{GraphRoot: dir + "/root", RunRoot: dir + "/run", GraphDriverName: "vfs"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = st.Shutdown(true) }()
	l1, err := st.CreateLayer("", "", nil, "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := st.CreateLayer("", l1.ID, nil, "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := addImage(t, st, "localhost/base:latest", l1.ID, "a")
	child := addImage(t, st, "localhost/child:latest", l2.ID, "a", "b")
	// an image adding only an empty layer: same top layer, longer history
	meta := addImage(t, st, "localhost/meta:latest", l2.ID, "a", "b", "c")
	other := addImage(t, st, "localhost/other:latest", l2.ID, "x", "y")
	r := NewRuntime(st, nil)
	ix, err := r.NewIndex()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{base.ID: "", child.ID: base.ID, meta.ID: child.ID, other.ID: ""}
	for id, parent := range want {
		img := ix.Image(id)
		if img == nil {
			t.Fatalf("index has no image %s", id)
		}
		if got := ix.ParentID(img); got != parent {
			t.Errorf("Index.ParentID(%s) = %q, want %q", id, got, parent)
		}
		if got := r.ParentID(img); got != parent {
			t.Errorf("Runtime.ParentID(%s) = %q, want %q", id, got, parent)
		}
		cfg, err := ix.Config(img)
		if err != nil || len(cfg.History) == 0 {
			t.Errorf("Index.Config(%s) = %v, %v", id, cfg, err)
		}
	}
	if ix.Image("0000") != nil {
		t.Error("Index.Image of an unknown ID is not nil")
	}
}
