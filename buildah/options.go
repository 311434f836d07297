// Package buildah is berth's image builder: it runs a Dockerfile
// (Containerfile) against containers storage, step by step, the way podman
// build does: a working layer per step that changes files (RUN through the
// OCI runtime, COPY and ADD written directly into it), committed as a layer
// of an intermediate image; steps that change only the configuration are
// committed as images without a layer of their own. Each image carries a
// cache key in its storage metadata, so that a rebuild reuses the steps
// whose inputs did not change.
//
// It uses pkg/ (image, specgen, oci) and the libraries; not libpod.
package buildah

import (
	"context"
	"io"
	"time"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/storage"
)

// Options are the inputs of one build.
type Options struct {
	// ContextDir is the build context, an absolute directory.
	ContextDir string
	// Dockerfile is the Containerfile's content; DockerfileName is how
	// errors name it.
	Dockerfile     []byte
	DockerfileName string

	// Tags are the names of the final image (already normalized).
	Tags []string
	// CommitName is the first tag as the user typed it: podman's COMMIT
	// line shows it so ("COMMIT build_test").
	CommitName string
	// BuildArgs are --build-arg values.
	BuildArgs map[string]string
	// Labels (key=value) go into the final image's config; Annotations
	// (key=value) into its manifest (OCI only).
	Labels, Annotations []string
	// Target is the stage to build (--target); "" is the last.
	Target string
	// Format is image.FormatOCI or image.FormatDocker.
	Format string
	// Layers commits every step as an intermediate image (the cache);
	// without it a stage is committed once, as one layer.
	Layers bool
	// NoCache builds every step anew (the images are still cached for
	// later builds).
	NoCache bool
	// Quiet prints only errors (and RUN's standard error).
	Quiet bool
	// Network is how RUN reaches the network: "host" (the default) or "none".
	Network string
	// Jobs is how many stages may build at once (--jobs): 1 builds them
	// one after the other, 0 sets no limit.
	Jobs int
	// BuildContexts are the named contexts of --build-context: FROM,
	// COPY --from and RUN --mount from= use them by name, before stages
	// and images.
	BuildContexts map[string]BuildContext
	// IgnoreFile replaces the context's .containerignore/.dockerignore.
	IgnoreFile string
	// Secrets are the --secret values by id (see ParseSecrets), for RUN
	// --mount=type=secret; nothing of them is kept in images or the cache.
	Secrets map[string]Secret

	// SquashAll makes the final image a single layer, the base image's
	// files included (--squash-all; --squash is Layers false).
	SquashAll bool
	// Timestamp (--timestamp) is the created time of the image and of the
	// history entries the build adds, and the modification time of every
	// file in the layers it adds.
	Timestamp *time.Time
	// SourceDateEpoch (--source-date-epoch, $SOURCE_DATE_EPOCH) is the
	// created time of the image and of the history entries the build
	// adds, and the value of the SOURCE_DATE_EPOCH build arg.
	SourceDateEpoch *time.Time
	// RewriteTimestamp clamps the modification times of files in the
	// layers the build adds to SourceDateEpoch.
	RewriteTimestamp bool
	// RunSecurity are the --security-opt and --ulimit settings of RUN
	// steps.
	RunSecurity RunSecurity
	// Output, when not nil, exports the final image's files (--output).
	Output *Output

	// Out receives the step report and RUN's standard output; Err RUN's
	// standard error and warnings.
	Out, Err io.Writer

	// Images is the image service over the store.
	Images *image.Runtime
	// Runtime runs RUN steps; RunDir holds their bundles.
	Runtime *oci.Runtime
	RunDir  string
	// Rootless says berth runs in its user namespace (no cgroups).
	Rootless bool
	// Pull finds or pulls a base image by name, applying the pull policy.
	Pull func(ctx context.Context, name string) (*storage.Image, error)
}

// RunSecurity are the settings of RUN's containers that build's
// --security-opt and --ulimit change (specgen.Options' fields of the
// same names).
type RunSecurity struct {
	SeccompProfile  string
	NoNewPrivileges bool
	AppArmorProfile string
	Unmask, Mask    []string
	ProcOpts        []string
	Ulimits         []specs.POSIXRlimit
	UlimitHost      bool
}

// BuildContext is a named build context: a directory, or an image.
type BuildContext struct {
	Dir   string // an absolute directory
	Image string // an image name, pulled as the pull policy says
}

// Result is what a build produced.
type Result struct {
	// ImageID is the final image.
	ImageID string
	// Names are the tags it got.
	Names []string
}
