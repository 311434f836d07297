package buildah

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// runMount is one RUN --mount, resolved before the step's cache key.
type runMount struct {
	m *instructions.Mount
	// target is the absolute mount point (not for secrets, see secretMount).
	target string
	// fromImage is the stage or image a bind mount reads, or a cache
	// mount is seeded from; "" is the build context.
	fromImage, fromName string
	// ctx is a bind mount's source in the build context; filtered says
	// the ignore rules hide files in it (the mount is then a copy).
	ctx      *copyItem
	filtered bool
}

// checkRun refuses, before the build starts, the RUN flags and mounts
// berth cannot honour. Mount options with variables are checked again
// when the step runs (their values are known then).
func (d *dockerfile) checkRun(c *instructions.RunCommand) error {
	for _, f := range c.FlagsUsed {
		if f != "mount" && f != "network" && f != "security" {
			return d.notSupported(c, "RUN --"+f)
		}
	}
	if instructions.GetSecurity(c) == instructions.SecurityInsecure {
		return d.notSupported(c, "RUN --security=insecure")
	}
	if len(c.Files) > 0 && (len(c.CmdLine) != 1 || !c.PrependShell) {
		return d.errorAt(c, "a here-document needs the shell form of RUN")
	}
	sawVariable := false
	err := c.Expand(func(word string) (string, error) {
		if strings.Contains(word, "$") {
			sawVariable = true
		}
		return word, nil
	})
	if err != nil {
		if sawVariable {
			return nil
		}
		return d.errorAt(c, "RUN --mount: %v", err)
	}
	for _, m := range instructions.GetMounts(c) {
		if m.Type == instructions.MountTypeSSH {
			return d.notSupported(c, "RUN --mount=type=ssh")
		}
	}
	return nil
}

// runMountStages are the stages (or images) RUN --mount from= names.
func runMountStages(cmd instructions.Command) []string {
	c, ok := cmd.(*instructions.RunCommand)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range instructions.GetMounts(c) {
		if m.From != "" {
			out = append(out, m.From)
		}
	}
	return out
}

// mountTarget makes a mount point absolute: a relative one is in the
// working directory (buildkit's rule).
func (s *stage) mountTarget(target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	wd := s.cfg.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	return path.Join("/", wd, target)
}

// mountSpecText is a mount's options as the cache key sees them (never
// a secret's content: only its id and where it goes).
func mountSpecText(m *instructions.Mount) string {
	num := func(p *uint64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatUint(*p, 8)
	}
	env := "-"
	if m.Env != nil {
		env = "=" + *m.Env
	}
	return fmt.Sprintf("mount\x00%s\x00from=%s\x00src=%s\x00dst=%s\x00ro=%t\x00size=%d\x00id=%s\x00sharing=%s\x00required=%t\x00env%s\x00mode=%s\x00uid=%s\x00gid=%s",
		m.Type, m.From, m.Source, m.Target, m.ReadOnly, m.SizeLimit, m.CacheID, m.CacheSharing, m.Required, env, num(m.Mode), num(m.UID), num(m.GID))
}

