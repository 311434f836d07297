package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/tarball"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// ImportOptions control how a rootfs tarball becomes an image.
type ImportOptions struct {
	// Changes are Dockerfile instructions applied to the config (--change).
	Changes []string
	// Message is the history comment (--message).
	Message string
	// OS, Arch and Variant override the platform (default: this host's).
	OS, Arch, Variant string
	// Stdin is read when the source is "-".
	Stdin io.Reader
	// Progress receives copy progress; nil is quiet.
	Progress io.Writer
}

// Import makes a one-layer image of the rootfs tarball at source (a file, an
// http(s) URL, or "-" for opts.Stdin); compression is detected. An empty name
// leaves the image dangling. A failed import leaves nothing in storage.
func (r *Runtime) Import(ctx context.Context, source, name string, opts ImportOptions) (*storage.Image, error) {
	destName := ""
	if name != "" {
		named, err := NormalizeName(name)
		if err != nil {
			return nil, err
		}
		destName = named.String()
	}
	var config ociv1.Image
	if err := ApplyChanges(&config.Config, opts.Changes); err != nil {
		return nil, err
	}
	config.OS, config.Architecture, config.Variant = opts.OS, opts.Arch, opts.Variant
	if opts.Message != "" {
		config.History = []ociv1.History{{Comment: opts.Message}}
	}
	sys := r.bigFilesContext(r.sys)
	file, cleanup, err := importSourceFile(ctx, source, opts.Stdin, sys.BigFilesTemporaryDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if st, err := os.Stat(file); err == nil && st.Size() == 0 {
		return nil, fmt.Errorf("importing %s: the tarball is empty", source)
	}
	if strings.Contains(file, ":") { // the tarball transport splits paths at ":"
		link, done, err := colonFreeLink(file, sys.BigFilesTemporaryDir)
		if err != nil {
			return nil, fmt.Errorf("importing %s: %w", source, err)
		}
		defer done()
		file = link
	}
	ref, err := tarball.NewReference([]string{file}, nil)
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", source, err)
	}
	updater, ok := ref.(tarball.ConfigUpdater)
	if !ok {
		return nil, errors.New("internal error: tarball reference cannot take a configuration")
	}
	if err := updater.ConfigUpdate(config, nil); err != nil {
		return nil, fmt.Errorf("importing %s: %w", source, err)
	}
	var img *storage.Image
	err = r.undoLayersOnError(func() error {
		var err error
		img, err = r.pullFrom(ctx, ref, destName, sys, CopyOptions{Progress: opts.Progress})
		return err
	})
	if err != nil {
		if bad := checkTarball(file); bad != nil {
			err = bad
		}
		return nil, fmt.Errorf("importing %s: %w", source, err)
	}
	return img, nil
}

