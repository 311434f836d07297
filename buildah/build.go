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
	"sync"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/stringid"
)

// builder is one build in progress. With --jobs, stages run in
// goroutines: mu guards the maps and lists they share.
type builder struct {
	mu       sync.Mutex
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
	// scratchSwept removes the copies of killed builds, once.
	scratchSwept sync.Once
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
	df.named = o.BuildContexts
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
	target, order, deps, err := df.plan(o.Target, b.lex, b.global)
	if err != nil {
		return nil, err
	}
	b.stageTotal = len(order)
	if err := b.loadCache(); err != nil {
		return nil, err
	}
	if _, err := b.contextIgnore(); err != nil {
		return nil, err
	}
	b.removeStaleWorkspaces()
	defer b.cleanup()

	if err := b.buildStages(order, deps, target); err != nil {
		return nil, err
	}
	final, _ := b.result(target)
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
	b.mu.Lock()
	id, ok := b.cache[key]
	b.mu.Unlock()
	if !ok {
		return nil, false
	}
	img, err := b.store.Image(id)
	if err != nil {
		b.mu.Lock()
		delete(b.cache, key)
		b.mu.Unlock()
		return nil, false
	}
	return img, true
}

// remember records an image this build made, under its cache key.
func (b *builder) remember(key, id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.created[id] = true
	if key != "" {
		b.cache[key] = id
	}
}

// consume records that a --build-arg was used.
func (b *builder) consume(k string) {
	b.mu.Lock()
	b.consumed[k] = true
	b.mu.Unlock()
}

// result is the image of stage i, once built.
func (b *builder) result(i int) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.results[i]
	return id, ok
}

// namedImage returns the image of a --build-context naming one, pulled
// if needed; ok is false when name is no such context.
func (b *builder) namedImage(name string) (id string, ok bool, err error) {
	bc, found := b.o.BuildContexts[name]
	if !found || bc.Image == "" {
		return "", false, nil
	}
	img, err := b.o.Pull(b.ctx, bc.Image)
	if err != nil {
		return "", true, fmt.Errorf("the build context %s (%s): %w", name, bc.Image, err)
	}
	return img.ID, true, nil
}

// namedDir returns the directory of a --build-context naming one.
func (b *builder) namedDir(name string) (string, bool) {
	bc, found := b.o.BuildContexts[name]
	return bc.Dir, found && bc.Dir != ""
}

// mountImage mounts an image read-only for COPY --from.
func (b *builder) mountImage(id string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
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
		return "", fmt.Errorf("mounting image %s: %w", stringid.TruncateID(id), err)
	}
	b.mounted[id] = p
	return p, nil
}

// errCancelled wraps a build interrupted by a signal.
var errCancelled = errors.New("build cancelled")

// buildStages builds the stages in order; with Jobs other than 1, a stage
// starts as soon as the stages it reads are built, at most Jobs at a time
// (0: no limit). The
// first failure cancels the others.
func (b *builder) buildStages(order []int, deps map[int][]int, target int) error {
	if b.o.Jobs == 1 || len(order) == 1 {
		for n, i := range order {
			if err := b.buildOne(i, n, target); err != nil {
				return err
			}
		}
		return nil
	}
	parent := b.ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	b.ctx = ctx
	done := map[int]chan struct{}{}
	for _, i := range order {
		done[i] = make(chan struct{})
	}
	jobs := b.o.Jobs
	if jobs <= 0 {
		jobs = len(order)
	}
	slots := make(chan struct{}, jobs)
	errs := make(chan error, len(order))
	for n, i := range order {
		go func() {
			defer close(done[i])
			for _, j := range deps[i] {
				select {
				case <-done[j]:
				case <-ctx.Done():
				}
			}
			if err := ctx.Err(); err != nil {
				errs <- err
				return
			}
			for _, j := range deps[i] {
				if _, ok := b.result(j); !ok {
					errs <- errDependencyFailed
					return
				}
			}
			slots <- struct{}{}
			defer func() { <-slots }()
			err := b.buildOne(i, n, target)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range order {
		err := <-errs
		// the failing stage's own error wins over the cancellations it caused
		if err != nil && (first == nil || cancelled(first)) {
			first = err
		}
	}
	if first != nil && parent.Err() != nil {
		return errCancelled
	}
	return first
}

// cancelled reports whether err only says the stage was stopped.
func cancelled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, errCancelled) || errors.Is(err, errDependencyFailed)
}

var errDependencyFailed = errors.New("a stage this one needs failed")

// buildOne builds stage i (the n-th of the stages built) and records its image.
func (b *builder) buildOne(i, n, target int) error {
	id, err := b.buildStage(i, n, i == target)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.results[i] = id
	if i != target {
		b.stageImages = append(b.stageImages, id)
	}
	return nil
}
