package buildah

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// Finding the sources of COPY and ADD (names, wildcards, the ignore file
// and --exclude) and walking and digesting them.

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
			_ = file.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
}
