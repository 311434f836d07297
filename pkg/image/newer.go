package image

import (
	"context"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage"
)

// RemoteIsNewer reports whether the registry holds a different manifest for
// the name the local image was pulled as (--pull newer). Names that are not
// registry references, and registries that cannot be asked, count as not
// newer: the local image is used, as podman does.
func (r *Runtime) RemoteIsNewer(ctx context.Context, img *storage.Image, opts CopyOptions) bool {
	if len(img.Names) == 0 || img.Digest == "" {
		return false
	}
	named, err := reference.ParseNormalizedNamed(img.Names[0])
	if err != nil || reference.Domain(named) == "localhost" {
		return false
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return false
	}
	sys, err := opts.systemContext(r.sys)
	if err != nil {
		return false
	}
	remote, err := docker.GetDigest(ctx, sys, ref)
	if err != nil {
		return false
	}
	for _, d := range append(img.Digests, img.Digest) {
		if d == remote {
			return false
		}
	}
	return true
}
