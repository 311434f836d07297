// Command berth is a daemonless, rootless container engine, command-line
// compatible with podman.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/rootless"
	"go.podman.io/storage/pkg/reexec"
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
	// storage re-executes berth for chrooted untar and similar helpers.
	if reexec.Init() {
		return
	}
	if len(os.Args) == 2 && os.Args[1] == rootless.PauseCommand {
		rootless.RunPause()
	}
	libpod.Version = version
	root := newRootCommand()
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
