package buildah

import (
	"bytes"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// dockerfile is a parsed and checked Containerfile.
type dockerfile struct {
	name     string
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	escape   rune
	// named are the --build-context names: they replace stages of the
	// same name.
	named map[string]BuildContext
}

func parseDockerfile(name string, content []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM instruction: a Containerfile starts with FROM (ARG may come before it)", name)
	}
	d := &dockerfile{name: name, stages: stages, metaArgs: metaArgs, escape: res.EscapeToken}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

// check refuses, before anything runs, what berth build cannot do yet.
func (d *dockerfile) check() error {
	for i := range d.stages {
		for _, cmd := range d.stages[i].Commands {
			if err := d.checkCommand(cmd, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *dockerfile) checkCommand(cmd instructions.Command, onbuild bool) error {
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		return d.checkRun(c)
	case *instructions.CopyCommand, *instructions.AddCommand:
		// what can be told before variables are expanded; the rest when
		// the step is planned (checkCopySources)
		sp := copySpecOf(cmd)
		if !strings.Contains(sp.chmod, "$") {
			if _, err := parseFileMode(sp.chmod); err != nil {
				return d.errorAt(cmd, "--chmod: %v", err)
			}
		}
		if sp.checksum != "" && (len(sp.sources) != 1 || len(sp.docs) != 0) {
			return d.errorAt(cmd, "checksum can't be specified for multiple sources")
		}
	case *instructions.OnbuildCommand:
		if onbuild {
			return d.errorAt(cmd, "ONBUILD cannot trigger ONBUILD")
		}
	}
	return nil
}

// hostPlatform is what the build produces and the platform ARGs say.
func hostPlatform() (os, arch, variant string) {
	os, arch = "linux", runtime.GOARCH
	if arch == "arm" {
		variant = "v7"
	}
	return
}

// platformArgs are the automatic ARGs (BUILDPLATFORM, TARGETARCH, ...).
func platformArgs() map[string]string {
	os, arch, variant := hostPlatform()
	plat := os + "/" + arch
	if variant != "" {
		plat += "/" + variant
	}
	m := map[string]string{}
	for _, p := range []string{"BUILD", "TARGET"} {
		m[p+"PLATFORM"] = plat
		m[p+"OS"] = os
		m[p+"ARCH"] = arch
		m[p+"VARIANT"] = variant
	}
	return m
}

// argList is an ordered set of ARG values; later ones replace earlier ones.
type argList struct {
	keys   []string
	values map[string]*string // nil: declared without a value
}

func newArgList() *argList { return &argList{values: map[string]*string{}} }

func (a *argList) set(k string, v *string) {
	if _, ok := a.values[k]; !ok {
		a.keys = append(a.keys, k)
	}
	a.values[k] = v
}

func (a *argList) get(k string) (string, bool) {
	v, ok := a.values[k]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// withValues returns "k=v" for every ARG with a value, sorted by key.
func (a *argList) withValues() []string {
	var out []string
	for _, k := range a.keys {
		if v := a.values[k]; v != nil {
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	return out
}

// envGetter is the environment variables are expanded in: ENV values,
// then ARG values not overridden by an ENV of the same name.
type envGetter struct {
	env  []string
	args *argList
}

func (e envGetter) Get(key string) (string, bool) {
	for i := len(e.env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(e.env[i], "="); k == key {
			return v, true
		}
	}
	if e.args != nil {
		return e.args.get(key)
	}
	return "", false
}

func (e envGetter) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, kv := range e.env {
		k, _, _ := strings.Cut(kv, "=")
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if e.args != nil {
		for _, k := range e.args.keys {
			if !seen[k] && e.args.values[k] != nil {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

var _ shell.EnvGetter = envGetter{}

// globalArgs evaluates the ARGs before the first FROM (each default
// expanded with the ones before it, --build-arg overriding), over the
// automatic platform ARGs. consumed records the build args used.
func (d *dockerfile) globalArgs(lex *shell.Lex, buildArgs map[string]string, consumed map[string]bool) (*argList, error) {
	args := newArgList()
	plat := platformArgs()
	keys := make([]string, 0, len(plat))
	for k := range plat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := plat[k]
		args.set(k, &v)
	}
	for i := range d.metaArgs {
		cmd := &d.metaArgs[i]
		for _, kv := range cmd.Args {
			var value *string
			if kv.Value != nil {
				v, _, err := lex.ProcessWord(*kv.Value, envGetter{args: args})
				if err != nil {
					return nil, d.errorAt(cmd, "%v", err)
				}
				value = &v
			}
			if v, ok := buildArgs[kv.Key]; ok {
				v := v
				value = &v
				consumed[kv.Key] = true
			}
			args.set(kv.Key, value)
		}
	}
	return args, nil
}

// stageByName finds a stage before stage `before` by name
// (case-insensitive), as FROM refers to stages.
func (d *dockerfile) stageByName(ref string, before int) (int, bool) {
	if _, ok := d.named[ref]; ok {
		return -1, false
	}
	for i := 0; i < before && i < len(d.stages); i++ {
		if d.stages[i].Name != "" && strings.EqualFold(d.stages[i].Name, ref) {
			return i, true
		}
	}
	return -1, false
}

// stageIndex finds a stage by name or number, as COPY --from refers to
// stages.
func (d *dockerfile) stageIndex(ref string, before int) (int, bool) {
	if i, ok := d.stageByName(ref, before); ok {
		return i, true
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < before {
		return n, true
	}
	return -1, false
}

// plan returns the stages to build for target ("" is the last), in order:
// the target and the stages it needs (FROM and COPY --from), with, for
// each, the stages it needs.
func (d *dockerfile) plan(target string, lex *shell.Lex, global *argList) (int, []int, map[int][]int, error) {
	last := len(d.stages) - 1
	if target != "" {
		i, ok := -1, false
		for j := range d.stages {
			if strings.EqualFold(d.stages[j].Name, target) {
				i, ok = j, true
			}
		}
		if !ok {
			return 0, nil, nil, fmt.Errorf("the target %q was not found in the provided Containerfile %s", target, d.name)
		}
		last = i
	}
	deps := map[int][]int{}
	need := map[int]bool{last: true}
	for i := last; i >= 0; i-- {
		if !need[i] {
			continue
		}
		for _, j := range d.stageDeps(i, lex, global) {
			need[j] = true
			deps[i] = append(deps[i], j)
		}
	}
	var order []int
	for i := 0; i <= last; i++ {
		if need[i] {
			order = append(order, i)
		}
	}
	return last, order, deps, nil
}

// stageDeps lists the earlier stages stage i reads: its FROM, its COPY
// --from and its RUN --mount from=.
func (d *dockerfile) stageDeps(i int, lex *shell.Lex, global *argList) []int {
	var deps []int
	st := &d.stages[i]
	if base, _, err := lex.ProcessWord(st.BaseName, envGetter{args: global}); err == nil {
		if j, ok := d.stageByName(base, i); ok {
			deps = append(deps, j)
		}
	}
	for _, cmd := range st.Commands {
		if c, ok := cmd.(*instructions.CopyCommand); ok && c.From != "" {
			from, _, err := lex.ProcessWord(c.From, envGetter{args: global})
			if err != nil {
				from = c.From
			}
			if j, ok := d.stageIndex(from, i); ok {
				deps = append(deps, j)
			}
		}
		for _, ref := range runMountStages(cmd) {
			if from, _, err := lex.ProcessWord(ref, envGetter{args: global}); err == nil {
				ref = from
			}
			if j, ok := d.stageIndex(ref, i); ok {
				deps = append(deps, j)
			}
		}
	}
	return deps
}
