package libpod

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/berth-containers/berth/libpod/state"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/idtools"
	"go.podman.io/storage/types"
)

// CreateOptions are where a create reports to; they are not part of the
// container.
type CreateOptions struct {
	// PullProgress receives the progress of a pull the create needs (nil:
	// none).
	PullProgress io.Writer
	// Warnings receives warnings for the user, a line each, as podman
	// prints them (nil: logged as warnings).
	Warnings io.Writer
}

func (o *CreateOptions) warn(msg string) {
	if o.Warnings == nil {
		logrus.Warn(msg)
		return
	}
	fmt.Fprintln(o.Warnings, msg)
}

// CreateContainer checks spec, fills its defaults (containers.conf, the
// image), resolves or pulls its image as its pull policy says, and records
// the container: a row in the state database and its storage. Nothing is
// written unless every check passed; the name is claimed in the database
// first (a unique constraint, so concurrent creates of one name cannot both
// win), then the storage container is made, and a failure removes what was
// made. A name that a storage container of another tool (podman, buildah)
// holds is refused: berth never deletes what it did not create.
func (r *Runtime) CreateContainer(ctx context.Context, spec *ContainerSpec, opts CreateOptions) (*Container, error) {
	if err := r.completeSpec(ctx, spec, &opts); err != nil {
		return nil, err
	}
	cfg := *spec
	logrus.Debugf("create: opening store")
	st, err := r.Store()
	if err != nil {
		return nil, err
	}
	logrus.Debugf("create: opening database")
	db, err := r.DB()
	if err != nil {
		return nil, err
	}
	if cfg.Replace && cfg.Name != "" {
		if err := r.replace(st, db, cfg.Name); err != nil {
			return nil, err
		}
	}
	cfg.ID = newID()
	cfg.Created = time.Now()
	generated := cfg.Name == ""
	if generated {
		cfg.Name = randomName()
	}
	if cfg.LogPath == "" && logsToFile(cfg.LogDriver) {
		cfg.LogPath = filepath.Join(st.GraphRoot(), st.GraphDriverName()+"-containers", cfg.ID, "userdata", "ctr.log")
	}
	for attempt := 0; ; attempt++ {
		holder, err := r.foreignHolder(st, db, cfg.Name)
		if err != nil {
			return nil, err
		}
		if holder != "" {
			if generated && attempt < 10 {
				cfg.Name = randomName()
				continue
			}
			return nil, nameInUseError(cfg.Name, holder)
		}
		row, err := newRow(&cfg)
		if err != nil {
			return nil, err
		}
		err = db.AddContainer(row)
		if err == nil {
			break
		}
		if generated && errors.Is(err, state.ErrNameInUse) && attempt < 10 {
			cfg.Name = randomName()
			continue
		}
		return nil, err
	}
	logrus.Debugf("create %s: row added, creating storage", cfg.ID)
	if _, err := r.createStorage(st, db, &cfg); err != nil {
		if rerr := db.RemoveContainer(cfg.ID); rerr != nil {
			logrus.Warnf("removing the row of container %s after a failed create: %v", cfg.ID, rerr)
		}
		return nil, err
	}
	*spec = cfg
	return &Container{Config: cfg, State: ContainerState{Status: StatusCreated}, rt: r}, nil
}

func newRow(cfg *ContainerSpec) (*state.ContainerRow, error) {
	c, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding container config: %w", err)
	}
	s, err := json.Marshal(&ContainerState{Status: StatusCreated})
	if err != nil {
		return nil, err
	}
	return &state.ContainerRow{ID: cfg.ID, Name: cfg.Name, Config: c, State: s, Created: cfg.Created}, nil
}

// createStorage makes the container's layer, marked as berth's. The name
// was checked before the row was added; a storage container that took it
// meanwhile is dealt with as then: another tool's is refused, a leftover
// of a berth crash is replaced.
func (r *Runtime) createStorage(st storage.Store, db *state.DB, cfg *ContainerSpec) (*storage.Container, error) {
	opts, err := storageOptions(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := berthMetadata(cfg)
	if err != nil {
		return nil, err
	}
	sc, err := st.CreateContainer(cfg.ID, []string{cfg.Name}, cfg.ImageID, "", meta, opts)
	if errors.Is(err, storage.ErrDuplicateName) {
		holder, herr := r.foreignHolder(st, db, cfg.Name)
		if herr != nil {
			return nil, herr
		}
		if holder != "" {
			return nil, nameInUseError(cfg.Name, holder)
		}
		sc, err = st.CreateContainer(cfg.ID, []string{cfg.Name}, cfg.ImageID, "", meta, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("creating storage for container %s: %w", cfg.Name, err)
	}
	return sc, nil
}

// replace removes berth's container named name, stopping it first if it
// runs (--replace). Another tool's container of that name is refused.
func (r *Runtime) replace(st storage.Store, db *state.DB, name string) error {
	holder, err := r.foreignHolder(st, db, name)
	if err != nil {
		return err
	}
	if holder != "" {
		return nameInUseError(name, holder)
	}
	row, err := db.LookupContainer(name)
	if errors.Is(err, state.ErrNoSuchContainer) || err == nil && row.Name != name {
		return nil // nothing to replace (a matching ID is not a name)
	}
	if err != nil {
		return err
	}
	old, err := r.containerFromRow(row)
	if err != nil {
		return err
	}
	logrus.Debugf("create: replacing container %s (%s)", name, old.ID())
	err = r.RemoveContainer(old, RemoveOptions{Force: true, StopTimeout: old.Config.stopTimeout()})
	if err != nil && !errors.Is(err, state.ErrNoSuchContainer) {
		return fmt.Errorf("replacing container %s: %w", name, err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// storageOptions gives a container with its own user namespace (--userns
// keep-id) a root filesystem owned as that namespace sees it, so files keep
// their owners inside the container.
//
// A --rm container is volatile, as podman makes it: storage records it and
// its layer in volatile-containers.json and volatile-layers.json beside
// containers.json and layers.json. Those hold only such short-lived
// containers and are written without fsync, so run --rm no longer rewrites
// and syncs the files that hold every container of the store (twice each
// per run). A power cut may lose such a record together with the
// container's process; removing its berth row then finds no storage, which
// removal already accepts.
func storageOptions(cfg *ContainerSpec) (*storage.ContainerOptions, error) {
	if cfg.UserNS == "" {
		if cfg.AutoRemove {
			return &storage.ContainerOptions{Volatile: true}, nil
		}
		return nil, nil
	}
	m, err := userNSMappings(cfg.UserNS)
	if err != nil {
		return nil, err
	}
	conv := func(in []specs.LinuxIDMapping) []idtools.IDMap {
		out := make([]idtools.IDMap, 0, len(in))
		for _, x := range in {
			out = append(out, idtools.IDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)})
		}
		return out
	}
	return &storage.ContainerOptions{IDMappingOptions: types.IDMappingOptions{UIDMap: conv(m.UIDMap), GIDMap: conv(m.GIDMap)},
		Volatile: cfg.AutoRemove}, nil
}
