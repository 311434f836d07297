package image

import (
	"reflect"
	"strings"
	"testing"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChanges(t *testing.T) {
	tests := []struct {
		name    string
		changes []string
		want    ociv1.ImageConfig
	}{
		{"cmd exec form", []string{`CMD ["/bin/sh", "-c", "echo hi"]`},
			ociv1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{"cmd shell form", []string{`CMD echo "hi there"`},
			ociv1.ImageConfig{Cmd: []string{"/bin/sh", "-c", `echo "hi there"`}}},
		{"podman's = separator and lower case", []string{`cmd=/bin/true`},
			ociv1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "/bin/true"}}},
		{"broken JSON is shell form", []string{`ENTRYPOINT [/bin/sh`},
			ociv1.ImageConfig{Entrypoint: []string{"/bin/sh", "-c", "[/bin/sh"}}},
		{"empty exec form", []string{`CMD []`}, ociv1.ImageConfig{Cmd: []string{}}},
		{"entrypoint", []string{`ENTRYPOINT ["/x", "y"]`}, ociv1.ImageConfig{Entrypoint: []string{"/x", "y"}}},
		{"env pairs with quotes", []string{`ENV A=1 B="2 3" C=a\ b D='$x'`},
			ociv1.ImageConfig{Env: []string{"A=1", "B=2 3", "C=a b", "D=$x"}}},
		{"env legacy form", []string{`ENV PATH /usr/bin:/bin`, `ENV MSG hello world`},
			ociv1.ImageConfig{Env: []string{"PATH=/usr/bin:/bin", "MSG=hello world"}}},
		{"env replaces", []string{`ENV A=1 B=2`, `ENV A=3`}, ociv1.ImageConfig{Env: []string{"A=3", "B=2"}}},
		{"env without value", []string{`ENV X`}, ociv1.ImageConfig{Env: []string{"X="}}},
		{"labels", []string{`LABEL a=b "x y"="z w" empty=`, `LABEL version 1.0`},
			ociv1.ImageConfig{Labels: map[string]string{"a": "b", "x y": "z w", "empty": "", "version": "1.0"}}},
		{"expose", []string{`EXPOSE 80 53/UDP 8000-8002/tcp`}, ociv1.ImageConfig{ExposedPorts: map[string]struct{}{
			"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}}}},
		{"volume list and JSON", []string{`VOLUME /a /b`, `VOLUME ["/c d"]`},
			ociv1.ImageConfig{Volumes: map[string]struct{}{"/a": {}, "/b": {}, "/c d": {}}}},
		{"user", []string{`USER 1000:1000`}, ociv1.ImageConfig{User: "1000:1000"}},
		{"workdir relative", []string{`WORKDIR /srv`, `WORKDIR app`}, ociv1.ImageConfig{WorkingDir: "/srv/app"}},
		{"workdir first relative", []string{`WORKDIR app`}, ociv1.ImageConfig{WorkingDir: "/app"}},
		{"stopsignal", []string{`STOPSIGNAL SIGKILL`}, ociv1.ImageConfig{StopSignal: "SIGKILL"}},
		{"stopsignal number", []string{`STOPSIGNAL 9`}, ociv1.ImageConfig{StopSignal: "9"}},
		{"stopsignal short name", []string{`STOPSIGNAL term`}, ociv1.ImageConfig{StopSignal: "term"}},
		{"stopsignal realtime", []string{`STOPSIGNAL SIGRTMIN+3`}, ociv1.ImageConfig{StopSignal: "SIGRTMIN+3"}},
		{"onbuild is accepted", []string{`ONBUILD RUN true`}, ociv1.ImageConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ociv1.ImageConfig
			if err := ApplyChanges(&got, tt.changes); err != nil {
				t.Fatalf("ApplyChanges(%q): %v", tt.changes, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ApplyChanges(%q) =\n %#v\nwant\n %#v", tt.changes, got, tt.want)
			}
		})
	}
}

func TestApplyChangesErrors(t *testing.T) {
	tests := []struct{ change, want string }{
		{"FOO bar", `invalid change "FOO bar" - invalid instruction FOO`},
		{"RUN echo", "invalid instruction RUN"},
		{"", "empty instruction"},
		{"ENV", "ENV requires at least one argument"},
		{"ENV A=1 B", `can't find = in "B"`},
		{"LABEL lonely", "a value is required"},
		{"EXPOSE http", `EXPOSE port "http" must be an integer`},
		{"EXPOSE 70000", "must be an integer between 1 and 65535"},
		{"EXPOSE 80/icmp", "EXPOSE protocol must be tcp, udp or sctp"},
		{"EXPOSE 90-80", "ends before it starts"},
		{"STOPSIGNAL SIGNOPE", "not a valid signal"},
		{"STOPSIGNAL 99", "not a valid signal"},
		{"VOLUME [\"\"]", "can not be an empty string"},
		{"USER", "USER requires at least one argument"},
	}
	for _, tt := range tests {
		var cfg ociv1.ImageConfig
		err := ApplyChanges(&cfg, []string{tt.change})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ApplyChanges(%q) error = %v, want one containing %q", tt.change, err, tt.want)
		}
	}
}

func TestSplitWords(t *testing.T) {
	tests := map[string][]string{
		`a=1 b=2`:             {`a=1`, `b=2`},
		`  a="x y"   b='z'  `: {`a="x y"`, `b='z'`},
		`a=x\ y b`:            {`a=x\ y`, `b`},
		`"k 1"="v 2"`:         {`"k 1"="v 2"`},
		``:                    nil,
	}
	for in, want := range tests {
		if got := splitWords(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnquote(t *testing.T) {
	tests := map[string]string{
		`plain`:        `plain`,
		`"a b"`:        `a b`,
		`'a "b"'`:      `a "b"`,
		`"a \"b\""`:    `a "b"`,
		`a\ b`:         `a b`,
		`"back\slash"`: `back\slash`,
		`'no\escape'`:  `no\escape`,
		`trailing\`:    `trailing\`,
	}
	for in, want := range tests {
		if got := unquote(in); got != want {
			t.Errorf("unquote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitInstruction(t *testing.T) {
	tests := []struct{ in, instr, args string }{
		{"CMD /bin/sh", "CMD", "/bin/sh"},
		{"  env\tA=1 ", "ENV", "A=1"},
		{"CMD=/bin/sh -c x", "CMD", "/bin/sh -c x"},
		{"ENV=A=B", "ENV", "A=B"},
		{"USER", "USER", ""},
	}
	for _, tt := range tests {
		instr, args := splitInstruction(tt.in)
		if instr != tt.instr || args != tt.args {
			t.Errorf("splitInstruction(%q) = %q, %q; want %q, %q", tt.in, instr, args, tt.instr, tt.args)
		}
	}
}
