package image

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker/distribution/registry/api/errcode"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
)

// PushOptions add destination choices to CopyOptions.
type PushOptions struct {
	CopyOptions
	// Format is the manifest type: "oci", "v2s2" or "" to keep the image's.
	Format string
}

// Push copies a local image to dest (a registry reference or transport:path);
// an empty dest pushes to the registry in the image's own name.
func (r *Runtime) Push(ctx context.Context, name, dest string, opts PushOptions) error {
	img, err := r.Lookup(name)
	if err != nil {
		return err
	}
	if dest == "" {
		dest = name
	}
	destRef, err := parseDestination(dest)
	if err != nil {
		return err
	}
	src, err := is.Transport.NewStoreReference(r.store, nil, img.ID)
	if err != nil {
		return fmt.Errorf("referencing image %s: %w", img.ID, err)
	}
	sys, err := opts.systemContext(r.sys)
	if err != nil {
		return err
	}
	pc, err := PolicyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy() }()
	co := &copy.Options{
		ReportWriter:     opts.Progress,
		SourceCtx:        sys,
		DestinationCtx:   sys,
		RemoveSignatures: opts.RemoveSignatures,
	}
	switch opts.Format {
	case "":
	case "oci":
		co.ForceManifestMIMEType = "application/vnd.oci.image.manifest.v1+json"
	case "v2s2", "docker":
		co.ForceManifestMIMEType = "application/vnd.docker.distribution.manifest.v2+json"
	default:
		return fmt.Errorf("unsupported manifest format %q: use oci or v2s2", opts.Format)
	}
	if _, err := copy.Image(ctx, pc, destRef, src, co); err != nil {
		return registryError(fmt.Errorf("pushing %s to %s: %w", name, dest, err))
	}
	return nil
}

func parseDestination(dest string) (types.ImageReference, error) {
	transport, ok, err := splitTransport(dest)
	if err != nil {
		return nil, err
	}
	if ok && transport != "docker" {
		ref, err := alltransports.ParseImageName(dest)
		if err != nil {
			return nil, fmt.Errorf("parsing destination %q: %w", dest, err)
		}
		return ref, nil
	}
	dest = strings.TrimPrefix(strings.TrimPrefix(dest, "docker:"), "//")
	named, err := reference.ParseNormalizedNamed(dest)
	if err != nil {
		return nil, fmt.Errorf("parsing destination %q: %w", dest, err)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return nil, fmt.Errorf("parsing destination %q: %w", dest, err)
	}
	return ref, nil
}

// registryError gives a registry's refusal podman's words: the library
// shortens the registry's "unauthorized: authentication required" to
// "authentication required", which scripts written for podman 4.3 match.
func registryError(err error) error {
	var ec errcode.Error
	if !errors.As(err, &ec) || ec.Code != errcode.ErrorCodeUnauthorized || ec.Message != ec.Code.Message() {
		return err
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, ec.Message) || strings.HasSuffix(msg, ec.Error()) {
		return err
	}
	return &rewordedError{msg: strings.TrimSuffix(msg, ec.Message) + ec.Error(), err: err}
}

type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }
