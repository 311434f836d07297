package libpod

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/idtools"
	"golang.org/x/sys/unix"
)

// CopyOptions is one `cp`: from a container path or a host path to a
// container path or a host path (not both on the host). A host path "-" is
// a tar stream on Stdin (as the source) or Stdout (as the destination).
type CopyOptions struct {
	SrcContainer, SrcPath string // SrcContainer "" is the host
	DstContainer, DstPath string // DstContainer "" is the host
	Stdin                 io.Reader
	Stdout                io.Writer
	// Chown (-a, the default) gives the files copied into a container to
	// the container's user; without it they keep the archive's owners.
	Chown bool
	// Overwrite lets a directory replace a non-directory and the other way
	// round.
	Overwrite bool
}

// Copy copies as `cp` does, with podman's rules for names: a directory is
// copied with its name unless the source ends in "/.", a destination that
// does not exist names the copy, and a destination directory receives it.
// Container paths are resolved and opened inside the container's root
// (running containers: as the container sees its files, mounts included).
func (r *Runtime) Copy(o CopyOptions) error {
	if o.SrcContainer == "" && o.DstContainer == "" {
		return errors.New("name or ID cannot be empty")
	}
	var src, dst *ctrFS
	for _, end := range []struct {
		name string
		fs   **ctrFS
	}{{o.SrcContainer, &src}, {o.DstContainer, &dst}} {
		if end.name == "" {
			continue
		}
		c, err := r.LookupContainer(end.name)
		if errors.Is(err, state.ErrNoSuchContainer) {
			return fmt.Errorf("container %q does not exist", end.name)
		}
		if err != nil {
			return err
		}
		f, err := c.openFS()
		if err != nil {
			return err
		}
		defer f.Close() //nolint:gocritic // two ends at most, both open until the copy is done
		*end.fs = f
	}
	switch {
	case src != nil && dst != nil:
		return copyBetween(src, o.SrcPath, dst, o.DstPath, o)
	case src != nil:
		return copyFromContainer(src, o.SrcPath, o.DstPath, o)
	default:
		return copyToContainer(o.SrcPath, dst, o.DstPath, o)
	}
}

// copyStat describes a path of the container or the host.
type copyStat struct {
	IsDir bool
	Mode  os.FileMode
	// Target is the path with its symlinks evaluated, keeping a final
	// "/" or "/." as given (they change the meaning of a copy).
	Target string
}

func preserveBase(original, resolved string) string {
	switch {
	case strings.HasSuffix(original, "/"):
		if !strings.HasSuffix(resolved, "/") {
			resolved += "/"
		}
	case strings.HasSuffix(original, "/."):
		if strings.HasSuffix(resolved, "/") {
			resolved += "."
		} else if !strings.HasSuffix(resolved, "/.") {
			resolved += "/."
		}
	}
	return resolved
}

// copyFromContainer copies a container path to a host path or stdout.
func copyFromContainer(src *ctrFS, srcPath, hostPath string, o CopyOptions) error {
	info, err := src.stat(srcPath)
	if err != nil {
		return fmt.Errorf("%q could not be found on container %s: %w", srcPath, src.c.Name(), err)
	}
	if hostPath == "-" {
		return src.archive(o.Stdout, info, "", false)
	}
	hostInfo, baseName, toParent, err := resolveHostDestination(hostPath)
	if err != nil {
		return err
	}
	target := info.Target
	if toParent && info.IsDir && strings.HasSuffix(target, ".") {
		target = path.Dir(target)
	}
	if info.IsDir && !hostInfo.IsDir {
		return errors.New("destination must be a directory when copying a directory")
	}
	newName := ""
	if (!info.IsDir && !hostInfo.IsDir) || toParent {
		newName = baseName
	}
	dir := hostInfo.Target
	if !hostInfo.IsDir {
		dir = filepath.Dir(dir)
	}
	if !o.Overwrite {
		if err := checkOverwriteHost(dir, topName(target, info.IsDir, newName), info.IsDir); err != nil {
			return err
		}
	}
	return pipeCopy(func(w io.Writer) error {
		return src.archive(w, &copyStat{IsDir: info.IsDir, Target: target}, newName, true)
	}, func(r io.Reader) error {
		opts := &archive.TarOptions{
			ChownOpts:            &idtools.IDPair{UID: os.Getuid(), GID: os.Getgid()},
			NoOverwriteDirNonDir: !o.Overwrite,
			InUserNS:             rootless.IsRootless(),
		}
		if err := chrootarchive.Untar(r, dir, opts); err != nil {
			return fmt.Errorf("copying to the host: %w", err)
		}
		return nil
	})
}

