package image

// The streaming pull of a registry image (the docker transport).
//
// copy.Image into the containers-storage transport writes every compressed
// blob to a temporary file (decompressing it once to learn its uncompressed
// digest), then decompresses it a second time into store.PutLayer when the
// image is committed. pullStream instead streams each layer, in order, from
// the registry through a verifier of the compressed digest, a decompressor
// that reads ahead (pgzip, zstd), and a verifier of the uncompressed digest,
// straight into store.PutLayer. Both verifiers fail the stream at its end
// (before PutLayer commits the layer) if a digest does not match, so a bad
// blob leaves nothing behind; an interrupted PutLayer leaves only storage's
// staging directory or an "incomplete" layer, which storage removes on its
// next write.
//
// Layers, image ID, names, big-data items and metadata are recorded as
// c/image's storage destination records them (go.podman.io/image/v5/storage
// storage_dest.go: commitLayer, createNewLayer, CommitWithOptions), so podman
// and berth reuse each other's layers and see the same image. The one
// difference: the layer's CompressionType (which storage only consults when
// a caller asks Diff for "the original compression", never when c/image
// reads a layer) is "uncompressed", because storage receives the already
// decompressed stream.
//
// Anything this path does not handle makes it return a *fallbackError before
// it writes anything, and the caller copies with copy.Image instead; see
// streamable for the list.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chunked/toc"
	"golang.org/x/term"
)

// fallbackError: the streaming pull does not handle this image (and has
// written nothing); copy.Image does.
type fallbackError struct{ reason string }

func (e *fallbackError) Error() string { return "streaming pull not applicable: " + e.reason }

func fallback(format string, a ...any) error {
	return &fallbackError{reason: fmt.Sprintf(format, a...)}
}

// streamLayer is one layer of the image being pulled.
type streamLayer struct {
	info   types.BlobInfo
	diffID digest.Digest // from the config; verified against the stream
	id     string        // storage layer ID: the chain ID c/image uses
	parent string
}

// pullStream pulls src (a docker-transport reference) into storage under
// dest's name, as copy.Image would. It returns a *fallbackError, having
// written nothing, for images it does not handle.
func (r *Runtime) pullStream(ctx context.Context, pc *signature.PolicyContext, src, dest types.ImageReference, sys *types.SystemContext, opts CopyOptions) (*storage.Image, error) {
	destName := dest.DockerReference()
	if destName == nil {
		return nil, fallback("destination has no name")
	}
	rawSource, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("initializing source %s: %w", transports.ImageName(src), err)
	}
	defer func() { _ = rawSource.Close() }()

	unparsedTop := image.UnparsedInstance(rawSource, nil)
	topManifest, topMIME, err := unparsedTop.Manifest(ctx)
	if err != nil {
		return nil, fmt.Errorf("determining manifest MIME type for %s: %w", transports.ImageName(src), err)
	}
	unparsed, wrap := unparsedTop, ""
	if manifest.MIMETypeIsMultiImage(topMIME) {
		// the same choice as copy.Image's CopySystemImage (ChooseInstance
		// is ChooseInstanceByCompression with PreferGzipInstances unset)
		list, err := manifest.ListFromBlob(topManifest, topMIME)
		if err != nil {
			return nil, fmt.Errorf("parsing primary manifest as list for %s: %w", transports.ImageName(src), err)
		}
		instance, err := list.ChooseInstance(sys)
		if err != nil {
			return nil, fmt.Errorf("choosing an image from manifest list %s: %w", transports.ImageName(src), err)
		}
		logrus.Debugf("Source is a manifest list; pulling (only) instance %s for current system", instance)
		unparsed, wrap = image.UnparsedInstance(rawSource, &instance), "copying system image from manifest list: "
	}
	img, err := r.streamSingle(ctx, pc, rawSource, unparsedTop, topManifest, unparsed, destName, sys, opts)
	if err != nil {
		var fb *fallbackError
		if wrap != "" && !errors.As(err, &fb) {
			return nil, fmt.Errorf("%s%w", wrap, err)
		}
		return nil, err
	}
	return img, nil
}

