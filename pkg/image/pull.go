package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/pkg/shortnames"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"github.com/berth-containers/berth/pkg/parse"
	"github.com/opencontainers/go-digest"
	"github.com/sirupsen/logrus"
)

// CopyOptions are the registry-facing options shared by pull and push.
type CopyOptions struct {
	TLSVerify        types.OptionalBool
	AuthFile         string
	Creds            string // user[:password]
	CertDir          string
	SignaturePolicy  string
	Progress         io.Writer // nil: quiet
	RemoveSignatures bool
}

func (o *CopyOptions) systemContext(base *types.SystemContext) (*types.SystemContext, error) {
	sys := *base
	if o.TLSVerify != types.OptionalBoolUndefined {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(o.TLSVerify == types.OptionalBoolFalse)
		sys.OCIInsecureSkipTLSVerify = o.TLSVerify == types.OptionalBoolFalse
	}
	if o.AuthFile != "" {
		sys.AuthFilePath = o.AuthFile
	}
	if o.CertDir != "" {
		sys.DockerCertPath = o.CertDir
	}
	if o.SignaturePolicy != "" {
		sys.SignaturePolicyPath = o.SignaturePolicy
	}
	if o.Creds != "" {
		user, pass, _ := strings.Cut(o.Creds, ":")
		if user == "" {
			return nil, errors.New("--creds: the user name must not be empty")
		}
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: user, Password: pass}
	}
	return &sys, nil
}

// knownTransport reports whether name starts with "transport:" for a transport
// berth handles, and returns an error for an unknown one.
func splitTransport(name string) (transport string, ok bool, err error) {
	i := strings.Index(name, ":")
	if i <= 0 {
		return "", false, nil
	}
	prefix := name[:i]
	if strings.ContainsAny(prefix, "./") {
		return "", false, nil // "host:port/repo" or "repo:tag"
	}
	switch prefix {
	case "docker", "docker-archive", "oci-archive", "oci", "dir", "containers-storage":
		return prefix, true, nil
	case "docker-daemon":
		// left out of the build (containers_image_docker_daemon_stub): its
		// Docker client costs every berth invocation its init time
		return "", false, fmt.Errorf("the docker-daemon transport is not supported (%s): export the image with `docker save` and use docker-archive:FILE", name)
	}
	if strings.HasPrefix(name[i:], "://") {
		return "", false, fmt.Errorf("unsupported transport %q in %q: supported transports are docker, docker-archive, oci-archive, oci, dir, containers-storage", prefix, name)
	}
	return "", false, nil
}

// Pull copies an image into local storage and returns it. A short name is
// resolved through registries.conf and tried on each candidate in turn.
func (r *Runtime) Pull(ctx context.Context, name string, opts CopyOptions) (*storage.Image, error) {
	sys, err := opts.systemContext(r.sys)
	if err != nil {
		return nil, err
	}
	transport, hasTransport, err := splitTransport(name)
	if err != nil {
		return nil, err
	}
	if hasTransport && transport != "docker" {
		src, err := alltransports.ParseImageName(name)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w", name, err)
		}
		if transport == "docker-archive" {
			return r.pullDockerArchive(ctx, src, sys, opts)
		}
		return r.pullFrom(ctx, src, "", sys, opts)
	}
	name = dropTagOfDigested(strings.TrimPrefix(strings.TrimPrefix(name, "docker:"), "//"))
	if _, err := reference.ParseNormalizedNamed(name); err != nil {
		return nil, fmt.Errorf("parsing reference %q: %w", name, err)
	}
	resolved, err := shortnames.Resolve(sys, name)
	if err != nil {
		return nil, err
	}
	var pullErrors []error
	for _, c := range resolved.PullCandidates {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "Trying to pull %s...\n", c.Value.String())
		}
		src, err := docker.NewReference(c.Value)
		if err != nil {
			pullErrors = append(pullErrors, err)
			continue
		}
		img, err := r.pullFrom(ctx, src, c.Value.String(), sys, opts)
		if err != nil {
			pullErrors = append(pullErrors, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err := c.Record(); err != nil {
			return nil, fmt.Errorf("recording short-name alias: %w", err)
		}
		return img, nil
	}
	return nil, resolved.FormatPullErrors(pullErrors)
}

// pullFrom copies src into storage under destName ("" keeps the name the
// source carries, for archives).
func (r *Runtime) pullFrom(ctx context.Context, src types.ImageReference, destName string, sys *types.SystemContext, opts CopyOptions) (*storage.Image, error) {
	if destName == "" {
		if named := src.DockerReference(); named != nil {
			destName = named.String()
		}
	}
	var dest types.ImageReference
	var err error
	if destName != "" {
		dest, err = is.Transport.ParseStoreReference(r.store, destName)
	} else {
		dest, err = r.unnamedDestination(ctx, src, sys)
	}
	if err != nil {
		return nil, fmt.Errorf("preparing storage destination: %w", err)
	}
	pc, err := PolicyContext(sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = pc.Destroy() }()
	if src.Transport().Name() == docker.Transport.Name() {
		img, err := r.pullStream(ctx, pc, src, dest, sys, opts)
		var fb *fallbackError
		if !errors.As(err, &fb) {
			return img, err
		}
		logrus.Debugf("Pulling %s with copy.Image: %v", transports.ImageName(src), err)
	}
	_, err = copy.Image(ctx, pc, dest, src, &copy.Options{
		ReportWriter:     opts.Progress,
		SourceCtx:        sys,
		DestinationCtx:   sys,
		RemoveSignatures: opts.RemoveSignatures,
	})
	if err != nil {
		return nil, err
	}
	_, img, err := is.ResolveReference(dest)
	if err != nil {
		return nil, fmt.Errorf("finding pulled image: %w", err)
	}
	return img, nil
}

// unnamedDestination names a storage destination by the image's ID (its
// config digest), for archives whose images carry no name.
func (r *Runtime) unnamedDestination(ctx context.Context, src types.ImageReference, sys *types.SystemContext) (types.ImageReference, error) {
	id, err := configDigest(ctx, src, sys)
	if err != nil {
		return nil, err
	}
	return is.Transport.NewStoreReference(r.store, nil, id.Encoded())
}

func configDigest(ctx context.Context, ref types.ImageReference, sys *types.SystemContext) (digest.Digest, error) {
	source, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", transports.ImageName(ref), err)
	}
	defer source.Close()
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(source, nil))
	if err != nil {
		return "", fmt.Errorf("reading image %s: %w", transports.ImageName(ref), err)
	}
	return img.ConfigInfo().Digest, nil
}

// LookupOrPull finds an image locally or pulls it, as the pull policy says
// (parse.PullPolicy's values: "always", "missing", "never", "newer"; ""
// is "missing").
func (r *Runtime) LookupOrPull(ctx context.Context, name, policy string, opts CopyOptions) (*storage.Image, error) {
	if policy != parse.PullAlways {
		img, err := r.Lookup(name)
		if err == nil && (policy != parse.PullNewer || !r.RemoteIsNewer(ctx, name, img, opts)) {
			return img, nil
		}
		switch {
		case err == nil:
			name = RegistryName(name, img) // what the local image was pulled as
		case !errors.Is(err, ErrNotFound):
			return nil, err
		case policy == parse.PullNever:
			return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
		}
	}
	return r.Pull(ctx, name, opts)
}
