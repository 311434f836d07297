package buildah

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/idtools"
	"golang.org/x/sys/unix"
)

// dirTime is a directory whose times are set after what is copied into it.
type dirTime struct {
	path string
	info fs.FileInfo
}

// copier writes files into the working container's root (or, for RUN
// --mount, into a new directory: root is then that directory).
type copier struct {
	root string
	// uid and gid own what is copied (--chown). keepOwners (RUN --mount
	// copies) gives each copy its source's owner instead: uid and gid
	// then only own the directories made for re-included files (-1
	// leaves them mkdir's owner).
	uid, gid   int
	keepOwners bool
	chmod      *fileMode
	rootless   bool
	// links maps a source file with several links (its device and inode)
	// to its first copy: the others become hard links to it, as in
	// podman's COPY.
	links map[fileID]linkedCopy
}

// linkedCopy is the first copy of a file with several links, and its
// own identity (it may have been replaced since).
type linkedCopy struct {
	path string
	id   fileID
}

type fileID struct{ dev, ino uint64 }

// owner is who is to own the copy of a file.
func (c *copier) owner(info fs.FileInfo) (int, int) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && c.keepOwners {
		return int(st.Uid), int(st.Gid)
	}
	return c.uid, c.gid
}

// mkdirAll creates dir (a resolved host path under root) and its missing
// parents, owned by the copy's owner, mode 0755.
func (c *copier) mkdirAll(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", c.inRoot(dir))
		}
		return nil
	}
	if dir == c.root || len(dir) < len(c.root) {
		return nil
	}
	if err := c.mkdirAll(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating %s: %w", c.inRoot(dir), err)
	}
	return os.Lchown(dir, c.uid, c.gid)
}

func (c *copier) inRoot(p string) string {
	rel, err := filepath.Rel(c.root, p)
	if err != nil {
		return p
	}
	return "/" + rel
}

// copyItem copies a source to target: a directory's contents go into
// target (a directory).
func (c *copier) copyItem(it copyItem, f copyFilter, target string) error {
	var dirs []dirTime
	// where each directory of the item went: a symlink to a directory in
	// the image is followed inside the root, never through the host's
	// path resolution
	dirsAt := map[string]string{"": target}
	err := walkItem(it, f, func(rel, host string, info fs.FileInfo, implicit bool) error {
		dst := target
		if rel != "" {
			parent := path.Dir(rel)
			if parent == "." {
				parent = ""
			}
			at, ok := dirsAt[parent]
			if !ok {
				return fmt.Errorf("copying %s: its directory was not copied", rel)
			}
			dst = filepath.Join(at, path.Base(rel))
		}
		if info.IsDir() {
			resolved, created, err := c.dir(dst, info, implicit || rel == "" && it.info.IsDir() && c.exists(dst))
			if err != nil {
				return err
			}
			dirsAt[rel] = resolved
			if created {
				dirs = append(dirs, dirTime{resolved, info})
			}
			return nil
		}
		return c.entry(host, info, dst)
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := setTimes(dirs[i].path, dirs[i].info); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// dir makes dst a directory like info (keeping an existing directory as
// it is). It returns where the directory is (a symlink to a directory is
// resolved in the root) and whether it set its metadata.
func (c *copier) dir(dst string, info fs.FileInfo, keep bool) (string, bool, error) {
	st, err := os.Lstat(dst)
	switch {
	case err == nil && st.IsDir():
		return dst, false, nil
	case err == nil && st.Mode()&fs.ModeSymlink != 0:
		rel, rerr := filepath.Rel(c.root, dst)
		if rerr != nil {
			return "", false, rerr
		}
		resolved, rerr := securejoin.SecureJoin(c.root, rel)
		if rerr == nil {
			if rst, serr := os.Lstat(resolved); serr == nil && rst.IsDir() {
				return resolved, false, nil
			}
		}
		if err := os.Remove(dst); err != nil {
			return "", false, err
		}
	case err == nil:
		if err := os.Remove(dst); err != nil {
			return "", false, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, err
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return "", false, fmt.Errorf("creating %s: %w", c.inRoot(dst), err)
	}
	uid, gid, mode := c.uid, c.gid, uint32(0o755)
	if !keep {
		uid, gid = c.owner(info)
		mode = unixMode(info)
	}
	if err := os.Lchown(dst, uid, gid); err != nil {
		return "", false, fmt.Errorf("changing the owner of %s: %w", c.inRoot(dst), err)
	}
	if c.chmod != nil {
		mode = c.chmod.apply(mode, true)
	}
	if err := os.Chmod(dst, goMode(mode)); err != nil {
		return "", false, err
	}
	return dst, !keep, nil
}

// entry copies a non-directory.
func (c *copier) entry(src string, info fs.FileInfo, dst string) error {
	if st, err := os.Lstat(dst); err == nil {
		if st.IsDir() {
			return fmt.Errorf("cannot replace directory %s with a non-directory", c.inRoot(dst))
		}
		if err := os.Remove(dst); err != nil {
			return err
		}
	}
	uid, gid := c.owner(info)
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || st.Nlink < 2 {
			return c.file(src, info, dst)
		}
		id := fileID{uint64(st.Dev), st.Ino}
		if first, seen := c.links[id]; seen {
			// unless the first copy was replaced since
			var fst unix.Stat_t
			if unix.Lstat(first.path, &fst) == nil && (fileID{uint64(fst.Dev), fst.Ino}) == first.id {
				if err := os.Link(first.path, dst); err != nil {
					return fmt.Errorf("linking %s to %s: %w", c.inRoot(dst), c.inRoot(first.path), err)
				}
				return nil
			}
		}
		if err := c.file(src, info, dst); err != nil {
			return err
		}
		var dstat unix.Stat_t
		if err := unix.Lstat(dst, &dstat); err != nil {
			return err
		}
		if c.links == nil {
			c.links = map[fileID]linkedCopy{}
		}
		c.links[id] = linkedCopy{dst, fileID{uint64(dstat.Dev), dstat.Ino}}
		return nil
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		if err := os.Lchown(dst, uid, gid); err != nil {
			return err
		}
		return setTimes(dst, info)
	case mode&fs.ModeSocket != 0:
		return nil // as tar, sockets are not copied
	case mode&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice) != 0:
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("copying %s: unknown file type", src)
		}
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			if c.rootless && mode&fs.ModeNamedPipe == 0 {
				return nil // device nodes cannot be made in a user namespace
			}
			return fmt.Errorf("creating %s: %w", c.inRoot(dst), err)
		}
		if err := os.Lchown(dst, uid, gid); err != nil {
			return err
		}
		// mknod applied berth's umask: the copy gets the source's mode
		// (as podman's COPY), or --chmod's
		mode := unixMode(info)
		if c.chmod != nil {
			mode = c.chmod.apply(mode, false)
		}
		if err := os.Chmod(dst, goMode(mode)); err != nil {
			return err
		}
		return setTimes(dst, info)
	}
	return fmt.Errorf("copying %s: unsupported file type %v", src, mode.Type())
}

