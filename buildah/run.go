package buildah

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// ociVersion is the spec version written: what Debian's runc 1.1 and
// crun 1.8 accept (as libpod writes).
const ociVersion = "1.0.2-dev"

// runPlan is a RUN step resolved before its cache key: the command,
// the network and the mounts.
type runPlan struct {
	argv []string
	// script is a here-document starting with #!, run as a file.
	script  *inlineScript
	network string // "host" or "none"
	mounts  []*runMount
	// key is what decides the step's result besides the instruction's
	// text: here-documents, mount options, bound content.
	key []string
}

// inlineScript is a here-document run as a program.
type inlineScript struct{ name, data string }

// inlineScriptDir is where such a script appears (as in buildkit).
const inlineScriptDir = "/dev/pipes"

// planRun resolves a RUN step (its mounts already expanded).
func (s *stage) planRun(c *instructions.RunCommand) (*runPlan, error) {
	b := s.b
	p := &runPlan{network: b.o.Network}
	switch instructions.GetNetwork(c) {
	case instructions.NetworkNone:
		p.network = "none"
	case instructions.NetworkHost:
		p.network = "host"
	}
	if instructions.GetSecurity(c) == instructions.SecurityInsecure {
		return nil, b.df.notSupported(c, "RUN --security=insecure")
	}
	argv, script, err := s.runArgv(c)
	if err != nil {
		return nil, err
	}
	p.argv, p.script = argv, script
	for _, f := range c.Files {
		p.key = append(p.key, fmt.Sprintf("heredoc\x00%s\x00%t\x00%s", f.Name, f.Chomp, f.Data))
	}
	for _, m := range instructions.GetMounts(c) {
		rm, key, err := s.planMount(c, m)
		if err != nil {
			return nil, err
		}
		p.mounts = append(p.mounts, rm)
		p.key = append(p.key, key...)
	}
	return p, nil
}

// runArgv is the command of a RUN step. With here-documents it follows
// buildkit: a lone here-document is the script the shell runs (or, when
// it starts with #!, a program run as a file); a command with
// here-documents goes to the shell whole, which feeds them.
func (s *stage) runArgv(c *instructions.RunCommand) ([]string, *inlineScript, error) {
	if len(c.Files) == 0 {
		argv := s.commandLine(c.ShellDependantCmdLine)
		if len(argv) == 0 {
			return nil, nil, s.b.df.errorAt(c, "RUN needs a command")
		}
		return argv, nil, nil
	}
	if len(c.CmdLine) != 1 || !c.PrependShell {
		return nil, nil, s.b.df.errorAt(c, "a here-document needs the shell form of RUN")
	}
	var script *inlineScript
	cmdline := c.CmdLine[0]
	if parser.MustParseHeredoc(cmdline) != nil {
		data := c.Files[0].Data
		if c.Files[0].Chomp {
			data = parser.ChompHeredocContent(data)
		}
		cmdline = data
		if strings.HasPrefix(data, "#!") {
			script = &inlineScript{name: path.Base(c.Files[0].Name), data: data}
			cmdline = path.Join(inlineScriptDir, script.name)
		}
	} else {
		var sb strings.Builder
		sb.WriteString(cmdline)
		for _, f := range c.Files {
			sb.WriteString("\n" + f.Data + f.Name)
		}
		cmdline = sb.String()
	}
	return append(append([]string{}, s.shell...), cmdline), script, nil
}

