package buildah

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/specgen"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// workspace is the writable layer a step changes files in, on top of the
// stage's current top layer, mounted. Its changes become the step's layer.
type workspace struct {
	layerID string
	parent  string
	mount   string
}

// workspaceNamePrefix names working layers, with berth's pid, so that a
// later build can remove those a killed build left behind.
const workspaceNamePrefix = "berth-build-working-"

// workspace returns the stage's working layer, creating and mounting it.
func (s *stage) workspace() (*workspace, error) {
	if s.ws != nil {
		return s.ws, nil
	}
	st := s.b.store
	name := fmt.Sprintf("%s%d-%s", workspaceNamePrefix, os.Getpid(), randomHex(6))
	layer, err := st.CreateLayer("", s.topLayer, []string{name}, "", true, nil)
	if err != nil {
		return nil, fmt.Errorf("creating the working layer: %w", err)
	}
	mount, err := st.Mount(layer.ID, "")
	if err != nil {
		_ = st.DeleteLayer(layer.ID)
		return nil, fmt.Errorf("mounting the working layer: %w", err)
	}
	s.ws = &workspace{layerID: layer.ID, parent: s.topLayer, mount: mount}
	return s.ws, nil
}

// dropWorkspace unmounts and deletes the working layer, if any.
func (s *stage) dropWorkspace() {
	if s.ws == nil {
		return
	}
	removeWorkspace(s.b.store, s.ws.layerID)
	s.ws = nil
}

func removeWorkspace(st storage.Store, id string) {
	if _, err := st.Unmount(id, true); err != nil && !errors.Is(err, storage.ErrLayerUnknown) {
		logrus.Warnf("unmounting working layer %s: %v", id, err)
	}
	if err := st.DeleteLayer(id); err != nil && !errors.Is(err, storage.ErrLayerUnknown) {
		logrus.Warnf("removing working layer %s: %v", id, err)
	}
}

// commitLayer makes the working layer's changes a layer on the current
// top layer and makes it the top. The working layer's files move into
// that layer when the storage driver allows (no copy; file times fixed by
// --timestamp or --rewrite-timestamp are set in place first); otherwise
// its diff, times rewritten, is stored as a new layer. Either way the
// working layer is removed.
func (s *stage) commitLayer() error {
	ws := s.ws
	st := s.b.store
	t0 := time.Now()
	if _, err := st.Unmount(ws.layerID, true); err != nil {
		return fmt.Errorf("unmounting the working layer: %w", err)
	}
	times := s.b.layerTimes()
	var layer *storage.Layer
	var err error
	if times.Active() {
		err = s.b.images.SetLayerTimes(ws.layerID, times)
	}
	if err == nil {
		layer, err = s.b.images.PromoteLayer(ws.layerID)
	}
	switch {
	case err == nil:
		s.ws = nil
		logrus.Debugf("build: working layer promoted in %s", time.Since(t0))
	case errors.Is(err, image.ErrPromoteUnsupported):
		diff, err := s.b.images.SpoolDiff(ws.layerID)
		if err != nil {
			return err
		}
		defer diff.Close()
		s.dropWorkspace()
		if layer, err = s.b.images.PutDiffTimes(ws.parent, diff, times); err != nil {
			return err
		}
		logrus.Debugf("build: working layer copied in %s", time.Since(t0))
	default:
		return err
	}
	s.topLayer = layer.ID
	s.cfg.RootFS.DiffIDs = append(s.cfg.RootFS.DiffIDs, layer.UncompressedDigest)
	return nil
}

// ensureWorkdir creates the working directory (WORKDIR) in the working
// layer when it is missing, as podman does before RUN, COPY and ADD.
func (s *stage) ensureWorkdir(ws *workspace) error {
	wd := s.cfg.Config.WorkingDir
	if wd == "" || wd == "/" {
		return nil
	}
	p, err := securejoin.SecureJoin(ws.mount, wd)
	if err != nil {
		return fmt.Errorf("resolving the working directory %s: %w", wd, err)
	}
	if st, err := os.Stat(p); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("the working directory %s is not a directory", wd)
		}
		return nil
	}
	made := missingPaths(ws.mount, wd)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return fmt.Errorf("creating the working directory %s: %w", wd, err)
	}
	// as podman and BuildKit: the directories made belong to USER
	if user := s.cfg.Config.User; user != "" {
		u, err := specgen.ResolveUser(ws.mount, user, nil)
		if err != nil {
			return nil // the RUN step, if any, reports the unknown user
		}
		for _, d := range made {
			if err := os.Lchown(d, int(u.UID), int(u.GID)); err != nil {
				return fmt.Errorf("giving the working directory %s to %s: %w", wd, user, err)
			}
		}
	}
	return nil
}

// runIDPrefix names RUN steps' containers and bundles, with berth's pid,
// so that a later build can remove those a killed build left behind.
const runIDPrefix = "berth-build-run-"

func runID(random string) string {
	return fmt.Sprintf("%s%d-%s", runIDPrefix, os.Getpid(), random)
}

// removeStaleRuns kills and deletes the RUN containers of builds that are
// gone, and removes their bundles: before their working layers go, which
// the containers may still use.
func (b *builder) removeStaleRuns() {
	entries, err := os.ReadDir(b.o.RunDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !leftBehind(e.Name(), runIDPrefix) {
			continue
		}
		logrus.Debugf("build: removing RUN container %s of a build that is gone", e.Name())
		if b.o.Runtime != nil {
			_ = b.o.Runtime.Kill(e.Name(), int(unix.SIGKILL), true)
			if err := b.o.Runtime.Delete(e.Name(), true); err != nil {
				logrus.Debugf("build: deleting RUN container %s: %v", e.Name(), err)
			}
		}
		_ = os.RemoveAll(filepath.Join(b.o.RunDir, e.Name()))
	}
}

// removeStaleWorkspaces removes working layers of builds that are gone
// (killed before they could clean up), and their RUN containers.
func (b *builder) removeStaleWorkspaces() {
	b.removeStaleRuns()
	layers, err := b.store.Layers()
	if err != nil {
		return
	}
	for i := range layers {
		for _, n := range layers[i].Names {
			if !leftBehind(n, workspaceNamePrefix) {
				continue
			}
			logrus.Debugf("build: removing working layer %s of a build that is gone", layers[i].ID)
			removeWorkspace(b.store, layers[i].ID)
		}
	}
}

// leftBehind reports whether name (prefix, berth's pid, "-" and more)
// belongs to a build that is gone.
func leftBehind(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	pidText, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidText)
	return err == nil && pid != os.Getpid() && !processAlive(pid)
}

// processAlive reports whether pid runs the same program as this one (a
// berth build that may still use its working layers).
func processAlive(pid int) bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return false
	}
	self, err := os.Readlink("/proc/self/exe")
	return err != nil || exe == self
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
