package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/directory"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	ociarchive "go.podman.io/image/v5/oci/archive"
	ocilayout "go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/compression"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/stringid"
)

// Archive formats of save and load.
const (
	FormatDockerArchive = "docker-archive"
	FormatOCIArchive    = "oci-archive"
	FormatOCIDir        = "oci-dir"
	FormatDockerDir     = "docker-dir"
)

// SaveOptions control `berth save`.
type SaveOptions struct {
	// Format is one of the Format* constants; "" is docker-archive.
	Format string
	// MultiImage makes every name its own image (docker-archive only);
	// otherwise names after the first are extra tags of the first image.
	MultiImage bool
	// Compress compresses layers of a docker-dir.
	Compress bool
	// OCIAcceptUncompressedLayers keeps layers uncompressed in OCI output.
	OCIAcceptUncompressedLayers bool
	// Progress receives copy progress; nil is quiet.
	Progress io.Writer
}

// saveItem is one image of an archive with the names it is saved under.
type saveItem struct {
	img  *storage.Image
	tags []reference.NamedTagged
}

// Save writes the named images to output in opts.Format.
func (r *Runtime) Save(ctx context.Context, names []string, output string, opts SaveOptions) error {
	if len(names) == 0 {
		return errors.New("no image to save")
	}
	format := opts.Format
	if format == "" {
		format = FormatDockerArchive
	}
	switch format {
	case FormatDockerArchive:
	case FormatOCIArchive, FormatOCIDir, FormatDockerDir:
		if len(names) > 1 {
			return fmt.Errorf("saving %d images: --format %s holds one image; use --format docker-archive --multi-image-archive", len(names), format)
		}
	default:
		return fmt.Errorf("unsupported format %q for image save: use docker-archive, oci-archive, oci-dir or docker-dir", format)
	}
	items, err := r.saveItems(names, opts.MultiImage)
	if err != nil {
		return err
	}
	sys := r.bigFilesContext(r.sys)
	sys.DirForceCompress = opts.Compress
	sys.OCIAcceptUncompressedLayers = opts.OCIAcceptUncompressedLayers
	if format == FormatDockerArchive {
		return r.saveDockerArchive(ctx, items, output, sys, opts.Progress)
	}
	var tag string
	if len(items[0].tags) > 0 {
		tag = items[0].tags[0].String()
	}
	var dest types.ImageReference
	switch format {
	case FormatOCIArchive:
		dest, err = ociarchive.NewReference(output, tag)
	case FormatOCIDir:
		dest, err = ocilayout.NewReference(output, tag)
	case FormatDockerDir:
		dest, err = directory.NewReference(output)
	}
	if err != nil {
		return fmt.Errorf("saving to %s: %w", output, err)
	}
	return r.copyTo(ctx, items[0].img, dest, sys, opts.Progress)
}

// saveItems resolves names to images; an image referred to by ID is saved
// without a name, as podman does.
func (r *Runtime) saveItems(names []string, multi bool) ([]*saveItem, error) {
	var items []*saveItem
	byID := map[string]*saveItem{}
	for i, name := range names {
		if i > 0 && !multi {
			tag, err := NormalizeName(name)
			if err != nil {
				return nil, err
			}
			nt, ok := tag.(reference.NamedTagged)
			if !ok {
				return nil, fmt.Errorf("invalid additional tag %q: a tag, not a digest, is needed", name)
			}
			items[0].tags = appendTag(items[0].tags, nt)
			continue
		}
		img, err := r.Lookup(name)
		if err != nil {
			return nil, err
		}
		item, ok := byID[img.ID]
		if !ok {
			item = &saveItem{img: img}
			byID[img.ID] = item
			items = append(items, item)
		}
		if tag := savedName(img, name); tag != nil {
			item.tags = appendTag(item.tags, tag)
		}
	}
	return items, nil
}

func appendTag(tags []reference.NamedTagged, t reference.NamedTagged) []reference.NamedTagged {
	for _, have := range tags {
		if have.String() == t.String() {
			return tags
		}
	}
	return append(tags, t)
}

// savedName is the stored name that name refers to, or nil for an ID.
func savedName(img *storage.Image, name string) reference.NamedTagged {
	if len(img.Names) == 0 || isHexPrefix(trimSHA(name)) && hasPrefix(img.ID, trimSHA(name)) {
		return nil
	}
	named, err := reference.ParseNormalizedNamed(matchingName(img, name))
	if err != nil {
		return nil
	}
	tagged, _ := named.(reference.NamedTagged)
	return tagged
}