func (c *copier) file(src string, info fs.FileInfo, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", c.inRoot(dst), err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("writing %s: %w", c.inRoot(dst), err)
	}
	mode := unixMode(info)
	if c.chmod != nil {
		mode = c.chmod.apply(mode, false)
	}
	if err := out.Chown(c.owner(info)); err != nil {
		_ = out.Close()
		return fmt.Errorf("changing the owner of %s: %w", c.inRoot(dst), err)
	}
	// after chown, which clears set-user-ID bits
	if err := out.Chmod(goMode(mode)); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return setTimes(dst, info)
}

// extract unpacks a (compressed) tar archive into dir, in the root; with
// --chown everything gets the copy's owner, else the archive's.
func (c *copier) extract(archivePath, dir string, chown bool) error {
	f, err := os.Open(archivePath)
	if err != nil {
		return err
	}
	defer f.Close()
	opts := &archive.TarOptions{InUserNS: c.rootless, NoOverwriteDirNonDir: true}
	if chown {
		opts.ChownOpts = &idtools.IDPair{UID: c.uid, GID: c.gid}
	}
	return chrootarchive.UntarWithRoot(f, dir, opts, c.root)
}

// isArchive reports whether a file is a tar archive, compressed or not,
// as ADD unpacks.
func isArchive(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r, err := archive.DecompressStream(f)
	if err != nil {
		return false, nil
	}
	defer r.Close()
	_, err = tar.NewReader(r).Next()
	return err == nil, nil
}

func unixMode(info fs.FileInfo) uint32 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Mode & 0o7777
	}
	return uint32(info.Mode().Perm())
}

// goMode turns a Unix mode (permissions, setuid, setgid and sticky bits)
// into an fs.FileMode.
func goMode(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	if mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// setTimes gives dst the source's modification time (as access time too).
func setTimes(dst string, info fs.FileInfo) error {
	mt := unix.NsecToTimespec(info.ModTime().UnixNano())
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, []unix.Timespec{mt, mt}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting the times of %s: %w", dst, err)
	}
	return nil
}

// parents creates, for COPY --parents, the directories of an item's path
// below dest like those of its source, and returns where the last is.
func (c *copier) parents(dest string, it copyItem, made *[]dirTime) (string, error) {
	at := dest
	dir := path.Dir(it.under)
	if dir == "." {
		return at, nil
	}
	rel := ""
	for _, comp := range strings.Split(dir, "/") {
		rel = path.Join(rel, comp)
		src, err := securejoin.SecureJoin(it.root, rel)
		if err != nil {
			return "", err
		}
		info, err := os.Lstat(src)
		if err != nil {
			return "", err
		}
		resolved, created, err := c.dir(filepath.Join(at, comp), info, false)
		if err != nil {
			return "", err
		}
		if created {
			*made = append(*made, dirTime{resolved, info})
		}
		at = resolved
	}
	return at, nil
}
