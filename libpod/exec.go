package libpod

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOptions describe a process to run in a running container.
type ExecOptions struct {
	Cmd        []string
	Env        []string
	User       string // uid[:gid]; names are resolved in the container's /etc/passwd and /etc/group
	WorkDir    string
	Terminal   bool
	Detach     bool
	Privileged bool
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
}

// allCaps is every capability the kernel knows, for --privileged.
var allCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}

// ExecCommand prepares `runtime exec` for the container; the caller runs it
// and takes its exit code as the process'.
func (c *Container) ExecCommand(o ExecOptions) (*exec.Cmd, func(), error) {
	if err := c.refresh(); err != nil {
		return nil, nil, err
	}
	if c.State.Status != StatusRunning {
		return nil, nil, fmt.Errorf("can only create exec sessions on running containers: container state improper: %w", ErrNotRunning)
	}
	dir, err := c.runDir()
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the container's spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, nil, fmt.Errorf("parsing the container's spec: %w", err)
	}
	p := *spec.Process
	p.Args = o.Cmd
	p.Terminal = o.Terminal
	p.Env = parse.MergeEnv(p.Env, o.Env)
	if o.WorkDir != "" {
		p.Cwd = o.WorkDir
	}
	if o.User != "" {
		var uid, gid uint32
		n, _ := fmt.Sscanf(o.User, "%d:%d", &uid, &gid)
		if n == 0 {
			// a name: resolved in the container's /etc/passwd and /etc/group
			if c.State.Mountpoint == "" {
				return nil, nil, fmt.Errorf("exec --user %q: the container's root filesystem is not mounted", o.User)
			}
			eu, err := specgen.ResolveUser(c.State.Mountpoint, o.User, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("exec --user %q: %w", o.User, err)
			}
			uid, gid = eu.UID, eu.GID
		}
		p.User = specs.User{UID: uid, GID: gid}
	}
	if o.Privileged {
		p.Capabilities = &specs.LinuxCapabilities{Bounding: allCaps, Effective: allCaps, Permitted: allCaps}
	}
	procFile, err := os.CreateTemp(dir, "exec-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("writing exec process: %w", err)
	}
	if err := json.NewEncoder(procFile).Encode(&p); err != nil {
		_ = procFile.Close()
		return nil, nil, err
	}
	_ = procFile.Close()
	rt, err := c.ociRuntime()
	if err != nil {
		return nil, nil, err
	}
	args := append(rt.GlobalArgs(), "exec", "--process", procFile.Name())
	if o.Detach {
		args = append(args, "--detach")
	}
	if o.Terminal {
		// In the foreground runc allocates the pty and relays it to its
		// own stdio, which is ours.
		args = append(args, "--tty")
	}
	cmd := exec.Command(rt.Path, append(args, c.ID())...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	return cmd, func() { _ = os.Remove(procFile.Name()) }, nil
}

// ExecExitCode turns runc exec's result into podman's exit code: the
// process' own, or 127/126 when it could not be started.
func ExecExitCode(err error, stderr []byte) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 125, err
	}
	msg := string(bytes.TrimSpace(stderr))
	if strings.Contains(msg, "exec failed") || strings.Contains(msg, "starting container process caused") {
		switch {
		case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
			return 127, errors.New(execMessage(msg))
		case strings.Contains(msg, "permission denied"):
			return 126, errors.New(execMessage(msg))
		}
		return 125, errors.New(execMessage(msg))
	}
	return ee.ExitCode(), nil
}

func execMessage(msg string) string {
	if i := strings.LastIndex(msg, "msg=\""); i >= 0 {
		msg = strings.TrimSuffix(msg[i+5:], "\"")
	}
	return strings.ReplaceAll(msg, `\"`, `"`)
}