func (r *Runtime) saveDockerArchive(ctx context.Context, items []*saveItem, output string, sys *types.SystemContext, progress io.Writer) (retErr error) {
	w, err := dockerarchive.NewWriter(sys, output)
	if err != nil {
		return fmt.Errorf("saving to %s: %w", output, err)
	}
	defer func() {
		if err := w.Close(); err != nil && retErr == nil {
			retErr = fmt.Errorf("writing %s: %w", output, err)
		}
	}()
	for _, item := range items {
		dest, err := w.NewReference(nil)
		if err != nil {
			return fmt.Errorf("saving to %s: %w", output, err)
		}
		isys := *sys
		isys.DockerArchiveAdditionalTags = item.tags
		if err := r.copyTo(ctx, item.img, dest, &isys, progress); err != nil {
			return err
		}
	}
	return nil
}

// copyTo copies a local image to dest.
func (r *Runtime) copyTo(ctx context.Context, img *storage.Image, dest types.ImageReference, sys *types.SystemContext, progress io.Writer) error {
	src, err := is.Transport.NewStoreReference(r.store, nil, img.ID)
	if err != nil {
		return fmt.Errorf("referencing image %s: %w", img.ID, err)
	}
	pc, err := PolicyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy() }()
	_, err = copy.Image(ctx, pc, dest, src, &copy.Options{
		ReportWriter:   progress,
		SourceCtx:      sys,
		DestinationCtx: sys,
	})
	if err != nil {
		return fmt.Errorf("saving image %s: %w", stringid.TruncateID(img.ID), err)
	}
	return nil
}

// LoadOptions control `berth load`.
type LoadOptions struct {
	// Stdin is read when the input is "" or "-".
	Stdin io.Reader
	// Progress receives copy progress; nil is quiet.
	Progress io.Writer
}

// Load stores the images of an archive or directory written by save (or by
// podman, docker or skopeo), detecting its format. It returns the names
// loaded, "sha256:ID" for an image without a name. A failed load leaves no
// layers behind.
func (r *Runtime) Load(ctx context.Context, input string, opts LoadOptions) ([]string, error) {
	sys := r.bigFilesContext(r.sys)
	display := input
	if input == "" || input == "-" {
		display = "stdin"
		if opts.Stdin == nil {
			return nil, errors.New("no input: pass --input or pipe an archive to stdin")
		}
		tmp, err := spoolToTemp(opts.Stdin, sys.BigFilesTemporaryDir, "stdin")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp)
		input = tmp
	} else if strings.HasPrefix(input, "http://") || strings.HasPrefix(input, "https://") {
		tmp, err := downloadToTemp(ctx, input, sys.BigFilesTemporaryDir)
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp)
		input = tmp
	}
	format, err := DetectFormat(input)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("loading %s: %w", display, err)
		}
		// podman's words, which scripts match; then why, per format.
		return nil, fmt.Errorf("payload does not match any of the supported image formats:\n"+
			" * oci-archive, docker-archive: loading %s: %w\n * oci, dir: %s is not a directory", display, err, display)
	}
	var names []string
	err = r.undoLayersOnError(func() error {
		var err error
		switch format {
		case FormatDockerArchive:
			names, err = r.loadDockerArchive(ctx, input, sys, opts.Progress)
		case FormatOCIArchive:
			names, err = r.loadOCIArchive(ctx, input, sys, opts.Progress)
		case FormatOCIDir:
			names, err = r.loadOCIDir(ctx, input, sys, opts.Progress)
		case FormatDockerDir:
			var ref types.ImageReference
			if ref, err = directory.NewReference(input); err == nil {
				names, err = r.loadOne(ctx, ref, nil, sys, opts.Progress)
			}
		}
		return err
	})
	if err != nil {
		return names, fmt.Errorf("loading %s (%s): %w", display, format, err)
	}
	return names, nil
}

func (r *Runtime) loadDockerArchive(ctx context.Context, input string, sys *types.SystemContext, progress io.Writer) ([]string, error) {
	reader, err := dockerarchive.NewReader(sys, input)
	if err != nil {
		return nil, err
	}
	defer reader.Close()
	images, err := reader.List()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, refs := range images {
		var extra []string
		for _, ref := range refs[1:] {
			if named := ref.DockerReference(); named != nil {
				extra = append(extra, named.String())
			}
		}
		loaded, err := r.loadOne(ctx, refs[0], extra, sys, progress)
		names = append(names, loaded...)
		if err != nil {
			return names, err
		}
	}
	return names, nil
}

func (r *Runtime) loadOCIArchive(ctx context.Context, input string, sys *types.SystemContext, progress io.Writer) ([]string, error) {
	dir, err := os.MkdirTemp(sys.BigFilesTemporaryDir, "berth-load-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	f, err := os.Open(input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := archive.Untar(f, dir, &archive.TarOptions{NoLchown: true}); err != nil {
		return nil, fmt.Errorf("unpacking: %w", err)
	}
	return r.loadOCIDir(ctx, dir, sys, progress)
}

