package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type entry struct {
	name  string
	body  string
	mtime time.Time
	xattr string
}

// layerTar writes a tar as storage's diffs do (format left to the writer,
// access and change times set, which the writer drops).
func layerTar(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), ModTime: e.mtime,
			AccessTime: e.mtime.Add(time.Hour), ChangeTime: e.mtime.Add(time.Hour), Typeflag: tar.TypeReg}
		if e.xattr != "" {
			h.PAXRecords = map[string]string{"SCHILY.xattr.user.x": e.xattr}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rewrite(t *testing.T, in []byte, ft FileTimes) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := RewriteTimes(&out, bytes.NewReader(in), ft); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func readEntries(t *testing.T, data []byte) []*tar.Header {
	t.Helper()
	var out []*tar.Header
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		h.Linkname = string(body) // the body, for the checks
		out = append(out, h)
	}
}

func TestRewriteTimesSet(t *testing.T) {
	ts := time.Unix(1000, 0)
	a := layerTar(t, []entry{{"a", "A", time.Unix(1700000000, 5), ""}, {"b", "BB", time.Unix(1, 0), "v"}})
	b := layerTar(t, []entry{{"a", "A", time.Unix(1800000000, 0), ""}, {"b", "BB", time.Unix(2, 0), "v"}})
	ra, rb := rewrite(t, a, FileTimes{Set: &ts}), rewrite(t, b, FileTimes{Set: &ts})
	if !bytes.Equal(ra, rb) {
		t.Fatal("tars differing only in times differ after --timestamp")
	}
	hs := readEntries(t, ra)
	if len(hs) != 2 || hs[0].Name != "a" || hs[0].Linkname != "A" || hs[1].Linkname != "BB" {
		t.Fatalf("entries changed: %+v", hs)
	}
	for _, h := range hs {
		if !h.ModTime.Equal(ts) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: mtime %v atime %v ctime %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
	}
	if hs[1].PAXRecords["SCHILY.xattr.user.x"] != "v" {
		t.Errorf("the xattr was lost: %v", hs[1].PAXRecords)
	}
}

func TestRewriteTimesClamp(t *testing.T) {
	sde := time.Unix(2000, 0)
	in := layerTar(t, []entry{{"new", "n", time.Unix(3000, 0), ""}, {"old", "o", time.Unix(1000, 0), ""}})
	hs := readEntries(t, rewrite(t, in, FileTimes{Clamp: &sde}))
	if !hs[0].ModTime.Equal(sde) || !hs[1].ModTime.Equal(time.Unix(1000, 0)) {
		t.Errorf("clamped to %v: %v and %v", sde, hs[0].ModTime, hs[1].ModTime)
	}
}

func TestRewriteTimesBadInput(t *testing.T) {
	ts := time.Unix(1, 0)
	if err := RewriteTimes(io.Discard, bytes.NewReader([]byte("not a tar, but long enough to be read as a header block")), FileTimes{Set: &ts}); err == nil {
		t.Error("a broken tar was rewritten without an error")
	}
}

func TestSetTreeTimes(t *testing.T) {
	dir := t.TempDir()
	old, now := time.Unix(1000, 0), time.Now()
	for _, p := range []string{"sub", "sub/deeper"} {
		if err := os.Mkdir(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"new", "sub/old", "sub/deeper/new"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(dir, "sub/old"), old, old); err != nil {
		t.Fatal(err)
	}
	// a symlink to a file outside: its own time changes, not the target's
	outside := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	clamp := time.Unix(2000, 0)
	if err := setTreeTimes(dir, FileTimes{Clamp: &clamp}); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"new": clamp, "sub": clamp, "sub/deeper": clamp, "sub/deeper/new": clamp, "sub/old": old, "link": clamp}
	for p, w := range want {
		st, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime().Equal(w) {
			t.Errorf("%s: %v, want %v", p, st.ModTime(), w)
		}
	}
	if st, err := os.Stat(outside); err != nil || !st.ModTime().After(now.Add(-time.Minute)) {
		t.Errorf("the symlink's target changed: %v %v", st.ModTime(), err)
	}
	set := time.Unix(5, 0)
	if err := setTreeTimes(dir, FileTimes{Set: &set}); err != nil {
		t.Fatal(err)
	}
	for p := range want {
		if st, _ := os.Lstat(filepath.Join(dir, p)); !st.ModTime().Equal(set) {
			t.Errorf("%s: %v, want %v", p, st.ModTime(), set)
		}
	}
	if st, _ := os.Stat(dir); st.ModTime().Equal(set) {
		t.Error("the layer's own directory was changed")
	}
}
