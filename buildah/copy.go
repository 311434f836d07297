package buildah

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/pkg/specgen"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/idtools"
	"golang.org/x/sys/unix"
)

// copyPlan is a COPY or ADD, resolved before it runs (its sources and
// their digest decide the cache key).
type copyPlan struct {
	cmd      instructions.Command
	add      bool
	patterns []string
	// fromImage is the --from image ("" for the build context).
	fromImage string
	fromName  string
	// items are the context's sources (resolved when planning); --from
	// sources are resolved when the step runs.
	items []copyItem
	// dest is the absolute destination; destDir says it must be a
	// directory (it ends in "/", or there are several sources).
	dest    string
	destDir bool
	chown   string
	chmod   *uint32
	digest  string
	kind    string
}

// copyItem is one source: a file or directory tree.
type copyItem struct {
	host string      // its path on the host
	rel  string      // its path in the context ("" for the root)
	info fs.FileInfo // lstat of host
}

func (p *copyPlan) summary() string {
	return p.kind + ":" + strings.TrimPrefix(p.digest, "sha256:")
}

func (p *copyPlan) verb() string {
	if p.add {
		return "ADD"
	}
	return "COPY"
}

// planCopy resolves a COPY or ADD.
func (s *stage) planCopy(cmd instructions.Command, sources []string, dest, from, chown, chmod string, add bool) (*copyPlan, error) {
	b := s.b
	p := &copyPlan{cmd: cmd, add: add, patterns: sources, chown: chown}
	if len(sources) == 0 {
		return nil, b.df.errorAt(cmd, "%s needs a source and a destination", strings.ToUpper(cmd.Name()))
	}
	if chmod != "" {
		m, err := strconv.ParseUint(chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return nil, b.df.errorAt(cmd, "--chmod=%s: only octal modes (such as 0755) are supported yet", chmod)
		}
		mode := uint32(m)
		p.chmod = &mode
	}
	p.destDir = strings.HasSuffix(dest, "/") || dest == "." || dest == ".." || strings.HasSuffix(dest, "/.") || strings.HasSuffix(dest, "/..")
	if !path.IsAbs(dest) {
		wd := s.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		dest = path.Join(wd, dest)
	}
	p.dest = path.Clean(dest)
	h := sha256.New()
	fmt.Fprintf(h, "chown\x00%s\x00chmod\x00%s\x00", chown, chmod)
	if from != "" {
		id, name, err := s.resolveFrom(cmd, from)
		if err != nil {
			return nil, err
		}
		p.fromImage, p.fromName = id, name
		fmt.Fprintf(h, "from\x00%s\x00", id)
		for _, src := range sources {
			fmt.Fprintf(h, "src\x00%s\x00", src)
		}
		p.kind = "multi"
		if len(sources) == 1 && !hasGlob(sources[0]) {
			p.kind = "file"
		}
		if len(sources) > 1 && !p.destDir {
			return nil, b.df.errorAt(cmd, "When using %s with more than one source file, the destination must be a directory and end with a /", p.verb())
		}
		p.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
		return p, nil
	}
	if b.ignore == nil {
		ig, err := loadIgnore(b.o.ContextDir, b.o.IgnoreFile)
		if err != nil {
			return nil, err
		}
		b.ignore = ig
	}
	items, err := resolveSources(b.o.ContextDir, sources, b.ignore, "the build context")
	if err != nil {
		return nil, b.df.errorAt(cmd, "%v", err)
	}
	if len(items) > 1 && !p.destDir {
		return nil, b.df.errorAt(cmd, "When using %s with more than one source file, the destination must be a directory and end with a /", p.verb())
	}
	p.items = items
	for _, it := range items {
		if err := digestItem(h, it, b.ignore); err != nil {
			return nil, b.df.errorAt(cmd, "%v", err)
		}
	}
	p.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	switch {
	case len(items) == 1 && items[0].info.IsDir():
		p.kind = "dir"
	case len(items) == 1:
		p.kind = "file"
	default:
		p.kind = "multi"
	}
	return p, nil
}

