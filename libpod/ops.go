package libpod

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// Restart stops (if running) and starts the container again.
func (c *Container) Restart(timeout time.Duration) error {
	if err := c.Stop(timeout); err != nil {
		return err
	}
	if err := c.refresh(); err != nil {
		return err
	}
	c.State.StoppedByUser = false
	return c.Start(nil)
}

// Pause freezes a running container (needs a cgroup freezer).
func (c *Container) Pause() error { return c.setPaused(true) }

// Unpause thaws a paused container.
func (c *Container) Unpause() error { return c.setPaused(false) }

func (c *Container) setPaused(pause bool) error {
	lock, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer lock.unlock()
	want, next := StatusRunning, StatusPaused
	if !pause {
		want, next = StatusPaused, StatusRunning
	}
	if c.State.Status != want {
		return fmt.Errorf("%q is not %s, can't %s: %w", c.Name(), want, map[bool]string{true: "pause", false: "unpause"}[pause], ErrNotRunning)
	}
	if rootless.IsRootless() {
		return errors.New("pause is not supported for rootless containers here: it needs a cgroup freezer, which rootless containers do not get on cgroup v1")
	}
	rt, err := c.ociRuntime()
	if err != nil {
		return err
	}
	if pause {
		err = rt.Pause(c.ID())
	} else {
		err = rt.Resume(c.ID())
	}
	if err != nil {
		return err
	}
	c.State.Status = next
	return c.save()
}

// Rename gives the container a new name, in the database and in storage.
// A name another tool's storage container holds is refused.
func (c *Container) Rename(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("invalid container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
	}
	lock, err := c.rt.lockContainer(c.ID())
	if err != nil {
		return err
	}
	defer lock.unlock()
	db, err := c.rt.DB()
	if err != nil {
		return err
	}
	st, err := c.rt.Store()
	if err != nil {
		return err
	}
	holder, err := c.rt.foreignHolder(st, db, name)
	if err != nil {
		return err
	}
	if holder != "" {
		return nameInUseError(name, holder)
	}
	old := c.Config.Name
	if err := db.SetName(c.ID(), name); err != nil {
		return err
	}
	if err := st.SetNames(c.ID(), []string{name}); err != nil {
		if rerr := db.SetName(c.ID(), old); rerr != nil {
			logrus.Warnf("restoring the name %s of container %s: %v", old, c.ID(), rerr)
		}
		return fmt.Errorf("renaming the storage of container %s: %w", old, err)
	}
	c.Config.Name = name
	return nil
}

// Mount mounts the container's root filesystem and returns its path.
func (c *Container) Mount() (string, error) {
	st, err := c.rt.Store()
	if err != nil {
		return "", err
	}
	return st.Mount(c.ID(), "")
}

// MountPoint returns where the container's root filesystem is mounted, ""
// when it is not (by `mount`, a running container or another tool).
func (c *Container) MountPoint() (string, error) {
	return c.rt.storageMountPoint(c.ID())
}

// MountPoint is where another tool's container is mounted, "" if it is not.
func (e *ExternalContainer) MountPoint(r *Runtime) (string, error) {
	return r.storageMountPoint(e.ID)
}

func (r *Runtime) storageMountPoint(id string) (string, error) {
	st, err := r.Store()
	if err != nil {
		return "", err
	}
	n, err := st.Mounted(id)
	if err != nil || n == 0 {
		return "", err
	}
	sc, err := st.Container(id)
	if err != nil {
		return "", err
	}
	l, err := st.Layer(sc.LayerID)
	if err != nil {
		return "", err
	}
	return l.MountPoint, nil
}

// Unmount releases one Mount of the container's root filesystem.
func (c *Container) Unmount(force bool) error {
	st, err := c.rt.Store()
	if err != nil {
		return err
	}
	_, err = st.Unmount(c.ID(), force)
	return err
}

