package buildah

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// PruneCaches removes the contents of the RUN --mount=type=cache caches
// kept under graphRoot that no build is using (image prune
// --build-cache), and returns their ids. A cache in use is left alone:
// each instance is removed under its lock, which builds hold while they
// use it; the small id and lock files stay.
func PruneCaches(graphRoot string) ([]string, error) {
	root := filepath.Join(graphRoot, cacheDirName)
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the build caches: %w", err)
	}
	var pruned []string
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "tmp" {
			continue
		}
		base := filepath.Join(root, e.Name())
		n, err := pruneCache(base)
		if err != nil {
			return pruned, err
		}
		if n > 0 {
			id, _ := os.ReadFile(filepath.Join(base, "id"))
			pruned = append(pruned, strings.TrimSpace(string(id)))
		}
	}
	return pruned, nil
}

// pruneCache removes the instances of one cache that are not locked and
// says how many it removed.
func pruneCache(base string) (int, error) {
	locks, err := filepath.Glob(filepath.Join(base, "data*.lock"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, lock := range locks {
		f, err := os.OpenFile(lock, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			dir := strings.TrimSuffix(lock, ".lock")
			if _, err := os.Lstat(dir); err == nil {
				if err := os.RemoveAll(dir); err != nil {
					_ = f.Close()
					return n, fmt.Errorf("removing build cache %s: %w", dir, err)
				}
				n++
			}
		}
		_ = f.Close()
	}
	return n, nil
}
