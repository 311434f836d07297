package image

import (
	"errors"
	"fmt"

	"go.podman.io/storage"
)

// MountedImage is an image whose root filesystem is mounted (read-only).
type MountedImage struct {
	ID, Name, Path string
}

// Mount mounts the image's root filesystem read-only and returns where;
// each Mount counts, as storage's mounts do.
func (r *Runtime) Mount(img *storage.Image) (string, error) {
	p, err := r.store.MountImage(img.ID, nil, "")
	if err != nil {
		return "", fmt.Errorf("mounting image %s: %w", img.ID, err)
	}
	return p, nil
}

// Unmount undoes one Mount of the image, or all of them with force; it
// reports whether the image was mounted.
func (r *Runtime) Unmount(img *storage.Image, force bool) (bool, error) {
	if !r.isMounted(img) {
		return false, nil
	}
	if _, err := r.store.UnmountImage(img.ID, force); err != nil {
		return false, fmt.Errorf("unmounting image %s: %w", img.ID, err)
	}
	return true, nil
}

func (r *Runtime) isMounted(img *storage.Image) bool {
	if img.TopLayer == "" {
		return false
	}
	n, err := r.store.Mounted(img.TopLayer)
	return err == nil && n > 0
}

// Mounted lists the mounted images.
func (r *Runtime) Mounted() ([]MountedImage, error) {
	imgs, err := r.store.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	var out []MountedImage
	for i := range imgs {
		img := &imgs[i]
		if !r.isMounted(img) {
			continue
		}
		layer, err := r.store.Layer(img.TopLayer)
		if err != nil {
			if errors.Is(err, storage.ErrLayerUnknown) {
				continue
			}
			return nil, err
		}
		name := ""
		if len(img.Names) > 0 {
			name = img.Names[0]
		}
		out = append(out, MountedImage{ID: img.ID, Name: name, Path: layer.MountPoint})
	}
	return out, nil
}
