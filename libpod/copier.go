package libpod

// In-root file access for `cp`: every path of a container is resolved and
// opened relative to a directory handle of the container's root (openat2
// with RESOLVE_IN_ROOT, or pathrs-lite's user-space equivalent on kernels
// without openat2), and a directory walk opens each entry relative to the
// handle of its parent with O_NOFOLLOW. A container that swaps a directory
// for a symlink while berth reads it therefore makes berth read its own
// files, never the host's (the docker CVE-2018-15664 class of bug).

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// openInRoot opens p (a path inside the tree whose root is the directory
// handle root) as if root were "/": ".." and absolute symlinks stay in the
// tree. With O_NOFOLLOW in flags, a final symlink is opened itself (use
// O_PATH with it).
func openInRoot(root *os.File, p string, flags int) (*os.File, error) {
	for tries := 0; ; tries++ {
		fd, err := unix.Openat2(int(root.Fd()), p, &unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		})
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), p), nil
		case errors.Is(err, unix.EAGAIN) && tries < 16:
			continue // a rename raced with ".." resolution: the kernel asks to retry
		case errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) && tries == 0:
			return openInRootFallback(root, p, flags)
		default:
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
	}
}

// openInRootFallback is openInRoot without openat2 (kernels before 5.6, or
// a seccomp filter refusing it): pathrs-lite resolves the parent directory
// safely in user space, one O_NOFOLLOW component at a time.
func openInRootFallback(root *os.File, p string, flags int) (*os.File, error) {
	clean := path.Clean("/" + p)
	if clean == "/" {
		return openat(root, ".", flags)
	}
	dir, err := pathrs.OpenatInRoot(root, path.Dir(clean))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	if flags&unix.O_NOFOLLOW != 0 {
		return openat(dir, path.Base(clean), flags)
	}
	h, err := pathrs.OpenatInRoot(root, clean) // follows a final symlink, in the root
	if err != nil || flags&unix.O_PATH != 0 {
		return h, err
	}
	defer h.Close()
	return pathrs.Reopen(h, flags)
}

func openat(dir *os.File, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// statInfo is an os.FileInfo of an fstat.
type statInfo struct {
	name string
	st   unix.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) Mode() fs.FileMode  { return unixMode(s.st.Mode) }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.st.Mode&unix.S_IFMT == unix.S_IFDIR }
func (s *statInfo) Sys() any           { return &s.st }

func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func fstat(f *os.File) (*statInfo, error) {
	s := &statInfo{name: path.Base(f.Name())}
	if err := unix.Fstat(int(f.Fd()), &s.st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return s, nil
}

// lstatInRoot is lstat of p in the tree at root.
func lstatInRoot(root *os.File, p string) (*statInfo, error) {
	f, err := openInRoot(root, p, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fstat(f)
}

// rootVFS lets securejoin evaluate symlinks in the tree at a root handle
// (for the names cp reports and renames to; the files themselves are
// always opened with openInRoot).
type rootVFS struct{ root *os.File }

func (v rootVFS) Lstat(name string) (os.FileInfo, error) { return lstatInRoot(v.root, name) }

func (v rootVFS) Readlink(name string) (string, error) {
	f, err := openInRoot(v.root, name, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return readlinkFd(f)
}

func readlinkFd(f *os.File) (string, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.Readlinkat(int(f.Fd()), "", buf)
		if err != nil {
			return "", &os.PathError{Op: "readlink", Path: f.Name(), Err: err}
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// resolveInRoot evaluates the symlinks of the absolute path p in the tree
// at root, as the container would; components that do not exist are kept.
func resolveInRoot(root *os.File, p string) (string, error) {
	return securejoin.SecureJoinVFS("/", p, rootVFS{root})
}

// tarWalker writes files opened by handle to a tar stream.
type tarWalker struct {
	tw *tar.Writer
	// prefix is put before every name.
	prefix string
	// ids maps a file's owner as berth sees it to the one written (the
	// container's own IDs); nil writes them unchanged.
	ids func(uid, gid int) (int, int)
	// skipDevices leaves device nodes out (copies to the host).
	skipDevices bool
	// skipUnreadable leaves out files that cannot be opened for reading
	// (a rootless berth cannot read the host's TTYs bound into a container).
	skipUnreadable bool
	// exclude is asked, with the container path, about each directory entry.
	exclude func(p string) bool
	links   map[[2]uint64]string
}

// add writes the file at handle h (an O_PATH|O_NOFOLLOW handle, which add
// closes) under name, and with a directory everything below it; a
// directory named "" has only its contents written. p is its path in the
// container (for exclude).
func (w *tarWalker) add(h *os.File, name, p string) error {
	defer h.Close()
	st, err := fstat(h)
	if err != nil {
		return err
	}
	hdr := &tar.Header{
		Name:    path.Join(w.prefix, name),
		Mode:    int64(st.st.Mode & 0o7777),
		Uid:     int(st.st.Uid),
		Gid:     int(st.st.Gid),
		ModTime: st.ModTime(),
	}
	if w.ids != nil {
		hdr.Uid, hdr.Gid = w.ids(hdr.Uid, hdr.Gid)
	}
	var content *os.File
	switch st.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case unix.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
		if hdr.Linkname, err = readlinkFd(h); err != nil {
			return err
		}
	case unix.S_IFREG:
		key := [2]uint64{st.st.Dev, st.st.Ino}
		if first, ok := w.links[key]; ok && st.st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, path.Join(w.prefix, first)
			break
		}
		// Reopen the very inode that was fstat'ed (through /proc/self/fd):
		// no path is resolved again.
		content, err = pathrs.Reopen(h, unix.O_RDONLY|unix.O_NOCTTY)
		if err != nil {
			if w.skipUnreadable && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
				return nil
			}
			return fmt.Errorf("opening %s: %w", p, err)
		}
		defer content.Close()
		if st.st.Nlink > 1 {
			if w.links == nil {
				w.links = map[[2]uint64]string{}
			}
			w.links[key] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.st.Size
	case unix.S_IFCHR, unix.S_IFBLK:
		if w.skipDevices {
			return nil
		}
		hdr.Typeflag = tar.TypeChar
		if st.st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.st.Rdev)), int64(unix.Minor(st.st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil // sockets are not archived
	}
	if name != "" {
		if err := w.tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	if content != nil {
		n, err := io.Copy(w.tw, io.LimitReader(content, hdr.Size))
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if n < hdr.Size { // the file shrank while it was read
			if _, err := io.CopyN(w.tw, zeroReader{}, hdr.Size-n); err != nil {
				return err
			}
		}
		return nil
	}
	if hdr.Typeflag != tar.TypeDir {
		return nil
	}
	dir, err := openat(h, ".", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", p, err)
	}
	names, err := dir.Readdirnames(-1)
	_ = dir.Close()
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", p, err)
	}
	sort.Strings(names)
	for _, n := range names {
		childPath := path.Join(p, n)
		if w.exclude != nil && w.exclude(childPath) {
			continue
		}
		child, err := openat(h, n, unix.O_PATH|unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue // removed since the directory was read
		}
		if err != nil {
			return fmt.Errorf("opening %s: %w", childPath, err)
		}
		if err := w.add(child, path.Join(name, n), childPath); err != nil {
			return err
		}
	}
	return nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}
