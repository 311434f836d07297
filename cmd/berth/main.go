// Command berth is a daemonless, rootless container engine, command-line
// compatible with podman.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/rootless"
	"go.podman.io/storage/pkg/reexec"
	"golang.org/x/sys/unix"
)

// Exit codes as podman uses them.
const (
	exitEngine = 125
)

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	// before anything opens a file: which fds berth was given (--preserve-fds)
	libpod.NoteInheritedFDs()
	// storage re-executes berth for chrooted untar and similar helpers
	// ("storage-untar", ...). Such a helper must not outlive a berth that
	// was killed: it would keep writing into a temporary directory that the
	// next berth cleans up.
	if strings.HasPrefix(filepath.Base(os.Args[0]), "storage-") {
		parent := os.Getppid()
		_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
		if os.Getppid() != parent {
			os.Exit(1) // the parent died before prctl took effect
		}
	}
	if reexec.Init() {
		return
	}
	if len(os.Args) == 2 && os.Args[1] == rootless.PauseCommand {
		rootless.RunPause()
	}
	libpod.Version = version
	root := newRootBase()
	args := dockerDebugArgs(root, os.Args[1:])
	// only the command args name: building all of them costs every start
	addCommandsFor(root, args)
	root.SetArgs(args)
	stopProfile := startProfile()
	err := root.Execute()
	stopProfile()
	if rt != nil {
		rt.Shutdown()
	}
	if err != nil {
		var ee *exitError
		code := exitEngine
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "Error:", err)
		}
		os.Exit(code)
	}
}
