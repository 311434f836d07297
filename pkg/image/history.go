package image

import (
	"fmt"
	"time"

	"go.podman.io/storage"
)

// HistoryEntry is one line of `berth history`, newest first.
type HistoryEntry struct {
	// ID is the image whose top layer this entry made, or "<missing>".
	ID        string
	Created   *time.Time
	CreatedBy string
	Size      int64
	Comment   string
	Tags      []string
}

// History pairs the config's history entries with the image's layers,
// walking both from the top; entries that made no layer have size 0. An
// entry gets an image ID when some local image has that layer on top.
func (r *Runtime) History(img *storage.Image) ([]HistoryEntry, error) {
	cfg, err := r.Config(img)
	if err != nil {
		return nil, err
	}
	var layer *storage.Layer
	if img.TopLayer != "" {
		if layer, err = r.store.Layer(img.TopLayer); err != nil {
			return nil, fmt.Errorf("reading layer %s of image %s: %w", img.TopLayer, img.ID, err)
		}
	}
	used := map[string]bool{img.ID: true}
	out := make([]HistoryEntry, 0, len(cfg.History))
	for x := len(cfg.History) - 1; x >= 0; x-- {
		h := cfg.History[x]
		e := HistoryEntry{ID: "<missing>", Created: h.Created, CreatedBy: h.CreatedBy, Comment: h.Comment}
		if x == len(cfg.History)-1 {
			e.ID = img.ID
			e.Tags = append(e.Tags, img.Names...)
		}
		if layer != nil {
			if !h.EmptyLayer {
				e.Size = layer.UncompressedSize
			}
			owners, _ := r.store.ImagesByTopLayer(layer.ID)
			for _, o := range owners {
				// Images that share a top layer (build steps that only
				// changed the config) differ by their history's length.
				if e.ID == "<missing>" && !used[o.ID] && r.historyLen(o) == x+1 {
					e.ID = o.ID
					used[o.ID] = true
					e.Tags = append(e.Tags, o.Names...)
				}
			}
			if !h.EmptyLayer {
				if layer.Parent == "" {
					layer = nil
				} else if layer, err = r.store.Layer(layer.Parent); err != nil {
					return nil, fmt.Errorf("reading layers of image %s: %w", img.ID, err)
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// historyLen is the number of history entries in an image's config, -1 if
// it cannot be read.
func (r *Runtime) historyLen(img *storage.Image) int {
	cfg, err := r.Config(img)
	if err != nil {
		return -1
	}
	return len(cfg.History)
}
