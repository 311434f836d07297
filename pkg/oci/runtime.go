package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Runtime runs runc or crun commands for containers kept under Root.
type Runtime struct {
	Path string
	Root string // the runtime's state directory (--root)
	// Flags are global flags given to every runtime command, before
	// berth's own (--runtime-flag, each with its leading "--").
	Flags []string
}

// GlobalArgs are the runtime's arguments before its command: Flags, then
// --root.
func (r *Runtime) GlobalArgs() []string {
	return append(append([]string{}, r.Flags...), "--root", r.Root)
}

// CheckFlags asks the runtime whether it accepts Flags (it parses them
// before --version): a runtime that refuses them would fail every command
// with a usage message that the container's stderr would swallow.
func (r *Runtime) CheckFlags() error {
	if len(r.Flags) == 0 {
		return nil
	}
	cmd := exec.Command(r.Path, append(append([]string{}, r.Flags...), "--version")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := ""
		for _, l := range strings.Split(stderr.String(), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				msg = l
				break
			}
		}
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s refuses the runtime flags %s: %s", r.name(), strings.Join(r.Flags, " "), msg)
	}
	return nil
}

// ErrNotExist is returned when the runtime does not know the container.
var ErrNotExist = errors.New("container does not exist in the OCI runtime")

func (r *Runtime) run(args ...string) error {
	cmd := exec.Command(r.Path, append(r.GlobalArgs(), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "does not exist") || strings.Contains(msg, "not found") {
			return fmt.Errorf("%s %s: %s: %w", r.name(), args[0], msg, ErrNotExist)
		}
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s %s: %s", r.name(), args[0], msg)
	}
	return nil
}

func (r *Runtime) name() string { return baseName(r.Path) }

// Start starts the user process of a created container.
func (r *Runtime) Start(id string) error { return r.run("start", id) }

// Kill sends a signal to the container's init (or all processes).
func (r *Runtime) Kill(id string, sig int, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	return r.run(append(args, id, strconv.Itoa(sig))...)
}

// Delete removes the runtime's record of the container.
func (r *Runtime) Delete(id string, force bool) error {
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	return r.run(append(args, id)...)
}

// Exists reports whether the runtime still keeps state for the container
// (runc and crun both keep a directory named after it under --root).
func (r *Runtime) Exists(id string) bool {
	_, err := os.Stat(filepath.Join(r.Root, id))
	return err == nil
}

// Pause freezes the container.
func (r *Runtime) Pause(id string) error { return r.run("pause", id) }

// Resume thaws the container.
func (r *Runtime) Resume(id string) error { return r.run("resume", id) }

// State is the runtime's view of a container.
type State struct {
	Status string `json:"status"` // created, running, paused, stopped
	Pid    int    `json:"pid"`
}

// State asks the runtime about a container.
func (r *Runtime) State(id string) (State, error) {
	cmd := exec.Command(r.Path, append(r.GlobalArgs(), "state", id)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "does not exist") || strings.Contains(msg, "not found") {
			return State{}, ErrNotExist
		}
		return State{}, fmt.Errorf("%s state %s: %s", r.name(), id, msg)
	}
	var st State
	if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
		return State{}, fmt.Errorf("parsing %s state: %w", r.name(), err)
	}
	return st, nil
}
