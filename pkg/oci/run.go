package oci

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// RunOptions are the standard streams of a foreground `run`: nil is
// /dev/null. An *os.File is handed to the container as it is (no copying).
type RunOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// RunError is a failure of the runtime itself (the container's process
// could not be started), as opposed to the process exiting non-zero.
type RunError struct {
	// Code is the exit code podman gives for it: 127 when the command is
	// not found, 126 when it cannot be executed, else 125.
	Code int
	Msg  string
}

func (e *RunError) Error() string { return e.Msg }

// Run creates and starts the container id from the bundle directory
// (holding config.json) and waits for it in the foreground, as `runc run`
// does: the container's stdio are the given streams, and it is deleted
// when its process exits. It returns the process' exit code (128+N when a
// signal N killed it); err is a *RunError when the runtime could not start
// it. When ctx is cancelled the container is killed and deleted.
func (r *Runtime) Run(ctx context.Context, id, bundle string, o RunOptions) (int, error) {
	logPath := filepath.Join(bundle, "runtime.log")
	_ = os.Remove(logPath)
	cmd := exec.Command(r.Path, append(r.GlobalArgs(), "--log", logPath, "--log-format", "json",
		"run", "--bundle", bundle, id)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	// its own process group: a ^C reaches berth, which kills the container
	// in order (runc forwards the signals it gets to the container).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = bundle
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("running %s: %w", r.name(), err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Kill(id, int(syscall.SIGKILL), true)
			// runc may not have created the container yet
			time.Sleep(50 * time.Millisecond)
			_ = r.Kill(id, int(syscall.SIGKILL), true)
			_ = cmd.Process.Signal(syscall.SIGKILL)
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	if ctx.Err() != nil {
		_ = r.Delete(id, true)
		return -1, ctx.Err()
	}
	if msg := runtimeError(logPath); msg != "" {
		_ = r.Delete(id, true)
		return -1, &RunError{Code: runErrorCode(msg), Msg: r.name() + ": " + msg}
	}
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		_ = r.Delete(id, true)
		return -1, fmt.Errorf("running %s: %w", r.name(), err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		// runc itself was killed: its container may remain
		_ = r.Delete(id, true)
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}

// runtimeError returns the last error the runtime logged, "" for none.
func runtimeError(logPath string) string {
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) != nil {
			continue
		}
		if entry.Level == "error" || entry.Level == "fatal" {
			last = entry.Msg
		}
	}
	return strings.TrimSpace(last)
}

func runErrorCode(msg string) int {
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "exec format error"):
		return 126
	}
	return 125
}
