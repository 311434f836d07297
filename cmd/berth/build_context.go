package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/buildah"
	"go.podman.io/storage/pkg/archive"
)

// buildContext is where a build's files come from: a directory, possibly
// a temporary one made from a tar archive or a download.
type buildContext struct {
	dir string
	// containerfile is set when the source was a Containerfile rather than
	// an archive (stdin or a URL); the context is then an empty directory.
	containerfile []byte
	// temp is removed by cleanup.
	temp string
}

func (c *buildContext) cleanup() {
	if c.temp != "" {
		_ = os.RemoveAll(c.temp)
	}
}

// openBuildContext resolves the CONTEXT argument of build: a directory, a
// tar archive (optionally compressed), "-" for an archive or a
// Containerfile on stdin (as podman), an http(s) URL of either, or a git
// repository.
func openBuildContext(ctx context.Context, arg string) (*buildContext, error) {
	switch {
	case arg == "-":
		return unpackContext(os.Stdin, "stdin")
	case buildah.IsGitSource(arg):
		return cloneContext(ctx, arg)
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		resp, err := buildah.OpenURL(ctx, arg)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return unpackContext(resp.Body, arg)
	case strings.Contains(arg, "://") || strings.HasPrefix(arg, "git@") || strings.HasPrefix(arg, "github.com/"):
		return nil, fmt.Errorf("a build context from %s is not supported yet: use a directory, a tar archive, an http(s) URL of one or a git repository", arg)
	}
	dir, err := filepath.Abs(arg)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("the build context %s: %w", arg, err)
	}
	if st.IsDir() {
		return &buildContext{dir: dir}, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("the build context %s: %w", arg, err)
	}
	defer f.Close()
	c, err := unpackContext(f, arg)
	if err != nil {
		return nil, err
	}
	if c.containerfile != nil {
		c.cleanup()
		return nil, fmt.Errorf("the build context %s is neither a directory nor a tar archive", arg)
	}
	return c, nil
}

// cloneContext checks a git repository out as the context (#ref:subdir
// as BuildKit reads them).
func cloneContext(ctx context.Context, src string) (*buildContext, error) {
	temp, err := os.MkdirTemp("", "berth-build-context-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for the build context: %w", err)
	}
	co, err := buildah.CloneGit(ctx, src, filepath.Join(temp, "repo"), false)
	if err != nil {
		_ = os.RemoveAll(temp)
		return nil, err
	}
	return &buildContext{dir: co.Dir, temp: temp}, nil
}

// unpackContext extracts a tar archive (compressed or not) into a new
// temporary directory; anything else is taken as a Containerfile.
func unpackContext(r io.Reader, what string) (*buildContext, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	temp, err := os.MkdirTemp("", "berth-build-context-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for the build context: %w", err)
	}
	c := &buildContext{dir: temp, temp: temp}
	if !isArchive(head) {
		data, err := io.ReadAll(br)
		if err != nil {
			c.cleanup()
			return nil, fmt.Errorf("reading the Containerfile from %s: %w", what, err)
		}
		c.containerfile = data
		return c, nil
	}
	// The context's owners do not matter: COPY and ADD set their own.
	opts := &archive.TarOptions{NoLchown: true}
	if err := archive.Untar(br, temp, opts); err != nil {
		c.cleanup()
		return nil, fmt.Errorf("extracting the build context from %s: %w", what, err)
	}
	return c, nil
}

