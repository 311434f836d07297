package buildah

import (
	"fmt"
	"hash"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// expandHereDocs expands the variables (ENV, then ARG) in the unquoted
// here-documents of COPY and ADD (<<EOF; not <<"EOF" nor <<'EOF') as
// BuildKit does: with a backslash escape whatever the Dockerfile's escape
// directive, and quotes kept as they are.
func (s *stage) expandHereDocs(docs []instructions.SourceContent) ([]instructions.SourceContent, error) {
	lex := shell.NewLex('\\')
	lex.SkipProcessQuotes = true
	out := make([]instructions.SourceContent, len(docs))
	for i, d := range docs {
		out[i] = d
		if !d.Expand {
			continue
		}
		v, _, err := lex.ProcessWord(d.Data, envGetter{env: s.cfg.Config.Env, args: s.args})
		if err != nil {
			return nil, fmt.Errorf("here-document %s: %w", d.Path, err)
		}
		out[i].Data = v
	}
	return out, nil
}

// hereDocName is the file a here-document becomes: named by its word.
func hereDocName(d instructions.SourceContent) string {
	return path.Base(path.Clean("/" + d.Path))
}

// hereDocItem writes a here-document into dir as a source: mode 0644
// (before --chmod), as BuildKit creates it, modified now.
func hereDocItem(dir string, d instructions.SourceContent) (copyItem, error) {
	f, err := os.CreateTemp(dir, "heredoc-")
	if err != nil {
		return copyItem{}, err
	}
	_, err = f.WriteString(d.Data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return copyItem{}, fmt.Errorf("writing here-document %s: %w", d.Path, err)
	}
	name := hereDocName(d)
	return copyItem{
		host: f.Name(), rel: "<<" + d.Path, name: name,
		info: &sourceInfo{name: filepath.Base(f.Name()), size: int64(len(d.Data)), mode: 0o644, modTime: time.Now()},
	}, nil
}

// digestHereDoc adds what decides a here-document's file to h.
func digestHereDoc(h hash.Hash, d instructions.SourceContent) {
	fmt.Fprintf(h, "heredoc\x00%s\x00%d\x00%s\x00", hereDocName(d), len(d.Data), d.Data)
}
