package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
)

func newExecCommand() *cobra.Command {
	var interactive, tty, detach, privileged bool
	var env []string
	var user, workdir string
	cmd := &cobra.Command{
		Use:   "exec [options] CONTAINER COMMAND [ARG...]",
		Short: "Run a process in a running container",
		Args:  requireArgs(1, "exec requires the name or ID of a container or the --latest flag"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := runtime().LookupContainer(args[0])
			if err != nil {
				return containerError(args[0], err)
			}
			if len(args) < 2 {
				return errors.New("must provide a non-empty command to start an exec session: invalid argument")
			}
			for i, e := range env {
				if !strings.Contains(e, "=") {
					env[i] = e + "=" + os.Getenv(e)
				}
			}
			var stderr bytes.Buffer
			o := libpod.ExecOptions{Cmd: args[1:], Env: env, User: user, WorkDir: workdir, Terminal: tty,
				Detach: detach, Privileged: privileged, Stdout: os.Stdout, Stderr: io.MultiWriter(os.Stderr, &stderr)}
			if detach {
				o.Stdout, o.Stderr = nil, &stderr
			}
			if interactive && !detach {
				o.Stdin = os.Stdin
			}
			if tty && detach {
				return errors.New("exec --detach with --tty is not supported yet")
			}
			if tty && interactive {
				o.Stdin = os.Stdin
			}
			run, done, err := c.ExecCommand(o)
			if err != nil {
				return err
			}
			defer done()
			if err := run.Start(); err != nil {
				return fmt.Errorf("running exec: %w", err)
			}
			err = run.Wait()
			code, err := libpod.ExecExitCode(err, stderr.Bytes())
			if err != nil {
				if !detach {
					err = errors.New("") // the runtime has printed why on stderr
				}
				return &exitError{code: code, err: err}
			}
			if code != 0 {
				return &exitError{code: code, err: errors.New("")}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.BoolVarP(&interactive, "interactive", "i", false, "make STDIN available to the contained process")
	fl.BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-TTY")
	fl.BoolVarP(&detach, "detach", "d", false, "run the exec session in detached mode (backgrounded)")
	fl.BoolVar(&privileged, "privileged", false, "give the process extended Linux capabilities")
	fl.StringArrayVarP(&env, "env", "e", nil, "set environment variables")
	fl.StringVarP(&user, "user", "u", "", "sets the uid[:gid] to run the process as")
	fl.StringVarP(&workdir, "workdir", "w", "", "working directory inside the container")
	return cmd
}
