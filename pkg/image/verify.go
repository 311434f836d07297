package image

import (
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
)

// ErrDigestMismatch is wrapped by the errors a verifyingReader returns when
// the data it passed on does not have the digest (or size) it should.
var ErrDigestMismatch = errors.New("digest mismatch")

// verifyingReader passes a stream through while digesting it. At the end of
// the stream it returns, instead of io.EOF, an error wrapping
// ErrDigestMismatch if the digest (or the size, when known) differs from the
// expected one; it also fails as soon as the stream grows past a known size.
// A consumer that reads to EOF before committing what it read (as
// storage.PutLayer does) therefore never commits unverified data.
type verifyingReader struct {
	r        io.Reader
	what     string // "blob", "uncompressed layer": what the messages say is wrong
	want     digest.Digest
	size     int64 // -1: unknown
	h        hash.Hash
	n        int64
	err      error // sticky
	verified bool
}

// newVerifyingReader checks want's format and returns the reader.
func newVerifyingReader(r io.Reader, what string, want digest.Digest, size int64) (*verifyingReader, error) {
	if err := want.Validate(); err != nil {
		return nil, fmt.Errorf("%s: invalid expected digest %q: %w", what, want, err)
	}
	return &verifyingReader{r: r, what: what, want: want, size: size, h: want.Algorithm().Hash()}, nil
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.size >= 0 && v.n > v.size {
		err = fmt.Errorf("%s %w: more than the expected %d bytes", v.what, ErrDigestMismatch, v.size)
	} else if err == io.EOF {
		err = v.check()
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

// check is called at EOF: io.EOF if everything matched.
func (v *verifyingReader) check() error {
	if v.size >= 0 && v.n != v.size {
		return fmt.Errorf("%s %w: expected %d bytes, got %d", v.what, ErrDigestMismatch, v.size, v.n)
	}
	got := digest.NewDigest(v.want.Algorithm(), v.h)
	if got != v.want {
		return fmt.Errorf("%s %w: expected %s, got %s", v.what, ErrDigestMismatch, v.want, got)
	}
	v.verified = true
	return io.EOF
}

// Verified reports whether the whole stream was read and matched.
func (v *verifyingReader) Verified() bool { return v.verified }
