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
	"github.com/moby/patternmatcher"
	"github.com/opencontainers/go-digest"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/idtools"
	"golang.org/x/sys/unix"
)

// copySpec is a COPY or ADD as written, its variables expanded.
type copySpec struct {
	add      bool
	sources  []string
	docs     []instructions.SourceContent
	dest     string
	from     string
	chown    string
	chmod    string
	excludes []string
	parents  bool
	// link (--link) changes nothing berth builds: BuildKit copies into an
	// empty layer it merges on top, which gives the same files (it only
	// makes its cache independent of the steps before); podman has no
	// --link.
	link       bool
	checksum   string
	unpack     *bool
	keepGitDir *bool
}

func copySpecOf(cmd instructions.Command) copySpec {
	switch c := cmd.(type) {
	case *instructions.CopyCommand:
		return copySpec{sources: c.SourcePaths, docs: c.SourceContents, dest: c.DestPath, from: c.From,
			chown: c.Chown, chmod: c.Chmod, excludes: c.ExcludePatterns, parents: c.Parents, link: c.Link}
	case *instructions.AddCommand:
		return copySpec{add: true, sources: c.SourcePaths, docs: c.SourceContents, dest: c.DestPath,
			chown: c.Chown, chmod: c.Chmod, excludes: c.ExcludePatterns, link: c.Link,
			checksum: c.Checksum, unpack: c.Unpack, keepGitDir: c.KeepGitDir}
	}
	return copySpec{}
}

// copyPlan is a COPY or ADD, resolved before it runs (its sources and
// their digest decide the cache key).
type copyPlan struct {
	cmd  instructions.Command
	spec copySpec
	// fromImage is the --from image ("" for the build context).
	fromImage string
	fromName  string
	// items are the sources resolved when planning (the context's, the
	// downloads), in order; --from sources are resolved when the step
	// runs. docs are the here-documents, copied after them.
	items []copyItem
	docs  []copyItem
	// excludes are the --exclude patterns.
	excludes *ignoreRules
	// dest is the absolute destination; destDir says it must be a
	// directory (it ends in "/", there are several sources, --parents).
	dest    string
	destDir bool
	chmod   *fileMode
	// tmp holds the downloads and here-documents until the step is done.
	tmp string
	// digest covers what is copied, but not the files' times, so that the
	// history text (and with --timestamp the image) is the same for any
	// checkout of the same files; times covers their modification times,
	// which COPY keeps: the cache key needs both.
	digest string
	times  hash.Hash
	kind   string
}

// cacheDigest is what decides the step's result.
func (p *copyPlan) cacheDigest() string {
	if p.times == nil {
		return p.digest
	}
	return p.digest + "+times:" + hex.EncodeToString(p.times.Sum(nil))
}

// copyItem is one source: a file or directory tree.
type copyItem struct {
	host string      // its path on the host
	rel  string      // its path in the context ("" for the root)
	info fs.FileInfo // lstat of host (or the metadata it is to have)
	// name is what it is called in a destination directory (the name
	// as written or matched: a symlink is followed, its name kept).
	name string
	// unpack: a tar archive is extracted rather than copied (ADD).
	unpack bool
	// under is, with --parents, its path below the destination; root is
	// the host directory that path is relative to.
	under, root string
}

func (p *copyPlan) summary() string {
	return p.kind + ":" + strings.TrimPrefix(p.digest, "sha256:")
}

func (p *copyPlan) verb() string {
	if p.spec.add {
		return "ADD"
	}
	return "COPY"
}

// history is the step's created_by, as podman writes it.
func (p *copyPlan) history() string {
	return fmt.Sprintf("/bin/sh -c #(nop) %s %s in %s ", p.verb(), p.summary(), p.spec.dest)
}

// tempDir is the plan's directory for downloads and here-documents.
func (p *copyPlan) tempDir() (string, error) {
	if p.tmp == "" {
		dir, err := os.MkdirTemp("", "berth-build-copy-")
		if err != nil {
			return "", err
		}
		p.tmp = dir
	}
	return p.tmp, nil
}

