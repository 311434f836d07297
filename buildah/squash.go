package buildah

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

// squashAll makes the stage's filesystem one layer without a parent
// (--squash-all): the merged view of the working layer (or of a fresh one
// on the current top layer) is stored as a new layer, and the working
// layer is dropped. As podman does, the history keeps only the entries
// added since the image this commit starts from, the last one with the
// layer.
func (s *stage) squashAll() error {
	b := s.b
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	t0 := time.Now()
	layer, err := b.images.PutTree(ws.mount, b.layerTimes())
	s.dropWorkspace()
	if err != nil {
		return fmt.Errorf("squashing the image's layers: %w", err)
	}
	logrus.Debugf("build: layers squashed in %s", time.Since(t0))
	s.topLayer = layer.ID
	s.cfg.RootFS.DiffIDs = []digest.Digest{layer.UncompressedDigest}
	added := s.cfg.History
	if s.baseHistory <= len(added) {
		added = added[s.baseHistory:]
	}
	s.cfg.History = squashedHistory(added, b.createdTime())
	return nil
}

// squashedHistory is the history of a squashed image: the given entries,
// all without a layer but the last, which has the one layer; a commit
// that adds none gets the entry buildah writes for it.
func squashedHistory(added []ociv1.History, now time.Time) []ociv1.History {
	if len(added) == 0 {
		return []ociv1.History{{Created: &now, CreatedBy: "/bin/sh"}}
	}
	out := append([]ociv1.History{}, added...)
	for i := range out {
		out[i].EmptyLayer = i != len(out)-1
	}
	return out
}