// resolveFrom finds the image COPY --from reads: a stage built before, or
// an image (pulled if needed).
func (s *stage) resolveFrom(cmd instructions.Command, from string) (string, string, error) {
	b := s.b
	if j, ok := b.df.stageIndex(from, s.index); ok {
		id, built := b.result(j)
		if !built {
			return "", "", b.df.errorAt(cmd, "stage %q was not built", from)
		}
		return id, from, nil
	}
	for j := s.index; j < len(b.df.stages); j++ {
		if strings.EqualFold(b.df.stages[j].Name, from) {
			return "", "", b.df.errorAt(cmd, "COPY --from=%s: the stage is defined after this one", from)
		}
	}
	img, err := b.o.Pull(b.ctx, from)
	if err != nil {
		return "", "", b.df.errorAt(cmd, "COPY --from=%s: %v", from, err)
	}
	return img.ID, from, nil
}

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// resolveSources finds the sources under root ("/" of the sources):
// names relative to it ("../" cannot leave it), wildcards as
// path.Match, symlinks followed inside root. ig (the context's ignore
// rules, nil for an image) hides files.
func resolveSources(root string, patterns []string, ig *ignoreRules, where string) ([]copyItem, error) {
	var items []copyItem
	for _, pat := range patterns {
		clean := strings.TrimPrefix(path.Clean("/"+pat), "/")
		if hasGlob(clean) {
			rels, err := globInRoot(root, clean)
			if err != nil {
				return nil, err
			}
			n := 0
			for _, rel := range rels {
				if ex, err := ig.excluded(rel); err != nil || ex {
					continue
				}
				host, err := securejoin.SecureJoin(root, rel)
				if err != nil {
					return nil, err
				}
				info, err := os.Lstat(host)
				if err != nil {
					return nil, err
				}
				items = append(items, copyItem{host: host, rel: rel, info: info})
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("no source files were specified: %q matches nothing in %s", pat, where)
			}
			continue
		}
		if ex, err := ig.excluded(clean); err != nil {
			return nil, err
		} else if ex {
			return nil, fmt.Errorf("%q: excluded by .containerignore/.dockerignore of %s", pat, where)
		}
		host, err := securejoin.SecureJoin(root, clean)
		if err != nil {
			return nil, err
		}
		info, err := os.Lstat(host)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%q: no such file or directory in %s", pat, where)
			}
			return nil, err
		}
		items = append(items, copyItem{host: host, rel: clean, info: info})
	}
	return items, nil
}

