package parse

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var hostEnv = []string{"HOME=/home/me", "FOO1=a", "FOO2=b", "BAR=c", "EMPTY="}

func TestEnv(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
		err  string
	}{
		{in: []string{"A=1", "B=2"}, want: []string{"A=1", "B=2"}},
		{in: []string{"A=1", "B=2", "A=3"}, want: []string{"A=3", "B=2"}},    // later wins, first position kept
		{in: []string{"A=x=y", "B="}, want: []string{"A=x=y", "B="}},         // only the first '=' splits
		{in: []string{"HOME"}, want: []string{"HOME=/home/me"}},              // host value
		{in: []string{"NOTSET"}, want: nil},                                  // not on the host: ignored
		{in: []string{"EMPTY"}, want: []string{"EMPTY="}},                    // set but empty on the host
		{in: []string{"FOO*"}, want: []string{"FOO1=a", "FOO2=b"}},           // prefix glob
		{in: []string{"FOO*", "FOO2=c"}, want: []string{"FOO1=a", "FOO2=c"}}, // later wins over a glob
		{in: []string{"*"}, want: hostEnv},
		{in: []string{"=x"}, err: "the name is empty"},
	}
	for _, tt := range tests {
		got, err := Env(tt.in, hostEnv)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Env(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Env(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEnvFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "env")
	content := "# comment\n\nA=1\n  B=two words  \nHOME\nNOTSET\nQ=\"quoted\"\nFOO*\nA=3\n"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := EnvFile(p, hostEnv)
	want := []string{"A=3", "B=two words  ", "HOME=/home/me", `Q="quoted"`, "FOO1=a", "FOO2=b"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("EnvFile = %q, %v; want %q", got, err, want)
	}
	if err := os.WriteFile(p, []byte("A=1\n=bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := EnvFile(p, nil); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("EnvFile with =bad: err = %v, want the line number", err)
	}
	if _, err := EnvFile(filepath.Join(dir, "missing"), nil); err == nil || !strings.Contains(err.Error(), "--env-file") {
		t.Errorf("EnvFile(missing) err = %v", err)
	}
}

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=3"}, []string{"PATH=/usr/bin"})
	want := []string{"PATH=/usr/bin", "A=2", "B=3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeEnv = %q, want %q", got, want)
	}
}

func TestEnvMerge(t *testing.T) {
	image := []string{"PATH=/usr/bin:/bin", "HELLO=world", "EMPTY="}
	tests := []struct {
		in, want, err string
	}{
		{in: "PATH=/opt/bin:${PATH}", want: "PATH=/opt/bin:/usr/bin:/bin"},
		{in: "PATH=$PATH:/opt/bin", want: "PATH=/usr/bin:/bin:/opt/bin"},
		{in: "HELLO=${HELLO}-some", want: "HELLO=world-some"},
		{in: "X=${NOPE}", want: "X="},
		{in: "X=${NOPE:-dflt}", want: "X=dflt"},
		{in: "X=${EMPTY:-dflt}", want: "X=dflt"},
		{in: "X=${HELLO:-dflt}", want: "X=world"},
		{in: "X=${HELLO:+alt}", want: "X=alt"},
		{in: "X=${NOPE:+alt}", want: "X="},
		{in: `X=\$HELLO costs $5`, want: "X=$HELLO costs $5"},
		{in: "X=${HELLO", err: "missing '}'"},
		{in: "X=${1x}", err: "bad substitution"},
		{in: "noequals", err: "expected KEY=VALUE"},
	}
	for _, tt := range tests {
		got, err := EnvMerge([]string{tt.in}, image)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("EnvMerge(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != tt.want {
			t.Errorf("EnvMerge(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