// copyToContainer copies a host path, or a tar stream on stdin ("-"), into
// a container.
func copyToContainer(hostPath string, dst *ctrFS, dstPath string, o CopyOptions) error {
	if hostPath == "-" {
		info, err := dst.stat(dstPath)
		if err != nil && strings.HasSuffix(dstPath, "/") {
			return fmt.Errorf("%q could not be found on container %s: %w", dstPath, dst.c.Name(), err)
		}
		if err != nil || !info.IsDir {
			return errors.New("destination must be a directory when copying from stdin")
		}
		stream, err := archive.DecompressStream(o.Stdin)
		if err != nil {
			return errors.New("source must be a (compressed) tar archive when copying from stdin")
		}
		defer stream.Close()
		tr := tar.NewReader(stream)
		first, err := tr.Next()
		if err != nil {
			return errors.New("source must be a (compressed) tar archive when copying from stdin")
		}
		return dst.extract(func(tw *tar.Writer, prefix string) error {
			return rebaseTar(tr, first, tw, prefix)
		}, info.Target, o.Chown, o.Overwrite)
	}
	hostInfo, err := statHost(hostPath)
	if err != nil {
		return fmt.Errorf("%q could not be found on the host: %w", hostPath, err)
	}
	baseName, info, toParent, err := dst.destination(dstPath)
	if err != nil {
		return err
	}
	hostTarget := hostInfo.Target
	if toParent && hostInfo.IsDir && strings.HasSuffix(hostTarget, ".") {
		hostTarget = filepath.Dir(hostTarget)
	}
	if hostInfo.IsDir && !info.IsDir {
		return errors.New("destination must be a directory when copying a directory")
	}
	newName := ""
	if (!hostInfo.IsDir && !info.IsDir) || toParent {
		newName = baseName
	}
	dir := info.Target
	if !info.IsDir {
		dir = path.Dir(dir)
	}
	if !o.Overwrite {
		if err := dst.checkOverwrite(dir, topName(hostTarget, hostInfo.IsDir, newName), hostInfo.IsDir); err != nil {
			return err
		}
	}
	return dst.extract(func(tw *tar.Writer, prefix string) error {
		h, err := os.OpenFile(strings.TrimSuffix(hostTarget, "/."), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("copying from the host: %w", err)
		}
		w := &tarWalker{tw: tw, prefix: prefix}
		return w.add(h, topName(hostTarget, hostInfo.IsDir, newName), hostTarget)
	}, dir, o.Chown, o.Overwrite)
}

