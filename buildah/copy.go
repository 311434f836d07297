package buildah

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-containers/berth/pkg/specgen"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/opencontainers/go-digest"
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
	// outside: not from the build context (a git checkout, a
	// --build-context directory), so its ignore file does not apply.
	outside bool
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
		case IsGitSource(src) && !sp.add:
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
	if IsGitSource(sp.sources[0]) {
		return "", nil // a commit, checked when cloned (planGit)
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
		if IsGitSource(src) {
			it, err := s.planGit(p, h, src)
			if err != nil {
				return err
			}
			p.items = append(p.items, it)
			continue
		}
		items, err := p.resolve(root, []string{src}, f, "the build context")
		if err != nil {
			return b.df.errorAt(p.cmd, "%v", err)
		}
		for i, it := range items {
			// a --build-context directory: the context's ignore file is not its
			items[i].outside = root != b.o.ContextDir
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

// planGit clones an ADD git source; the step's cache key is the commit
// checked out (as BuildKit's), not the files' times.
func (s *stage) planGit(p *copyPlan, h hash.Hash, src string) (copyItem, error) {
	dir, err := p.tempDir()
	if err != nil {
		return copyItem{}, err
	}
	keep := p.spec.keepGitDir != nil && *p.spec.keepGitDir
	co, err := CloneGit(s.b.ctx, src, filepath.Join(dir, "git-"+randomHex(6)), keep)
	if err != nil {
		return copyItem{}, s.b.df.errorAt(p.cmd, "%v", err)
	}
	if sum := p.spec.checksum; sum != "" && (len(sum) < 7 || !strings.HasPrefix(co.Commit, sum)) {
		return copyItem{}, s.b.df.errorAt(p.cmd, "checksum mismatch: %s is at commit %s, want %s", src, co.Commit, sum)
	}
	fmt.Fprintf(h, "git\x00%s\x00%s\x00%s\x00%t\x00", co.Remote, co.Commit, co.SubDir, keep)
	info, err := os.Lstat(co.Dir)
	if err != nil {
		return copyItem{}, err
	}
	return copyItem{host: co.Dir, rel: co.Remote, name: path.Base(co.Dir), info: info, outside: true}, nil
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
		itemFilter := f
		if it.outside {
			itemFilter.ignore = nil
		}
		if err := c.copyItem(it, itemFilter, target); err != nil {
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
