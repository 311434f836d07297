package image

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/sirupsen/logrus"
	"github.com/vbatts/tar-split/archive/tar"
	tsasm "github.com/vbatts/tar-split/tar/asm"
	tsstorage "github.com/vbatts/tar-split/tar/storage"
	"go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/tarlog"
)

// ErrPromoteUnsupported means the storage driver cannot promote a layer
// in place; store its diff as a new layer instead (SpoolDiff + PutDiff).
var ErrPromoteUnsupported = errors.New("the storage driver cannot promote a layer in place")

// PromoteLayer turns the changes of a writable layer (created with
// CreateLayer on parent, not mounted) into a layer images can use, under
// its chain ID (LayerID), without writing the files again: they move from
// the working layer to the new one, with the digests, size and tar-split
// PutLayer would have recorded for the same diff. The working layer is
// deleted. When a layer with that ID exists already (the same changes on
// the same parent), it is returned and the files are dropped. On
// ErrPromoteUnsupported nothing changed.
func (r *Runtime) PromoteLayer(id string) (*storage.Layer, error) {
	work, err := r.store.Layer(id)
	if err != nil {
		return nil, fmt.Errorf("finding layer %s: %w", id, err)
	}
	diffPath, err := r.store.DifferTarget(id)
	if err != nil {
		if errors.Is(err, storage.ErrNotSupported) || errors.Is(err, drivers.ErrNotSupported) {
			return nil, ErrPromoteUnsupported
		}
		return nil, fmt.Errorf("finding the files of layer %s: %w", id, err)
	}
	d := &promoteDiffer{store: r.store, id: id, diffPath: diffPath}
	out, err := r.store.PrepareStagedLayer(nil, d)
	if err != nil {
		if errors.Is(err, storage.ErrNotSupported) || errors.Is(err, drivers.ErrNotSupported) {
			err = ErrPromoteUnsupported
		}
		if out != nil && out.Target != "" {
			if d.moved {
				_ = os.Remove(diffPath)
				_ = os.Rename(out.Target, diffPath)
			}
			_ = r.store.CleanupStagedLayer(out)
		}
		return nil, err
	}
	// From here the working layer is empty: whatever happens, it goes.
	defer func() {
		if err := r.store.DeleteLayer(id); err != nil {
			logrus.Debugf("removing working layer %s: %v", id, err)
		}
	}()
	newID := LayerID(work.Parent, out.UncompressedDigest)
	if layer, err := r.store.Layer(newID); err == nil {
		_ = r.store.CleanupStagedLayer(out)
		return layer, nil
	}
	layer, err := r.store.ApplyStagedLayer(storage.ApplyStagedLayerOptions{ID: newID, ParentLayer: work.Parent,
		DiffOutput: out, DiffOptions: &drivers.ApplyDiffWithDifferOpts{}})
	if err != nil {
		_ = r.store.CleanupStagedLayer(out)
		return nil, fmt.Errorf("storing the changes of layer %s: %w", id, err)
	}
	return layer, nil
}

// promoteDiffer "applies" a layer's own changes: it reads them as the
// tar stream storage's Diff makes (for the digest and the tar-split that
// later reproduces that same stream), then moves the layer's files to the
// staging directory, from where storage moves them back.
type promoteDiffer struct {
	store    storage.Store
	id       string
	diffPath string
	moved    bool
}

func (d *promoteDiffer) ApplyDiff(dest string, _ *archive.TarOptions, opts *drivers.DifferOptions) (drivers.DriverWithDifferOutput, error) {
	var out drivers.DriverWithDifferOutput
	if opts == nil || opts.Format != drivers.DifferOutputFormatDir {
		return out, ErrPromoteUnsupported
	}
	uncompressed := archive.Uncompressed
	rc, err := d.store.Diff("", d.id, &storage.DiffOptions{Compression: &uncompressed})
	if err != nil {
		return out, fmt.Errorf("reading the changes of layer %s: %w", d.id, err)
	}
	defer rc.Close()
	ts, err := os.CreateTemp(opts.StagingDirectory, "tar-split-")
	if err != nil {
		return out, err
	}
	keep := false
	defer func() {
		if !keep {
			_ = ts.Close()
		}
	}()
	uids, gids := map[uint32]struct{}{}, map[uint32]struct{}{}
	ids, err := tarlog.NewLogger(func(h *tar.Header) {
		if !strings.HasPrefix(path.Base(h.Name), archive.WhiteoutPrefix) {
			uids[uint32(h.Uid)] = struct{}{}
			gids[uint32(h.Gid)] = struct{}{}
		}
	})
	if err != nil {
		return out, err
	}
	digester := sha256.New()
	var size countWriter
	payload, done, err := tsasm.NewInputTarStreamWithDone(io.TeeReader(rc, io.MultiWriter(digester, &size, ids)),
		tsstorage.NewJSONPacker(ts), tsstorage.NewDiscardFilePutter())
	if err != nil {
		_ = ids.Close()
		return out, err
	}
	_, err = io.Copy(io.Discard, payload)
	_ = payload.Close()
	if derr := <-done; err == nil {
		err = derr
	}
	if cerr := ids.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return out, fmt.Errorf("reading the changes of layer %s: %w", d.id, err)
	}
	st, err := os.Stat(d.diffPath)
	if err != nil {
		return out, err
	}
	mode := st.Mode()
	if err := os.Remove(dest); err != nil {
		return out, err
	}
	if err := os.Rename(d.diffPath, dest); err != nil {
		_ = os.Mkdir(dest, 0o755)
		return out, fmt.Errorf("moving the files of layer %s: %w", d.id, err)
	}
	d.moved = true
	// the working layer stays valid (empty) until it is deleted
	if err := os.Mkdir(d.diffPath, mode.Perm()); err != nil {
		return out, err
	}
	if _, err := ts.Seek(0, io.SeekStart); err != nil {
		return out, err
	}
	keep = true
	out = drivers.DriverWithDifferOutput{
		Size:               size.n,
		UncompressedDigest: digest.NewDigest(digest.SHA256, digester),
		UIDs:               sortedIDs(uids),
		GIDs:               sortedIDs(gids),
		TarSplit:           ts,
		RootDirMode:        &mode,
	}
	return out, nil
}

func (d *promoteDiffer) Close() error { return nil }

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func sortedIDs(m map[uint32]struct{}) []uint32 {
	out := make([]uint32, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
