package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// FileTimes says how the file times in a layer's tar stream are rewritten,
// for reproducible layers (build --timestamp, --rewrite-timestamp).
type FileTimes struct {
	// Set, when not nil, becomes every entry's modification time.
	Set *time.Time
	// Clamp, when not nil, replaces modification times later than it.
	Clamp *time.Time
}

// Active reports whether ft changes anything.
func (ft FileTimes) Active() bool { return ft.Set != nil || ft.Clamp != nil }

// apply rewrites one header: the modification time as ft says, and no
// access or change times (the tar writer drops those when the format is
// left to it, as storage's own diffs have them).
func (ft FileTimes) apply(h *tar.Header) {
	switch {
	case ft.Set != nil:
		h.ModTime = *ft.Set
	case ft.Clamp != nil && h.ModTime.After(*ft.Clamp):
		h.ModTime = *ft.Clamp
	}
	h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
	for _, k := range []string{"mtime", "atime", "ctime"} {
		delete(h.PAXRecords, k)
	}
	h.Format = tar.FormatUnknown
}

// RewriteTimes copies the tar stream src to dst with its file times
// rewritten as ft says; everything else (names, owners, modes, xattrs,
// contents, order) is kept, so equal inputs give byte-equal outputs.
func RewriteTimes(dst io.Writer, src io.Reader, ft FileTimes) error {
	tr := tar.NewReader(src)
	tw := tar.NewWriter(dst)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading layer tar: %w", err)
		}
		ft.apply(h)
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing %s: %w", h.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("writing %s: %w", h.Name, err)
		}
	}
	return tw.Close()
}

// withTimes returns src with its times rewritten as ft says (src itself
// when ft changes nothing); the rewriting runs in a goroutine, and closing
// the returned reader stops it.
func withTimes(src io.Reader, ft FileTimes) io.ReadCloser {
	if !ft.Active() {
		return io.NopCloser(src)
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(RewriteTimes(pw, src, ft))
	}()
	return pr
}

// SetLayerTimes rewrites, in place, the modification times of the files
// a writable layer (not mounted) changed, as ft says, so that promoting
// it (PromoteLayer) records them: the same layer as PutDiffTimes makes
// from its diff, without copying the files. ErrPromoteUnsupported means
// the driver keeps no directory of the layer's own changes.
func (r *Runtime) SetLayerTimes(id string, ft FileTimes) error {
	dir, err := r.store.DifferTarget(id)
	if err != nil {
		if errors.Is(err, storage.ErrNotSupported) || errors.Is(err, drivers.ErrNotSupported) {
			return ErrPromoteUnsupported
		}
		return fmt.Errorf("finding the files of layer %s: %w", id, err)
	}
	return setTreeTimes(dir, ft)
}

// setTreeTimes sets the times of everything under dir (not dir itself,
// which no diff lists), without following symlinks.
func setTreeTimes(dir string, ft FileTimes) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		var t time.Time
		switch {
		case ft.Set != nil:
			t = *ft.Set
		case ft.Clamp != nil:
			info, err := d.Info()
			if err != nil {
				return err
			}
			if !info.ModTime().After(*ft.Clamp) {
				return nil
			}
			t = *ft.Clamp
		default:
			return nil
		}
		ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("setting the times of %s: %w", p, err)
		}
		return nil
	})
}

// PutDiffTimes is PutDiff with the diff's file times rewritten as ft says.
func (r *Runtime) PutDiffTimes(parent string, diff io.Reader, ft FileTimes) (*storage.Layer, error) {
	rc := withTimes(diff, ft)
	defer rc.Close()
	return r.PutDiff(parent, rc)
}

// TarTree streams the files under dir as an uncompressed tar, as they
// are (the merged view of a mounted image or layer: no whiteouts), with
// the times rewritten as ft says. The caller closes it.
func TarTree(dir string, ft FileTimes) (io.ReadCloser, error) {
	rc, err := archive.TarWithOptions(dir, &archive.TarOptions{Compression: archive.Uncompressed})
	if err != nil {
		return nil, fmt.Errorf("archiving %s: %w", dir, err)
	}
	if !ft.Active() {
		return rc, nil
	}
	return &closeBoth{ReadCloser: withTimes(rc, ft), inner: rc}, nil
}

type closeBoth struct {
	io.ReadCloser
	inner io.Closer
}

func (c *closeBoth) Close() error {
	err := c.ReadCloser.Close()
	if ierr := c.inner.Close(); err == nil {
		err = ierr
	}
	return err
}

// PutTree stores the files under dir (a mounted merged view) as a new
// layer without a parent: the whole filesystem in one layer, as
// build --squash-all makes it.
func (r *Runtime) PutTree(dir string, ft FileTimes) (*storage.Layer, error) {
	rc, err := TarTree(dir, ft)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return r.PutDiff("", rc)
}

// DeleteLayerIfUnused removes a layer no image has on top and no layer
// has as parent (one a build step made that turned out to duplicate an
// existing image's).
func (r *Runtime) DeleteLayerIfUnused(id string) error {
	if imgs, err := r.store.ImagesByTopLayer(id); err != nil || len(imgs) > 0 {
		return err
	}
	layers, err := r.store.Layers()
	if err != nil {
		return err
	}
	for i := range layers {
		if layers[i].Parent == id {
			return nil
		}
	}
	return r.store.DeleteLayer(id)
}
