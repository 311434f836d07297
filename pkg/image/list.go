package image

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
)

// Summary is one local image as listed by `berth images`.
type Summary struct {
	ID         string
	Names      []string
	Digest     digest.Digest
	Digests    []digest.Digest
	Created    time.Time
	Size       int64
	Containers int
	TopLayer   string
	ReadOnly   bool
	// NamesHistory are the names the image had, newest first.
	NamesHistory []string
	// Intermediate is an untagged image that other images build on.
	Intermediate bool
}

// Dangling reports whether the image has no name.
func (s *Summary) Dangling() bool { return len(s.Names) == 0 }

// List returns all local images, newest first.
func (r *Runtime) List() ([]Summary, error) {
	imgs, err := r.store.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	layers, err := r.store.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	byID := make(map[string]*storage.Layer, len(layers))
	for i := range layers {
		byID[layers[i].ID] = &layers[i]
	}
	containers, err := r.store.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	users := map[string]int{}
	for _, c := range containers {
		users[c.ImageID]++
	}
	// A layer that is the parent of another image's layers marks the image
	// whose top layer it is as intermediate (when untagged).
	parents := map[string]bool{}
	for i := range imgs {
		for l := byID[imgs[i].TopLayer]; l != nil && l.Parent != ""; l = byID[l.Parent] {
			parents[l.Parent] = true
		}
	}
	sameLayer := r.emptyLayerParents(imgs)
	out := make([]Summary, 0, len(imgs))
	for i := range imgs {
		img := &imgs[i]
		s := Summary{
			ID:           img.ID,
			Names:        img.Names,
			Digest:       img.Digest,
			Digests:      img.Digests,
			Created:      img.Created,
			Containers:   users[img.ID],
			TopLayer:     img.TopLayer,
			ReadOnly:     img.ReadOnly,
			NamesHistory: img.NamesHistory,
		}
		// As storage's ImageSize: the layers plus the image's own data.
		for l := byID[img.TopLayer]; l != nil; l = byID[l.Parent] {
			s.Size += l.UncompressedSize
		}
		for _, n := range img.BigDataSizes {
			s.Size += n
		}
		s.Intermediate = len(img.Names) == 0 && img.TopLayer != "" && (parents[img.TopLayer] || sameLayer[img.ID])
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Manifest returns the image's stored manifest and its MIME type.
func (r *Runtime) Manifest(img *storage.Image) ([]byte, string, error) {
	key := storage.ImageDigestBigDataKey
	if img.Digest != "" {
		key = "manifest-" + img.Digest.String()
	}
	data, err := r.store.ImageBigData(img.ID, key)
	if err != nil {
		data, err = r.store.ImageBigData(img.ID, storage.ImageDigestBigDataKey)
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading manifest of image %s: %w", img.ID, err)
	}
	return data, manifest.GuessMIMEType(data), nil
}

// Config returns the image's OCI configuration.
func (r *Runtime) Config(img *storage.Image) (*ociv1.Image, error) {
	raw, mimeType, err := r.Manifest(img)
	if err != nil {
		return nil, err
	}
	m, err := manifest.FromBlob(raw, mimeType)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest of image %s: %w", img.ID, err)
	}
	data, err := r.store.ImageBigData(img.ID, m.ConfigInfo().Digest.String())
	if err != nil {
		return nil, fmt.Errorf("reading config of image %s: %w", img.ID, err)
	}
	var cfg ociv1.Image
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("parsing config of image %s: %w", img.ID, err)
	}
	return &cfg, nil
}