func (r *Runtime) streamSingle(ctx context.Context, pc *signature.PolicyContext, rawSource types.ImageSource, unparsedTop *image.UnparsedImage, topManifest []byte, unparsed *image.UnparsedImage, destName reference.Named, sys *types.SystemContext, opts CopyOptions) (*storage.Image, error) {
	// policy.json, before reading anything else about the image (as copy.Image)
	if allowed, err := pc.IsRunningImageAllowed(ctx, unparsed); !allowed || err != nil {
		return nil, fmt.Errorf("Source image rejected: %w", err) //nolint:staticcheck // c/image's message, verbatim
	}
	manBlob, manMIME, err := unparsed.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	switch manMIME {
	case manifest.DockerV2Schema2MediaType, imgspecv1.MediaTypeImageManifest:
	default:
		return nil, fallback("manifest type %q", manMIME)
	}
	man, err := manifest.FromBlob(manBlob, manMIME)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	manDigest, err := manifest.Digest(manBlob)
	if err != nil {
		return nil, err
	}
	if digested, ok := destName.(reference.Digested); ok {
		m1, err1 := manifest.MatchesDigest(manBlob, digested.Digest())
		m2, err2 := manifest.MatchesDigest(topManifest, digested.Digest())
		if err1 != nil || err2 != nil || (!m1 && !m2) {
			return nil, fmt.Errorf("Manifest to be saved does not match expected digest %s", digested.Digest())
		}
	}
	layers, err := streamable(man)
	if err != nil {
		return nil, err
	}

	progress := newPullProgress(opts.Progress)
	if !opts.RemoveSignatures {
		progress.printf("Getting image source signatures\n")
		sigs, err := unparsed.Signatures(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading signatures: %w", err)
		}
		if len(sigs) > 0 {
			// storing them (and their sizes in the metadata) is left to c/image
			return nil, fallback("the image has %d signatures to store", len(sigs))
		}
	}

	src, err := image.FromUnparsedImage(ctx, sys, unparsed)
	if err != nil {
		return nil, fmt.Errorf("initializing image from source %s: %w", transports.ImageName(rawSource.Reference()), err)
	}
	configInfo := src.ConfigInfo()
	switch configInfo.MediaType {
	case manifest.DockerV2Schema2ConfigMediaType, imgspecv1.MediaTypeImageConfig:
	default:
		return nil, fallback("config media type %q", configInfo.MediaType)
	}
	configBlob, err := src.ConfigBlob(ctx) // digest-verified
	if err != nil {
		return nil, fmt.Errorf("reading config blob %s: %w", configInfo.Digest, err)
	}
	ociConfig, err := src.OCIConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("parsing config blob %s: %w", configInfo.Digest, err)
	}
	if len(ociConfig.RootFS.DiffIDs) != len(layers) {
		return nil, fallback("the config lists %d layer digests for %d layers", len(ociConfig.RootFS.DiffIDs), len(layers))
	}
	parent := ""
	for i := range layers {
		d := ociConfig.RootFS.DiffIDs[i]
		if err := d.Validate(); err != nil {
			return nil, fallback("layer %d has an invalid digest %q in the config", i, d)
		}
		layers[i].diffID = d
		layers[i].parent = parent
		layers[i].id = chainLayerID(parent, d)
		parent = layers[i].id
	}
	imageID, err := man.ImageID(nil)
	if err != nil {
		return nil, err
	}

	cache := blobinfocache.DefaultCache(sys)
	for i := range layers {
		if err := r.putStreamLayer(ctx, rawSource, cache, &layers[i], progress); err != nil {
			progress.abort()
			return nil, err
		}
	}
	progress.config(configInfo)
	progress.wait()
	progress.printf("Writing manifest to image destination\n")

	// the image record, as storageImageDestination.CommitWithOptions
	imgOptions := &storage.ImageOptions{}
	if inspect, err := src.Inspect(ctx); err == nil && inspect.Created != nil {
		imgOptions.CreationDate = *inspect.Created
	}
	imgOptions.BigData = append(imgOptions.BigData, storage.ImageBigDataOption{
		Key: configInfo.Digest.String(), Data: configBlob, Digest: digest.Canonical.FromBytes(configBlob),
	})
	if string(topManifest) != string(manBlob) {
		topDigest, err := manifest.Digest(topManifest)
		if err != nil {
			return nil, fmt.Errorf("digesting top-level manifest: %w", err)
		}
		imgOptions.BigData = append(imgOptions.BigData, storage.ImageBigDataOption{
			Key: storage.ImageDigestManifestBigDataNamePrefix + "-" + topDigest.String(), Data: topManifest, Digest: topDigest,
		})
	}
	imgOptions.BigData = append(imgOptions.BigData,
		storage.ImageBigDataOption{Key: storage.ImageDigestManifestBigDataNamePrefix + "-" + manDigest.String(), Data: manBlob, Digest: manDigest},
		storage.ImageBigDataOption{Key: storage.ImageDigestBigDataKey, Data: manBlob, Digest: manDigest},
	)
	imgOptions.Metadata = "{}" // c/image's storageImageMetadata without signatures
	top := ""
	if len(layers) > 0 {
		top = layers[len(layers)-1].id
	}
	stored, err := r.store.CreateImage(imageID, nil, top, "", imgOptions)
	if err != nil {
		if !errors.Is(err, storage.ErrDuplicateID) {
			return nil, fmt.Errorf("committing the finished image: creating image %q: %w", imageID, err)
		}
		if stored, err = r.store.Image(imageID); err != nil {
			return nil, fmt.Errorf("committing the finished image: reading image %q: %w", imageID, err)
		}
		if stored.TopLayer != top {
			return nil, fmt.Errorf("committing the finished image: image with ID %q already exists, but uses a different top layer: %w", imageID, storage.ErrDuplicateID)
		}
		for _, data := range imgOptions.BigData {
			if err := r.store.SetImageBigData(stored.ID, data.Key, data.Data, manifest.Digest); err != nil {
				return nil, fmt.Errorf("committing the finished image: saving big data %q for image %q: %w", data.Key, stored.ID, err)
			}
		}
		if err := r.store.SetMetadata(stored.ID, imgOptions.Metadata); err != nil {
			return nil, fmt.Errorf("committing the finished image: saving metadata for image %q: %w", stored.ID, err)
		}
	}
	if err := r.store.AddNames(stored.ID, []string{destName.String()}); err != nil {
		// as c/image: an image it could not name is removed
		if _, derr := r.store.DeleteImage(stored.ID, true); derr != nil {
			logrus.Errorf("Error deleting incomplete image %q: %v", stored.ID, derr)
		}
		return nil, fmt.Errorf("committing the finished image: adding names %v to image %q: %w", destName, stored.ID, err)
	}
	return r.store.Image(stored.ID)
}

