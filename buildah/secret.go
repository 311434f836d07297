package buildah

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Secret is a --secret value: where RUN --mount=type=secret reads it.
// Its content is read when a RUN step uses it, and goes only into that
// step's mount or environment.
type Secret struct {
	// Source is an absolute file path, or an environment variable's name
	// when Env is set.
	Source string
	Env    bool
}

// errSecretSyntax is podman's message for a --secret it cannot read.
var errSecretSyntax = errors.New("incorrect secret flag format: should be --secret id=foo,src=bar[,env=ENV,type=file|env]")

// ParseSecrets reads --secret values as podman does:
// id=ID[,src=PATH|VAR][,env=VAR][,type=file|env]. Without a type, src
// (by default the id) names an environment variable when one is set,
// else a file. Unknown keys are ignored (as podman does).
func ParseSecrets(values []string) (map[string]Secret, error) {
	out := map[string]Secret{}
	for _, v := range values {
		var id, src, typ string
		for _, tok := range strings.Split(v, ",") {
			key, val, ok := strings.Cut(tok, "=")
			if !ok {
				continue
			}
			switch key {
			case "id":
				id = val
			case "src", "source":
				src = val
			case "env":
				src, typ = val, "env"
			case "type":
				if val != "file" && val != "env" {
					return nil, errors.New("invalid secret type, must be file or env")
				}
				typ = val
			}
		}
		if id == "" {
			return nil, errSecretSyntax
		}
		if src == "" {
			src = id
		}
		if typ == "" {
			typ = "file"
			if _, ok := os.LookupEnv(src); ok {
				typ = "env"
			}
		}
		if typ == "env" {
			out[id] = Secret{Source: src, Env: true}
			continue
		}
		abs, err := filepath.Abs(src)
		if err != nil {
			return nil, fmt.Errorf("could not parse secrets: %w", err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("could not parse secrets: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("could not parse secrets: %s is not a regular file", abs)
		}
		out[id] = Secret{Source: abs}
	}
	return out, nil
}

// available reports whether the secret was given (a zero Secret was
// not) and, from the environment, is set.
func (s Secret) available() bool {
	if s.Source == "" {
		return false
	}
	if s.Env {
		_, ok := os.LookupEnv(s.Source)
		return ok
	}
	return true
}

// read returns the secret's content; ok is false when its environment
// variable is not set (docker then treats the secret as missing).
func (s Secret) read() (data []byte, ok bool, err error) {
	if s.Env {
		v, ok := os.LookupEnv(s.Source)
		return []byte(v), ok, nil
	}
	data, err = os.ReadFile(s.Source)
	if err != nil {
		return nil, false, fmt.Errorf("reading secret file: %w", err)
	}
	return data, true, nil
}

// secretID is the secret a mount names: id=, else src=, else the base
// name of the target (buildkit's rule).
func secretID(m *instructions.Mount) string {
	switch {
	case m.CacheID != "":
		return m.CacheID
	case m.Source != "":
		return m.Source
	case m.Target != "":
		return path.Base(m.Target)
	}
	return ""
}

// secretMount prepares a secret mount: a file in dir (the step's bundle,
// removed after the step) bound read-only at the target, and/or an
// environment variable. A secret that is not given is skipped, unless
// the mount requires it.
func (s *stage) secretMount(m *instructions.Mount, dir string) (*specs.Mount, string, error) {
	id := secretID(m)
	if id == "" {
		return nil, "", errors.New("a secret mount needs an id, a source or a target")
	}
	sec, given := s.b.o.Secrets[id]
	var data []byte
	if given {
		var err error
		if data, given, err = sec.read(); err != nil {
			return nil, "", fmt.Errorf("secret %q: %w", id, err)
		}
	}
	if !given {
		if m.Required {
			return nil, "", fmt.Errorf("secret required but no secret with id %q found", id)
		}
		return nil, "", nil
	}
	var env string
	if m.Env != nil {
		name := *m.Env
		if name == "" {
			name = id
		}
		env = name + "=" + string(data)
		if m.Target == "" {
			return nil, env, nil
		}
	}
	target := m.Target
	if target == "" {
		target = "/run/secrets/" + path.Base(id)
	}
	target = s.mountTarget(target)
	f, err := os.CreateTemp(dir, "secret-")
	if err != nil {
		return nil, "", fmt.Errorf("secret %q: %w", id, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", fmt.Errorf("secret %q: %w", id, err)
	}
	mode, uid, gid := uint64(0o400), uint64(0), uint64(0)
	if m.Mode != nil {
		mode = *m.Mode
	}
	if m.UID != nil {
		uid = *m.UID
	}
	if m.GID != nil {
		gid = *m.GID
	}
	if err := os.Chown(f.Name(), int(uid), int(gid)); err != nil {
		return nil, "", fmt.Errorf("secret %q: %w", id, err)
	}
	if err := os.Chmod(f.Name(), goMode(uint32(mode))); err != nil {
		return nil, "", fmt.Errorf("secret %q: %w", id, err)
	}
	return &specs.Mount{Destination: target, Type: "bind", Source: f.Name(), Options: []string{"bind", "ro", "nosuid", "nodev", "noexec"}}, env, nil
}
