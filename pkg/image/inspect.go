package image

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
)

// InspectData is one element of `image inspect`, in podman's JSON layout.
type InspectData struct {
	ID           string                        `json:"Id"`
	Digest       digest.Digest                 `json:"Digest"`
	RepoTags     []string                      `json:"RepoTags"`
	RepoDigests  []string                      `json:"RepoDigests"`
	Parent       string                        `json:"Parent"`
	Comment      string                        `json:"Comment"`
	Created      *time.Time                    `json:"Created,omitempty"`
	Config       *ociv1.ImageConfig            `json:"Config"`
	Version      string                        `json:"Version"`
	Author       string                        `json:"Author"`
	Architecture string                        `json:"Architecture"`
	Os           string                        `json:"Os"`
	Size         int64                         `json:"Size"`
	VirtualSize  int64                         `json:"VirtualSize"`
	GraphDriver  GraphDriver                   `json:"GraphDriver"`
	RootFS       RootFS                        `json:"RootFS"`
	Labels       map[string]string             `json:"Labels"`
	Annotations  map[string]string             `json:"Annotations"`
	ManifestType string                        `json:"ManifestType"`
	User         string                        `json:"User"`
	History      []ociv1.History               `json:"History"`
	NamesHistory []string                      `json:"NamesHistory"`
	HealthCheck  *manifest.Schema2HealthConfig `json:"Healthcheck,omitempty"`
}

// Id lets `--format '{{.Id}}'` work as it does with podman.
func (d *InspectData) Id() string { return d.ID } //nolint:revive,staticcheck // podman's spelling

// GraphDriver is the storage driver and the top layer's directories.
type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// RootFS lists the image's layers by diff ID.
type RootFS struct {
	Type   string          `json:"Type"`
	Layers []digest.Digest `json:"Layers"`
}

// dockerConfigExtras are docker config fields that OCI configs lack.
type dockerConfigExtras struct {
	Comment       string `json:"comment"`
	DockerVersion string `json:"docker_version"`
	Config        struct {
		Healthcheck *manifest.Schema2HealthConfig `json:"Healthcheck"`
	} `json:"config"`
}

// Inspect gathers what podman's `image inspect` shows about img.
func (r *Runtime) Inspect(img *storage.Image) (*InspectData, error) {
	raw, mimeType, err := r.Manifest(img)
	if err != nil {
		return nil, err
	}
	cfg, err := r.Config(img)
	if err != nil {
		return nil, err
	}
	size, err := r.store.ImageSize(img.ID)
	if err != nil {
		return nil, fmt.Errorf("computing size of image %s: %w", img.ID, err)
	}
	d := &InspectData{
		ID:           img.ID,
		Digest:       img.Digest,
		RepoTags:     nonNil(img.Names),
		RepoDigests:  RepoDigests(img),
		Created:      cfg.Created,
		Config:       &cfg.Config,
		Author:       cfg.Author,
		Architecture: cfg.Architecture,
		Os:           cfg.OS,
		Size:         size,
		VirtualSize:  size,
		RootFS:       RootFS{Type: cfg.RootFS.Type, Layers: nonNil(cfg.RootFS.DiffIDs)},
		Labels:       cfg.Config.Labels,
		Annotations:  map[string]string{},
		ManifestType: mimeType,
		User:         cfg.Config.User,
		History:      nonNil(cfg.History),
		NamesHistory: nonNil(img.NamesHistory),
	}
	if len(cfg.History) > 0 {
		d.Comment = cfg.History[0].Comment
	}
	if mimeType == ociv1.MediaTypeImageManifest {
		var m ociv1.Manifest
		if json.Unmarshal(raw, &m) == nil && m.Annotations != nil {
			d.Annotations = m.Annotations
		}
	}
	if mimeType == manifest.DockerV2Schema2MediaType {
		r.addDockerExtras(img, raw, d)
	}
	d.GraphDriver = r.graphDriver(img)
	d.Parent = r.parentImage(img, cfg)
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// RepoDigests pairs every repository the image is named in with each of
// its manifest digests, as podman does.
func RepoDigests(img *storage.Image) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, name := range img.Names {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			continue
		}
		for _, d := range append(append([]digest.Digest{}, img.Digests...), img.Digest) {
			if d == "" {
				continue
			}
			c, err := reference.WithDigest(reference.TrimNamed(named), d)
			if err != nil || seen[c.String()] {
				continue
			}
			seen[c.String()] = true
			out = append(out, c.String())
		}
	}
	return out
}