// importSourceFile returns a local file holding source: the file itself, or
// a temporary copy of stdin or of a download.
func importSourceFile(ctx context.Context, source string, stdin io.Reader, tmpDir string) (string, func(), error) {
	noop := func() {}
	isURL := strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")
	if source != "-" && !isURL {
		st, err := os.Stat(source)
		if err != nil {
			return "", noop, fmt.Errorf("importing %s: %w", source, err)
		}
		if st.IsDir() {
			return "", noop, fmt.Errorf("importing %s: is a directory, not a tarball", source)
		}
		return source, noop, nil
	}
	body := stdin
	if isURL {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
		if err != nil {
			return "", noop, fmt.Errorf("importing %s: %w", source, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", noop, fmt.Errorf("downloading %s: %w", source, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", noop, fmt.Errorf("downloading %s: %s", source, resp.Status)
		}
		body = resp.Body
	}
	if body == nil {
		return "", noop, errors.New("importing from stdin: no input")
	}
	what := "stdin"
	if isURL {
		what = "download"
	}
	tmp, err := spoolToTemp(body, tmpDir, what)
	if err != nil {
		return "", noop, fmt.Errorf("importing %s: %w", source, err)
	}
	return tmp, func() { _ = os.Remove(tmp) }, nil
}

// colonFreeLink makes a symbolic link to file at a path without a colon.
func colonFreeLink(file, tmpDir string) (string, func(), error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(tmpDir, "berth-import-")
	if err != nil {
		return "", nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	link := filepath.Join(dir, "rootfs.tar")
	if err := os.Symlink(abs, link); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	return link, func() { _ = os.RemoveAll(dir) }, nil
}

// ApplyChanges applies Dockerfile instructions (`--change`) to cfg. CMD and
// ENTRYPOINT take a JSON array or a shell form (run with /bin/sh -c).
func ApplyChanges(cfg *ociv1.ImageConfig, changes []string) error {
	for _, change := range changes {
		if err := applyChange(cfg, change); err != nil {
			return fmt.Errorf("invalid change %q - %w", change, err)
		}
	}
	return nil
}

// splitInstruction splits "CMD /bin/sh" (or podman's "CMD=/bin/sh") into the
// upper-cased instruction and its arguments.
func splitInstruction(change string) (string, string) {
	change = strings.TrimSpace(change)
	i := strings.IndexFunc(change, func(r rune) bool { return unicode.IsSpace(r) || r == '=' })
	if i < 0 {
		return strings.ToUpper(change), ""
	}
	return strings.ToUpper(change[:i]), strings.TrimSpace(change[i+1:])
}

func applyChange(cfg *ociv1.ImageConfig, change string) error {
	instr, args := splitInstruction(change)
	if instr == "" {
		return errors.New("empty instruction")
	}
	if args == "" && instr != "CMD" && instr != "ENTRYPOINT" {
		switch instr {
		case "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL", "ONBUILD":
			return fmt.Errorf("%s requires at least one argument", instr)
		}
	}
	switch instr {
	case "CMD":
		cfg.Cmd = execOrShell(args)
	case "ENTRYPOINT":
		cfg.Entrypoint = execOrShell(args)
	case "ENV":
		pairs, err := keyValues(instr, args, true)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
		}
	case "LABEL":
		pairs, err := keyValues(instr, args, false)
		if err != nil {
			return err
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range pairs {
			cfg.Labels[kv[0]] = kv[1]
		}
	case "EXPOSE":
		return exposePorts(cfg, args)
	case "USER":
		cfg.User = args
	case "VOLUME":
		vols := jsonArray(args)
		if vols == nil {
			vols = strings.Fields(args)
		}
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range vols {
			if v == "" {
				return errors.New("VOLUME specified can not be an empty string")
			}
			cfg.Volumes[v] = struct{}{}
		}
	case "WORKDIR":
		dir := unquote(args)
		if !path.IsAbs(dir) {
			base := cfg.WorkingDir
			if base == "" {
				base = "/"
			}
			dir = path.Join(base, dir)
		}
		cfg.WorkingDir = dir
	case "STOPSIGNAL":
		if !validSignal(args) {
			return fmt.Errorf("STOPSIGNAL %q is not a valid signal", args)
		}
		cfg.StopSignal = args
	case "ONBUILD":
		logrus.Warnf("ONBUILD %s: OCI image configurations have no ONBUILD triggers; ignoring it", args)
	default:
		return fmt.Errorf("invalid instruction %s", instr)
	}
	return nil
}

// execOrShell parses the exec form ["a","b"]; anything else is shell form.
func execOrShell(args string) []string {
	if arr := jsonArray(args); arr != nil {
		return arr
	}
	if args == "" {
		return nil
	}
	return []string{"/bin/sh", "-c", args}
}

func jsonArray(s string) []string {
	if !strings.HasPrefix(s, "[") {
		return nil
	}
	var arr []string
	if err := json.Unmarshal([]byte(s), &arr); err != nil {
		return nil
	}
	if arr == nil {
		arr = []string{}
	}
	return arr
}

// keyValues parses "k=v k2="v 2"" or the legacy "k some value" form.
func keyValues(instr, args string, allowNoValue bool) ([][2]string, error) {
	words := splitWords(args)
	if len(words) == 0 {
		return nil, fmt.Errorf("%s requires at least one argument", instr)
	}
	if !strings.Contains(words[0], "=") {
		key, rest := args, ""
		if i := strings.IndexFunc(args, unicode.IsSpace); i >= 0 {
			key, rest = args[:i], strings.TrimSpace(args[i:])
		}
		if rest == "" && !allowNoValue {
			return nil, fmt.Errorf("%s %s: a value is required (%s name=value)", instr, key, instr)
		}
		return [][2]string{{unquote(key), unquote(rest)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("syntax error - can't find = in %q. Must be of the form: name=value", w)
		}
		out = append(out, [2]string{unquote(k), unquote(v)})
	}
	return out, nil
}

// splitWords splits on whitespace outside quotes, keeping quotes and escapes
// in the words (unquote removes them).
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord, escaped := false, false
	for _, c := range s {
		switch {
		case escaped:
			escaped = false
		case c == '\\' && quote != '\'':
			escaped = true
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case unicode.IsSpace(c):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		}
		cur.WriteRune(c)
		inWord = true
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// unquote removes shell-style quotes and backslash escapes.
func unquote(s string) string {
	var out strings.Builder
	var quote rune
	escaped := false
	for _, c := range s {
		switch {
		case escaped:
			if quote == '"' && c != '"' && c != '\\' && c != '$' {
				out.WriteRune('\\')
			}
			out.WriteRune(c)
			escaped = false
		case c == '\\' && quote != '\'':
			escaped = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		default:
			out.WriteRune(c)
		}
	}
	if escaped {
		out.WriteRune('\\')
	}
	return out.String()
}

func setEnv(env []string, key, value string) []string {
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// exposePorts adds "80", "80/udp" or "8000-8010/tcp" entries.
func exposePorts(cfg *ociv1.ImageConfig, args string) error {
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, spec := range strings.Fields(args) {
		ports, proto, _ := strings.Cut(spec, "/")
		proto = strings.ToLower(proto)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("EXPOSE protocol must be tcp, udp or sctp, not %q", proto)
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		first, err := portNumber(lo)
		if err != nil {
			return err
		}
		last := first
		if isRange {
			if last, err = portNumber(hi); err != nil {
				return err
			}
			if last < first {
				return fmt.Errorf("EXPOSE port range %q ends before it starts", ports)
			}
		}
		for p := first; p <= last; p++ {
			cfg.ExposedPorts[strconv.Itoa(p)+"/"+proto] = struct{}{}
		}
	}
	return nil
}

func portNumber(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("EXPOSE port %q must be an integer between 1 and 65535", s)
	}
	return p, nil
}

// validSignal accepts "SIGTERM", "TERM", "15" and "SIGRTMIN+3".
func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n > 0 && n <= 64
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if base, off, ok := strings.Cut(name, "+"); ok && (base == "SIGRTMIN") {
		n, err := strconv.Atoi(off)
		return err == nil && n >= 0 && n <= 30
	}
	if base, off, ok := strings.Cut(name, "-"); ok && base == "SIGRTMAX" {
		n, err := strconv.Atoi(off)
		return err == nil && n >= 0 && n <= 30
	}
	return name == "SIGRTMIN" || name == "SIGRTMAX" || unix.SignalNum(name) != 0
}