// cleanup removes the plan's downloads and here-documents.
func (p *copyPlan) cleanup() {
	if p != nil && p.tmp != "" {
		_ = os.RemoveAll(p.tmp)
		p.tmp = ""
	}
}

// planCopy resolves a COPY or ADD: its sources, downloads and
// here-documents, and the digest of all that decides its result.
func (s *stage) planCopy(cmd instructions.Command) (_ *copyPlan, err error) {
	b := s.b
	sp := copySpecOf(cmd)
	p := &copyPlan{cmd: cmd, spec: sp}
	defer func() {
		if err != nil {
			p.cleanup() // what was downloaded or written so far
		}
	}()
	if len(sp.sources)+len(sp.docs) == 0 {
		return nil, b.df.errorAt(cmd, "%s needs a source and a destination", p.verb())
	}
	if p.chmod, err = parseFileMode(sp.chmod); err != nil {
		return nil, b.df.errorAt(cmd, "--chmod: %v", err)
	}
	if len(sp.excludes) > 0 {
		pm, err := patternmatcher.New(sp.excludes)
		if err != nil {
			return nil, b.df.errorAt(cmd, "--exclude: %v", err)
		}
		p.excludes = &ignoreRules{pm: pm}
	}
	want, err := checkCopySources(sp)
	if err != nil {
		return nil, b.df.errorAt(cmd, "%v", err)
	}
	dest := sp.dest
	p.destDir = sp.parents || strings.HasSuffix(dest, "/") || dest == "." || dest == ".." || strings.HasSuffix(dest, "/.") || strings.HasSuffix(dest, "/..")
	if !path.IsAbs(dest) {
		wd := s.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		dest = path.Join(wd, dest)
	}
	p.dest = path.Clean(dest)
	h := sha256.New()
	fmt.Fprintf(h, "chown\x00%s\x00chmod\x00%s\x00parents\x00%t\x00", sp.chown, sp.chmod, sp.parents)
	if sp.add {
		fmt.Fprintf(h, "unpack\x00%s\x00", boolFlag(sp.unpack))
	}
	for _, e := range sp.excludes {
		fmt.Fprintf(h, "exclude\x00%s\x00", e)
	}
	docs, err := s.expandHereDocs(sp.docs)
	if err != nil {
		return nil, b.df.errorAt(cmd, "%v", err)
	}
	if len(docs) > 0 {
		dir, err := p.tempDir()
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			it, err := hereDocItem(dir, d)
			if err != nil {
				return nil, err
			}
			p.docs = append(p.docs, it)
			digestHereDoc(h, d)
		}
	}
	if dir, ok := b.namedDir(sp.from); ok {
		// a directory --build-context: like the context, without its ignore file
		fmt.Fprintf(h, "context\x00%s\x00", sp.from)
		if err := s.planContext(p, h, want, dir, nil); err != nil {
			return nil, err
		}
	} else if sp.from != "" {
		if err := s.planFrom(p, h); err != nil {
			return nil, err
		}
	} else {
		ig, err := b.contextIgnore()
		if err != nil {
			return nil, err
		}
		if err := s.planContext(p, h, want, b.o.ContextDir, ig); err != nil {
			return nil, err
		}
	}
	if n := len(p.items) + len(p.docs); n > 1 && !p.destDir {
		return nil, b.df.errorAt(cmd, "When using %s with more than one source file, the destination must be a directory and end with a /", p.verb())
	}
	p.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if p.kind == "" {
		switch {
		case len(p.items)+len(p.docs) != 1:
			p.kind = "multi"
		case len(p.items) == 1 && p.items[0].info.IsDir():
			p.kind = "dir"
		default:
			p.kind = "file"
		}
	}
	return p, nil
}

func boolFlag(b *bool) string {
	if b == nil {
		return "default"
	}
	return strconv.FormatBool(*b)
}

