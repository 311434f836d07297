package buildah

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"golang.org/x/sys/unix"
)

// IsGitSource reports whether src names a git repository the way BuildKit
// recognizes one: git@host:path, git://, ssh://, or an http(s) URL of a
// .git path, each with an optional #ref[:subdir].
func IsGitSource(src string) bool {
	ref, isGit, _ := dfgitutil.ParseGitRef(src)
	return isGit && ref != nil && !ref.IndistinguishableFromLocal
}

// GitCheckout is a repository checked out for a build.
type GitCheckout struct {
	// Dir is the checkout, or its #ref:subdir directory.
	Dir string
	// Commit is the commit checked out.
	Commit string
	// Remote and SubDir are from the source.
	Remote, SubDir string
}

var commitHash = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// CloneGit checks src (see IsGitSource) out into dest, a directory that
// must not exist, with the git command: shallow when the ref allows (a
// branch or tag on a server that can), else a full clone. The .git
// directory is removed unless keepGitDir.
func CloneGit(ctx context.Context, src, dest string, keepGitDir bool) (*GitCheckout, error) {
	ref, isGit, err := dfgitutil.ParseGitRef(src)
	if err != nil || !isGit || ref.IndistinguishableFromLocal {
		return nil, fmt.Errorf("%s is not a git repository reference", src)
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("cloning %s: the git command is needed: %w", ref.Remote, err)
	}
	git := func(dir string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		// never ask for credentials on a terminal
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return strings.TrimSpace(out.String()), err
	}
	shallow := []string{"clone", "--quiet", "--depth", "1", "--recurse-submodules", "--shallow-submodules"}
	if ref.Ref != "" {
		shallow = append(shallow, "--branch", ref.Ref)
	}
	if ref.Ref != "" && commitHash.MatchString(ref.Ref) || func() bool {
		_, err := git("", append(shallow, "--", ref.Remote, dest)...)
		return err != nil
	}() {
		// a commit, or a server without shallow clones (dumb http)
		_ = os.RemoveAll(dest)
		if out, err := git("", "clone", "--quiet", "--no-checkout", "--", ref.Remote, dest); err != nil {
			return nil, fmt.Errorf("cloning %s: %s", ref.Remote, firstLine(out, err))
		}
		target := ref.Ref
		if target == "" {
			target = "HEAD"
		}
		if out, err := git(dest, "checkout", "--quiet", target, "--"); err != nil {
			return nil, fmt.Errorf("checking out %s of %s: %s", target, ref.Remote, firstLine(out, err))
		}
		if out, err := git(dest, "submodule", "update", "--quiet", "--init", "--recursive"); err != nil {
			return nil, fmt.Errorf("submodules of %s: %s", ref.Remote, firstLine(out, err))
		}
	}
	commit, err := git(dest, "rev-parse", "HEAD")
	if err != nil {
		return nil, fmt.Errorf("reading the commit of %s: %s", ref.Remote, firstLine(commit, err))
	}
	when, err := git(dest, "log", "-1", "--format=%ct")
	if err != nil {
		return nil, fmt.Errorf("reading the commit time of %s: %s", ref.Remote, firstLine(when, err))
	}
	if !keepGitDir {
		if err := os.RemoveAll(filepath.Join(dest, ".git")); err != nil {
			return nil, err
		}
	}
	// the files get the commit's time, not the checkout's: the same
	// commit then gives the same files (and COPY of them the cache)
	secs, err := strconv.ParseInt(when, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("the commit time of %s: %w", ref.Remote, err)
	}
	if err := setTreeTimes(dest, time.Unix(secs, 0)); err != nil {
		return nil, err
	}
	co := &GitCheckout{Dir: dest, Commit: commit, Remote: ref.Remote, SubDir: ref.SubDir}
	if ref.SubDir != "" {
		dir, err := securejoin.SecureJoin(dest, ref.SubDir)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s: %s is not a directory in the repository", src, ref.SubDir)
		}
		co.Dir = dir
	}
	return co, nil
}

// setTreeTimes sets the times of everything under root (symlinks
// themselves, not their targets) to t.
func setTreeTimes(root string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
}

func firstLine(out string, err error) string {
	if out == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(out, "\n")
	return strings.TrimPrefix(line, "fatal: ")
}
