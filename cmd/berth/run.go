package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/rootless"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newCreateCommand() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [options] IMAGE [COMMAND [ARG...]]",
		Short: "Create but do not start a container",
		Args:  requireArgs(1, "requires at least 1 arg(s), only received 0"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := createContainer(cmd, &f, args)
			if err != nil {
				return err
			}
			fmt.Println(c.ID())
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func createContainer(cmd *cobra.Command, f *createFlags, args []string) (*libpod.Container, error) {
	spec, err := newContainerSpec(cmd, f, args[0], args[1:])
	if err != nil {
		return nil, err
	}
	ctx, cancel := signalContext()
	defer cancel()
	c, err := runtime().CreateContainer(ctx, spec, libpod.CreateOptions{PullProgress: os.Stderr, Warnings: os.Stderr})
	if err != nil {
		return nil, err
	}
	if f.cidFile != "" {
		if err := writeCIDFile(f.cidFile, c.ID()); err != nil {
			_ = runtime().RemoveContainer(c, libpod.RemoveOptions{Force: true})
			return nil, err
		}
	}
	return c, nil
}

func writeCIDFile(path, id string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container id file %s exists: remove it or pass another --cidfile", path)
		}
		return fmt.Errorf("writing container id file: %w", err)
	}
	if _, err := f.WriteString(id); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing container id file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing container id file: %w", err)
	}
	return nil
}

func newRunCommand() *cobra.Command {
	var f createFlags
	var sigProxy bool
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "run [options] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Args:  requireArgs(1, "requires at least 1 arg(s), only received 0"),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := parseDetachKeys(detachKeys)
			if err != nil {
				return err
			}
			if f.rmi {
				f.rm = true // --rmi implies --rm: the image can only go with the container
			}
			if f.tty && f.interactive && !f.detach && !term.IsTerminal(int(os.Stdin.Fd())) {
				logrus.Warn("The input device is not a TTY. The --tty and --interactive flags might not work properly")
			}
			c, err := createContainer(cmd, &f, args)
			if err != nil {
				return err
			}
			if f.detach {
				if err := c.Start(nil); err != nil {
					removeAfterFailedStart(c, f.rm)
					return runStartFailure(err)
				}
				fmt.Println(c.ID())
				return nil
			}
			if len(f.attach) > 0 {
				err = runAttachedStreams(c, attachedStreams(f.attach, f.interactive), f.tty, sigProxy && !f.tty, keys)
			} else {
				err = runAttached(c, f.interactive, f.tty, sigProxy && !f.tty, keys)
			}
			removeAfterFailedStart(c, f.rm)
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&f.detach, "detach", "d", false, "run container in background and print container ID")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "proxy received signals to the process")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", "ctrl-p,ctrl-q", "override the key sequence for detaching a container")
	cmd.Flags().BoolVar(&f.rmi, "rmi", false, "remove the container's image after it exits, unless used by other containers (implies --rm)")
	return cmd
}

// removeAfterFailedStart does --rm for a container that never ran (its
// start failed), as podman does; one that ran was removed by its cleanup.
func removeAfterFailedStart(c *libpod.Container, rm bool) {
	if !rm {
		return
	}
	cur, err := runtime().LookupContainer(c.ID())
	if err != nil || cur.State.Status != libpod.StatusCreated && cur.State.Status != libpod.StatusExited {
		return
	}
	_ = runtime().RemoveContainer(cur, libpod.RemoveOptions{Force: true})
}

// runStartFailure is a failed start of `run`, with podman's exit code for
// it: 127 when the command is not found, else 126 (the container could not
// be invoked: the runtime failed, a port was taken, ...).
func runStartFailure(err error) error {
	code := 126
	var se *libpod.StartError
	if errors.As(err, &se) && se.Code == 127 {
		code = 127
	}
	return &exitError{code: code, err: err}
}