// checkCopySources refuses what COPY and ADD cannot take, as BuildKit
// does, and returns the --checksum to verify.
func checkCopySources(sp copySpec) (digest.Digest, error) {
	for _, src := range sp.sources {
		switch {
		case isGitSource(src) && sp.add:
			return "", fmt.Errorf("ADD from a git repository (%s) is not supported yet", src)
		case isGitSource(src):
			return "", fmt.Errorf("source can't be a git ref for COPY (%s): use ADD", src)
		case isHTTPSource(src) && !sp.add:
			return "", fmt.Errorf("source can't be a URL for COPY (%s): use ADD", src)
		}
	}
	if sp.checksum == "" {
		return "", nil
	}
	if len(sp.sources) != 1 || len(sp.docs) != 0 {
		return "", errors.New("checksum can't be specified for multiple sources")
	}
	if !isHTTPSource(sp.sources[0]) {
		return "", errors.New("checksum requires HTTP(S) or Git sources")
	}
	return parseChecksum(sp.checksum)
}

// planFrom resolves --from: the image is known now, its files are
// resolved when the step runs.
func (s *stage) planFrom(p *copyPlan, h hash.Hash) error {
	from := p.spec.from
	id, err := s.imageFrom(p.cmd, "COPY --from", from, fmt.Sprintf("COPY --from=%s: the stage is defined after this one", from))
	if err != nil {
		return err
	}
	p.fromImage, p.fromName = id, from
	fmt.Fprintf(h, "from\x00%s\x00", id)
	for _, src := range p.spec.sources {
		fmt.Fprintf(h, "src\x00%s\x00", src)
	}
	p.kind = "multi"
	if len(p.spec.sources) == 1 && len(p.docs) == 0 && !hasGlob(p.spec.sources[0]) && !p.spec.parents {
		p.kind = "file"
	}
	if len(p.spec.sources)+len(p.docs) > 1 && !p.destDir {
		return s.b.df.errorAt(p.cmd, "When using %s with more than one source file, the destination must be a directory and end with a /", p.verb())
	}
	return nil
}

// planContext resolves sources in the build context (root, with its
// ignore rules) and downloads URLs
// (docker downloads on every build and keys the cache on the content).
func (s *stage) planContext(p *copyPlan, h hash.Hash, want digest.Digest, root string, ig *ignoreRules) error {
	b := s.b
	f := copyFilter{ignore: ig, exclude: p.excludes}
	for _, src := range p.spec.sources {
		if isHTTPSource(src) {
			dir, err := p.tempDir()
			if err != nil {
				return err
			}
			d, err := fetch(b.ctx, src, dir, want)
			if err != nil {
				return b.df.errorAt(p.cmd, "%v", err)
			}
			var lm int64
			if !d.modTime.IsZero() {
				lm = d.modTime.UnixNano()
			}
			fmt.Fprintf(h, "url\x00%s\x00%s\x00%s\x00%d\x00", d.url, d.name, d.digest, lm)
			// docker does not extract downloaded archives, unless --unpack
			p.items = append(p.items, d.item(p.spec.unpack != nil && *p.spec.unpack))
			continue
		}
		items, err := p.resolve(root, []string{src}, f, "the build context")
		if err != nil {
			return b.df.errorAt(p.cmd, "%v", err)
		}
		for _, it := range items {
			if p.times == nil {
				p.times = sha256.New()
			}
			if err := digestItem(h, p.times, it, f); err != nil {
				return b.df.errorAt(p.cmd, "%v", err)
			}
		}
		p.items = append(p.items, items...)
	}
	return nil
}

// resolve finds sources under root: with --parents as BuildKit does,
// else as podman does. ADD extracts the local archives among them
// unless --unpack=false.
func (p *copyPlan) resolve(root string, patterns []string, f copyFilter, where string) ([]copyItem, error) {
	var items []copyItem
	var err error
	if p.spec.parents {
		items, err = resolveParents(root, patterns, f, where)
	} else {
		items, err = resolveSources(root, patterns, f, where)
	}
	if err != nil {
		return nil, err
	}
	unpack := p.spec.add && (p.spec.unpack == nil || *p.spec.unpack)
	for i := range items {
		items[i].unpack = unpack
	}
	return items, nil
}

