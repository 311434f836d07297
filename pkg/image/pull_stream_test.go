package image

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
)

// streamable decides which images the streaming pull takes and which go
// to copy.Image: each case here must fall back (or not) as documented.
func TestStreamableFallsBack(t *testing.T) {
	layer := func(mediaType string, mod func(*imgspecv1.Descriptor)) imgspecv1.Descriptor {
		d := imgspecv1.Descriptor{MediaType: mediaType, Digest: digest.FromString(mediaType), Size: 10}
		if mod != nil {
			mod(&d)
		}
		return d
	}
	config := imgspecv1.Descriptor{MediaType: imgspecv1.MediaTypeImageConfig, Digest: digest.FromString("c"), Size: 2}
	for _, c := range []struct {
		name     string
		layer    imgspecv1.Descriptor
		fallback bool
	}{
		{"gzip", layer(imgspecv1.MediaTypeImageLayerGzip, nil), false},
		{"zstd", layer(imgspecv1.MediaTypeImageLayerZstd, nil), false},
		{"uncompressed", layer(imgspecv1.MediaTypeImageLayer, nil), false},
		{"docker gzip", layer(manifest.DockerV2Schema2LayerMediaType, nil), false},
		{"encrypted", layer(imgspecv1.MediaTypeImageLayerGzip+"+encrypted", nil), true},
		{"docker foreign", layer(manifest.DockerV2Schema2ForeignLayerMediaTypeGzip, nil), true},
		{"non-distributable", layer(imgspecv1.MediaTypeImageLayerNonDistributableGzip, nil), true}, //nolint:staticcheck // what is tested
		{"with URLs", layer(imgspecv1.MediaTypeImageLayerGzip, func(d *imgspecv1.Descriptor) { d.URLs = []string{"https://example.com/l"} }), true},
		{"zstd:chunked", layer(imgspecv1.MediaTypeImageLayerZstd, func(d *imgspecv1.Descriptor) {
			d.Annotations = map[string]string{"io.github.containers.zstd-chunked.manifest-checksum": digest.FromString("toc").String()}
		}), true},
		{"estargz", layer(imgspecv1.MediaTypeImageLayerGzip, func(d *imgspecv1.Descriptor) {
			d.Annotations = map[string]string{"containerd.io/snapshot/stargz/toc.digest": digest.FromString("toc").String()}
		}), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := manifest.OCI1FromComponents(config, []imgspecv1.Descriptor{layer(imgspecv1.MediaTypeImageLayerGzip, nil), c.layer})
			layers, err := streamable(m)
			var fb *fallbackError
			switch {
			case c.fallback && !errors.As(err, &fb):
				t.Errorf("streamable = %d layers, %v; want a fallback", len(layers), err)
			case !c.fallback && err != nil:
				t.Errorf("streamable: %v; want the layers", err)
			case !c.fallback && (len(layers) != 2 || layers[1].info.Digest != c.layer.Digest):
				t.Errorf("streamable = %+v, want both layers in order", layers)
			}
		})
	}
}

func TestChainLayerID(t *testing.T) {
	d1, d2 := digest.FromString("one"), digest.FromString("two")
	if got := chainLayerID("", d1); got != d1.Encoded() {
		t.Errorf("base layer ID = %s, want its diff ID %s", got, d1.Encoded())
	}
	// c/image's layerID: sha256 of "PARENT+DIFFID-HEX"
	want := digest.FromString(d1.Encoded() + "+" + d2.Encoded()).Encoded()
	if got := chainLayerID(d1.Encoded(), d2); got != want {
		t.Errorf("second layer ID = %s, want %s", got, want)
	}
}
