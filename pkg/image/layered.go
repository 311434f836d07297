package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	imgspec "github.com/opencontainers/image-spec/specs-go"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// Manifest formats of images berth writes.
const (
	FormatOCI    = "oci"
	FormatDocker = "docker"
)

// ConfigBlob returns the image's configuration as stored (OCI or docker
// JSON), with the fields OCI lacks (Healthcheck, OnBuild, Shell).
func (r *Runtime) ConfigBlob(img *storage.Image) ([]byte, error) {
	raw, mimeType, err := r.Manifest(img)
	if err != nil {
		return nil, err
	}
	m, err := manifest.FromBlob(raw, mimeType)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest of image %s: %w", img.ID, err)
	}
	data, err := r.store.ImageBigData(img.ID, m.ConfigInfo().Digest.String())
	if err != nil {
		return nil, fmt.Errorf("reading config of image %s: %w", img.ID, err)
	}
	return data, nil
}

// DockerConfig returns the image's configuration with docker's extra fields.
func (r *Runtime) DockerConfig(img *storage.Image) (*dockerspec.DockerOCIImage, error) {
	data, err := r.ConfigBlob(img)
	if err != nil {
		return nil, err
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("parsing config of image %s: %w", img.ID, err)
	}
	return &cfg, nil
}

// PutDiff stores an uncompressed layer diff (a tar stream, as
// storage.Store.Diff produces) as a layer on top of parent ("" for none),
// under its chain ID (LayerID); a layer already there with that ID is the
// same content and is returned instead.
func (r *Runtime) PutDiff(parent string, diff io.Reader) (*storage.Layer, error) {
	df, ok := diff.(*DiffFile)
	if !ok {
		var err error
		if df, err = r.spool(diff); err != nil {
			return nil, err
		}
		defer df.Close()
	}
	id := LayerID(parent, df.Digest())
	if layer, err := r.store.Layer(id); err == nil {
		return layer, nil
	}
	layer, _, err := r.store.PutLayer(id, parent, nil, "", false, &storage.LayerOptions{UncompressedDigest: df.Digest()}, df)
	if errors.Is(err, storage.ErrDuplicateID) {
		return r.store.Layer(id)
	}
	if err != nil {
		return nil, fmt.Errorf("storing layer: %w", err)
	}
	return layer, nil
}

// LayerID is the ID containers/image gives the layer with diffID on top
// of parent (a chain ID): layers made here get the same, so that pulling
// an image built here finds its layers instead of failing on a second
// copy of them under other IDs.
func LayerID(parent string, diffID digest.Digest) string {
	if parent == "" {
		return diffID.Encoded()
	}
	return digest.Canonical.FromString(parent + "+" + diffID.Encoded()).Encoded()
}

// SpoolDiff reads the changes of layer id against its parent into a
// temporary file, rewound (storage holds its layer lock while a Diff is
// open, so a diff cannot be streamed into PutLayer). The caller closes and
// removes it.
func (r *Runtime) SpoolDiff(id string) (*DiffFile, error) {
	uncompressed := archive.Uncompressed
	rc, err := r.store.Diff("", id, &storage.DiffOptions{Compression: &uncompressed})
	if err != nil {
		return nil, fmt.Errorf("reading the changes of layer %s: %w", id, err)
	}
	defer rc.Close()
	return r.spool(rc)
}

// DiffFile is a spooled layer diff.
type DiffFile struct {
	*spooled
}

// LayeredImage describes an image made of layers already in storage.
type LayeredImage struct {
	// TopLayer is the image's top layer ("" for an image without layers);
	// the config's rootfs lists the diff IDs of its chain, bottom first.
	TopLayer string
	// Config is the image configuration; with FormatOCI the docker-only
	// fields (Healthcheck, OnBuild, Shell) are not written.
	Config *dockerspec.DockerOCIImage
	// Format is FormatOCI or FormatDocker.
	Format string
	// Names are full image names (already normalized).
	Names []string
	// Metadata is stored with the image in storage (not in the image).
	Metadata string
	// Annotations go into an OCI manifest.
	Annotations map[string]string
}