// globInRoot expands a pattern (slash-separated, relative) in root, one
// component at a time, without leaving root.
func globInRoot(root, pattern string) ([]string, error) {
	matches := []string{""}
	for _, comp := range strings.Split(pattern, "/") {
		var next []string
		for _, m := range matches {
			if !hasGlob(comp) {
				next = append(next, path.Join(m, comp))
				continue
			}
			dir, err := securejoin.SecureJoin(root, m)
			if err != nil {
				return nil, err
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				ok, err := path.Match(comp, e.Name())
				if err != nil {
					return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
				}
				if ok {
					next = append(next, path.Join(m, e.Name()))
				}
			}
		}
		matches = next
	}
	var out []string
	for _, m := range matches {
		host, err := securejoin.SecureJoin(root, m)
		if err != nil {
			continue
		}
		if _, err := os.Lstat(host); err == nil {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out, nil
}

// walkItem visits an item and, for a directory, what is below it, in
// name order, skipping what ig ignores. fn gets the path relative to the
// item ("" for the item itself) and, for a directory the rules ignore but
// that holds re-included files, implicit=true (create it, do not copy it).
func walkItem(it copyItem, ig *ignoreRules, fn func(rel, host string, info fs.FileInfo, implicit bool) error) error {
	if err := fn("", it.host, it.info, false); err != nil {
		return err
	}
	if !it.info.IsDir() {
		return nil
	}
	var walk func(rel, host string) error
	walk = func(rel, host string) error {
		entries, err := os.ReadDir(host)
		if err != nil {
			return err
		}
		for _, e := range entries {
			crel := path.Join(rel, e.Name())
			chost := filepath.Join(host, e.Name())
			info, err := e.Info()
			if err != nil {
				return err
			}
			implicit := false
			if ig != nil {
				ex, err := ig.excluded(path.Join(it.rel, crel))
				if err != nil {
					return err
				}
				if ex {
					if !info.IsDir() || !ig.mayInclude(path.Join(it.rel, crel)) {
						continue
					}
					implicit = true
				}
			}
			if err := fn(crel, chost, info, implicit); err != nil {
				return err
			}
			if info.IsDir() {
				if err := walk(crel, chost); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("", it.host)
}

// digestItem adds what decides a copy's result to h: names, types,
// modes, sizes, modification times, link targets and file contents.
func digestItem(h hash.Hash, it copyItem, ig *ignoreRules) error {
	fmt.Fprintf(h, "item\x00%s\x00", it.rel)
	buf := make([]byte, 32<<10)
	return walkItem(it, ig, func(rel, host string, info fs.FileInfo, implicit bool) error {
		mode := info.Mode()
		fmt.Fprintf(h, "e\x00%s\x00%d\x00%d\x00%d\x00%t\x00", rel, uint32(mode), info.Size(), info.ModTime().UnixNano(), implicit)
		switch {
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "l\x00%s\x00", target)
		case mode.IsRegular():
			f, err := os.Open(host)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(h, f, buf)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// execCopy carries out a planned COPY or ADD in the working layer.
func (s *stage) execCopy(p *copyPlan, ws *workspace) error {
	b := s.b
	items, ig := p.items, b.ignore
	if p.fromImage != "" {
		root, err := b.mountImage(p.fromImage)
		if err != nil {
			return err
		}
		if items, err = resolveSources(root, p.patterns, nil, "stage or image "+p.fromName); err != nil {
			return b.df.errorAt(p.cmd, "%v", err)
		}
		if len(items) > 1 && !p.destDir {
			return b.df.errorAt(p.cmd, "When using %s with more than one source file, the destination must be a directory and end with a /", p.verb())
		}
		ig = nil
	}
	uid, gid, err := resolveChown(ws.mount, p.chown)
	if err != nil {
		return b.df.errorAt(p.cmd, "%v", err)
	}
	c := &copier{root: ws.mount, uid: uid, gid: gid, chmod: p.chmod, rootless: b.o.Rootless}
	destHost, err := securejoin.SecureJoin(ws.mount, p.dest)
	if err != nil {
		return err
	}
	destIsDir := p.destDir
	if st, err := os.Stat(destHost); err == nil && st.IsDir() {
		destIsDir = true
	}
	for _, it := range items {
		if p.add && it.info.Mode().IsRegular() {
			if ok, err := isArchive(it.host); err != nil {
				return err
			} else if ok {
				if err := c.mkdirAll(destHost); err != nil {
					return err
				}
				if err := c.extract(it.host, destHost, p.chown != ""); err != nil {
					return fmt.Errorf("extracting %s: %w", it.rel, err)
				}
				continue
			}
		}
		target := destHost
		if !it.info.IsDir() && destIsDir {
			target = filepath.Join(destHost, filepath.Base(it.host))
		}
		if err := c.mkdirAll(filepath.Dir(target)); err != nil {
			return err
		}
		if it.info.IsDir() {
			if err := c.mkdirAll(target); err != nil {
				return err
			}
		}
		if err := c.copyItem(it, ig, target); err != nil {
			return err
		}
	}
	return nil
}

// resolveChown reads --chown (user[:group], names looked up in the
// working container's /etc/passwd and /etc/group); "" is root. A user
// without a group gets the user's group (a number: the same number).
func resolveChown(rootfs, chown string) (int, int, error) {
	if chown == "" {
		return 0, 0, nil
	}
	userPart, groupPart, hasGroup := strings.Cut(chown, ":")
	var uid, gid uint32
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		uid, gid = uint32(n), uint32(n)
	} else {
		u, err := specgen.ResolveUser(rootfs, userPart, nil)
		if err != nil {
			return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
		}
		uid, gid = u.UID, u.GID
	}
	if hasGroup {
		if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			gid = uint32(n)
		} else {
			u, err := specgen.ResolveUser(rootfs, "0:"+groupPart, nil)
			if err != nil {
				return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
			}
			gid = u.GID
		}
	}
	return int(uid), int(gid), nil
}

// copier writes files into the working container's root.
type copier struct {
	root     string
	uid, gid int
	chmod    *uint32
	rootless bool
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
func (c *copier) copyItem(it copyItem, ig *ignoreRules, target string) error {
	type dirTime struct {
		path string
		info fs.FileInfo
	}
	var dirs []dirTime
	// where each directory of the item went: a symlink to a directory in
	// the image is followed inside the root, never through the host's
	// path resolution
	dirsAt := map[string]string{"": target}
	err := walkItem(it, ig, func(rel, host string, info fs.FileInfo, implicit bool) error {
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
	if err := os.Lchown(dst, c.uid, c.gid); err != nil {
		return "", false, fmt.Errorf("changing the owner of %s: %w", c.inRoot(dst), err)
	}
	mode := uint32(0o755)
	if !keep {
		mode = unixMode(info)
	}
	if c.chmod != nil {
		mode = *c.chmod
	}
	if err := os.Chmod(dst, fs.FileMode(mode&0o777)|goModeBits(mode)); err != nil {
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
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		return c.file(src, info, dst)
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		if err := os.Lchown(dst, c.uid, c.gid); err != nil {
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
		if err := os.Lchown(dst, c.uid, c.gid); err != nil {
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
		out.Close()
		return fmt.Errorf("writing %s: %w", c.inRoot(dst), err)
	}
	mode := unixMode(info)
	if c.chmod != nil {
		mode = *c.chmod
	}
	if err := out.Chown(c.uid, c.gid); err != nil {
		out.Close()
		return fmt.Errorf("changing the owner of %s: %w", c.inRoot(dst), err)
	}
	// after chown, which clears set-user-ID bits
	if err := out.Chmod(fs.FileMode(mode&0o777) | goModeBits(mode)); err != nil {
		out.Close()
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

// goModeBits turns setuid, setgid and sticky bits into fs.FileMode bits.
func goModeBits(mode uint32) fs.FileMode {
	var m fs.FileMode
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