// imageFrom finds the image COPY --from or RUN --mount from= names: a
// --build-context image, a stage built before, or an image (pulled if
// needed). flag names the option in errors; later is the error for a
// stage defined after this one.
func (s *stage) imageFrom(cmd instructions.Command, flag, from, later string) (string, error) {
	b := s.b
	if id, ok, err := b.namedImage(from); ok {
		if err != nil {
			return "", b.df.errorAt(cmd, "%s=%s: %v", flag, from, err)
		}
		return id, nil
	}
	if j, ok := b.df.stageIndex(from, s.index); ok {
		id, built := b.result(j)
		if !built {
			return "", b.df.errorAt(cmd, "stage %q was not built", from)
		}
		return id, nil
	}
	for j := s.index; j < len(b.df.stages); j++ {
		if strings.EqualFold(b.df.stages[j].Name, from) {
			return "", b.df.errorAt(cmd, "%s", later)
		}
	}
	img, err := b.o.Pull(b.ctx, from)
	if err != nil {
		return "", b.df.errorAt(cmd, "%s=%s: %v", flag, from, err)
	}
	return img.ID, nil
}

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// copyFilter says which files below a source are copied.
type copyFilter struct {
	// ignore is the context's .containerignore/.dockerignore, on paths in
	// the context (nil for an image).
	ignore *ignoreRules
	// exclude is --exclude, on paths relative to the source.
	exclude *ignoreRules
}

// skip says whether a path below a source is left out: ctxRel is its
// path in the context, rel its path relative to the source. implicit: a
// directory left out but walked, for files re-included ("!") below it.
func (f copyFilter) skip(ctxRel, rel string, dir bool) (skip, implicit bool, err error) {
	for _, c := range []struct {
		r *ignoreRules
		p string
	}{{f.exclude, rel}, {f.ignore, ctxRel}} {
		ex, err := c.r.excluded(c.p)
		if err != nil {
			return false, false, err
		}
		if ex {
			if !dir || !c.r.mayInclude(c.p) {
				return true, false, nil
			}
			implicit = true
		}
	}
	return false, implicit, nil
}

// skipContext says whether the context's ignore rules leave out a path
// (a directory is kept when files below it may be re-included).
func (f copyFilter) skipContext(ctxRel string, dir bool) (bool, error) {
	ex, err := f.ignore.excluded(ctxRel)
	if err != nil || !ex {
		return false, err
	}
	return !dir || !f.ignore.mayInclude(ctxRel), nil
}