func (r *Runtime) addDockerExtras(img *storage.Image, rawManifest []byte, d *InspectData) {
	m, err := manifest.Schema2FromManifest(rawManifest)
	if err != nil {
		return
	}
	data, err := r.store.ImageBigData(img.ID, m.ConfigInfo().Digest.String())
	if err != nil {
		return
	}
	var extras dockerConfigExtras
	if json.Unmarshal(data, &extras) != nil {
		return
	}
	d.Comment = extras.Comment // podman: a docker image's comment is its config's
	d.Version = extras.DockerVersion
	d.HealthCheck = extras.Config.Healthcheck
}

func (r *Runtime) graphDriver(img *storage.Image) GraphDriver {
	gd := GraphDriver{Name: r.store.GraphDriverName()}
	if img.TopLayer == "" {
		return gd
	}
	driver, err := r.store.GraphDriver()
	if err != nil {
		return gd
	}
	data, err := driver.Metadata(img.TopLayer)
	if err != nil {
		return gd
	}
	delete(data, "MergedDir")
	gd.Data = data
	return gd
}

// ParentID is the ID of the image img was built on ("" if none is
// present; see parentImage).
func (r *Runtime) ParentID(img *storage.Image) string {
	cfg, err := r.Config(img)
	if err != nil {
		return ""
	}
	return r.parentImage(img, cfg)
}

// parentSource is what parentImage reads: the store itself, or an Index of
// it for questions about many images.
type parentSource interface {
	layer(id string) (*storage.Layer, error)
	imagesByTopLayer(id string) ([]*storage.Image, error)
	config(img *storage.Image) (*ociv1.Image, error)
}

func (r *Runtime) layer(id string) (*storage.Layer, error) { return r.store.Layer(id) }
func (r *Runtime) imagesByTopLayer(id string) ([]*storage.Image, error) {
	return r.store.ImagesByTopLayer(id)
}
func (r *Runtime) config(img *storage.Image) (*ociv1.Image, error) { return r.Config(img) }

func (r *Runtime) parentImage(img *storage.Image, cfg *ociv1.Image) string {
	return parentImage(r, img, cfg)
}

// parentImage finds the image img was built on: one whose top layer is the
// parent of img's (or is img's own, for images adding only empty layers)
// and whose history is a prefix of img's.
func parentImage(src parentSource, img *storage.Image, cfg *ociv1.Image) string {
	if img.TopLayer == "" {
		return ""
	}
	top, err := src.layer(img.TopLayer)
	if err != nil {
		return ""
	}
	candidates, _ := src.imagesByTopLayer(img.TopLayer)
	if top.Parent != "" {
		below, _ := src.imagesByTopLayer(top.Parent)
		candidates = append(candidates, below...)
	}
	best, bestLen := "", -1
	for _, c := range candidates {
		if c.ID == img.ID {
			continue
		}
		ccfg, err := src.config(c)
		if err != nil || len(ccfg.History) >= len(cfg.History) || len(ccfg.History) <= bestLen {
			continue
		}
		if historyPrefix(ccfg.History, cfg.History) {
			best, bestLen = c.ID, len(ccfg.History)
		}
	}
	return best
}

func historyPrefix(prefix, h []ociv1.History) bool {
	if len(prefix) > len(h) {
		return false
	}
	for i := range prefix {
		a, b := prefix[i], h[i]
		if a.CreatedBy != b.CreatedBy || a.Comment != b.Comment || a.EmptyLayer != b.EmptyLayer || a.Author != b.Author {
			return false
		}
		if (a.Created == nil) != (b.Created == nil) || a.Created != nil && !a.Created.Equal(*b.Created) {
			return false
		}
	}
	return true
}
