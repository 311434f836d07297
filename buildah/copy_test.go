package buildah

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/patternmatcher"
	"github.com/opencontainers/go-digest"
)

func TestFileMode(t *testing.T) {
	for _, c := range []struct {
		spec  string
		mode  uint32
		isDir bool
		want  uint32
	}{
		{"0755", 0o600, false, 0o755},
		{"4755", 0o600, false, 0o4755},
		{"u+x", 0o644, false, 0o744},
		{"+x", 0o644, false, 0o755},
		{"go-w", 0o666, false, 0o644},
		{"u=rw,g=r,o=r", 0o777, false, 0o644},
		{"a+X", 0o644, false, 0o644},
		{"a+X", 0o744, false, 0o755},
		{"a+X", 0o600, true, 0o711},
		{"u=rwX,go=rX", 0o600, false, 0o644},
		{"u=rwX,go=rX", 0o700, true, 0o755},
		{"g=u", 0o750, false, 0o770},
		{"o=g", 0o750, false, 0o755},
		{"u+rw,g+r,o-x,o+w", 0o124, true, 0o766},
		{"go=", 0o777, false, 0o700},
		{"u+s,+t", 0o755, true, 0o5755},
		{"g-s", 0o2755, true, 0o755},
		{"u-x+s", 0o755, false, 0o4655},
	} {
		m, err := parseFileMode(c.spec)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if got := m.apply(c.mode, c.isDir); got != c.want {
			t.Errorf("chmod %s on %o (dir %v) = %o, want %o", c.spec, c.mode, c.isDir, got, c.want)
		}
	}
	for _, bad := range []string{"0999", "10000", "u+q", "x", "u", "ug+go", "u+x;"} {
		if _, err := parseFileMode(bad); err == nil || !strings.Contains(err.Error(), "invalid chmod parameter") {
			t.Errorf("--chmod=%s: error %v", bad, err)
		}
	}
	if m, err := parseFileMode(""); m != nil || err != nil {
		t.Errorf("no --chmod: %v %v", m, err)
	}
}

func TestMatchComponents(t *testing.T) {
	for _, c := range []struct {
		pat, name     string
		full, partial bool
	}{
		{"a/b", "a", false, true},
		{"a/b", "a/b", true, false},
		{"a/b", "a/c", false, false},
		{"a/*/c", "a/x", false, true},
		{"a/*/c", "a/x/c", true, false},
		{"src/**/*.txt", "src/a.txt", true, true},
		{"src/**/*.txt", "src/x/y/c.txt", true, true},
		{"src/**/*.txt", "src/x/y/c.md", false, true},
		{"src/**/*.txt", "other", false, false},
		{"c/**/e", "c/d/e", true, true},
		{"**", "anything/deep", true, true},
	} {
		full, partial := matchComponents(strings.Split(c.pat, "/"), strings.Split(c.name, "/"))
		if full != c.full || partial != c.partial {
			t.Errorf("match %s against %s = %v %v, want %v %v", c.pat, c.name, full, partial, c.full, c.partial)
		}
	}
}

func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func itemPaths(items []copyItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.rel+"->"+it.under)
	}
	return out
}

