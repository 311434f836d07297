package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
)

// spoolMemory is how much of a spooled stream stays in memory; the rest
// goes to a temporary file.
const spoolMemory = 16 << 20

// spooled holds a stream read to its end: in memory when small, else in a
// temporary file (removed by Close), and its digest.
type spooled struct {
	mem    *bytes.Reader
	file   *os.File
	size   int64
	digest digest.Digest
}

func (r *Runtime) spool(src io.Reader) (*DiffFile, error) {
	digester := digest.Canonical.Digester()
	tr := io.TeeReader(src, digester.Hash())
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, tr, spoolMemory+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading layer changes: %w", err)
	}
	if n <= spoolMemory {
		return &DiffFile{&spooled{mem: bytes.NewReader(buf.Bytes()), size: n, digest: digester.Digest()}}, nil
	}
	f, err := os.CreateTemp(r.tmpDir(), "berth-diff-")
	if err != nil {
		return nil, fmt.Errorf("spooling layer changes: %w", err)
	}
	s := &spooled{file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("spooling layer changes: %w", err)
	}
	rest, err := io.Copy(f, tr)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("spooling layer changes: %w", err)
	}
	s.size = n + rest
	s.digest = digester.Digest()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = s.Close()
		return nil, err
	}
	return &DiffFile{s}, nil
}

// Read reads the spooled stream.
func (s *spooled) Read(p []byte) (int, error) {
	if s.file != nil {
		return s.file.Read(p)
	}
	return s.mem.Read(p)
}

// Digest is the stream's sha256 digest.
func (s *spooled) Digest() digest.Digest { return s.digest }

// Size is the length of the stream.
func (s *spooled) Size() int64 { return s.size }

// Close releases the spooled data.
func (s *spooled) Close() error {
	if s.file != nil {
		name := s.file.Name()
		err := s.file.Close()
		_ = os.Remove(name)
		s.file = nil
		return err
	}
	return nil
}
