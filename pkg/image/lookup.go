package image

import (
	"errors"
	"fmt"
	"strings"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage"
)

// ErrNotFound is returned (wrapped) when no local image matches a name.
var ErrNotFound = errors.New("image not known")

// NormalizeName turns user input into the name berth stores: a short name
// without a registry goes to localhost/ (as podman does for tag, import and
// build), and a missing tag becomes :latest.
func NormalizeName(name string) (reference.Named, error) {
	if strings.HasPrefix(name, "sha256:") || strings.ContainsAny(name, " \t") {
		return nil, fmt.Errorf("invalid image name %q", name)
	}
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, fmt.Errorf("parsing image name %q: %w", name, err)
	}
	if !hasRegistry(name) {
		ref, err = reference.ParseNormalizedNamed("localhost/" + name)
		if err != nil {
			return nil, fmt.Errorf("parsing image name %q: %w", name, err)
		}
	}
	return reference.TagNameOnly(ref), nil
}

// hasRegistry reports whether the first path component of name is a host.
func hasRegistry(name string) bool {
	i := strings.IndexRune(name, '/')
	if i < 0 {
		return false
	}
	host := name[:i]
	return strings.ContainsAny(host, ".:") || host == "localhost"
}

// Lookup finds a local image by full or partial ID, full name, or short name.
func (r *Runtime) Lookup(name string) (*storage.Image, error) {
	name = dropTagOfDigested(strings.TrimPrefix(name, "containers-storage:"))
	id := strings.TrimPrefix(name, "sha256:")
	if isHexPrefix(id) {
		if img, err := r.store.Image(id); err == nil {
			return img, nil
		}
	}
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	candidates := []string{}
	if hasRegistry(name) {
		candidates = append(candidates, reference.TagNameOnly(ref).String())
	} else {
		if local, err := NormalizeName(name); err == nil {
			candidates = append(candidates, local.String())
		}
		candidates = append(candidates, reference.TagNameOnly(ref).String())
	}
	for _, c := range candidates {
		if img, err := r.store.Image(c); err == nil {
			return img, nil
		}
	}
	if digested, ok := ref.(reference.Digested); ok {
		if img := r.byDigest(ref, digested); img != nil {
			return img, nil
		}
	}
	if !hasRegistry(name) {
		if img, err := r.byShortName(name); err != nil || img != nil {
			return img, err
		}
	}
	return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
}

func (r *Runtime) byDigest(ref reference.Named, d reference.Digested) *storage.Image {
	imgs, err := r.store.ImagesByDigest(d.Digest())
	if err != nil {
		return nil
	}
	for i := range imgs {
		for _, n := range imgs[i].Names {
			if named, err := reference.ParseNormalizedNamed(n); err == nil && named.Name() == ref.Name() {
				return imgs[i]
			}
		}
	}
	return nil
}

// byShortName matches "busybox" or "library/busybox:1" against the ends of
// stored repository names, as podman does for local lookups.
func (r *Runtime) byShortName(name string) (*storage.Image, error) {
	imgs, err := r.store.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	for i := range imgs {
		for _, n := range imgs[i].Names {
			if shortNameMatches(n, name) {
				return &imgs[i], nil
			}
		}
	}
	return nil, nil
}

// shortNameMatches reports whether the stored name ends in the short name's
// path components with the same tag (latest when none is given).
func shortNameMatches(stored, short string) bool {
	path, tag := short, "latest"
	if i := strings.LastIndex(short, ":"); i > strings.LastIndex(short, "/") {
		path, tag = short[:i], short[i+1:]
	}
	if path == "" || strings.Contains(short, "@") {
		return false
	}
	named, err := reference.ParseNormalizedNamed(stored)
	if err != nil {
		return false
	}
	t, ok := named.(reference.Tagged)
	if !ok || t.Tag() != tag {
		return false
	}
	return named.Name() == path || strings.HasSuffix(named.Name(), "/"+path)
}

func isHexPrefix(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// dropTagOfDigested turns NAME:TAG@DIGEST into NAME@DIGEST, as podman does:
// the digest names the image, the tag adds nothing the library accepts.
// Anything else is returned as it is.
func dropTagOfDigested(name string) string {
	ref, err := reference.Parse(name)
	if err != nil {
		return name
	}
	named, isNamed := ref.(reference.Named)
	_, tagged := ref.(reference.Tagged)
	digested, isDigested := ref.(reference.Digested)
	if !isNamed || !tagged || !isDigested {
		return name
	}
	return named.Name() + "@" + digested.Digest().String()
}