// copyBetween copies a path of one container into another.
func copyBetween(src *ctrFS, srcPath string, dst *ctrFS, dstPath string, o CopyOptions) error {
	info, err := src.stat(srcPath)
	if err != nil {
		return fmt.Errorf("%q could not be found on container %s: %w", srcPath, src.c.Name(), err)
	}
	baseName, dstInfo, toParent, err := dst.destination(dstPath)
	if err != nil {
		return err
	}
	if info.IsDir && !dstInfo.IsDir {
		return errors.New("destination must be a directory when copying a directory")
	}
	target := info.Target
	if toParent && info.IsDir && strings.HasSuffix(srcPath, ".") {
		target = path.Dir(target)
	}
	newName := ""
	if (!info.IsDir && !dstInfo.IsDir) || toParent {
		newName = baseName
	}
	dir := dstInfo.Target
	if !dstInfo.IsDir {
		dir = path.Dir(dir)
	}
	if !o.Overwrite {
		if err := dst.checkOverwrite(dir, topName(target, info.IsDir, newName), info.IsDir); err != nil {
			return err
		}
	}
	srcInfo := &copyStat{IsDir: info.IsDir, Target: target}
	return pipeCopy(func(w io.Writer) error {
		return src.archive(w, srcInfo, newName, false)
	}, func(r io.Reader) error {
		tr := tar.NewReader(r)
		first, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		return dst.extract(func(tw *tar.Writer, prefix string) error {
			return rebaseTar(tr, first, tw, prefix)
		}, dir, o.Chown, o.Overwrite)
	})
}

var errCopyStopped = errors.New("the copy stopped")

// pipeCopy runs produce and consume on the two ends of a pipe and returns
// the error that came first (the other side only sees the pipe close).
func pipeCopy(produce func(io.Writer) error, consume func(io.Reader) error) error {
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := produce(pw)
		pw.CloseWithError(err)
		errc <- err
	}()
	cerr := consume(pr)
	pr.CloseWithError(errCopyStopped)
	perr := <-errc
	if perr != nil && !errors.Is(perr, errCopyStopped) {
		return perr
	}
	return cerr
}

// topName is the name the copy of target gets in the destination
// directory; "" when the contents of a directory are copied ("dir/.").
func topName(target string, isDir bool, newName string) string {
	if isDir && path.Base(target) == "." {
		return ""
	}
	if newName != "" {
		return newName
	}
	if base := path.Base(target); base != "/" {
		return base
	}
	return "" // the root: its contents
}

// statHost is podman's view of a host path: symlinks evaluated.
func statHost(p string) (*copyStat, error) {
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, err
	}
	resolved = preserveBase(p, resolved)
	st, err := os.Stat(resolved)
	if err != nil {
		return nil, err
	}
	return &copyStat{IsDir: st.IsDir(), Mode: st.Mode(), Target: resolved}, nil
}

// resolveHostDestination resolves a host destination: an existing path, or
// a new name in an existing directory.
func resolveHostDestination(hostPath string) (info *copyStat, baseName string, toParent bool, err error) {
	if st, err := os.Stat(hostPath); err == nil && !st.IsDir() && !st.Mode().IsRegular() {
		return nil, "", false, fmt.Errorf("invalid destination: %q must be a directory or a regular file", hostPath)
	}
	info, err = statHost(hostPath)
	if err == nil {
		return info, filepath.Base(info.Target), false, nil
	}
	if strings.HasSuffix(hostPath, "/") {
		return nil, "", false, fmt.Errorf("%q could not be found on the host: %w", hostPath, err)
	}
	parent, perr := statHost(filepath.Dir(hostPath))
	if perr != nil {
		return nil, "", false, fmt.Errorf("%q could not be found on the host: %w", hostPath, err)
	}
	if !parent.IsDir {
		return nil, "", false, fmt.Errorf("invalid destination: %q must be a directory or a regular file", parent.Target)
	}
	return parent, filepath.Base(hostPath), true, nil
}

// checkOverwriteHost refuses, as podman does without --overwrite, to
// replace a directory with a non-directory or the other way round.
func checkOverwriteHost(dir, name string, isDir bool) error {
	if name == "" {
		return nil
	}
	st, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		return nil
	}
	return overwriteError("/"+name, st.IsDir(), isDir)
}

func overwriteError(p string, existingDir, isDir bool) error {
	switch {
	case existingDir && !isDir:
		return fmt.Errorf("copier: put: error creating %q: open %s: file exists", p, p)
	case !existingDir && isDir:
		return fmt.Errorf("copier: put: error creating %q: mkdir %s: file exists", p, p)
	}
	return nil
}