func TestResolveParents(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, "test/a/b/c/d/foo", "test/a/b/c/d/e/bay", "test/a/b2/c/d/e/bar", "test/a/b/c2/d/e/baz", "x/a.txt", "y/a.txt", "ignored/f")
	ig := &ignoreRules{pm: mustPatterns(t, "ignored")}
	for _, c := range []struct {
		patterns []string
		want     []string
	}{
		{[]string{"x/a.txt", "y/a.txt"}, []string{"x/a.txt->x/a.txt", "y/a.txt->y/a.txt"}},
		{[]string{"/test/a/b/./c/d"}, []string{"test/a/b/c/d->c/d"}},
		{[]string{"/test/a/b/c/d/."}, []string{"test/a/b/c/d->test/a/b/c/d"}},
		{[]string{"/test/a/./b/./c"}, []string{"test/a/b/c->b/c"}},
		{[]string{"/test/a/./*/c"}, []string{"test/a/b/c->b/c", "test/a/b2/c->b2/c"}},
		{[]string{"/test/a/b*/./c/**/e"}, []string{"test/a/b/c/d/e->c/d/e", "test/a/b2/c/d/e->c/d/e"}},
		{[]string{"/test/a/b/./c2*"}, []string{"test/a/b/c2->c2"}},
		{[]string{"/test/nothing*"}, nil},
		{[]string{"*/f"}, nil},
	} {
		items, err := resolveParents(dir, c.patterns, copyFilter{ignore: ig}, "ctx")
		if err != nil {
			t.Errorf("%v: %v", c.patterns, err)
			continue
		}
		if got := itemPaths(items); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v resolves to %v, want %v", c.patterns, got, c.want)
		}
	}
	if _, err := resolveParents(dir, []string{"test/nothing"}, copyFilter{}, "ctx"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing source: %v", err)
	}
	if _, err := resolveParents(dir, []string{"ignored/f"}, copyFilter{ignore: ig}, "ctx"); err == nil || !strings.Contains(err.Error(), "excluded") {
		t.Errorf("an ignored source: %v", err)
	}
	// --exclude applies to paths below the pivot
	items, err := resolveParents(dir, []string{"/test/a/./*/c"}, copyFilter{exclude: &ignoreRules{pm: mustPatterns(t, "b2/**")}}, "ctx")
	if err != nil || !reflect.DeepEqual(itemPaths(items), []string{"test/a/b/c->b/c"}) {
		t.Errorf("--exclude=b2/**: %v %v", itemPaths(items), err)
	}
}

func mustPatterns(t *testing.T, p ...string) *patternmatcher.PatternMatcher {
	t.Helper()
	pm, err := patternmatcher.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

func TestResolveSourcesExclude(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, "home.txt", "home.md", "homedir/x.txt", "homedir/y.go")
	f := copyFilter{exclude: &ignoreRules{pm: mustPatterns(t, "*.txt")}}
	items, err := resolveSources(dir, []string{"hom*"}, f, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.name)
	}
	if !reflect.DeepEqual(names, []string{"home.md", "homedir"}) {
		t.Errorf("hom* with --exclude=*.txt = %v, want home.md homedir", names)
	}
	var walked []string
	if err := walkItem(items[1], f, func(rel, _ string, _ os.FileInfo, _ bool) error {
		walked = append(walked, rel)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(walked, []string{"", "y.go"}) {
		t.Errorf("homedir walked %v, want y.go only", walked)
	}
	// a wildcard whose matches are all excluded matched something: no error
	if items, err := resolveSources(dir, []string{"*.txt"}, f, "ctx"); err != nil || len(items) != 0 {
		t.Errorf("*.txt all excluded: %v %v", items, err)
	}
}

func TestResolveSourcesNamesFollowedSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, "a.txt")
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	items, err := resolveSources(dir, []string{"link"}, copyFilter{}, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	if it := items[0]; it.name != "link" || !it.info.Mode().IsRegular() {
		t.Errorf("a symlink source: name %q mode %v, want the followed file named link", it.name, it.info.Mode())
	}
}

func TestFetch(t *testing.T) {
	lm := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "f", lm, strings.NewReader("content"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	sum := sha256.Sum256([]byte("content"))
	want := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
	d, err := fetch(context.Background(), srv.URL+"/dir/file.txt?x=1", dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if d.name != "file.txt" || d.digest != want || !d.modTime.Equal(lm) || d.size != 7 {
		t.Errorf("download = %+v", d)
	}
	if data, _ := os.ReadFile(d.file); string(data) != "content" {
		t.Errorf("downloaded %q", data)
	}
	it := d.item(false)
	if it.info.Mode() != 0o600 || !it.info.ModTime().Equal(lm) || it.name != "file.txt" {
		t.Errorf("the downloaded item: mode %v time %v name %s", it.info.Mode(), it.info.ModTime(), it.name)
	}
	other := digest.FromString("other")
	if _, err := fetch(context.Background(), srv.URL+"/f", dir, other); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("a wrong checksum: %v", err)
	}
	if _, err := fetch(context.Background(), srv.URL+"/missing", dir, ""); err == nil || !strings.Contains(err.Error(), srv.URL+"/missing") || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404: %v", err)
	}
}