// streamable lists the layers of a schema2 or OCI manifest, or returns a
// *fallbackError when one needs what only copy.Image does: encrypted
// layers, foreign/non-distributable layers or layers with URLs, layers with
// a TOC (zstd:chunked, eStargz: c/image may pull them partially and then
// identifies them by TOC), or an unknown layer media type.
func streamable(man manifest.Manifest) ([]streamLayer, error) {
	var layers []streamLayer
	for i, li := range man.LayerInfos() {
		switch li.MediaType {
		case manifest.DockerV2Schema2LayerMediaType, manifest.DockerV2SchemaLayerMediaTypeUncompressed,
			imgspecv1.MediaTypeImageLayer, imgspecv1.MediaTypeImageLayerGzip, imgspecv1.MediaTypeImageLayerZstd:
		default:
			return nil, fallback("layer %d has media type %q", i, li.MediaType)
		}
		if len(li.URLs) > 0 {
			return nil, fallback("layer %d has URLs", i)
		}
		if li.EmptyLayer {
			return nil, fallback("layer %d is an empty layer", i)
		}
		if d, err := toc.GetTOCDigest(li.Annotations); err != nil || d != nil {
			return nil, fallback("layer %d has a TOC (zstd:chunked or eStargz)", i)
		}
		if err := li.Digest.Validate(); err != nil {
			return nil, fallback("layer %d has an invalid digest %q", i, li.Digest)
		}
		layers = append(layers, streamLayer{info: li.BlobInfo})
	}
	return layers, nil
}

// chainLayerID is c/image's layerID for a layer identified by its
// uncompressed digest (storage_dest.go).
func chainLayerID(parent string, diffID digest.Digest) string {
	if parent == "" {
		return diffID.Encoded()
	}
	return digest.Canonical.FromString(parent + "+" + diffID.Encoded()).Encoded()
}

