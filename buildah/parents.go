package buildah

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// resolveParents resolves the sources of COPY --parents as BuildKit does:
// each match keeps its path relative to root, or, when the source has a
// "/./" pivot, relative to the directory before it (which may hold
// wildcards). After the pivot, "**" matches any number of directories. A
// name without wildcards must exist; wildcards may match nothing.
func resolveParents(root string, patterns []string, f copyFilter, where string) ([]copyItem, error) {
	var items []copyItem
	for _, pat := range patterns {
		base, rest, ok := strings.Cut(pat, "/./")
		if !ok {
			base, rest = "/", pat
		}
		base = strings.TrimPrefix(path.Clean("/"+base), "/")
		rest = strings.TrimPrefix(path.Clean("/"+rest), "/")
		wild := hasGlob(base) || hasGlob(rest)
		bases := []string{base}
		if hasGlob(base) {
			var err error
			if bases, err = globInRoot(root, base); err != nil {
				return nil, err
			}
		}
		found := 0
		for _, b := range bases {
			bHost, err := securejoin.SecureJoin(root, b)
			if err != nil {
				return nil, err
			}
			if st, err := os.Stat(bHost); err != nil || !st.IsDir() {
				continue
			}
			rels, err := matchUnder(bHost, rest, func(rel string, dir bool) (bool, error) {
				return f.skipContext(path.Join(b, rel), dir)
			})
			if err != nil {
				return nil, err
			}
			for _, rel := range rels {
				found++
				if ex, err := f.exclude.excluded(rel); err != nil {
					return nil, err
				} else if ex {
					continue
				}
				// a symlink that matched is copied as a link
				host := bHost
				if rel != "" {
					dir, err := securejoin.SecureJoin(bHost, path.Dir(rel))
					if err != nil {
						return nil, err
					}
					host = filepath.Join(dir, path.Base(rel))
				}
				info, err := os.Lstat(host)
				if err != nil {
					return nil, err
				}
				items = append(items, copyItem{host: host, rel: path.Join(b, rel), name: path.Base(rel), info: info, under: rel, root: bHost})
			}
		}
		if found == 0 && !wild {
			if ex, _ := f.ignore.excluded(path.Join(base, rest)); ex {
				return nil, fmt.Errorf("%q: excluded by .containerignore/.dockerignore of %s", pat, where)
			}
			return nil, fmt.Errorf("%q: no such file or directory in %s", pat, where)
		}
	}
	return items, nil
}

// matchUnder returns the paths under dir (relative, slash-separated)
// that pattern matches, not descending into what matched nor into what
// skip says to leave out. "" matches dir itself.
func matchUnder(dir, pattern string, skip func(rel string, dir bool) (bool, error)) ([]string, error) {
	if pattern == "" {
		return []string{""}, nil
	}
	comps := strings.Split(pattern, "/")
	// the part without wildcards is looked up, not listed
	i := 0
	for i < len(comps) && !hasGlob(comps[i]) {
		i++
	}
	prefix := path.Join(comps[:i]...)
	start, err := securejoin.SecureJoin(dir, prefix)
	if err != nil {
		return nil, err
	}
	st, err := os.Lstat(start)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if i == len(comps) {
		if s, err := skip(prefix, st.IsDir()); err != nil || s {
			return nil, err
		}
		return []string{prefix}, nil
	}
	if !st.IsDir() {
		return nil, nil
	}
	rest := comps[i:]
	var out []string
	var walk func(hostDir, rel string, relComps []string) error
	walk = func(hostDir, rel string, relComps []string) error {
		entries, err := os.ReadDir(hostDir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			crel := path.Join(rel, e.Name())
			ccomps := append(relComps[:len(relComps):len(relComps)], e.Name()) //nolint:gocritic // a copy: the full slice expression makes append allocate
			full, partial := matchComponents(rest, ccomps)
			if !full && !(partial && e.IsDir()) {
				continue
			}
			if s, err := skip(crel, e.IsDir()); err != nil {
				return err
			} else if s {
				continue
			}
			if full {
				out = append(out, crel)
				continue
			}
			if err := walk(path.Join(hostDir, e.Name()), crel, ccomps); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(start, prefix, nil); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// matchComponents matches a path (its components) against a pattern's:
// full when the pattern matches the path, partial when it may match a
// path below it. "**" matches any number of components, even none.
func matchComponents(pat, name []string) (full, partial bool) {
	if len(name) == 0 {
		for _, p := range pat {
			if p != "**" {
				return false, true
			}
		}
		return true, len(pat) > 0
	}
	if len(pat) == 0 {
		return false, false
	}
	if pat[0] == "**" {
		f1, p1 := matchComponents(pat[1:], name)
		f2, p2 := matchComponents(pat, name[1:])
		return f1 || f2, p1 || p2
	}
	if ok, _ := path.Match(pat[0], name[0]); !ok {
		return false, false
	}
	return matchComponents(pat[1:], name[1:])
}
