package libpod

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/idtools"
)

// containerPath resolves path inside the mounted rootfs without letting
// symlinks escape it, keeping a trailing "/" or "/." (they change cp's
// meaning, as with docker and podman).
func containerPath(rootfs, path string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	resolved, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the container: %w", path, err)
	}
	return archive.PreserveTrailingDotOrSeparator(resolved, path), nil
}

// CopyFrom writes path of the container as a tar stream (dest "-") or
// copies it to the host path dest.
func (c *Container) CopyFrom(path, dest string, stdout io.Writer) error {
	rootfs, err := c.Mount()
	if err != nil {
		return fmt.Errorf("mounting %s: %w", c.Name(), err)
	}
	defer func() { _ = c.Unmount(false) }()
	src, err := containerPath(rootfs, path)
	if err != nil {
		return err
	}
	info, err := archive.CopyInfoSourcePath(src, false)
	if err != nil {
		return fmt.Errorf("%q could not be found on container %s: %w", path, c.Name(), os.ErrNotExist)
	}
	content, err := archive.TarResource(info)
	if err != nil {
		return fmt.Errorf("archiving %s: %w", path, err)
	}
	defer content.Close()
	if dest == "-" {
		_, err := io.Copy(stdout, content)
		return err
	}
	if err := archive.CopyTo(content, info, dest); err != nil {
		return fmt.Errorf("copying to %s: %w", dest, err)
	}
	return nil
}

// CopyTo copies the host path src (or a tar stream from stdin when src is
// "-") to path in the container. Copied files belong to the container's root.
func (c *Container) CopyTo(src string, stdin io.Reader, path string) error {
	rootfs, err := c.Mount()
	if err != nil {
		return fmt.Errorf("mounting %s: %w", c.Name(), err)
	}
	defer func() { _ = c.Unmount(false) }()
	dest, err := containerPath(rootfs, path)
	if err != nil {
		return err
	}
	opts := &archive.TarOptions{ChownOpts: &idtools.IDPair{UID: 0, GID: 0}}
	if src == "-" {
		st, err := os.Stat(dest)
		if err != nil || !st.IsDir() {
			return fmt.Errorf("destination %q must be a directory when copying from stdin", path)
		}
		return chrootarchive.UntarWithRoot(stdin, dest, opts, rootfs)
	}
	info, err := archive.CopyInfoSourcePath(src, false)
	if err != nil {
		return fmt.Errorf("%q could not be found on the host: %w", src, err)
	}
	content, err := archive.TarResource(info)
	if err != nil {
		return fmt.Errorf("archiving %s: %w", src, err)
	}
	defer content.Close()
	dstInfo, err := archive.CopyInfoDestinationPath(dest)
	if err != nil {
		return fmt.Errorf("%q could not be found on container %s: %w", path, c.Name(), err)
	}
	dir, prepared, err := archive.PrepareArchiveCopy(content, info, dstInfo)
	if err != nil {
		return fmt.Errorf("copying to %s: %w", path, err)
	}
	defer prepared.Close()
	if !strings.HasPrefix(filepath.Clean(dir)+"/", filepath.Clean(rootfs)+"/") {
		return fmt.Errorf("copying to %s: destination outside the container", path)
	}
	return chrootarchive.UntarWithRoot(prepared, dir, opts, rootfs)
}