// loadOCIDir loads every image of an OCI layout under the name in its
// annotations (as podman: containerd's image name, else the ref name,
// normalized so that a bare tag becomes localhost/TAG:latest).
func (r *Runtime) loadOCIDir(ctx context.Context, dir string, sys *types.SystemContext, progress io.Writer) ([]string, error) {
	entries, err := ocilayout.List(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout: %w", err)
	}
	if len(entries) == 0 {
		return nil, errors.New("the OCI layout holds no images")
	}
	var names []string
	for _, e := range entries {
		var extra []string
		if n := ociImageName(e.ManifestDescriptor.Annotations); n != "" {
			named, err := NormalizeName(n)
			if err != nil {
				return names, fmt.Errorf("image name %q in the OCI index: %w", n, err)
			}
			extra = []string{named.String()}
		}
		loaded, err := r.loadOne(ctx, e.Reference, extra, sys, progress)
		names = append(names, loaded...)
		if err != nil {
			return names, err
		}
	}
	return names, nil
}

func ociImageName(annotations map[string]string) string {
	if n := annotations["io.containerd.image.name"]; n != "" {
		return n
	}
	return annotations[ociv1.AnnotationRefName]
}

// loadOne copies one image into storage under the name src carries (if
// any), adds names, and returns the names (or "sha256:ID").
func (r *Runtime) loadOne(ctx context.Context, src types.ImageReference, names []string, sys *types.SystemContext, progress io.Writer) ([]string, error) {
	destName := ""
	if named := src.DockerReference(); named != nil {
		names = append([]string{named.String()}, names...)
	}
	if len(names) > 0 {
		destName = names[0]
	}
	img, err := r.pullFrom(ctx, src, destName, sys, CopyOptions{Progress: progress})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return []string{"sha256:" + img.ID}, nil
	}
	var missing []string
	for _, n := range names[1:] {
		if !slices.Contains(img.Names, n) && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		if err := r.store.AddNames(img.ID, missing); err != nil {
			return nil, fmt.Errorf("naming image %s: %w", img.ID, err)
		}
	}
	return slices.Compact(names), nil
}

// DetectFormat tells which archive format (or directory layout) path holds.
func DetectFormat(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		exists := func(name string) bool { _, err := os.Stat(filepath.Join(p, name)); return err == nil }
		switch {
		case exists(ociv1.ImageLayoutFile) && exists(ociv1.ImageIndexFile):
			return FormatOCIDir, nil
		case exists("manifest.json") && exists("version"):
			return FormatDockerDir, nil
		}
		return "", fmt.Errorf("%s is neither an OCI layout (oci-layout, index.json) nor a docker-dir (manifest.json, version)", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return detectArchiveFormat(f)
}

// detectArchiveFormat reads the tar headers (decompressing if needed): a
// manifest.json makes a docker-archive (docker >= 25 writes both), an
// index.json or oci-layout an oci-archive. Reading to the end also finds a
// truncated archive before anything is stored.
func detectArchiveFormat(in io.ReadSeeker) (string, error) {
	stream, done, err := openTarStream(in)
	if err != nil {
		return "", err
	}
	defer done()
	docker, oci := false, false
	entries, err := scanTar(stream, func(hdr *tar.Header) {
		switch path.Clean("/" + hdr.Name) {
		case "/manifest.json":
			docker = true
		case "/" + ociv1.ImageIndexFile, "/" + ociv1.ImageLayoutFile:
			oci = true
		}
	})
	switch {
	case err != nil:
		return "", err
	case docker:
		return FormatDockerArchive, nil
	case oci:
		return FormatOCIArchive, nil
	case entries == 0:
		return "", errors.New("not a tar archive, or an empty one")
	}
	return "", errors.New("the archive is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)")
}

// checkTarball reads the tarball at p to the end and says what is wrong
// with it, if anything.
func checkTarball(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	stream, done, err := openTarStream(f)
	if err != nil {
		return err
	}
	defer done()
	_, err = scanTar(stream, func(*tar.Header) {})
	return err
}

// openTarStream returns the tar stream in holds, decompressed if needed;
// an uncompressed one stays seekable, so scanning skips file contents.
func openTarStream(in io.ReadSeeker) (io.Reader, func(), error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(in, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("the file is empty")
		}
		return nil, nil, err
	}
	decompress, _, err := compression.DetectCompression(bytes.NewReader(head[:n]))
	if err != nil {
		return nil, nil, err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	if decompress == nil {
		return in, func() {}, nil
	}
	rc, err := decompress(in)
	if err != nil {
		return nil, nil, fmt.Errorf("decompressing: %w", err)
	}
	return rc, func() { _ = rc.Close() }, nil
}

// scanTar calls visit for every entry and fails for a damaged archive.
func scanTar(stream io.Reader, visit func(*tar.Header)) (int, error) {
	tr := tar.NewReader(stream)
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			if entries == 0 {
				return 0, fmt.Errorf("not a tar archive: %w", err)
			}
			return entries, fmt.Errorf("the archive is truncated or corrupt: %w", err)
		}
		visit(hdr)
	}
}

