package image

import (
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/storage"
)

// emptyLayerParents returns the untagged images that another image
// extends without adding a layer: both have the same top layer and this
// one's history is a strict prefix of the other's. Builds make such images
// for steps that change only the configuration (ENV, LABEL, CMD, ...);
// like the images below a layer of another image, they are intermediate.
// Configs are read only for untagged images sharing a top layer.
func (r *Runtime) emptyLayerParents(imgs []storage.Image) map[string]bool {
	byTop := map[string][]int{}
	for i := range imgs {
		if imgs[i].TopLayer != "" {
			byTop[imgs[i].TopLayer] = append(byTop[imgs[i].TopLayer], i)
		}
	}
	out := map[string]bool{}
	for _, group := range byTop {
		if len(group) < 2 {
			continue
		}
		untagged := false
		for _, i := range group {
			if len(imgs[i].Names) == 0 {
				untagged = true
			}
		}
		if !untagged {
			continue
		}
		hist := make([][]ociv1.History, len(group))
		for k, i := range group {
			if cfg, err := r.Config(&imgs[i]); err == nil {
				hist[k] = cfg.History
			}
		}
		for k, i := range group {
			if len(imgs[i].Names) != 0 || len(hist[k]) == 0 {
				continue
			}
			for o := range group {
				if o != k && len(hist[o]) > len(hist[k]) && historyPrefix(hist[k], hist[o]) {
					out[imgs[i].ID] = true
					break
				}
			}
		}
	}
	return out
}
