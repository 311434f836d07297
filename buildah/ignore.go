package buildah

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ignoreRules are the context's .containerignore (or .dockerignore)
// patterns, with docker's semantics: later patterns win, "!" re-includes.
type ignoreRules struct {
	pm *patternmatcher.PatternMatcher // nil: nothing is ignored
}

// loadIgnore reads file (--ignorefile) if given, else
// <context>/.containerignore, else .dockerignore.
func loadIgnore(contextDir, file string) (*ignoreRules, error) {
	names := []string{filepath.Join(contextDir, ".containerignore"), filepath.Join(contextDir, ".dockerignore")}
	if file != "" {
		names = []string{file}
	}
	for _, name := range names {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) && file == "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		patterns, err := ignorefile.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if len(patterns) == 0 {
			break
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &ignoreRules{pm: pm}, nil
	}
	return &ignoreRules{}, nil
}

// excluded reports whether rel (a slash-separated path relative to the
// context) is ignored.
func (r *ignoreRules) excluded(rel string) (bool, error) {
	if r == nil || r.pm == nil || rel == "" || rel == "." {
		return false, nil
	}
	return r.pm.MatchesOrParentMatches(rel)
}

// mayInclude reports whether an ignored directory may still hold files
// an exception ("!dir/file") brings back, so that it must be walked.
func (r *ignoreRules) mayInclude(dir string) bool {
	if r == nil || r.pm == nil || !r.pm.Exclusions() {
		return false
	}
	dirSlash := dir + "/"
	for _, p := range r.pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(p.String()+"/", dirSlash) {
			return true
		}
	}
	return false
}