// putStreamLayer makes l present in storage: already there (pulled by
// podman, buildah or an earlier pull), copied from a local layer with the
// same contents under another parent, or streamed from the registry.
func (r *Runtime) putStreamLayer(ctx context.Context, rawSource types.ImageSource, cache types.BlobInfoCache, l *streamLayer, progress *pullProgress) error {
	progress.printf("Copying blob %s\n", l.info.Digest)
	if layer, err := r.store.Layer(l.id); err == nil && layer != nil {
		progress.skipped(l.info)
		return nil
	}
	if layer := r.localLayerWithContents(l); layer != nil {
		progress.skipped(l.info)
		return r.copyLocalLayer(l, layer)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	stream, size, err := rawSource.GetBlob(ctx, l.info, cache)
	if err != nil {
		return fmt.Errorf("copying layer %s: reading blob: %w", l.info.Digest, err)
	}
	defer func() { _ = stream.Close() }()
	if l.info.Size >= 0 {
		size = l.info.Size // the manifest's size is what the digest covers
	}
	bar := progress.blob(l.info)
	comp, err := newVerifyingReader(bar.proxy(stream), "blob", l.info.Digest, size)
	if err != nil {
		bar.abort()
		return err
	}
	decompressed, _, err := compression.AutoDecompress(comp)
	if err != nil {
		bar.abort()
		return fmt.Errorf("copying layer %s: %w", l.info.Digest, err)
	}
	closeDecompressor := sync.OnceFunc(func() { _ = decompressed.Close() })
	defer closeDecompressor()
	uncomp, err := newVerifyingReader(decompressed, "uncompressed layer", l.diffID, -1)
	if err != nil {
		bar.abort()
		return err
	}
	diff := &layerStream{ctx: ctx, uncomp: uncomp, comp: comp}
	blobSize := size
	var sizePtr *int64
	if blobSize >= 0 {
		sizePtr = &blobSize
	}
	layer, _, err := r.store.PutLayer(l.id, l.parent, nil, "", false, &storage.LayerOptions{
		OriginalDigest:     l.info.Digest,
		OriginalSize:       sizePtr,
		UncompressedDigest: l.diffID,
	}, diff)
	// the decompressor's read-ahead reads comp: stop it before looking at comp
	closeDecompressor()
	if err != nil && !errors.Is(err, storage.ErrDuplicateID) {
		bar.abort()
		if diff.err != nil && (errors.Is(diff.err, ErrDigestMismatch) || errors.Is(err, diff.err)) {
			err = diff.err // ours, not storage's rewording of it
		} else {
			// A corrupted blob usually breaks the decompressor or the tar
			// reader before its end: read the rest of the blob (up to its
			// size) to report the real cause rather than their complaint.
			if comp.err == nil {
				_, _ = io.Copy(io.Discard, comp)
			}
			if errors.Is(comp.err, ErrDigestMismatch) {
				err = comp.err
			}
		}
		return fmt.Errorf("copying layer %s: %w", l.info.Digest, err)
	}
	if err == nil && !(comp.Verified() && uncomp.Verified()) {
		// storage stopped reading before the end: what it stored is unverified
		if derr := r.store.DeleteLayer(layer.ID); derr != nil {
			logrus.Errorf("Error deleting unverified layer %q: %v", layer.ID, derr)
		}
		bar.abort()
		return fmt.Errorf("copying layer %s: storage did not read the whole blob", l.info.Digest)
	}
	bar.done()
	cache.RecordDigestUncompressedPair(l.info.Digest, l.diffID)
	return nil
}

// layerStream is the uncompressed layer handed to PutLayer. At the end of
// the uncompressed stream it also drains and checks the compressed one, so
// that PutLayer sees an error, not io.EOF, unless both digests matched.
type layerStream struct {
	ctx    context.Context
	uncomp *verifyingReader
	comp   *verifyingReader
	err    error // the first error returned
}

func (s *layerStream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.uncomp.Read(p)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		if _, cerr := io.Copy(io.Discard, s.comp); cerr != nil {
			err = cerr
		} else if !s.comp.Verified() {
			err = fmt.Errorf("%s %w: the decompressor stopped before its end", s.comp.what, ErrDigestMismatch)
		}
	case s.comp.err != nil && s.comp.err != io.EOF:
		err = s.comp.err // the decompressor's wrapping of it
	}
	if err != io.EOF {
		s.err = err
	}
	return n, err
}

// localLayerWithContents finds a stored layer with l's contents (by
// uncompressed, then compressed digest) under another parent.
func (r *Runtime) localLayerWithContents(l *streamLayer) *storage.Layer {
	if layers, err := r.store.LayersByUncompressedDigest(l.diffID); err == nil && len(layers) > 0 {
		return &layers[0]
	}
	if layers, err := r.store.LayersByCompressedDigest(l.info.Digest); err == nil {
		for i := range layers {
			if layers[i].UncompressedDigest == l.diffID {
				return &layers[i]
			}
		}
	}
	return nil
}