// Export writes the container's filesystem as a tar stream.
func (c *Container) Export(w io.Writer) error {
	path, err := c.Mount()
	if err != nil {
		return fmt.Errorf("mounting %s: %w", c.Name(), err)
	}
	defer func() { _ = c.Unmount(false) }()
	rc, err := archive.Tar(path, archive.Uncompressed)
	if err != nil {
		return fmt.Errorf("archiving %s: %w", c.Name(), err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("writing export of %s: %w", c.Name(), err)
	}
	return nil
}

// Change is one entry of `diff`.
type Change struct {
	Kind string // A, C or D
	Path string
}

// engineInodes are the mount points the engine (or the OCI runtime) creates
// in every container's root filesystem: `diff` leaves them out, as podman
// does. What a container writes below them is listed.
var engineInodes = map[string]bool{
	"/dev": true, "/proc": true, "/sys": true, "/run": true, "/etc/mtab": true,
	"/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true,
	"/run/.containerenv": true, "/run/secrets": true, "/run/notify": true,
	specgen.InitPath: true,
}

// Diff lists what the container changed compared with its image, without
// the mount points berth itself provides.
func (c *Container) Diff() ([]Change, error) {
	st, err := c.rt.Store()
	if err != nil {
		return nil, err
	}
	sc, err := st.Container(c.ID())
	if err != nil {
		return nil, fmt.Errorf("finding storage of %s: %w", c.Name(), err)
	}
	return layerChanges(st, sc.LayerID, c.Name())
}

// DiffStorage is `diff` of what berth did not create: a container of
// another tool in the store (a buildah working container, podman's), else
// an image (the changes of its top layer), found by name or ID, as podman
// does. It returns storage.ErrLayerUnknown when nothing matches.
func (r *Runtime) DiffStorage(nameOrID string) ([]Change, error) {
	st, err := r.Store()
	if err != nil {
		return nil, err
	}
	if sc, err := st.Container(nameOrID); err == nil {
		return layerChanges(st, sc.LayerID, nameOrID)
	}
	if img, err := st.Image(nameOrID); err == nil {
		return layerChanges(st, img.TopLayer, nameOrID)
	}
	if ir, err := r.Images(); err == nil {
		if img, err := ir.Lookup(nameOrID); err == nil {
			return layerChanges(st, img.TopLayer, nameOrID)
		}
	}
	return nil, fmt.Errorf("%s not found: %w", nameOrID, storage.ErrLayerUnknown)
}

// layerChanges lists the changes of a layer against its parent, without
// the engine's mount points.
func layerChanges(st storage.Store, layerID, what string) ([]Change, error) {
	layer, err := st.Layer(layerID)
	if err != nil {
		return nil, fmt.Errorf("finding the layer of %s: %w", what, err)
	}
	changes, err := st.Changes(layer.Parent, layer.ID)
	if err != nil {
		return nil, fmt.Errorf("computing changes of %s: %w", what, err)
	}
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		if engineInodes[ch.Path] {
			continue
		}
		kind := "C"
		switch ch.Kind {
		case archive.ChangeAdd:
			kind = "A"
		case archive.ChangeDelete:
			kind = "D"
		}
		out = append(out, Change{Kind: kind, Path: ch.Path})
	}
	return out, nil
}

// Commit makes an image of the container's current filesystem.
func (c *Container) Commit(name string, opts image.CommitOptions, pause bool) (*storage.Image, error) {
	ir, err := c.rt.Images()
	if err != nil {
		return nil, err
	}
	st := ir.Store()
	sc, err := st.Container(c.ID())
	if err != nil {
		return nil, fmt.Errorf("finding storage of %s: %w", c.Name(), err)
	}
	base, err := st.Image(c.Config.ImageID)
	if err != nil {
		return nil, fmt.Errorf("finding the image of %s: %w", c.Name(), err)
	}
	if pause && c.State.Status == StatusRunning && !rootless.IsRootless() {
		if err := c.Pause(); err == nil {
			defer func() {
				// The commit's result stands; a container left paused is said.
				if err := c.Unpause(); err != nil {
					logrus.Warnf("unpausing container %s after the commit: %v", c.ID(), err)
				}
			}()
		}
	}
	if opts.CreatedBy == "" {
		opts.CreatedBy = "/bin/sh -c " + strings.Join(c.Config.Args, " ")
	}
	// The container's own --entrypoint and command become the image's, as
	// with podman and docker: an --entrypoint without a command clears CMD.
	if o := c.Config.generatorOptions(); o.Entrypoint != nil || o.Command != nil {
		opts.SetCommand = true
		if o.Image != nil {
			opts.Entrypoint, opts.Cmd = o.Image.Entrypoint, o.Image.Cmd
		}
		if o.Entrypoint != nil {
			opts.Entrypoint, opts.Cmd = o.Entrypoint, nil
			if len(o.Entrypoint) == 0 || len(o.Entrypoint) == 1 && o.Entrypoint[0] == "" {
				opts.Entrypoint = nil
			}
		}
		if o.Command != nil {
			opts.Cmd = o.Command
		}
	}
	return ir.Commit(base, sc.LayerID, name, opts)
}

// Sizes returns the size of what the container wrote (its writable layer)
// and of its whole root filesystem (image plus that).
func (c *Container) Sizes() (rw, rootfs int64, err error) {
	st, err := c.rt.Store()
	if err != nil {
		return 0, 0, err
	}
	sc, err := st.Container(c.ID())
	if err != nil {
		return 0, 0, fmt.Errorf("finding storage of %s: %w", c.Name(), err)
	}
	if rw, err = st.DiffSize("", sc.LayerID); err != nil {
		return 0, 0, fmt.Errorf("measuring the changes of %s: %w", c.Name(), err)
	}
	img, err := st.ImageSize(c.Config.ImageID)
	if err != nil {
		return rw, rw, nil
	}
	return rw, img + rw, nil
}
