package image

import (
	"context"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage"
)

// RegistryName is the name to ask a registry about for img, which was
// found by name: name itself when it names a registry host (other than
// localhost), else the first of img's names that does ("" when none).
func RegistryName(name string, img *storage.Image) string {
	names := img.Names
	if hasRegistry(name) {
		if n, err := NormalizeName(name); err == nil {
			names = []string{n.String()}
		}
	}
	for _, n := range names {
		named, err := reference.ParseNormalizedNamed(n)
		if err == nil && reference.Domain(named) != "localhost" {
			return reference.TagNameOnly(named).String()
		}
	}
	return ""
}

// RemoteIsNewer reports whether the registry holds a different manifest
// for img, found by name (--pull newer; see RegistryName). Images without a
// registry name, and registries that cannot be asked, count as not newer:
// the local image is used, as podman does.
func (r *Runtime) RemoteIsNewer(ctx context.Context, name string, img *storage.Image, opts CopyOptions) bool {
	regName := RegistryName(name, img)
	if regName == "" || img.Digest == "" {
		return false
	}
	named, err := reference.ParseNormalizedNamed(regName)
	if err != nil {
		return false
	}
	ref, err := docker.NewReference(named)
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
