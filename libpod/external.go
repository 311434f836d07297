package libpod

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-containers/berth/libpod/state"
	"go.podman.io/storage"
)

// The store is shared with podman, buildah and other tools: a storage
// container without a berth row is theirs ("external", as podman calls
// them), unless berth's own mark says it is a leftover of a berth crash.

// ErrNameInUseExternal is returned (wrapped) when a name is taken by a
// storage container that berth did not create.
var ErrNameInUseExternal = errors.New("that name is already in use")

// storageMetadata is the Metadata of the storage containers berth creates:
// podman's fields, plus the mark that tells berth's own from other tools'.
type storageMetadata struct {
	ImageName string `json:"image-name"`
	ImageID   string `json:"image-id"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created-at"`
	CreatedBy string `json:"created-by"`
}

const createdByBerth = "berth"

func berthMetadata(cfg *ContainerSpec) (string, error) {
	b, err := json.Marshal(storageMetadata{ImageName: cfg.ImageName, ImageID: cfg.ImageID, Name: cfg.Name,
		CreatedAt: cfg.Created.Unix(), CreatedBy: createdByBerth})
	if err != nil {
		return "", fmt.Errorf("encoding storage metadata: %w", err)
	}
	return string(b), nil
}

// createdByBerth says whether berth made the storage container.
func isBerthStorage(sc *storage.Container) bool {
	var m storageMetadata
	return json.Unmarshal([]byte(sc.Metadata), &m) == nil && m.CreatedBy == createdByBerth
}

// nameInUseError is podman's refusal to take a name from a storage
// container that is not its own.
func nameInUseError(name, id string) error {
	return fmt.Errorf("creating container storage: the container name %q is already in use by %s. You have to remove that container to be able to reuse that name: %w", name, id, ErrNameInUseExternal)
}

// ExternalContainer is a storage container without a berth row: made by
// podman, buildah or another tool sharing the store (or left by a berth
// that crashed while creating or removing a container).
type ExternalContainer struct {
	ID      string
	Names   []string
	ImageID string
	// ImageName is the image's first name ("scratch" for a buildah
	// container from scratch), as podman shows it.
	ImageName string
	Created   time.Time
	// Buildah is true for a buildah working container.
	Buildah bool
}

// Name is the container's first name, "unknown" if it has none (podman).
func (e *ExternalContainer) Name() string {
	if len(e.Names) > 0 {
		return e.Names[0]
	}
	return "unknown"
}

// ExternalContainers lists the storage containers berth has no row for.
func (r *Runtime) ExternalContainers() ([]*ExternalContainer, error) {
	st, err := r.Store()
	if err != nil {
		return nil, err
	}
	db, err := r.DB()
	if err != nil {
		return nil, err
	}
	scs, err := st.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing storage containers: %w", err)
	}
	rows, err := db.Containers()
	if err != nil {
		return nil, err
	}
	berths := make(map[string]bool, len(rows))
	for _, row := range rows {
		berths[row.ID] = true
	}
	var out []*ExternalContainer
	for i := range scs {
		if !berths[scs[i].ID] {
			out = append(out, r.external(st, &scs[i]))
		}
	}
	return out, nil
}

func (r *Runtime) external(st storage.Store, sc *storage.Container) *ExternalContainer {
	e := &ExternalContainer{ID: sc.ID, Names: sc.Names, ImageID: sc.ImageID, Created: sc.Created}
	if dir, err := st.ContainerDirectory(sc.ID); err == nil {
		// buildah's own test: its state file is in the container's directory
		if _, err := os.Stat(filepath.Join(dir, "buildah.json")); err == nil {
			e.Buildah = true
		}
	}
	if sc.ImageID != "" {
		if img, err := st.Image(sc.ImageID); err == nil {
			switch {
			case len(img.NamesHistory) > 0:
				e.ImageName = img.NamesHistory[0]
			case len(img.Names) > 0:
				e.ImageName = img.Names[0]
			}
		}
	} else if e.Buildah {
		e.ImageName = "scratch"
	}
	return e
}

// LookupExternalContainer finds a storage container berth has no row for,
// by name, ID or ID prefix; state.ErrNoSuchContainer if there is none.
func (r *Runtime) LookupExternalContainer(nameOrID string) (*ExternalContainer, error) {
	st, err := r.Store()
	if err != nil {
		return nil, err
	}
	sc, err := st.Container(nameOrID)
	if err != nil {
		if errors.Is(err, storage.ErrContainerUnknown) || errors.Is(err, storage.ErrNotAContainer) {
			return nil, state.ErrNoSuchContainer
		}
		return nil, fmt.Errorf("looking up %q in storage: %w", nameOrID, err)
	}
	db, err := r.DB()
	if err != nil {
		return nil, err
	}
	if _, err := db.LookupContainer(sc.ID); err == nil {
		return nil, state.ErrNoSuchContainer // berth's own
	} else if !errors.Is(err, state.ErrNoSuchContainer) {
		return nil, err
	}
	return r.external(st, sc), nil
}