// rebaseTar copies the entries of tr (first is the current one) to tw
// under prefix. Names are made relative and confined to prefix; the entry
// of the archive's root itself ("./") is left out, so the destination
// directory keeps its owner and mode.
func rebaseTar(tr *tar.Reader, first *tar.Header, tw *tar.Writer, prefix string) error {
	hdr := first
	for {
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if name != "" {
			h := *hdr
			h.Name = path.Join(prefix, name)
			if h.Typeflag == tar.TypeDir {
				h.Name += "/"
			}
			if h.Typeflag == tar.TypeLink {
				h.Linkname = path.Join(prefix, strings.TrimPrefix(path.Clean("/"+h.Linkname), "/"))
			}
			if err := tw.WriteHeader(&h); err != nil {
				return err
			}
			if _, err := io.Copy(tw, tr); err != nil {
				return err
			}
		}
		var err error
		hdr, err = tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
	}
}

// ctrFS is a container's file system as cp reads and writes it.
type ctrFS struct {
	c *Container
	// root is a handle of the container's "/": for a running container
	// its root as its processes see it (/proc/PID/root, with the
	// container's mounts), else the mounted root filesystem.
	root *os.File
	live bool
	// mounts are, for a container that does not run, its bind mounts and
	// volumes (deepest destination first), whose files are on the host.
	mounts []ctrMount
	// idmap is the container's own user namespace (nil: berth's).
	idmap   *specgen.IDMappings
	opts    specgen.Options
	release func()
}

type ctrMount struct {
	dest string
	root *os.File
}

func (c *Container) openFS() (*ctrFS, error) {
	f := &ctrFS{c: c}
	f.opts = c.Config.generatorOptions()
	if c.Config.UserNS != "" {
		m, err := userNSMappings(c.Config.UserNS)
		if err != nil {
			return nil, err
		}
		f.idmap = m
	}
	rootfs, err := c.Mount()
	if err != nil {
		return nil, fmt.Errorf("mounting %s: %w", c.Name(), err)
	}
	f.release = func() { _ = c.Unmount(false) }
	if c.State.Status == StatusRunning || c.State.Status == StatusPaused {
		if root, err := c.liveRoot(rootfs); err == nil {
			f.root, f.live = root, true
			return f, nil
		} else {
			logrus.Debugf("cp: using the root filesystem of %s, not its running view: %v", c.Name(), err)
		}
	}
	if f.root, err = os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		f.Close()
		return nil, err
	}
	for _, m := range f.opts.Mounts {
		if m.Type != "bind" && m.Type != "volume" {
			continue
		}
		h, err := os.OpenFile(m.Source, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // a file bind mount, or a source gone: the root file system has the path
		}
		f.mounts = append(f.mounts, ctrMount{dest: path.Clean("/" + m.Destination), root: h})
	}
	sort.SliceStable(f.mounts, func(i, j int) bool { return len(f.mounts[i].dest) > len(f.mounts[j].dest) })
	return f, nil
}

