package image

import (
	"errors"
	"fmt"

	"go.podman.io/storage"
)

// PruneOptions select what `image prune` removes.
type PruneOptions struct {
	// All removes every image no container uses, not only dangling ones.
	All bool
	// Filter, if set, must accept an image for it to be removed.
	Filter func(*Summary) (bool, error)
}

// Prune removes dangling images (untagged, and no other image builds on
// them), or with All every image no container uses. It repeats until a
// round removes nothing, since removing an image can leave its parent
// dangling. It returns the IDs removed.
func (r *Runtime) Prune(opts PruneOptions) ([]string, error) {
	var removed []string
	for {
		list, err := r.List()
		if err != nil {
			return removed, err
		}
		n := 0
		for i := range list {
			s := &list[i]
			if s.Containers > 0 || s.ReadOnly || !opts.All && (!s.Dangling() || s.Intermediate) {
				continue
			}
			if opts.Filter != nil {
				ok, err := opts.Filter(s)
				if err != nil {
					return removed, err
				}
				if !ok {
					continue
				}
			}
			if _, err := r.store.DeleteImage(s.ID, true); err != nil {
				if errors.Is(err, storage.ErrImageUsedByContainer) || errors.Is(err, storage.ErrImageUnknown) {
					continue
				}
				return removed, fmt.Errorf("removing image %s: %w", s.ID, err)
			}
			removed = append(removed, s.ID)
			n++
		}
		if n == 0 {
			return removed, nil
		}
	}
}
