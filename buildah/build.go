package buildah

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
)

// builder is one build in progress.
type builder struct {
	o        *Options
	ctx      context.Context
	store    storage.Store
	images   *image.Runtime
	df       *dockerfile
	lex      *shell.Lex
	global   *argList
	consumed map[string]bool
	// cache maps a step's cache key to the image that step made.
	cache map[string]string
	// results are the images of the stages built so far, by stage index.
	results map[int]string
	// mounted are images mounted for COPY --from, by image ID.
	mounted map[string]string
	// stageImages are images of stages other than the target, removed at
	// the end when not using layers (those this build made).
	stageImages []string
	created     map[string]bool
	tempDirs    []string
	ignore      *ignoreRules
	out         io.Writer // the step report (io.Discard with Quiet)
	stageTotal  int
}

// Build runs the Containerfile of o and returns the final image.
func Build(ctx context.Context, o *Options) (*Result, error) {
	if o.Format == "" {
		o.Format = image.FormatOCI
	}
	if o.Format != image.FormatOCI && o.Format != image.FormatDocker {
		return nil, fmt.Errorf("unrecognized image type %q: use oci or docker", o.Format)
	}
	switch o.Network {
	case "", "host":
		o.Network = "host"
	case "none":
	default:
		return nil, fmt.Errorf("--network %s is not supported yet for build: use host or none", o.Network)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	o.BuildArgs = withSourceDateEpoch(o.BuildArgs, o.SourceDateEpoch)
	df, err := parseDockerfile(o.DockerfileName, o.Dockerfile)
	if err != nil {
		return nil, err
	}
	b := &builder{
		o: o, ctx: ctx, store: o.Images.Store(), images: o.Images, df: df,
		lex: shell.NewLex(df.escape), consumed: map[string]bool{}, cache: map[string]string{},
		results: map[int]string{}, mounted: map[string]string{}, created: map[string]bool{}, out: o.Out,
	}
	if o.Quiet {
		b.out = io.Discard
	}
	if b.global, err = df.globalArgs(b.lex, o.BuildArgs, b.consumed); err != nil {
		return nil, err
	}
	target, order, err := df.plan(o.Target, b.lex, b.global)
	if err != nil {
		return nil, err
	}
	b.stageTotal = len(order)
	if err := b.loadCache(); err != nil {
		return nil, err
	}
	b.removeStaleWorkspaces()
	defer b.cleanup()

	var final string
	for n, i := range order {
		id, err := b.buildStage(i, n, i == target)
		if err != nil {
			return nil, err
		}
		b.results[i] = id
		if i == target {
			final = id
		} else {
			b.stageImages = append(b.stageImages, id)
		}
	}
	b.warnUnusedArgs()
	img, err := b.store.Image(final)
	if err != nil {
		return nil, fmt.Errorf("reading the built image: %w", err)
	}
	if o.Output != nil {
		if err := b.export(img.ID, o.Output); err != nil {
			return nil, err
		}
	}
	return &Result{ImageID: img.ID, Names: o.Tags}, nil
}

// cleanup unmounts what COPY --from mounted and, without layers, removes
// the images of the other stages.
func (b *builder) cleanup() {
	for _, d := range b.tempDirs {
		_ = os.Remove(d)
	}
	for id := range b.mounted {
		if _, err := b.store.UnmountImage(id, true); err != nil {
			logrus.Debugf("build: unmounting image %s: %v", id, err)
		}
	}
	if b.o.Layers {
		return
	}
	for _, id := range b.stageImages {
		if !b.created[id] {
			continue
		}
		if img, err := b.store.Image(id); err == nil && len(img.Names) == 0 {
			if _, err := b.store.DeleteImage(id, true); err != nil {
				logrus.Debugf("build: removing stage image %s: %v", id, err)
			}
		}
	}
}

func (b *builder) warnUnusedArgs() {
	var unused []string
	for k := range b.o.BuildArgs {
		if !b.consumed[k] && !predefinedArg(k) && !(k == sourceDateEpochArg && b.o.SourceDateEpoch != nil) {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.o.Err, "[Warning] one or more build args were not consumed: %v\n", unused)
	}
}

// predefinedArg: ARGs docker gives every build without an ARG line.
func predefinedArg(k string) bool {
	switch strings.ToUpper(k) {
	case "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY":
		return true
	}
	return false
}

// cacheMeta is the storage metadata of a built image.
type cacheMeta struct {
	Key string `json:"berth.build.cache-key"`
}

const cacheMetaPrefix = `{"berth.build.cache-key"`

// loadCache indexes the images earlier builds made by their cache keys.
func (b *builder) loadCache() error {
	if !b.o.Layers {
		return nil
	}
	imgs, err := b.store.Images()
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	created := map[string]int64{}
	for i := range imgs {
		img := &imgs[i]
		if !strings.HasPrefix(img.Metadata, cacheMetaPrefix) {
			continue
		}
		var m cacheMeta
		if json.Unmarshal([]byte(img.Metadata), &m) != nil || m.Key == "" {
			continue
		}
		// the newest image made by a step wins
		if t := img.Created.UnixNano(); t >= created[m.Key] {
			created[m.Key] = t
			b.cache[m.Key] = img.ID
		}
	}
	return nil
}

func cacheMetadata(key string) string {
	data, _ := json.Marshal(cacheMeta{Key: key})
	return string(data)
}

// cacheKey identifies a step: the image it starts from, the instruction
// as written, the image format, the fixed times (--timestamp, the source
// date epoch), the ARG values in scope and what else decides its result
// (the digest of what COPY and ADD copy).
func (b *builder) cacheKey(parent, text string, args *argList, extra ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "berth-build-1\x00%s\x00%s\x00%s\x00", b.o.Format, parent, text)
	if t := b.timesKey(); t != "" {
		fmt.Fprintf(h, "times\x00%s\x00", t)
	}
	for _, kv := range args.withValues() {
		fmt.Fprintf(h, "arg\x00%s\x00", kv)
	}
	for _, e := range extra {
		fmt.Fprintf(h, "extra\x00%s\x00", e)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// cached returns the image a step with key made before, if any.
func (b *builder) cached(key string) (*storage.Image, bool) {
	if !b.o.Layers || b.o.NoCache {
		return nil, false
	}
	id, ok := b.cache[key]
	if !ok {
		return nil, false
	}
	img, err := b.store.Image(id)
	if err != nil {
		delete(b.cache, key)
		return nil, false
	}
	return img, true
}

// mountImage mounts an image read-only for COPY --from.
func (b *builder) mountImage(id string) (string, error) {
	if p, ok := b.mounted[id]; ok {
		return p, nil
	}
	img, err := b.store.Image(id)
	if err != nil {
		return "", err
	}
	if img.TopLayer == "" {
		dir, err := os.MkdirTemp(b.o.RunDir, "empty-")
		if err != nil {
			return "", err
		}
		b.tempDirs = append(b.tempDirs, dir)
		return dir, nil
	}
	p, err := b.store.MountImage(id, nil, "")
	if err != nil {
		return "", fmt.Errorf("mounting image %s: %w", shortID(id), err)
	}
	b.mounted[id] = p
	return p, nil
}

func shortID(id string) string {
	if len(id) > 11 {
		return id[:11]
	}
	return id
}

// errCancelled wraps a build interrupted by a signal.
var errCancelled = errors.New("build cancelled")