// planMount resolves a mount and returns what of it decides the step's
// result: for a bind mount, the digest of the bound files (context) or
// the image ID; a cache mount's content does not (by design), nor a
// secret's content (as docker).
func (s *stage) planMount(c *instructions.RunCommand, m *instructions.Mount) (*runMount, []string, error) {
	b := s.b
	rm := &runMount{m: m}
	key := []string{mountSpecText(m)}
	switch m.Type {
	case instructions.MountTypeSSH:
		return nil, nil, b.df.notSupported(c, "RUN --mount=type=ssh")
	case instructions.MountTypeSecret:
		// a missing required secret fails the step even when it is cached
		if id := secretID(m); m.Required && !s.b.o.Secrets[id].available() {
			return nil, nil, b.df.errorAt(c, "RUN --mount=type=secret: secret required but no secret with id %q found", id)
		}
		return rm, key, nil
	}
	rm.target = s.mountTarget(m.Target)
	if rm.target == "/" {
		return nil, nil, b.df.errorAt(c, "invalid mount target %q", m.Target)
	}
	if m.Type == instructions.MountTypeTmpfs {
		return rm, key, nil
	}
	if dir, ok := b.namedDir(m.From); ok && m.Type == instructions.MountTypeBind {
		// a directory --build-context: like the context, without its ignore file
		item, err := contextSource(dir, m.Source, nil)
		if err != nil {
			return nil, nil, b.df.errorAt(c, "RUN --mount: %v", err)
		}
		h := sha256.New()
		if err := digestItem(h, h, *item, copyFilter{}); err != nil {
			return nil, nil, b.df.errorAt(c, "RUN --mount: %v", err)
		}
		rm.ctx = item
		return rm, append(key, "context\x00"+m.From+"\x00"+hex.EncodeToString(h.Sum(nil))), nil
	}
	if m.From != "" {
		id, err := s.mountFrom(c, m.From)
		if err != nil {
			return nil, nil, err
		}
		rm.fromImage, rm.fromName = id, m.From
		if m.Type == instructions.MountTypeBind {
			key = append(key, "from\x00"+id)
		}
		return rm, key, nil
	}
	if m.Type != instructions.MountTypeBind {
		return rm, key, nil
	}
	ig, err := b.contextIgnore()
	if err != nil {
		return nil, nil, err
	}
	item, err := contextSource(b.o.ContextDir, m.Source, ig)
	if err != nil {
		return nil, nil, b.df.errorAt(c, "RUN --mount: %v", err)
	}
	h := sha256.New()
	if err := digestItem(h, h, *item, copyFilter{ignore: ig}); err != nil {
		return nil, nil, b.df.errorAt(c, "RUN --mount: %v", err)
	}
	if rm.filtered, err = hasExcluded(*item, ig); err != nil {
		return nil, nil, b.df.errorAt(c, "RUN --mount: %v", err)
	}
	rm.ctx = item
	return rm, append(key, "context\x00"+hex.EncodeToString(h.Sum(nil))), nil
}

// mountFrom finds the image from= names (see imageFrom); a directory
// --build-context is bound by planMount, never copied.
func (s *stage) mountFrom(c *instructions.RunCommand, from string) (string, error) {
	if _, ok := s.b.namedDir(from); ok {
		return "", s.b.df.errorAt(c, "RUN --mount from=%s: a directory build context can only be bind mounted", from)
	}
	return s.imageFrom(c, "RUN --mount from", from, fmt.Sprintf("cannot mount from stage %q, stage needs to be defined before current command", from))
}

// contextIgnore is the context's ignore rules, read once (Build reads
// them before stages may run in parallel).
func (b *builder) contextIgnore() (*ignoreRules, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ignore == nil {
		ig, err := loadIgnore(b.o.ContextDir, b.o.IgnoreFile)
		if err != nil {
			return nil, err
		}
		b.ignore = ig
	}
	return b.ignore, nil
}

// contextSource finds a bind mount's source in the build context: it
// cannot leave the context, and ignored files are not there.
func contextSource(root, source string, ig *ignoreRules) (*copyItem, error) {
	rel := strings.TrimPrefix(path.Clean("/"+source), "/")
	if ex, err := ig.excluded(rel); err != nil {
		return nil, err
	} else if ex {
		return nil, fmt.Errorf("source %q: excluded by .containerignore/.dockerignore of the build context", source)
	}
	host, err := securejoin.SecureJoin(root, rel)
	if err != nil {
		return nil, err
	}
	info, err := os.Lstat(host)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("source %q: no such file or directory in the build context", source)
		}
		return nil, err
	}
	return &copyItem{host: host, rel: rel, info: info}, nil
}