// RemoveExternalContainer deletes the storage container nameOrID refers
// to if berth has no row for it (podman's RemoveStorageContainer): a
// mounted one only with force, which unmounts it first. It returns
// state.ErrNoSuchContainer if there is no such container.
func (r *Runtime) RemoveExternalContainer(nameOrID string, force bool) error {
	e, err := r.LookupExternalContainer(nameOrID)
	if err != nil {
		return err
	}
	st, err := r.Store()
	if err != nil {
		return err
	}
	if !force {
		n, err := st.Mounted(e.ID)
		if err != nil {
			return fmt.Errorf("looking up container %q mounts: %w", nameOrID, err)
		}
		if n > 0 {
			return fmt.Errorf("container %q is mounted and cannot be removed without using force: %w", nameOrID, ErrRunning)
		}
	} else if _, err := st.Unmount(e.ID, true); err != nil && !errors.Is(err, storage.ErrLayerNotMounted) {
		return fmt.Errorf("unmounting container %q: %w", nameOrID, err)
	}
	if err := st.DeleteContainer(e.ID); err != nil {
		if errors.Is(err, storage.ErrContainerUnknown) || errors.Is(err, storage.ErrNotAContainer) {
			return state.ErrNoSuchContainer
		}
		return fmt.Errorf("removing storage for container %q: %w", nameOrID, err)
	}
	return nil
}

// foreignHolder returns the ID of the storage container that holds name if
// berth may not take the name from it: one that has no berth row and no
// berth mark. A berth-marked one without a row (a crash leftover) is
// deleted, and a berth container that still carries the name in storage
// (it was renamed) loses it there; then "" is returned.
func (r *Runtime) foreignHolder(st storage.Store, db *state.DB, name string) (string, error) {
	sc, err := st.Container(name)
	if err != nil {
		if errors.Is(err, storage.ErrContainerUnknown) || errors.Is(err, storage.ErrNotAContainer) {
			return "", nil
		}
		return "", fmt.Errorf("looking up %q in storage: %w", name, err)
	}
	held := false
	for _, n := range sc.Names {
		held = held || n == name
	}
	if !held {
		return "", nil // an ID or ID prefix, not a name
	}
	row, err := db.LookupContainer(sc.ID)
	switch {
	case err == nil:
		if row.Name == name {
			return "", nil // the database's unique name decides
		}
		if err := st.RemoveNames(sc.ID, []string{name}); err != nil {
			return "", fmt.Errorf("dropping stale name %q of container %s in storage: %w", name, sc.ID, err)
		}
		return "", nil
	case !errors.Is(err, state.ErrNoSuchContainer):
		return "", err
	case isBerthStorage(sc):
		if _, err := st.Unmount(sc.ID, true); err != nil && !errors.Is(err, storage.ErrLayerNotMounted) {
			return "", fmt.Errorf("unmounting leftover storage container %s: %w", sc.ID, err)
		}
		if err := st.DeleteContainer(sc.ID); err != nil && !errors.Is(err, storage.ErrContainerUnknown) {
			return "", fmt.Errorf("removing leftover storage container %s: %w", sc.ID, err)
		}
		return "", nil
	}
	return sc.ID, nil
}

// MountExternal mounts the root filesystem of another tool's storage
// container (podman's `mount` of a buildah container) and returns where.
func (r *Runtime) MountExternal(nameOrID string) (string, error) {
	e, err := r.LookupExternalContainer(nameOrID)
	if err != nil {
		return "", err
	}
	st, err := r.Store()
	if err != nil {
		return "", err
	}
	return st.Mount(e.ID, "")
}

// UnmountExternal undoes MountExternal (all mounts with force).
func (r *Runtime) UnmountExternal(nameOrID string, force bool) error {
	e, err := r.LookupExternalContainer(nameOrID)
	if err != nil {
		return err
	}
	st, err := r.Store()
	if err != nil {
		return err
	}
	if n, err := st.Mounted(e.ID); err != nil || n == 0 {
		return err
	}
	_, err = st.Unmount(e.ID, force)
	return err
}
