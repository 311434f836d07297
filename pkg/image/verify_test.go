package image

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
)

func TestVerifyingReader(t *testing.T) {
	data := []byte(strings.Repeat("berth streams layers\n", 1000))
	good := digest.FromBytes(data)
	other := digest.FromString("something else")
	cases := []struct {
		name    string
		input   []byte
		want    digest.Digest
		size    int64
		wantErr string // "" : reads to io.EOF and Verified
	}{
		{"match, size known", data, good, int64(len(data)), ""},
		{"match, size unknown", data, good, -1, ""},
		{"other digest", data, other, -1, "digest mismatch: expected " + other.String() + ", got " + good.String()},
		{"truncated", data[:len(data)-1], good, int64(len(data)), "expected 21000 bytes, got 20999"},
		{"truncated, size unknown", data[:len(data)-1], good, -1, "digest mismatch"},
		{"longer than its size", append(bytes.Clone(data), 'x'), good, int64(len(data)), "more than the expected 21000 bytes"},
		{"empty", nil, digest.FromBytes(nil), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := newVerifyingReader(iotest.HalfReader(bytes.NewReader(c.input)), "blob", c.want, c.size)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(v)
			if c.wantErr == "" {
				if err != nil || !v.Verified() {
					t.Fatalf("ReadAll: %v (verified %v), want success", err, v.Verified())
				}
				if !bytes.Equal(got, c.input) {
					t.Errorf("passed %d bytes on, want the %d read", len(got), len(c.input))
				}
				return
			}
			if err == nil || !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("ReadAll error %v, want a digest mismatch saying %q", err, c.wantErr)
			}
			if v.Verified() {
				t.Error("Verified after a mismatch")
			}
			// the error is sticky: a consumer retrying never sees io.EOF
			if n, err2 := v.Read(make([]byte, 10)); n != 0 || err2 == nil || err2 == io.EOF {
				t.Errorf("Read after the error = %d, %v; want 0 and the error again", n, err2)
			}
		})
	}
}

func TestVerifyingReaderInvalidDigest(t *testing.T) {
	if _, err := newVerifyingReader(strings.NewReader("x"), "blob", "sha256:short", -1); err == nil {
		t.Fatal("an invalid expected digest was accepted")
	}
}

// layerStream: PutLayer must see an error, not io.EOF, when the compressed
// blob does not match even though the uncompressed stream does.
func TestLayerStreamChecksBothDigests(t *testing.T) {
	payload := []byte("the uncompressed layer")
	compressed := []byte("the compressed blob, read to its end")
	for _, c := range []struct {
		name      string
		comp, unc digest.Digest
		wantErr   bool
	}{
		{"both match", digest.FromBytes(compressed), digest.FromBytes(payload), false},
		{"compressed differs", digest.FromString("x"), digest.FromBytes(payload), true},
		{"uncompressed differs", digest.FromBytes(compressed), digest.FromString("y"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			comp, _ := newVerifyingReader(bytes.NewReader(compressed), "blob", c.comp, -1)
			unc, _ := newVerifyingReader(bytes.NewReader(payload), "uncompressed layer", c.unc, -1)
			s := &layerStream{ctx: t.Context(), uncomp: unc, comp: comp}
			got, err := io.ReadAll(s)
			if c.wantErr != (err != nil) {
				t.Fatalf("ReadAll error %v, want an error: %v", err, c.wantErr)
			}
			if err != nil && !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("error %v is not a digest mismatch", err)
			}
			if !c.wantErr && !bytes.Equal(got, payload) {
				t.Errorf("read %q, want %q", got, payload)
			}
		})
	}
}