// hasExcluded reports whether the ignore rules hide something below a
// directory.
func hasExcluded(it copyItem, ig *ignoreRules) (bool, error) {
	if ig == nil || ig.pm == nil || !it.info.IsDir() {
		return false, nil
	}
	errFound := errors.New("found")
	err := walkItem(it, copyFilter{}, func(rel, _ string, _ fs.FileInfo, _ bool) error {
		if rel == "" {
			return nil
		}
		ex, err := ig.excluded(path.Join(it.rel, rel))
		if err != nil {
			return err
		}
		if ex {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

// preparedMounts are the host side of a RUN step's mounts.
type preparedMounts struct {
	mounts []specs.Mount
	env    []string
	// release unlocks cache directories and removes copies.
	release []func()
}

func (p *preparedMounts) done() {
	for i := len(p.release) - 1; i >= 0; i-- {
		p.release[i]()
	}
}

// prepareMounts makes the mounts of a RUN step: cache directories
// (locked as their sharing says), bind sources (copies when writable or
// filtered), tmpfs and secrets (files in bundle). The caller calls done.
func (s *stage) prepareMounts(c *instructions.RunCommand, mounts []*runMount, bundle string) (*preparedMounts, error) {
	p := &preparedMounts{}
	caches := map[string]string{} // a cache used twice in one step is locked once
	for _, rm := range mounts {
		m := rm.m
		opt := "rw"
		if m.ReadOnly {
			opt = "ro"
		}
		switch m.Type {
		case instructions.MountTypeSecret:
			sm, env, err := s.secretMount(m, bundle)
			if err != nil {
				p.done()
				return nil, s.b.df.errorAt(c, "RUN --mount=type=secret: %v", err)
			}
			if sm != nil {
				p.mounts = append(p.mounts, *sm)
			}
			if env != "" {
				p.env = append(p.env, env)
			}
		case instructions.MountTypeTmpfs:
			opts := []string{opt, "notmpcopyup"}
			if m.SizeLimit > 0 {
				opts = append(opts, "size="+strconv.FormatInt(m.SizeLimit, 10))
			}
			p.mounts = append(p.mounts, specs.Mount{Destination: rm.target, Type: "tmpfs", Options: opts})
		case instructions.MountTypeCache:
			dir, err := s.cacheDir(rm, caches, p)
			if err != nil {
				p.done()
				return nil, s.b.df.errorAt(c, "RUN --mount=type=cache: %v", err)
			}
			p.mounts = append(p.mounts, specs.Mount{Destination: rm.target, Type: "bind", Source: dir, Options: []string{opt}})
		case instructions.MountTypeBind:
			src, err := s.bindSource(rm, p)
			if err != nil {
				p.done()
				return nil, s.b.df.errorAt(c, "RUN --mount=type=bind: %v", err)
			}
			p.mounts = append(p.mounts, specs.Mount{Destination: rm.target, Type: "bind", Source: src, Options: []string{opt}})
		default:
			p.done()
			return nil, s.b.df.notSupported(c, "RUN --mount=type="+string(m.Type))
		}
	}
	return p, nil
}

// bindSource is the host path a bind mount binds: the source itself when
// read-only, else (or when ignore rules hide files in it) a copy that is
// removed after the step, so that writes are discarded.
func (s *stage) bindSource(rm *runMount, p *preparedMounts) (string, error) {
	b := s.b
	item := rm.ctx
	var ig *ignoreRules
	if rm.ctx != nil {
		ig = b.ignore
	} else {
		it, err := s.imageSource(rm)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("source %q: no such file or directory in stage or image %s", rm.m.Source, rm.fromName)
		} else if err != nil {
			return "", err
		}
		item = &it
	}
	if rm.m.ReadOnly && !rm.filtered {
		return item.host, nil
	}
	dir, err := b.scratchDir()
	if err != nil {
		return "", err
	}
	p.release = append(p.release, func() { removeScratch(dir) })
	dst := filepath.Join(dir, "src")
	if err := cloneTree(*item, ig, dst, b.o.Rootless); err != nil {
		return "", fmt.Errorf("copying the source of a bind mount: %w", err)
	}
	return dst, nil
}

// imageSource finds a mount's source in its from= stage or image (it
// cannot leave the image's root).
func (s *stage) imageSource(rm *runMount) (copyItem, error) {
	root, err := s.b.mountImage(rm.fromImage)
	if err != nil {
		return copyItem{}, err
	}
	rel := strings.TrimPrefix(path.Clean("/"+rm.m.Source), "/")
	host, err := securejoin.SecureJoin(root, rel)
	if err != nil {
		return copyItem{}, err
	}
	info, err := os.Lstat(host)
	return copyItem{host: host, rel: rel, info: info}, err
}

// cacheRoot holds the cache mounts' directories, next to the store's
// images (so they are the user's own when rootless, and persist).
func (b *builder) cacheRoot() string {
	return filepath.Join(b.store.GraphRoot(), cacheDirName)
}

const cacheDirName = "berth-build-cache"

// scratchDir makes a temporary directory for a step's copies, named
// with berth's pid so that a later build removes those of a killed one.
func (b *builder) scratchDir() (string, error) {
	root := filepath.Join(b.cacheRoot(), "tmp")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	b.scratchSwept.Do(func() {
		if entries, err := os.ReadDir(root); err == nil {
			for _, e := range entries {
				if leftBehind(e.Name(), "") {
					removeScratch(filepath.Join(root, e.Name()))
				}
			}
		}
	})
	return os.MkdirTemp(root, strconv.Itoa(os.Getpid())+"-")
}

func removeScratch(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		logrus.Warnf("removing %s: %v", dir, err)
	}
}

// cacheDir returns the directory of a cache mount, locked as its sharing
// says (shared: with other shared users; locked: alone, waiting; private:
// alone, in another instance of the cache if this one is in use),
// creating it on first use: empty (mode, uid and gid as given) or a copy
// of from='s source.
func (s *stage) cacheDir(rm *runMount, caches map[string]string, p *preparedMounts) (string, error) {
	b, m := s.b, rm.m
	id := m.CacheID
	if id == "" {
		id = path.Clean(m.Target)
	}
	sum := sha256.Sum256([]byte(id))
	base := filepath.Join(b.cacheRoot(), hex.EncodeToString(sum[:16]))
	dir, ok := caches[base]
	if !ok {
		if err := os.MkdirAll(base, 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(base, "id"), []byte(id+"\n"), 0o600); err != nil {
			return "", err
		}
		var unlock func()
		var err error
		if dir, unlock, err = s.lockCache(base, m.CacheSharing); err != nil {
			return "", fmt.Errorf("locking cache %q: %w", id, err)
		}
		p.release = append(p.release, unlock)
		if err := s.createCache(rm, dir); err != nil {
			return "", fmt.Errorf("creating cache %q: %w", id, err)
		}
		caches[base] = dir
	}
	if m.From == "" && m.Source != "" {
		sub, err := securejoin.SecureJoin(dir, m.Source)
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", err
		}
		return sub, nil
	}
	return dir, nil
}

// lockCache locks an instance of a cache and returns its directory.
func (s *stage) lockCache(base string, sharing instructions.ShareMode) (string, func(), error) {
	if sharing != instructions.MountSharingPrivate {
		how := unix.LOCK_SH
		if sharing == instructions.MountSharingLocked {
			how = unix.LOCK_EX
		}
		f, err := s.flock(filepath.Join(base, "data.lock"), how, true)
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(base, "data"), func() { _ = f.Close() }, nil
	}
	for n := 0; ; n++ {
		name := "data"
		if n > 0 {
			name = "data-" + strconv.Itoa(n)
		}
		f, err := s.flock(filepath.Join(base, name+".lock"), unix.LOCK_EX, false)
		if errors.Is(err, unix.EWOULDBLOCK) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(base, name), func() { _ = f.Close() }, nil
	}
}

// flock opens and locks a lock file; wait polls until the lock is free
// or the build is cancelled.
func (s *stage) flock(name string, how int, wait bool) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || !wait {
			_ = f.Close()
			return nil, err
		}
		select {
		case <-s.b.ctx.Done():
			_ = f.Close()
			return nil, errCancelled
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// createCache makes a cache directory that does not exist yet; it
// appears whole (renamed into place), as other builds may use it.
func (s *stage) createCache(rm *runMount, dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	tmp := dir + ".new-" + randomHex(4)
	defer os.RemoveAll(tmp)
	if rm.fromImage != "" {
		it, err := s.imageSource(rm)
		if err != nil {
			return fmt.Errorf("source %q in stage or image %s: %w", rm.m.Source, rm.fromName, err)
		}
		if !it.info.IsDir() {
			return fmt.Errorf("source %q in stage or image %s is not a directory", rm.m.Source, rm.fromName)
		}
		if err := cloneTree(it, nil, tmp, s.b.o.Rootless); err != nil {
			return err
		}
	} else {
		mode, uid, gid := uint64(0o755), uint64(0), uint64(0)
		if rm.m.Mode != nil {
			mode = *rm.m.Mode
		}
		if rm.m.UID != nil {
			uid = *rm.m.UID
		}
		if rm.m.GID != nil {
			gid = *rm.m.GID
		}
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return err
		}
		if err := os.Chown(tmp, int(uid), int(gid)); err != nil {
			return err
		}
		if err := os.Chmod(tmp, goMode(uint32(mode))); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) && !errors.Is(err, unix.ENOTEMPTY) {
		return err
	}
	return nil
}

// cloneTree copies an item (a file or a tree, without what ig hides) to
// dst, which does not exist yet, keeping owners, modes and times. The
// directories it makes for re-included files keep mkdir's owner (-1).
func cloneTree(it copyItem, ig *ignoreRules, dst string, rootless bool) error {
	c := &copier{root: dst, uid: -1, gid: -1, keepOwners: true, rootless: rootless}
	return c.copyItem(it, copyFilter{ignore: ig}, dst)
}
