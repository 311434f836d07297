package buildah

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

func parseString(t *testing.T, content string) *dockerfile {
	t.Helper()
	d, err := parseDockerfile("Containerfile", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for content, want := range map[string]string{
		"FROM x\nRUN true\nFROBNICATE\n":            "line 3: unknown instruction: FROBNICATE",
		"FROM x\n\nRUN --mount=type=ssh true":       "Containerfile:3: RUN --mount=type=ssh is not supported yet",
		"FROM x\nCOPY --chmod=u+q a /b\n":           "Containerfile:2: --chmod: invalid chmod parameter",
		"FROM x\nCOPY --chmod=0999 a /b\n":          "it should be octal string and between 0 and 07777",
		"FROM x\nADD --checksum=sha256:0 a b /c/\n": "Containerfile:2: checksum can't be specified for multiple sources",
		"RUN true\n":         "no build stage",
		"# only a comment\n": "file with no instructions",
		"ARG A=1\n":          "no FROM instruction",
	} {
		_, err := parseDockerfile("Containerfile", []byte(content))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", content, err, want)
		}
	}
}

func TestGlobalArgsAndPlan(t *testing.T) {
	d := parseString(t, `ARG BASE=busybox
ARG TAG=${BASE}-1
FROM $BASE AS a
RUN true
FROM scratch AS b
COPY --from=a / /
FROM scratch AS unused
FROM b AS final
COPY --from=0 /x /y
`)
	lex := shell.NewLex(d.escape)
	consumed := map[string]bool{}
	global, err := d.globalArgs(lex, map[string]string{"BASE": "alpine", "OTHER": "x"}, consumed)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := global.get("BASE"); v != "alpine" {
		t.Errorf("BASE = %q, want the --build-arg value", v)
	}
	if v, _ := global.get("TAG"); v != "alpine-1" {
		t.Errorf("TAG = %q, want alpine-1 (expanded with the ARGs before it)", v)
	}
	if v, _ := global.get("TARGETOS"); v != "linux" {
		t.Errorf("TARGETOS = %q", v)
	}
	if !consumed["BASE"] || consumed["OTHER"] {
		t.Errorf("consumed = %v, want BASE only", consumed)
	}
	target, order, deps, err := d.plan("", lex, global)
	if err != nil {
		t.Fatal(err)
	}
	if target != 3 || !reflect.DeepEqual(order, []int{0, 1, 3}) {
		t.Errorf("plan = %d %v, want target 3 and stages [0 1 3] (unused skipped)", target, order)
	}
	if want := map[int][]int{1: {0}, 3: {1, 0}}; !reflect.DeepEqual(deps, want) {
		t.Errorf("plan deps = %v, want %v", deps, want)
	}
	if target, order, _, _ = d.plan("A", lex, global); target != 0 || !reflect.DeepEqual(order, []int{0}) {
		t.Errorf("plan(--target A) = %d %v, want 0 [0]", target, order)
	}
	if _, _, _, err := d.plan("nope", lex, global); err == nil || !strings.Contains(err.Error(), `the target "nope" was not found`) {
		t.Errorf("plan(--target nope): %v", err)
	}
}

func TestEnvGetterPrefersEnvOverArgs(t *testing.T) {
	args := newArgList()
	v1, v2 := "arg", "only-arg"
	args.set("X", &v1)
	args.set("Y", &v2)
	args.set("Z", nil)
	e := envGetter{env: []string{"X=env", "X=env2"}, args: args}
	for k, want := range map[string]string{"X": "env2", "Y": "only-arg"} {
		if got, ok := e.Get(k); !ok || got != want {
			t.Errorf("Get(%s) = %q %v, want %q", k, got, ok, want)
		}
	}
	if _, ok := e.Get("Z"); ok {
		t.Errorf("an ARG without a value is set")
	}
	if got := args.withValues(); !reflect.DeepEqual(got, []string{"X=arg", "Y=only-arg"}) {
		t.Errorf("withValues = %v", got)
	}
}

func TestExposedPorts(t *testing.T) {
	for spec, want := range map[string][]string{
		"80":         {"80/tcp"},
		"53/UDP":     {"53/udp"},
		"8000-8002":  {"8000/tcp", "8001/tcp", "8002/tcp"},
		"9000/sctp":  {"9000/sctp"},
		"bad":        nil,
		"80/carrier": nil,
		"9000-8000":  nil,
		"70000":      nil,
	} {
		got, err := exposedPorts(spec)
		if want == nil {
			if err == nil {
				t.Errorf("EXPOSE %s: no error", spec)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("EXPOSE %s = %v %v, want %v", spec, got, err, want)
		}
	}
}

func TestSetEnvAndDefaultPath(t *testing.T) {
	env := setEnv([]string{"A=1", "B=2"}, "A", "3")
	env = setEnv(env, "C", "4")
	if !reflect.DeepEqual(env, []string{"A=3", "B=2", "C=4"}) {
		t.Errorf("setEnv = %v", env)
	}
	if got := defaultPath([]string{"A=1"}); !strings.HasPrefix(got[0], "PATH=") || len(got) != 2 {
		t.Errorf("defaultPath = %v", got)
	}
	if got := defaultPath([]string{"PATH=/x"}); !reflect.DeepEqual(got, []string{"PATH=/x"}) {
		t.Errorf("defaultPath kept no PATH: %v", got)
	}
}

func TestResolveSourcesAndIgnore(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.txt", "b.txt", "c.log", "keep.log", "sub/d.txt", "sub/deep/e.txt"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*.log\n!keep.log\nsub/deep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := loadIgnore(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	items, err := resolveSources(dir, []string{"*.txt", "../../sub"}, copyFilter{ignore: ig}, "the context")
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for _, it := range items {
		rels = append(rels, it.rel)
	}
	if !reflect.DeepEqual(rels, []string{"a.txt", "b.txt", "sub"}) {
		t.Errorf("sources = %v, want a.txt b.txt sub (../ stays in the context)", rels)
	}
	if _, err := resolveSources(dir, []string{"c.log"}, copyFilter{ignore: ig}, "the context"); err == nil || !strings.Contains(err.Error(), "excluded") {
		t.Errorf("an ignored source: %v", err)
	}
	if _, err := resolveSources(dir, []string{"*.none"}, copyFilter{ignore: ig}, "the context"); err == nil {
		t.Errorf("a wildcard matching nothing is no error")
	}
	var walked []string
	all, err := resolveSources(dir, []string{"."}, copyFilter{ignore: ig}, "the context")
	if err != nil {
		t.Fatal(err)
	}
	err = walkItem(all[0], copyFilter{ignore: ig}, func(rel, _ string, _ os.FileInfo, _ bool) error {
		walked = append(walked, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", ".dockerignore", "a.txt", "b.txt", "keep.log", "sub", "sub/d.txt"}
	if !reflect.DeepEqual(walked, want) {
		t.Errorf("walk = %v, want %v", walked, want)
	}
}