func TestURLSources(t *testing.T) {
	for src, want := range map[string][2]bool{ // http, git
		"http://example.com/f.tar.gz":          {true, false},
		"https://example.com/":                 {true, false},
		"https://github.com/moby/buildkit.git": {false, true},
		"https://example.com/r.git#main:sub":   {false, true},
		"git@github.com:moby/buildkit.git":     {false, true},
		"git://example.com/r":                  {false, true},
		"local/file.git":                       {false, false},
		"github.com/moby/buildkit":             {false, false},
	} {
		if got := [2]bool{isHTTPSource(src), IsGitSource(src)}; got != want {
			t.Errorf("%s: http, git = %v, want %v", src, got, want)
		}
	}
	for u, want := range map[string]string{
		"http://h/a/b.txt?q=1": "b.txt",
		"http://h/":            "__unnamed__",
		"http://h":             "__unnamed__",
	} {
		if got := urlFileName(u); got != want {
			t.Errorf("urlFileName(%s) = %s, want %s", u, got, want)
		}
	}
	for _, bad := range []string{"md5:abc", "sha256:xyz", "sha512:" + strings.Repeat("0", 128)} {
		if _, err := parseChecksum(bad); err == nil {
			t.Errorf("--checksum=%s accepted", bad)
		}
	}
}

func TestCheckCopySources(t *testing.T) {
	for _, c := range []struct {
		sp   copySpec
		want string
	}{
		{copySpec{sources: []string{"http://h/f"}}, "source can't be a URL for COPY"},
		{copySpec{sources: []string{"git@h:r.git"}}, "source can't be a git ref for COPY"},
		{copySpec{add: true, sources: []string{"a"}, checksum: "sha256:0"}, "checksum requires HTTP(S) or Git sources"},
		{copySpec{add: true, sources: []string{"http://h/a", "b"}, checksum: "sha256:0"}, "checksum can't be specified for multiple sources"},
		{copySpec{add: true, sources: []string{"http://h/a"}, checksum: "sha256:0"}, "want sha256:<64 hexadecimal digits>"},
	} {
		if _, err := checkCopySources(c.sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.sp, err, c.want)
		}
	}
	sum := sha256.Sum256(nil)
	want := "sha256:" + hex.EncodeToString(sum[:])
	if d, err := checkCopySources(copySpec{add: true, sources: []string{"http://h/a"}, checksum: want}); err != nil || d.String() != want {
		t.Errorf("a good checksum: %v %v", d, err)
	}
}

func TestHereDocs(t *testing.T) {
	d := parseString(t, "FROM x\nARG NAME=arg\nENV E=env\nCOPY <<EOF <<\"LIT\" /d/\n$E ${NAME} \"$E\" \\$E it's\nEOF\n$E\nLIT\n")
	c := d.stages[0].Commands[2].(*instructions.CopyCommand)
	if len(c.SourceContents) != 2 || len(c.SourcePaths) != 0 {
		t.Fatalf("parsed %+v", c.SourcesAndDest)
	}
	args := newArgList()
	v := "arg"
	args.set("NAME", &v)
	s := &stage{args: args, cfg: dockerConfig([]string{"E=env"})}
	docs, err := s.expandHereDocs(c.SourceContents)
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].Data != "env arg \"env\" $E it's\n" || docs[1].Data != "$E\n" {
		t.Errorf("expanded %q and %q", docs[0].Data, docs[1].Data)
	}
	if c.SourceContents[0].Data == docs[0].Data {
		t.Errorf("the parsed instruction was changed")
	}
	it, err := hereDocItem(t.TempDir(), docs[0])
	if err != nil {
		t.Fatal(err)
	}
	if it.name != "EOF" || it.info.Mode() != 0o644 || it.info.Size() != int64(len(docs[0].Data)) {
		t.Errorf("here-document item %+v", it)
	}
}

func dockerConfig(env []string) *dockerspec.DockerOCIImage {
	c := &dockerspec.DockerOCIImage{}
	c.Config.Env = env
	return c
}
