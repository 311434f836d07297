package buildah

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/sirupsen/logrus"
)

// ociVersion is the spec version written: what Debian's runc 1.1 and
// crun 1.8 accept (as libpod writes).
const ociVersion = "1.0.2-dev"

// execRun runs a RUN step in the working layer with the OCI runtime, in
// the foreground, with podman's defaults for containers (capabilities,
// seccomp, masked paths); the network is the host's unless --network none.
func (s *stage) execRun(c *instructions.RunCommand, ws *workspace) error {
	b := s.b
	argv := s.commandLine(c.ShellDependantCmdLine)
	if len(argv) == 0 {
		return b.df.errorAt(c, "RUN needs a command")
	}
	id := "berth-build-" + randomHex(16)
	bundle := filepath.Join(b.o.RunDir, id)
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return fmt.Errorf("creating the bundle of a RUN step: %w", err)
	}
	defer os.RemoveAll(bundle)
	files, err := b.runFiles(bundle)
	if err != nil {
		return err
	}
	o := &specgen.Options{
		Rootfs:          ws.mount,
		Entrypoint:      []string{},
		Command:         argv,
		Env:             runEnv(s.cfg.Config.Env, s.args, b.o.BuildArgs),
		WorkDir:         s.cfg.Config.WorkingDir,
		User:            s.cfg.Config.User,
		Hostname:        id[len("berth-build-"):][:12],
		Files:           files,
		Rootless:        b.o.Rootless,
		CanRaiseRlimits: specgen.CanRaiseRlimits(),
		UseCgroups:      !b.o.Rootless,
	}
	if o.UseCgroups {
		o.CgroupsPath = "/berth/" + id
	}
	if !oci.CgroupsUnified() {
		o.Cgroup = specgen.Namespace{Mode: specgen.NSHost} // podman's default on cgroup v1
	}
	if b.o.Network == "none" {
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
	var stdout io.Writer = b.o.Out
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
func (b *builder) runFiles(bundle string) (specgen.Files, error) {
	var f specgen.Files
	hosts := []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if b.o.Network != "none" {
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