func startFailure(err error) error {
	var se *libpod.StartError
	if errors.As(err, &se) {
		return &exitError{code: se.Code, err: err}
	}
	return err
}

// runAttached starts the container attached to this terminal and returns
// its exit code as the command's.
func runAttached(c *libpod.Container, stdin, tty, sigProxy bool, detachKeys []byte) error {
	return runAttachedStreams(c, streamSet{stdin: stdin, stdout: true, stderr: true}, tty, sigProxy, detachKeys)
}

// streamSet says which of the terminal's streams a run attaches.
type streamSet struct{ stdin, stdout, stderr bool }

// attachedStreams is run --attach: only the streams named (stdin also with -i).
func attachedStreams(names []string, interactive bool) streamSet {
	s := streamSet{stdin: interactive}
	for _, n := range names {
		switch strings.ToLower(n) {
		case "stdin":
			s.stdin = true
		case "stdout":
			s.stdout = true
		case "stderr":
			s.stderr = true
		}
	}
	return s
}

// runAttachedStreams is runAttached with a choice of streams; without
// stdout and stderr it prints the container's ID once started, as podman.
func runAttachedStreams(c *libpod.Container, set streamSet, tty, sigProxy bool, detachKeys []byte) error {
	stdin := set.stdin
	if tty {
		if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil {
			c.SetConsoleSize(uint16(h), uint16(w))
		}
	}
	var session *libpod.AttachSession
	err := c.Start(func() error {
		var err error
		if session, err = c.Dial(); err != nil {
			return err
		}
		return session.OwnCleanup()
	})
	if err != nil {
		return runStartFailure(err)
	}
	var streams libpod.AttachStreams
	if set.stdout {
		streams.Stdout = os.Stdout
	}
	if set.stderr {
		streams.Stderr = os.Stderr
	}
	if !set.stdout && !set.stderr {
		fmt.Println(c.ID())
	}
	if stdin {
		streams.Stdin = os.Stdin
		if tty {
			streams.DetachKeys = detachKeys
		}
	}
	if tty && term.IsTerminal(int(os.Stdin.Fd())) {
		old, err := term.MakeRaw(int(os.Stdin.Fd()))
		if err == nil {
			defer func() { _ = term.Restore(int(os.Stdin.Fd()), old) }()
		}
		resize := func() {
			if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil {
				session.Resize(uint16(h), uint16(w))
			}
		}
		resize()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				resize()
			}
		}()
	}
	if sigProxy {
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		defer signal.Stop(sigs)
		go func() {
			for s := range sigs {
				_ = c.Kill(s.(syscall.Signal))
			}
		}()
	}
	code, err := session.Run(streams)
	if errors.Is(err, libpod.ErrDetached) {
		_ = session.Close()
		return nil
	}
	if err != nil {
		_ = session.Close()
		// The monitor went away without reporting: the state tells.
		code, err = c.Wait([]string{libpod.StatusExited.String()}, 50*time.Millisecond)
		if err != nil {
			return err
		}
	}
	// Clean up here rather than wait for the monitor's cleanup process, so
	// the state is final (and --rm done) when we return, as with podman.
	// The session stays open until then: should this process die before
	// it reports the cleanup done, the monitor does it.
	if err := runtime().Cleanup(c.ID()); err != nil && !errors.Is(err, state.ErrNoSuchContainer) {
		_ = session.Close()
		return err
	}
	_ = session.CleanupDone()
	_ = session.Close()
	// The monitor removes the runtime's record meanwhile; rootful, that
	// includes the container's cgroup, which must be gone when we return.
	if !rootless.IsRootless() {
		c.WaitMonitor(5 * time.Second)
	}
	if code != 0 {
		return &exitError{code: int(code), err: errors.New("")}
	}
	return nil
}

// parseDetachKeys reads podman's "ctrl-p,ctrl-q" syntax.
func parseDetachKeys(s string) ([]byte, error) {
	return parse.DetachKeys(s)
}