// resolveSources finds the sources under root ("/" of the sources):
// names relative to it ("../" cannot leave it), wildcards as
// path.Match, symlinks followed inside root. f.ignore (the context's
// ignore rules, nil for an image) hides files; f.exclude (--exclude)
// leaves out what a wildcard matched, by its path below the wildcard's
// fixed part, as docker documents.
func resolveSources(root string, patterns []string, f copyFilter, where string) ([]copyItem, error) {
	var items []copyItem
	for _, pat := range patterns {
		clean := strings.TrimPrefix(path.Clean("/"+pat), "/")
		if hasGlob(clean) {
			rels, err := globInRoot(root, clean)
			if err != nil {
				return nil, err
			}
			fixed := fixedPrefix(clean)
			n := 0
			for _, rel := range rels {
				if ex, err := f.ignore.excluded(rel); err != nil || ex {
					continue
				}
				n++
				if ex, err := f.exclude.excluded(strings.TrimPrefix(strings.TrimPrefix(rel, fixed), "/")); err != nil {
					return nil, err
				} else if ex {
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
				items = append(items, copyItem{host: host, rel: rel, name: path.Base(rel), info: info})
			}
			if n == 0 {
				return nil, fmt.Errorf("no source files were specified: %q matches nothing in %s", pat, where)
			}
			continue
		}
		if ex, err := f.ignore.excluded(clean); err != nil {
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
		items = append(items, copyItem{host: host, rel: clean, name: path.Base("/" + clean), info: info})
	}
	return items, nil
}

// fixedPrefix is the part of a pattern before its first component with
// a wildcard.
func fixedPrefix(pattern string) string {
	comps := strings.Split(pattern, "/")
	i := 0
	for i < len(comps) && !hasGlob(comps[i]) {
		i++
	}
	return path.Join(comps[:i]...)
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
// name order, skipping what f leaves out. fn gets the path relative to
// the item ("" for the item itself) and, for a directory left out that
// holds re-included files, implicit=true (create it, do not copy it).
func walkItem(it copyItem, f copyFilter, fn func(rel, host string, info fs.FileInfo, implicit bool) error) error {
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
			// --exclude paths are relative to the source (with --parents,
			// to the directory the kept path starts at)
			skip, implicit, err := f.skip(path.Join(it.rel, crel), path.Join(it.under, crel), info.IsDir())
			if err != nil {
				return err
			}
			if skip {
				continue
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
// modes, sizes, link targets and file contents; and the modification
// times to times (h again where they count the same).
func digestItem(h, times io.Writer, it copyItem, f copyFilter) error {
	fmt.Fprintf(h, "item\x00%s\x00%s\x00%s\x00", it.rel, it.name, it.under)
	buf := make([]byte, 32<<10)
	return walkItem(it, f, func(rel, host string, info fs.FileInfo, implicit bool) error {
		mode := info.Mode()
		fmt.Fprintf(h, "e\x00%s\x00%d\x00%d\x00%t\x00", rel, uint32(mode), info.Size(), implicit)
		fmt.Fprintf(times, "%s\x00%d\x00", rel, info.ModTime().UnixNano())
		switch {
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "l\x00%s\x00", target)
		case mode.IsRegular():
			file, err := os.Open(host)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(h, file, buf)
			file.Close()
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
	items := p.items
	f := copyFilter{ignore: b.ignore, exclude: p.excludes}
	if p.fromImage != "" {
		root, err := b.mountImage(p.fromImage)
		if err != nil {
			return err
		}
		f.ignore = nil
		if items, err = p.resolve(root, p.spec.sources, f, "stage or image "+p.fromName); err != nil {
			return b.df.errorAt(p.cmd, "%v", err)
		}
		if len(items)+len(p.docs) > 1 && !p.destDir {
			return b.df.errorAt(p.cmd, "When using %s with more than one source file, the destination must be a directory and end with a /", p.verb())
		}
	}
	items = append(items[:len(items):len(items)], p.docs...)
	uid, gid, err := resolveChown(ws.mount, p.spec.chown)
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
	if p.spec.parents {
		if err := c.mkdirAll(destHost); err != nil {
			return err
		}
	}
	// directories --parents made, whose times are set once all is copied
	var parentDirs []dirTime
	for _, it := range items {
		if it.unpack && it.info.Mode().IsRegular() {
			if ok, err := isArchive(it.host); err != nil {
				return err
			} else if ok {
				if err := c.mkdirAll(destHost); err != nil {
					return err
				}
				if err := c.extract(it.host, destHost, p.spec.chown != ""); err != nil {
					return fmt.Errorf("extracting %s: %w", it.rel, err)
				}
				continue
			}
		}
		target := destHost
		switch {
		case it.under != "":
			at, err := c.parents(destHost, it, &parentDirs)
			if err != nil {
				return err
			}
			target = filepath.Join(at, path.Base(it.under))
		case !it.info.IsDir() && destIsDir:
			target = filepath.Join(destHost, it.name)
		}
		if err := c.mkdirAll(filepath.Dir(target)); err != nil {
			return err
		}
		if it.info.IsDir() && it.under == "" {
			if err := c.mkdirAll(target); err != nil {
				return err
			}
		}
		if err := c.copyItem(it, f, target); err != nil {
			return err
		}
	}
	for i := len(parentDirs) - 1; i >= 0; i-- {
		if err := setTimes(parentDirs[i].path, parentDirs[i].info); err != nil {
			return err
		}
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
}

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
		return c.file(src, info, dst)
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
		out.Close()
		return fmt.Errorf("writing %s: %w", c.inRoot(dst), err)
	}
	mode := unixMode(info)
	if c.chmod != nil {
		mode = c.chmod.apply(mode, false)
	}
	if err := out.Chown(c.owner(info)); err != nil {
		out.Close()
		return fmt.Errorf("changing the owner of %s: %w", c.inRoot(dst), err)
	}
	// after chown, which clears set-user-ID bits
	if err := out.Chmod(goMode(mode)); err != nil {
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
