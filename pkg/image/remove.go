package image

import (
	"errors"
	"fmt"
	"slices"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage"
)

// ErrInUse is returned (wrapped) when a container uses an image.
var ErrInUse = errors.New("image is in use by a container: consider listing external containers and force-removing image")

// ErrMultipleNames is returned when an image referred to by ID has several names.
var ErrMultipleNames = errors.New("image is referenced in multiple repositories")

// RemoveReport says what a removal did, in podman's words.
type RemoveReport struct {
	Untagged []string
	Deleted  []string // the image, then the dangling parents removed with it
}

// Remove untags or deletes the image that name refers to. Referring by name
// to an image with several names only untags that name. An image that a
// container uses is refused (ErrInUse) unless force, which deletes the
// storage containers that use it: the engine removes its own containers
// first, so those left are other tools' (podman's, buildah's). force also
// deletes, by ID, an image with several names.
func (r *Runtime) Remove(name string, force bool) (RemoveReport, error) {
	var rep RemoveReport
	img, err := r.Lookup(name)
	if err != nil {
		return rep, err
	}
	byName := !isHexPrefix(trimSHA(name)) || !hasPrefix(img.ID, trimSHA(name))
	if byName && len(img.Names) > 1 {
		full := matchingName(img, name)
		if err := r.store.RemoveNames(img.ID, []string{full}); err != nil {
			return rep, fmt.Errorf("untagging %s: %w", full, err)
		}
		rep.Untagged = append(rep.Untagged, full)
		return rep, nil
	}
	if !byName && len(img.Names) > 1 && !force {
		return rep, fmt.Errorf("unable to delete image %q by ID with more than one tag (%v): please force removal: %w", img.ID, img.Names, ErrMultipleNames)
	}
	return r.deleteImage(img, force)
}

// RemoveAll deletes the image with the given ID whatever its names (rmi
// --all); as Remove, an image in use is refused unless force.
func (r *Runtime) RemoveAll(id string, force bool) (RemoveReport, error) {
	img, err := r.store.Image(id)
	if err != nil {
		if errors.Is(err, storage.ErrImageUnknown) {
			return RemoveReport{}, fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		return RemoveReport{}, fmt.Errorf("looking up image %s: %w", id, err)
	}
	return r.deleteImage(img, force)
}

func (r *Runtime) deleteImage(img *storage.Image, force bool) (RemoveReport, error) {
	var rep RemoveReport
	users, err := r.containersUsing(img.ID)
	if err != nil {
		return rep, err
	}
	if len(users) > 0 && !force {
		return rep, fmt.Errorf("image used by %s: %w", users[0], ErrInUse)
	}
	parent := r.ParentID(img)
	for _, c := range users {
		if err := r.store.DeleteContainer(c); err != nil {
			return rep, fmt.Errorf("removing container %s that uses image %s: %w", c, img.ID, err)
		}
	}
	if _, err := r.store.DeleteImage(img.ID, true); err != nil {
		if errors.Is(err, storage.ErrImageUsedByContainer) {
			return rep, fmt.Errorf("image %s: %w", img.ID, ErrInUse)
		}
		return rep, fmt.Errorf("deleting image %s: %w", img.ID, err)
	}
	rep.Untagged = append(rep.Untagged, img.Names...)
	rep.Deleted = append(rep.Deleted, img.ID)
	rep.Deleted = append(rep.Deleted, r.removeDanglingParents(parent)...)
	return rep, nil
}

// removeDanglingParents deletes the image a removed image was built on,
// and its own parent in turn, while each is dangling (no name, no other
// image built on it) and no container uses it: podman's rmi does, so the
// intermediate images of a build go with the image.
func (r *Runtime) removeDanglingParents(id string) []string {
	var deleted []string
	for id != "" {
		img, err := r.store.Image(id)
		if err != nil || len(img.Names) > 0 || r.hasChildren(id) {
			break
		}
		if users, err := r.containersUsing(id); err != nil || len(users) > 0 {
			break
		}
		next := r.ParentID(img)
		if _, err := r.store.DeleteImage(id, true); err != nil {
			break
		}
		deleted = append(deleted, id)
		id = next
	}
	return deleted
}

// hasChildren reports whether some image was built on image id. One index
// of the store answers for every image (asking the store image by image
// scanned every image for each one).
func (r *Runtime) hasChildren(id string) bool {
	ix, err := r.NewIndex()
	if err != nil {
		return true
	}
	for _, img := range ix.byID {
		if img.ID != id && ix.ParentID(img) == id {
			return true
		}
	}
	return false
}

func (r *Runtime) containersUsing(imageID string) ([]string, error) {
	cs, err := r.store.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var ids []string
	for _, c := range cs {
		if c.ImageID == imageID {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

// matchingName returns the stored name that the user's name refers to.
func matchingName(img *storage.Image, name string) string {
	if slices.Contains(img.Names, name) {
		return name
	}
	if n, err := NormalizeName(name); err == nil && slices.Contains(img.Names, n.String()) {
		return n.String()
	}
	if n, err := reference.ParseNormalizedNamed(name); err == nil {
		full := reference.TagNameOnly(n).String()
		if slices.Contains(img.Names, full) {
			return full
		}
	}
	for _, n := range img.Names {
		if shortNameMatches(n, name) {
			return n
		}
	}
	return img.Names[0]
}

// Tag adds a name to an image.
func (r *Runtime) Tag(img *storage.Image, name string) error {
	n, err := NormalizeName(name)
	if err != nil {
		return err
	}
	if _, ok := n.(reference.Digested); ok {
		return fmt.Errorf("tag %q: a tag must not contain a digest", name)
	}
	if err := r.store.AddNames(img.ID, []string{n.String()}); err != nil {
		return fmt.Errorf("tagging image %s as %s: %w", img.ID, n, err)
	}
	return nil
}

// Untag removes a name from an image; with no name it removes all names.
func (r *Runtime) Untag(img *storage.Image, name string) error {
	names := img.Names
	if name != "" {
		name = dropTagOfDigested(name)
		n, err := NormalizeName(name)
		if err != nil {
			return err
		}
		full := n.String()
		if !slices.Contains(img.Names, full) {
			full = matchingName(img, name)
			if !slices.Contains(img.Names, full) || full == img.Names[0] && !nameMatches(full, name) {
				return fmt.Errorf("%s: tag not known", name)
			}
		}
		names = []string{full}
	}
	if err := r.store.RemoveNames(img.ID, names); err != nil {
		return fmt.Errorf("untagging image %s: %w", img.ID, err)
	}
	return nil
}

func nameMatches(stored, input string) bool {
	n, err := reference.ParseNormalizedNamed(input)
	return err == nil && reference.TagNameOnly(n).String() == stored
}

func trimSHA(s string) string {
	if len(s) > 7 && s[:7] == "sha256:" {
		return s[7:]
	}
	return s
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
