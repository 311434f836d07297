package image

import (
	"fmt"
	"slices"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/storage"
)

// Index answers questions about many images at once (`images` lists the
// parent and labels of every image) from one read of the store's image and
// layer lists, reading each image's config at most once. Asking the store
// image by image costs a lock round and a scan of every image per question:
// with 100 images, `images` spent most of its time in ImagesByTopLayer.
// An Index is a snapshot: it is for one listing, not kept.
type Index struct {
	r       *Runtime
	byID    map[string]*storage.Image
	byTop   map[string][]*storage.Image
	layers  map[string]*storage.Layer
	configs map[string]configResult
}

type configResult struct {
	cfg *ociv1.Image
	err error
}

// NewIndex reads the store's images and layers.
func (r *Runtime) NewIndex() (*Index, error) {
	imgs, err := r.store.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	layers, err := r.store.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	ix := &Index{r: r, byID: make(map[string]*storage.Image, len(imgs)), byTop: make(map[string][]*storage.Image, len(imgs)),
		layers: make(map[string]*storage.Layer, len(layers)), configs: make(map[string]configResult, len(imgs))}
	// The first of several stores holding an ID wins, as in the store's
	// own lookups; images by top layer keep the store's order.
	for i := range layers {
		if _, ok := ix.layers[layers[i].ID]; !ok {
			ix.layers[layers[i].ID] = &layers[i]
		}
	}
	for i := range imgs {
		img := &imgs[i]
		if _, ok := ix.byID[img.ID]; !ok {
			ix.byID[img.ID] = img
		}
		if img.TopLayer != "" {
			ix.byTop[img.TopLayer] = append(ix.byTop[img.TopLayer], img)
		}
		for _, l := range img.MappedTopLayers {
			if l != img.TopLayer && !slices.Contains(ix.byTop[l], img) {
				ix.byTop[l] = append(ix.byTop[l], img)
			}
		}
	}
	return ix, nil
}

// Image is the image with that full ID, nil if the store had none.
func (ix *Index) Image(id string) *storage.Image { return ix.byID[id] }

// Config is the image's OCI configuration, read once.
func (ix *Index) Config(img *storage.Image) (*ociv1.Image, error) { return ix.config(img) }

func (ix *Index) config(img *storage.Image) (*ociv1.Image, error) {
	if c, ok := ix.configs[img.ID]; ok {
		return c.cfg, c.err
	}
	cfg, err := ix.r.Config(img)
	ix.configs[img.ID] = configResult{cfg, err}
	return cfg, err
}

// ParentID is Runtime.ParentID, answered from the index.
func (ix *Index) ParentID(img *storage.Image) string {
	cfg, err := ix.config(img)
	if err != nil {
		return ""
	}
	return parentImage(ix, img, cfg)
}

func (ix *Index) layer(id string) (*storage.Layer, error) {
	if l, ok := ix.layers[id]; ok {
		return l, nil
	}
	return nil, storage.ErrLayerUnknown
}

func (ix *Index) imagesByTopLayer(id string) ([]*storage.Image, error) {
	if _, err := ix.layer(id); err != nil {
		return nil, err
	}
	return slices.Clone(ix.byTop[id]), nil
}