// spoolToTemp copies r to a temporary file in dir and returns its path.
func spoolToTemp(r io.Reader, dir, what string) (string, error) {
	tmp, err := os.CreateTemp(dir, "berth-"+what+"-")
	if err != nil {
		return "", fmt.Errorf("creating temporary file for %s: %w", what, err)
	}
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("reading %s: %w", what, err)
	}
	return tmp.Name(), nil
}

// bigFilesContext returns a copy of sys whose big temporary files go to
// sys.BigFilesTemporaryDir, else $TMPDIR, else /var/tmp (as podman).
func (r *Runtime) bigFilesContext(base *types.SystemContext) *types.SystemContext {
	var sys types.SystemContext
	if base != nil {
		sys = *base
	}
	if sys.BigFilesTemporaryDir == "" {
		sys.BigFilesTemporaryDir = os.Getenv("TMPDIR")
	}
	if sys.BigFilesTemporaryDir == "" {
		sys.BigFilesTemporaryDir = "/var/tmp"
	}
	return &sys
}

// undoLayersOnError runs fn; when it fails, the layers fn created that no
// image or container uses are deleted, so that a failed import or load
// leaves nothing in storage.
func (r *Runtime) undoLayersOnError(fn func() error) error {
	layers, err := r.store.Layers()
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	before := make(map[string]bool, len(layers))
	for _, l := range layers {
		before[l.ID] = true
	}
	err = fn()
	if err != nil {
		r.deleteUnusedLayers(before)
	}
	return err
}

func (r *Runtime) deleteUnusedLayers(keep map[string]bool) {
	layers, err := r.store.Layers()
	if err != nil {
		return
	}
	parent := make(map[string]string, len(layers))
	for _, l := range layers {
		parent[l.ID] = l.Parent
	}
	used := map[string]bool{}
	markChain := func(id string) {
		for ; id != "" && !used[id]; id = parent[id] {
			used[id] = true
		}
	}
	images, _ := r.store.Images()
	for _, img := range images {
		markChain(img.TopLayer)
		for _, l := range img.MappedTopLayers {
			markChain(l)
		}
	}
	containers, _ := r.store.Containers()
	for _, c := range containers {
		markChain(c.LayerID)
	}
	var doomed []string
	for _, l := range layers {
		if !keep[l.ID] && !used[l.ID] {
			doomed = append(doomed, l.ID)
		}
	}
	// Children first: retry until a round deletes nothing.
	for progress := true; progress && len(doomed) > 0; {
		progress = false
		var left []string
		for _, id := range doomed {
			if err := r.store.DeleteLayer(id); err != nil && !errors.Is(err, storage.ErrLayerUnknown) {
				left = append(left, id)
				continue
			}
			progress = true
		}
		doomed = left
	}
}

// pullDockerArchive copies the image a docker-archive: reference names into
// storage under every tag the archive gives it (as podman): "docker-archive:
// PATH" alone names the archive's only image, with its RepoTags. An image
// without tags is known by its ID only.
func (r *Runtime) pullDockerArchive(ctx context.Context, src types.ImageReference, sys *types.SystemContext, opts CopyOptions) (*storage.Image, error) {
	reader, readerRef, err := dockerarchive.NewReaderForReference(sys, src)
	if err != nil {
		return nil, err
	}
	defer reader.Close()
	tags, err := reader.ManifestTagsForReference(readerRef)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range tags {
		named, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return nil, fmt.Errorf("invalid tag %q in the archive: %w", t, err)
		}
		if n := named.String(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	destName := ""
	if len(names) > 0 {
		destName = names[0]
	}
	img, err := r.pullFrom(ctx, readerRef, destName, sys, opts)
	if err != nil || len(names) < 2 {
		return img, err
	}
	var missing []string
	for _, n := range names[1:] {
		if !slices.Contains(img.Names, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		if err := r.store.AddNames(img.ID, missing); err != nil {
			return nil, fmt.Errorf("naming image %s: %w", img.ID, err)
		}
		img.Names = append(img.Names, missing...)
	}
	return img, nil
}

// downloadToTemp fetches an archive named by URL (load -i URL, as podman).
func downloadToTemp(ctx context.Context, url, dir string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("loading %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("loading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("loading %s: invalid status code %d (%s)", url, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return spoolToTemp(resp.Body, dir, "download")
}
