package image

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
)

// CommitOptions describe the image made from a container's changes.
type CommitOptions struct {
	Changes   []string // Dockerfile instructions, as for import
	Message   string   // history comment
	Author    string
	CreatedBy string // history created_by, e.g. the container's command
	// SetCommand replaces the image's ENTRYPOINT and CMD with Entrypoint
	// and Cmd (the container's, when it was given its own), before Changes.
	SetCommand      bool
	Entrypoint, Cmd []string
}

// Commit stores the changes of layerID (a container's writable layer) as a
// new layer on top of base and creates an image from it, named name ("" for
// none). The new layer is removed again if the image cannot be created.
func (r *Runtime) Commit(base *storage.Image, layerID, name string, opts CommitOptions) (*storage.Image, error) {
	cfg, err := r.Config(base)
	if err != nil {
		return nil, err
	}
	rawBase, baseType, err := r.Manifest(base)
	if err != nil {
		return nil, err
	}
	baseManifest, err := manifest.FromBlob(rawBase, baseType)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest of image %s: %w", base.ID, err)
	}
	var names []string
	if name != "" {
		n, err := NormalizeName(name)
		if err != nil {
			return nil, err
		}
		names = []string{n.String()}
	}
	diff, err := r.SpoolDiff(layerID)
	if err != nil {
		return nil, fmt.Errorf("reading the container's changes: %w", err)
	}
	defer diff.Close()
	layer, err := r.PutDiff(base.TopLayer, diff)
	if err != nil {
		return nil, fmt.Errorf("storing the container's changes: %w", err)
	}
	img, err := r.commitImage(base, baseManifest, cfg, layer, names, opts)
	if err != nil {
		_ = r.DeleteLayerIfUnused(layer.ID)
		return nil, err
	}
	return img, nil
}

// tmpDir is where big temporary files go: the context's
// BigFilesTemporaryDir (the engine sets it from containers.conf's
// image_copy_tmp_dir or $TMPDIR), else $TMPDIR, else /var/tmp.
func (r *Runtime) tmpDir() string {
	return r.bigFilesContext(r.sys).BigFilesTemporaryDir
}

func (r *Runtime) commitImage(base *storage.Image, baseManifest manifest.Manifest, cfg *ociv1.Image, layer *storage.Layer, names []string, opts CommitOptions) (*storage.Image, error) {
	now := time.Now().UTC()
	cfg.Created = &now
	if opts.Author != "" {
		cfg.Author = opts.Author
	}
	if opts.SetCommand {
		cfg.Config.Entrypoint, cfg.Config.Cmd = opts.Entrypoint, opts.Cmd
	}
	if err := ApplyChanges(&cfg.Config, opts.Changes); err != nil {
		return nil, err
	}
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, layer.UncompressedDigest)
	cfg.History = append(cfg.History, ociv1.History{Created: &now, CreatedBy: opts.CreatedBy, Comment: opts.Message, Author: opts.Author})
	configBlob, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	configDigest := digest.FromBytes(configBlob)
	var layers []ociv1.Descriptor
	for _, l := range baseManifest.LayerInfos() {
		layers = append(layers, ociv1.Descriptor{MediaType: ociLayerType(l.MediaType), Digest: l.Digest, Size: l.Size})
	}
	layers = append(layers, ociv1.Descriptor{MediaType: ociv1.MediaTypeImageLayer, Digest: layer.UncompressedDigest, Size: layer.UncompressedSize})
	m := manifest.OCI1FromComponents(ociv1.Descriptor{MediaType: ociv1.MediaTypeImageConfig, Digest: configDigest, Size: int64(len(configBlob))}, layers)
	manifestBlob, err := m.Serialize()
	if err != nil {
		return nil, err
	}
	manifestDigest := digest.FromBytes(manifestBlob)
	img, err := r.store.CreateImage(configDigest.Encoded(), nil, layer.ID, "", &storage.ImageOptions{
		CreationDate: now,
		Digest:       manifestDigest,
		BigData: []storage.ImageBigDataOption{
			{Key: configDigest.String(), Data: configBlob, Digest: configDigest},
			{Key: "manifest-" + manifestDigest.String(), Data: manifestBlob, Digest: manifestDigest},
			{Key: storage.ImageDigestBigDataKey, Data: manifestBlob, Digest: manifestDigest},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("creating image: %w", err)
	}
	// A name another image had moves to the new one, as with podman.
	if len(names) > 0 {
		if err := r.store.AddNames(img.ID, names); err != nil {
			_, _ = r.store.DeleteImage(img.ID, true)
			return nil, fmt.Errorf("naming image %s: %w", img.ID, err)
		}
		img.Names = names
	}
	return img, nil
}

// ociLayerType maps docker layer media types to their OCI equivalents.
func ociLayerType(t string) string {
	switch t {
	case manifest.DockerV2Schema2LayerMediaType:
		return ociv1.MediaTypeImageLayerGzip
	case manifest.DockerV2Schema2ForeignLayerMediaType:
		return ociv1.MediaTypeImageLayerNonDistributable //nolint:staticcheck // what docker's foreign layers are
	case "":
		return ociv1.MediaTypeImageLayer
	}
	return t
}