// execRun runs a RUN step in the working layer with the OCI runtime, in
// the foreground, with podman's defaults for containers (capabilities,
// seccomp, masked paths) and the step's mounts; the network is the
// host's unless --network none.
func (s *stage) execRun(c *instructions.RunCommand, p *runPlan, ws *workspace) error {
	b := s.b
	rnd := randomHex(16)
	id := runID(rnd)
	bundle := filepath.Join(b.o.RunDir, id)
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return fmt.Errorf("creating the bundle of a RUN step: %w", err)
	}
	defer os.RemoveAll(bundle)
	files, err := runFiles(bundle, p.network)
	if err != nil {
		return err
	}
	pm, err := s.prepareMounts(c, p.mounts, bundle)
	if err != nil {
		return err
	}
	defer pm.done()
	if p.script != nil {
		m, err := writeScript(bundle, p.script)
		if err != nil {
			return err
		}
		pm.mounts = append(pm.mounts, m)
	}
	env := runEnv(s.cfg.Config.Env, s.args, b.o.BuildArgs)
	for _, kv := range pm.env {
		k, v, _ := strings.Cut(kv, "=")
		env = setEnv(env, k, v)
	}
	o := &specgen.Options{
		Rootfs:          ws.mount,
		Entrypoint:      []string{},
		Command:         p.argv,
		Env:             env,
		WorkDir:         s.cfg.Config.WorkingDir,
		User:            s.cfg.Config.User,
		Hostname:        rnd[:12],
		Files:           files,
		Mounts:          pm.mounts,
		Rootless:        b.o.Rootless,
		CanRaiseRlimits: specgen.CanRaiseRlimits(),
		UseCgroups:      !b.o.Rootless,
		SeccompProfile:  b.o.RunSecurity.SeccompProfile,
		NoNewPrivileges: b.o.RunSecurity.NoNewPrivileges,
		AppArmorProfile: b.o.RunSecurity.AppArmorProfile,
		Unmask:          b.o.RunSecurity.Unmask,
		Mask:            b.o.RunSecurity.Mask,
		ProcOpts:        b.o.RunSecurity.ProcOpts,
		Ulimits:         b.o.RunSecurity.Ulimits,
		UlimitHost:      b.o.RunSecurity.UlimitHost,
	}
	if o.UseCgroups {
		o.CgroupsPath = "/berth/" + id
	}
	if !oci.CgroupsUnified() {
		o.Cgroup = specgen.Namespace{Mode: specgen.NSHost} // podman's default on cgroup v1
	}
	if p.network == "none" {
		o.Network = specgen.Namespace{Mode: specgen.NSNone}
	} else {
		o.Network = specgen.Namespace{Mode: specgen.NSHost}
	}
	spec, err := specgen.Generate(o)
	if err != nil {
		return err
	}
	spec.Version = ociVersion
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing the OCI spec of a RUN step: %w", err)
	}
	// mount points the runtime creates must not end up in the layer
	var made []string
	for _, m := range spec.Mounts {
		made = append(made, missingPaths(ws.mount, m.Destination)...)
	}
	stdout := b.o.Out
	if b.o.Quiet {
		stdout = io.Discard
	}
	code, err := b.o.Runtime.Run(b.ctx, id, bundle, oci.RunOptions{Stdout: stdout, Stderr: b.o.Err})
	removeMade(made)
	if err != nil {
		var re *oci.RunError
		if errors.As(err, &re) {
			// the runtime printed its message on stderr already
			logrus.Debugf("build: %v", err)
			return &StepError{Step: commandText(c), ExitCode: re.Code, Err: fmt.Errorf("while running runtime: exit status %d", re.Code)}
		}
		if b.ctx.Err() != nil {
			return errCancelled
		}
		return &StepError{Step: commandText(c), ExitCode: 125, Err: fmt.Errorf("while running runtime: %w", err)}
	}
	if code != 0 {
		return &StepError{Step: commandText(c), ExitCode: code, Err: fmt.Errorf("while running runtime: exit status %d", code)}
	}
	return nil
}

// writeScript writes a here-document program into the bundle and mounts
// it read-only in /dev/pipes (a tmpfs: nothing reaches the layer).
func writeScript(bundle string, sc *inlineScript) (specs.Mount, error) {
	p := filepath.Join(bundle, "script-"+randomHex(4))
	if err := os.WriteFile(p, []byte(sc.data), 0o755); err != nil {
		return specs.Mount{}, fmt.Errorf("writing the here-document of a RUN step: %w", err)
	}
	if err := os.Chmod(p, 0o755); err != nil {
		return specs.Mount{}, err
	}
	return specs.Mount{Destination: path.Join(inlineScriptDir, sc.name), Type: "bind", Source: p, Options: []string{"ro"}}, nil
}

// runEnv is RUN's environment: the image's, then the ARG values that no
// ENV overrides, then the proxy build args (docker passes those without
// an ARG line).
func runEnv(env []string, args *argList, buildArgs map[string]string) []string {
	out := append([]string{}, env...)
	have := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		have[k] = true
	}
	for _, k := range args.keys {
		if v := args.values[k]; v != nil && !have[k] {
			out = append(out, k+"="+*v)
			have[k] = true
		}
	}
	for k, v := range buildArgs {
		if predefinedArg(k) && !have[k] {
			out = append(out, k+"="+v)
		}
	}
	return parse.MergeEnv(nil, out)
}

// runFiles writes /etc/hosts and /etc/resolv.conf for a RUN step: the
// host's (the network is the host's), or a loopback-only hosts file.
func runFiles(bundle, network string) (specgen.Files, error) {
	var f specgen.Files
	hosts := []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if network != "none" {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = data
		}
		if data, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			f.ResolvConf = filepath.Join(bundle, "resolv.conf")
			if err := os.WriteFile(f.ResolvConf, data, 0o644); err != nil {
				return f, err
			}
		}
	}
	f.Hosts = filepath.Join(bundle, "hosts")
	if err := os.WriteFile(f.Hosts, hosts, 0o644); err != nil {
		return f, err
	}
	return f, nil
}

// missingPaths lists, deepest first, the components of dst (a path in
// the root filesystem at root) that do not exist yet.
func missingPaths(root, dst string) []string {
	p, err := securejoin.SecureJoin(root, dst)
	if err != nil {
		return nil
	}
	var out []string
	for p != root && len(p) > len(root) {
		if _, err := os.Lstat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			break
		}
		out = append(out, p)
		p = filepath.Dir(p)
	}
	return out
}

// removeMade removes the empty files and directories the runtime created
// as mount points.
func removeMade(paths []string) {
	// deepest first, each once
	sort.Slice(paths, func(i, j int) bool {
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) > len(paths[j])
		}
		return paths[i] < paths[j]
	})
	for i, p := range paths {
		if i > 0 && paths[i-1] == p {
			continue
		}
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if st.Mode().IsRegular() && st.Size() != 0 {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			logrus.Debugf("build: removing mount point %s: %v", p, err)
		}
	}
}