// isArchive reports whether head starts a tar archive, compressed or not.
func isArchive(head []byte) bool {
	if archive.DetectCompression(head) != archive.Uncompressed {
		return true
	}
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

// namedContext is one --build-context.
type namedContext struct {
	name  string
	image string
	*buildContext
}

// openNamedContexts reads --build-context name=value values: a directory,
// an http(s) URL of a tar archive (unpacked), a git repository, or
// docker-image://IMAGE
// (container-image:// too, as buildah). On error the caller still cleans
// up the ones returned.
func openNamedContexts(ctx context.Context, specs []string) ([]namedContext, error) {
	var out []namedContext
	seen := map[string]bool{}
	for _, spec := range specs {
		name, value, ok := strings.Cut(spec, "=")
		if !ok || name == "" || value == "" {
			return out, fmt.Errorf("invalid --build-context %q: want name=value", spec)
		}
		if seen[name] {
			return out, fmt.Errorf("invalid --build-context %q: %s is given twice", spec, name)
		}
		seen[name] = true
		for _, prefix := range []string{"docker-image://", "container-image://"} {
			if img, ok := strings.CutPrefix(value, prefix); ok {
				out = append(out, namedContext{name: name, image: img, buildContext: &buildContext{}})
				value = ""
			}
		}
		if value == "" {
			continue
		}
		if strings.HasPrefix(value, "oci-layout://") {
			return out, fmt.Errorf("--build-context %s: oci-layout:// is not supported yet: use docker-image://, a directory or an http(s) URL", name)
		}
		if value == "-" {
			return out, fmt.Errorf("--build-context %s: stdin is not a build context here", name)
		}
		bc, err := openBuildContext(ctx, value)
		if err != nil {
			return out, fmt.Errorf("--build-context %s: %w", name, err)
		}
		out = append(out, namedContext{name: name, buildContext: bc})
		if bc.containerfile != nil {
			return out, fmt.Errorf("--build-context %s: %s is neither a directory nor a tar archive", name, value)
		}
	}
	return out, nil
}

func namedContexts(list []namedContext) map[string]buildah.BuildContext {
	if len(list) == 0 {
		return nil
	}
	m := map[string]buildah.BuildContext{}
	for _, n := range list {
		if n.image != "" {
			m[n.name] = buildah.BuildContext{Image: n.image}
		} else {
			m[n.name] = buildah.BuildContext{Dir: n.dir}
		}
	}
	return m
}

// readContainerfiles reads the -f files in order and joins them (podman
// appends the instructions of later files to the first); without -f, the
// context's Containerfile or Dockerfile. It returns the name errors use.
func readContainerfiles(ctx context.Context, files []string, bc *buildContext) (string, []byte, error) {
	if len(files) == 0 {
		if bc.containerfile != nil {
			return "Containerfile", bc.containerfile, nil
		}
		for _, n := range []string{"Containerfile", "Dockerfile"} {
			p := filepath.Join(bc.dir, n)
			data, err := os.ReadFile(p)
			if err == nil {
				return p, data, nil
			}
			if !errors.Is(err, os.ErrNotExist) {
				return "", nil, err
			}
		}
		// podman's message: the Dockerfile's stat error
		return "", nil, &fs.PathError{Op: "stat", Path: filepath.Join(bc.dir, "Dockerfile"), Err: syscall.ENOENT}
	}
	var name string
	var all []byte
	for i, p := range files {
		n, data, err := readContainerfile(ctx, p, bc)
		if err != nil {
			return "", nil, err
		}
		if i == 0 {
			name = n
		} else {
			all = append(all, '\n')
		}
		all = append(all, data...)
	}
	return name, all, nil
}

// readContainerfile reads one -f: a path (relative to the working
// directory, else to the context), - for stdin, or an http(s) URL.
func readContainerfile(ctx context.Context, p string, bc *buildContext) (string, []byte, error) {
	switch {
	case p == "-":
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return "", nil, fmt.Errorf("reading the Containerfile from stdin: %w", err)
		}
		return "Containerfile (stdin)", data, nil
	case strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
		resp, err := buildah.OpenURL(ctx, p)
		if err != nil {
			return "", nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", nil, fmt.Errorf("downloading %s: %w", p, err)
		}
		return p, data, nil
	case strings.Contains(p, "://"):
		return "", nil, fmt.Errorf("a Containerfile from %s is not supported yet: use a path or an http(s) URL", p)
	}
	if bc.temp != "" && !filepath.IsAbs(p) {
		// a context from an archive: -f names a file in it
		if data, err := os.ReadFile(filepath.Join(bc.dir, p)); err == nil {
			return p, data, nil
		}
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) && !filepath.IsAbs(p) {
		// as podman: relative to the context when not found here
		if d, err2 := os.ReadFile(filepath.Join(bc.dir, p)); err2 == nil {
			return filepath.Join(bc.dir, p), d, nil
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading the Containerfile: %w", err)
	}
	return p, data, nil
}

// readBuildArgFile reads --build-arg-file: KEY=value lines, blank lines
// and # comments skipped (as buildah).
func readBuildArgFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --build-arg-file: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}