// copyLocalLayer creates l from the contents of another layer, as c/image's
// createNewLayer does: through a temporary file (Diff holds the layer lock
// PutLayer needs), with the compressed digest and size carried over when
// the source layer recorded them for l's blob.
func (r *Runtime) copyLocalLayer(l *streamLayer, from *storage.Layer) error {
	diff, err := r.store.Diff("", from.ID, &storage.DiffOptions{Compression: new(archive.Uncompressed)})
	if err != nil {
		return fmt.Errorf("reading layer %q for blob %s: %w", from.ID, l.info.Digest, err)
	}
	tmp, err := os.CreateTemp(r.store.GraphRoot(), "berth-layer-*.tar")
	if err != nil {
		_ = diff.Close()
		return fmt.Errorf("creating temporary file: %w", err)
	}
	defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
	_, err = io.Copy(tmp, diff)
	_ = diff.Close()
	if err != nil {
		return fmt.Errorf("copying layer %q to a temporary file: %w", from.ID, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	options := &storage.LayerOptions{OriginalDigest: l.diffID, UncompressedDigest: l.diffID}
	if from.CompressedDigest == l.info.Digest && from.CompressedSize > 0 {
		size := from.CompressedSize
		options.OriginalDigest, options.OriginalSize = l.info.Digest, &size
	}
	if _, _, err := r.store.PutLayer(l.id, l.parent, nil, "", false, options, tmp); err != nil && !errors.Is(err, storage.ErrDuplicateID) {
		return fmt.Errorf("adding layer with blob %s: %w", l.info.Digest, err)
	}
	return nil
}

// pullProgress prints what copy.Image prints: progress bars on a terminal,
// one line per blob otherwise.
type pullProgress struct {
	w    io.Writer // nil: quiet
	pool *mpb.Progress
}

func newPullProgress(w io.Writer) *pullProgress {
	p := &pullProgress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.pool = mpb.New(mpb.WithWidth(40), mpb.WithOutput(w))
	}
	return p
}

func (p *pullProgress) printf(format string, a ...any) {
	if p.w == nil {
		return
	}
	if p.pool != nil && strings.HasPrefix(format, "Copying ") {
		return // the bar says it
	}
	fmt.Fprintf(p.w, format, a...)
}

type pullBar struct {
	bar  *mpb.Bar
	size int64
}

func (p *pullProgress) newBar(kind string, info types.BlobInfo, onComplete string) *pullBar {
	if p.pool == nil {
		return &pullBar{}
	}
	prefix := fmt.Sprintf("Copying %s %s", kind, info.Digest.Encoded())
	if maxLen := len("Copying blob ") + 12; len(prefix) > maxLen {
		prefix = prefix[:maxLen]
	}
	onComplete = prefix + " " + onComplete
	if info.Size > 0 {
		return &pullBar{size: info.Size, bar: p.pool.AddBar(info.Size, mpb.BarFillerClearOnComplete(),
			mpb.PrependDecorators(decor.OnComplete(decor.Name(prefix), onComplete)),
			mpb.AppendDecorators(
				decor.OnComplete(decor.CountersKibiByte("%.1f / %.1f"), ""),
				decor.Name(" | "),
				decor.OnComplete(decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30), ""),
			))}
	}
	return &pullBar{bar: p.pool.New(0, mpb.SpinnerStyle(".", "..", "...", "....", "").PositionLeft(),
		mpb.BarFillerClearOnComplete(),
		mpb.PrependDecorators(decor.OnComplete(decor.Name(prefix), onComplete)))}
}

func (p *pullProgress) blob(info types.BlobInfo) *pullBar { return p.newBar("blob", info, "done") }

func (p *pullProgress) skipped(info types.BlobInfo) {
	p.newBar("blob", types.BlobInfo{Digest: info.Digest}, "skipped: already exists").done()
}

func (p *pullProgress) config(info types.BlobInfo) {
	p.printf("Copying config %s\n", info.Digest)
	p.newBar("config", info, "done").done()
}

func (p *pullProgress) wait() {
	if p.pool != nil {
		p.pool.Wait()
		p.pool = nil
	}
}

func (p *pullProgress) abort() {
	if p.pool != nil {
		p.pool.Shutdown()
		p.pool = nil
	}
}

func (b *pullBar) proxy(r io.Reader) io.Reader {
	if b.bar == nil {
		return r
	}
	pr, err := b.bar.ProxyReader(r)
	if err != nil {
		return r
	}
	return pr
}

func (b *pullBar) done() {
	if b.bar == nil {
		return
	}
	// as c/image's mark100PercentComplete
	if b.size > 0 {
		b.bar.SetCurrent(b.size)
	} else {
		b.bar.SetTotal(-1, true)
	}
}

func (b *pullBar) abort() {
	if b.bar != nil {
		b.bar.Abort(false)
	}
}
