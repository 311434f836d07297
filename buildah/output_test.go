package buildah

import (
	"testing"
	"time"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseOutput(t *testing.T) {
	ok := map[string]*Output{
		"":                         nil,
		"-":                        {Stdout: true},
		"out":                      {Local: true, Dest: "out"},
		"type=local":               {Local: true, Dest: "type=local"}, // no comma: a directory, as podman
		"type=local,dest=d":        {Local: true, Dest: "d"},
		"dest=d,type=local":        {Local: true, Dest: "d"},
		"type=tar,dest=f.tar":      {Dest: "f.tar"},
		"type=tar,dest=-":          {Stdout: true},
		"type=local,dest=":         {Local: true, Dest: ""},
		"type=tar,dest=a=b":        {Dest: "a=b"},
		"type=local,dest=/abs/dir": {Local: true, Dest: "/abs/dir"},
	}
	for spec, want := range ok {
		got, err := ParseOutput(spec)
		if err != nil {
			t.Errorf("ParseOutput(%q): %v", spec, err)
			continue
		}
		if (got == nil) != (want == nil) || got != nil && *got != *want {
			t.Errorf("ParseOutput(%q) = %+v, want %+v", spec, got, want)
		}
	}
	bad := map[string]string{
		"type=zip,dest=x":            `failed to parse build output: invalid type "zip" selected for build output options "type=zip,dest=x"`,
		"type=local,dest=-":          `failed to parse build output: invalid build output option "type=local,dest=-", type=local and dest=- is not supported`,
		"type=tar,dest=a,dest=b":     `failed to parse build output: duplicate "dest" not supported`,
		"type=tar,type=local,dest=b": `failed to parse build output: duplicate "type" not supported`,
		"dir,x":                      `failed to parse build output: invalid build output options "dir,x", expected format key=value`,
		"type=tar,dest=x,mode=1":     `failed to parse build output: unrecognized key "mode" in build output option: "type=tar,dest=x,mode=1"`,
		"type = tar,dest=x":          `failed to parse build output: unrecognized key "type " in build output option: "type = tar,dest=x"`,
	}
	for spec, want := range bad {
		if _, err := ParseOutput(spec); err == nil || err.Error() != want {
			t.Errorf("ParseOutput(%q) error %v, want %s", spec, err, want)
		}
	}
}

func TestSquashedHistory(t *testing.T) {
	now := time.Unix(5, 0)
	if h := squashedHistory(nil, now); len(h) != 1 || h[0].CreatedBy != "/bin/sh" || h[0].EmptyLayer || !h[0].Created.Equal(now) {
		t.Errorf("squashedHistory(nil) = %+v", h)
	}
	in := []ociv1.History{{CreatedBy: "RUN a"}, {CreatedBy: "ENV b", EmptyLayer: true}, {CreatedBy: "ENV c", EmptyLayer: true}}
	h := squashedHistory(in, now)
	if len(h) != 3 || !h[0].EmptyLayer || !h[1].EmptyLayer || h[2].EmptyLayer || h[2].CreatedBy != "ENV c" {
		t.Errorf("squashedHistory = %+v: want all empty but the last", h)
	}
	if in[0].EmptyLayer || !in[2].EmptyLayer {
		t.Errorf("squashedHistory changed its input: %+v", in)
	}
}

func TestWithSourceDateEpoch(t *testing.T) {
	sde := time.Unix(1600000000, 0)
	args := map[string]string{"A": "1"}
	got := withSourceDateEpoch(args, &sde)
	if got["SOURCE_DATE_EPOCH"] != "1600000000" || got["A"] != "1" {
		t.Errorf("withSourceDateEpoch = %v", got)
	}
	if _, ok := args["SOURCE_DATE_EPOCH"]; ok {
		t.Error("withSourceDateEpoch changed its input")
	}
	given := map[string]string{"SOURCE_DATE_EPOCH": "7"}
	if got := withSourceDateEpoch(given, &sde); got["SOURCE_DATE_EPOCH"] != "7" {
		t.Errorf("a --build-arg SOURCE_DATE_EPOCH was replaced: %v", got)
	}
	if got := withSourceDateEpoch(args, nil); len(got) != 1 {
		t.Errorf("without a source date epoch: %v", got)
	}
}