// CreateLayeredImage creates the image li describes; its ID is the digest
// of its config. An image with that ID that exists already gets li's names
// and is returned.
func (r *Runtime) CreateLayeredImage(li LayeredImage) (*storage.Image, error) {
	layers, err := r.layerChain(li.TopLayer)
	if err != nil {
		return nil, err
	}
	if n := len(li.Config.RootFS.DiffIDs); n != len(layers) {
		return nil, fmt.Errorf("creating image: the config lists %d layers, the layer chain has %d", n, len(layers))
	}
	for i, l := range layers {
		if l.UncompressedDigest != li.Config.RootFS.DiffIDs[i] {
			return nil, fmt.Errorf("creating image: layer %d is %s, the config says %s", i+1, l.UncompressedDigest, li.Config.RootFS.DiffIDs[i])
		}
	}
	var configBlob, manifestBlob []byte
	switch li.Format {
	case FormatDocker:
		configBlob, err = json.Marshal(dockerImageConfig(li.Config))
		if err != nil {
			return nil, err
		}
		m := manifest.Schema2{
			SchemaVersion: 2,
			MediaType:     manifest.DockerV2Schema2MediaType,
			ConfigDescriptor: manifest.Schema2Descriptor{MediaType: manifest.DockerV2Schema2ConfigMediaType,
				Size: int64(len(configBlob)), Digest: digest.FromBytes(configBlob)},
			LayersDescriptors: []manifest.Schema2Descriptor{},
		}
		for _, l := range layers {
			m.LayersDescriptors = append(m.LayersDescriptors, manifest.Schema2Descriptor{
				MediaType: manifest.DockerV2SchemaLayerMediaTypeUncompressed, Digest: l.UncompressedDigest, Size: l.UncompressedSize})
		}
		manifestBlob, err = json.Marshal(&m)
	case FormatOCI, "":
		cfg := li.Config.Image
		cfg.Config = li.Config.Config.ImageConfig
		configBlob, err = json.Marshal(&cfg)
		if err != nil {
			return nil, err
		}
		m := ociv1.Manifest{
			Versioned: imgspec.Versioned{SchemaVersion: 2},
			MediaType: ociv1.MediaTypeImageManifest,
			Config: ociv1.Descriptor{MediaType: ociv1.MediaTypeImageConfig,
				Digest: digest.FromBytes(configBlob), Size: int64(len(configBlob))},
			Layers:      []ociv1.Descriptor{},
			Annotations: li.Annotations,
		}
		for _, l := range layers {
			m.Layers = append(m.Layers, ociv1.Descriptor{MediaType: ociv1.MediaTypeImageLayer, Digest: l.UncompressedDigest, Size: l.UncompressedSize})
		}
		manifestBlob, err = json.Marshal(&m)
	default:
		return nil, fmt.Errorf("unknown image format %q: use oci or docker", li.Format)
	}
	if err != nil {
		return nil, err
	}
	configDigest := digest.FromBytes(configBlob)
	manifestDigest := digest.FromBytes(manifestBlob)
	created := time.Now().UTC()
	if li.Config.Created != nil {
		created = *li.Config.Created
	}
	img, err := r.store.CreateImage(configDigest.Encoded(), li.Names, li.TopLayer, li.Metadata, &storage.ImageOptions{
		CreationDate: created,
		Digest:       manifestDigest,
		BigData: []storage.ImageBigDataOption{
			{Key: configDigest.String(), Data: configBlob, Digest: configDigest},
			{Key: "manifest-" + manifestDigest.String(), Data: manifestBlob, Digest: manifestDigest},
			{Key: storage.ImageDigestBigDataKey, Data: manifestBlob, Digest: manifestDigest},
		},
	})
	if errors.Is(err, storage.ErrDuplicateID) {
		existing, lerr := r.store.Image(configDigest.Encoded())
		if lerr != nil {
			return nil, fmt.Errorf("creating image: %w", err)
		}
		if len(li.Names) > 0 {
			if err := r.store.AddNames(existing.ID, li.Names); err != nil {
				return nil, fmt.Errorf("naming image %s: %w", existing.ID, err)
			}
			return r.store.Image(existing.ID)
		}
		return existing, nil
	}
	if err != nil {
		return nil, fmt.Errorf("creating image: %w", err)
	}
	return img, nil
}

// layerChain returns the layers from the bottom up to top.
func (r *Runtime) layerChain(top string) ([]*storage.Layer, error) {
	var chain []*storage.Layer
	for id := top; id != ""; {
		l, err := r.store.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", id, err)
		}
		if l.UncompressedDigest == "" {
			return nil, fmt.Errorf("layer %s has no recorded digest", id)
		}
		chain = append(chain, l)
		id = l.Parent
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// dockerImageConfig converts to docker's image configuration.
func dockerImageConfig(c *dockerspec.DockerOCIImage) *manifest.Schema2Image {
	oc := c.Config
	cfg := &manifest.Schema2Config{
		User:        oc.User,
		Env:         oc.Env,
		Cmd:         oc.Cmd,
		Entrypoint:  oc.Entrypoint,
		WorkingDir:  oc.WorkingDir,
		Labels:      oc.Labels,
		StopSignal:  oc.StopSignal,
		OnBuild:     oc.OnBuild,
		Shell:       oc.Shell,
		ArgsEscaped: oc.ArgsEscaped, //nolint:staticcheck // part of the format
	}
	if len(oc.ExposedPorts) > 0 {
		cfg.ExposedPorts = manifest.Schema2PortSet{}
		for p := range oc.ExposedPorts {
			cfg.ExposedPorts[manifest.Schema2Port(p)] = struct{}{}
		}
	}
	if len(oc.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for v := range oc.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	if h := oc.Healthcheck; h != nil {
		cfg.Healthcheck = &manifest.Schema2HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	img := &manifest.Schema2Image{
		Schema2V1Image: manifest.Schema2V1Image{
			Author:          c.Author,
			Config:          cfg,
			ContainerConfig: *cfg,
			Architecture:    c.Architecture,
			Variant:         c.Variant,
			OS:              c.OS,
		},
		RootFS:     &manifest.Schema2RootFS{Type: "layers", DiffIDs: c.RootFS.DiffIDs},
		OSVersion:  c.OSVersion,
		OSFeatures: c.OSFeatures,
	}
	if c.Created != nil {
		img.Created = *c.Created
	}
	for _, h := range c.History {
		e := manifest.Schema2History{Author: h.Author, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if h.Created != nil {
			e.Created = *h.Created
		}
		img.History = append(img.History, e)
	}
	return img
}