// liveRoot opens the root directory of the container's process as that
// process sees it, and checks that it is the container's root file system
// (a PID reused by another process would show another root).
func (c *Container) liveRoot(rootfs string) (*os.File, error) {
	if c.State.Pid <= 0 {
		return nil, errors.New("no process")
	}
	proc, err := os.OpenFile(fmt.Sprintf("/proc/%d", c.State.Pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer proc.Close()
	root, err := openat(proc, "root", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	var a, b unix.Stat_t
	if err := unix.Fstat(int(root.Fd()), &a); err != nil {
		_ = root.Close()
		return nil, err
	}
	if err := unix.Stat(rootfs, &b); err != nil {
		_ = root.Close()
		return nil, err
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		_ = root.Close()
		return nil, fmt.Errorf("process %d does not have the container's root", c.State.Pid)
	}
	return root, nil
}

func (f *ctrFS) Close() {
	if f.root != nil {
		_ = f.root.Close()
	}
	for _, m := range f.mounts {
		_ = m.root.Close()
	}
	if f.release != nil {
		f.release()
	}
}

func (f *ctrFS) workDir() string {
	wd := f.opts.WorkDir
	if wd == "" && f.opts.Image != nil {
		wd = f.opts.Image.WorkingDir
	}
	return path.Join("/", wd)
}

// abs makes p absolute (relative paths are in the working directory).
func (f *ctrFS) abs(p string) string {
	if path.IsAbs(p) {
		return p
	}
	return preserveBase(p, path.Join(f.workDir(), p))
}

// locate returns the root handle the container path p (absolute, clean)
// is on, and p relative to it.
func (f *ctrFS) locate(p string) (*os.File, string, string) {
	for _, m := range f.mounts {
		if p == m.dest || strings.HasPrefix(p, m.dest+"/") {
			return m.root, m.dest, "/" + strings.TrimPrefix(strings.TrimPrefix(p, m.dest), "/")
		}
	}
	return f.root, "/", p
}

// stat evaluates the symlinks of p in the container. When p does not
// exist, the error is ENOENT and the returned info still holds the path
// it resolves to (a symlink pointing nowhere names its target).
func (f *ctrFS) stat(p string) (*copyStat, error) {
	abs := path.Clean(f.abs(p))
	root, prefix, rel := f.locate(abs)
	resolved, err := resolveInRoot(root, rel)
	if err != nil {
		return nil, err
	}
	info := &copyStat{Target: preserveBase(f.abs(p), path.Join(prefix, resolved))}
	st, err := lstatInRoot(root, resolved)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return info, unix.ENOENT
		}
		return info, err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return info, unix.ENOENT // swapped in while resolving
	}
	info.IsDir, info.Mode = st.IsDir(), st.Mode()
	if !info.IsDir && (strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")) {
		return info, unix.ENOTDIR
	}
	return info, nil
}

// destination resolves a destination path as podman does: an existing
// path, or a new name in an existing parent directory (toParent).
func (f *ctrFS) destination(p string) (baseName string, info *copyStat, toParent bool, err error) {
	info, err = f.stat(p)
	if err == nil {
		return path.Base(info.Target), info, false, nil
	}
	if strings.HasSuffix(p, "/") || info == nil {
		return "", nil, false, fmt.Errorf("%q could not be found on container %s: %w", p, f.c.Name(), err)
	}
	target := strings.TrimSuffix(info.Target, "/.")
	parent, perr := f.stat(path.Dir(target))
	if perr != nil || !parent.IsDir {
		if perr == nil {
			perr = unix.ENOTDIR
		}
		return "", nil, false, fmt.Errorf("%q could not be found on container %s: %w", p, f.c.Name(), perr)
	}
	return path.Base(target), parent, true, nil
}

// toInner maps an owner as berth sees it to the container's IDs.
func (f *ctrFS) toInner(uid, gid int) (int, int) {
	if f.idmap == nil {
		return uid, gid
	}
	return innerID(f.idmap.UIDMap, uid), innerID(f.idmap.GIDMap, gid)
}

func innerID(m []specs.LinuxIDMapping, id int) int {
	for _, e := range m {
		if uint64(id) >= uint64(e.HostID) && uint64(id) < uint64(e.HostID)+uint64(e.Size) {
			return int(e.ContainerID) + id - int(e.HostID)
		}
	}
	return 65534 // overflow ID: not mapped in the container
}

// archive writes target (from stat) as a tar stream: a directory with its
// name unless target ends in "/.", the top entry named newName if set.
func (f *ctrFS) archive(w io.Writer, info *copyStat, newName string, toHost bool) error {
	abs := path.Clean(info.Target)
	root, _, rel := f.locate(abs)
	h, err := openInRoot(root, rel, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("copying from container %s: %w", f.c.Name(), err)
	}
	tw := tar.NewWriter(w)
	walker := &tarWalker{
		tw:             tw,
		ids:            f.toInner,
		skipDevices:    toHost,
		skipUnreadable: f.live && rootless.IsRootless(),
		exclude: func(p string) bool {
			return f.live && (p == "/dev" || p == "/proc" || p == "/sys")
		},
	}
	if err := walker.add(h, topName(info.Target, info.IsDir, newName), abs); err != nil {
		return fmt.Errorf("copying from container %s: %w", f.c.Name(), err)
	}
	return tw.Close()
}

// checkOverwrite is checkOverwriteHost in the container.
func (f *ctrFS) checkOverwrite(dir, name string, isDir bool) error {
	if name == "" {
		return nil
	}
	p := path.Join(dir, name)
	root, _, rel := f.locate(p)
	st, err := lstatInRoot(root, rel)
	if err != nil {
		return nil
	}
	return overwriteError(p, st.IsDir(), isDir)
}

// user is the container's user (its --user, else the image's USER), owner
// of the files copied in, in the container's IDs (the unpacking maps them
// through the container's user namespace).
func (f *ctrFS) user() (idtools.IDPair, error) {
	user := f.opts.User
	if user == "" && f.opts.Image != nil {
		user = f.opts.Image.User
	}
	eu, err := specgen.ResolveUser(fmt.Sprintf("/proc/self/fd/%d", f.root.Fd()), user, nil)
	if err != nil {
		return idtools.IDPair{}, err
	}
	if f.idmap != nil {
		_, ok1 := toOuterID(f.idmap.UIDMap, eu.UID)
		_, ok2 := toOuterID(f.idmap.GIDMap, eu.GID)
		if !ok1 || !ok2 {
			return idtools.IDPair{}, fmt.Errorf("user %d:%d is not mapped in the user namespace of container %s", eu.UID, eu.GID, f.c.Name())
		}
	}
	return idtools.IDPair{UID: int(eu.UID), GID: int(eu.GID)}, nil
}

// extract unpacks what produce writes (names relative to the container's
// root, under the prefix it is given) into the directory dir of the
// container. Unpacking runs in a helper chrooted into the container's root
// (storage's chrootarchive), so that no symlink in the container, however
// raced, leads out of it.
func (f *ctrFS) extract(produce func(tw *tar.Writer, prefix string) error, dir string, chown, overwrite bool) error {
	abs := path.Clean(dir)
	root, prefix, rel := f.locate(abs)
	resolved, err := resolveInRoot(root, rel)
	if err != nil {
		return err
	}
	opts := &archive.TarOptions{
		NoOverwriteDirNonDir: !overwrite,
		InUserNS:             rootless.IsRootless(),
	}
	if chown {
		ids, err := f.user()
		if err != nil {
			return err
		}
		opts.ChownOpts = &ids
	}
	if f.idmap != nil {
		opts.UIDMaps, opts.GIDMaps = idtoolsMap(f.idmap.UIDMap), idtoolsMap(f.idmap.GIDMap)
	}
	rootPath := fmt.Sprintf("/proc/self/fd/%d", root.Fd())
	err = pipeCopy(func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := produce(tw, strings.TrimPrefix(resolved, "/")); err != nil {
			return err
		}
		return tw.Close()
	}, func(r io.Reader) error {
		return chrootarchive.UntarWithRoot(r, rootPath, opts, rootPath)
	})
	if err != nil {
		return fmt.Errorf("copying to container %s at %s: %w", f.c.Name(), path.Join(prefix, resolved), err)
	}
	return nil
}

func idtoolsMap(m []specs.LinuxIDMapping) []idtools.IDMap {
	out := make([]idtools.IDMap, 0, len(m))
	for _, e := range m {
		out = append(out, idtools.IDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
	}
	return out
}
