package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/spf13/cobra"
)

func newContainerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  cobra.ArbitraryArgs,
		RunE:  subCommandExists,
	}
	ls := newPsCommand("ls")
	ls.Aliases = []string{"list", "ps"}
	cmd.AddCommand(ls, newCreateCommand(), newRunCommand(), newStartCommand(), newStopCommand(), newKillCommand(),
		newRmCommand("rm"), newWaitCommand(), newLogsCommand(), newContainerExistsCommand(), newCleanupCommand(),
		newContainerInspectCommand())
	cmd.AddCommand(moreContainerCommands()...)
	prune := newContainerPruneCommand()
	cmd.AddCommand(prune)
	return cmd
}

func containerAliases() []*cobra.Command {
	return append([]*cobra.Command{newPsCommand("ps"), newCreateCommand(), newRunCommand(), newStartCommand(),
		newStopCommand(), newKillCommand(), newRmCommand("rm"), newWaitCommand(), newLogsCommand(), newUnshareCommand()},
		moreContainerCommands()...)
}

func newContainerPruneCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove all non running containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				ok, err := askYesNo("WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ")
				if err != nil || !ok {
					return err
				}
			}
			r := runtime()
			cs, err := r.ListContainers()
			if err != nil {
				return err
			}
			for _, c := range cs {
				if c.State.Status == libpod.StatusRunning || c.State.Status == libpod.StatusPaused || c.State.Status == libpod.StatusStopping {
					continue
				}
				if err := r.RemoveContainer(c, libpod.RemoveOptions{}); err != nil {
					return err
				}
				fmt.Println(c.ID())
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

// containerError maps lookup failures to podman's messages.
func containerError(name string, err error) error {
	if errors.Is(err, state.ErrNoSuchContainer) {
		return fmt.Errorf("no container with name or ID %q found: %w", name, state.ErrNoSuchContainer)
	}
	return err
}

// forEachContainer runs fn on each named container (or all with --all),
// printing what succeeded and returning the last error.
func forEachContainer(names []string, all bool, fn func(*libpod.Container) error, print func(name string, c *libpod.Container)) error {
	type target struct {
		name string
		c    *libpod.Container
	}
	if len(names) == 0 && !all {
		return errors.New("you must provide at least one name or id")
	}
	r := runtime()
	var targets []target
	var lastErr error
	report := func(err error) {
		if lastErr != nil {
			fmt.Fprintln(os.Stderr, "Error:", lastErr)
		}
		lastErr = err
	}
	if all {
		cs, err := r.Containers()
		if err != nil {
			return err
		}
		for _, c := range cs {
			targets = append(targets, target{c.ID(), c})
		}
	} else {
		for _, n := range names {
			c, err := r.LookupContainer(n)
			if err != nil {
				report(containerError(n, err))
				continue
			}
			targets = append(targets, target{n, c})
		}
	}
	for _, t := range targets {
		if err := fn(t.c); err != nil {
			report(err)
			continue
		}
		if print != nil {
			print(t.name, t.c)
		}
	}
	return lastErr
}

func newStartCommand() *cobra.Command {
	var attach, interactive bool
	sel := ctrSelect{filterArgsOK: true}
	cmd := &cobra.Command{
		Use:   "start [options] CONTAINER [CONTAINER...]",
		Short: "Start one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if sel.all && len(args) > 0 {
				return errors.New("either start all containers or the container(s) provided in the arguments")
			}
			if len(args) == 0 && !sel.all && !sel.latest && len(sel.filters) == 0 {
				return errors.New("start requires at least one argument")
			}
			if attach {
				if len(args) > 1 || sel.all || len(sel.filters) > 0 {
					return errors.New("you cannot start and attach multiple containers at once")
				}
				targets, err := sel.resolve(args)
				if err != nil {
					return err
				}
				if len(targets) == 0 {
					return nil
				}
				c := targets[0].c
				return runAttached(c, interactive, c.Config.Terminal, true, []byte{16, 17})
			}
			if len(args) == 0 && !sel.latest && len(sel.filters) > 0 {
				sel.all = true
			}
			targets, err := sel.resolve(args)
			if err != nil {
				return err
			}
			// unlike run, a failed start exits 125 whatever the cause (podman)
			return runOnTargets(targets, func(c *libpod.Container) error {
				if sel.all && c.State.Status == libpod.StatusRunning {
					return errSkip // podman's start --all leaves running containers alone
				}
				err := c.Start(nil)
				if errors.Is(err, libpod.ErrAlreadyRunning) {
					return nil
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach container's STDOUT and STDERR")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "make STDIN available to the contained process")
	sel.addFlags(cmd, "start all containers regardless of their state or configuration", selectFlags{filter: true})
	return cmd
}

func newStopCommand() *cobra.Command {
	var timeout int
	var sel ctrSelect
	cmd := &cobra.Command{
		Use:   "stop [options] CONTAINER [CONTAINER...]",
		Short: "Stop one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := sel.resolve(args)
			if err != nil {
				return err
			}
			return runOnTargets(targets, func(c *libpod.Container) error {
				return c.Stop(stopTimeout(cmd, c, timeout))
			})
		},
	}
	sel.addFlags(cmd, "stop all running containers", selectFlags{cidfile: true, filter: true, ignore: true, allShort: true})
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait for stop before killing the container")
	cmd.Flags().IntVar(&timeout, "timeout", 10, "seconds to wait for stop before killing the container")
	_ = cmd.Flags().MarkHidden("timeout")
	return cmd
}

func newKillCommand() *cobra.Command {
	var signal string
	var sel ctrSelect
	cmd := &cobra.Command{
		Use:   "kill [options] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers with a specific signal",
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := parseSignal(signal)
			if err != nil {
				return err
			}
			targets, err := sel.resolve(args)
			if err != nil {
				return err
			}
			return runOnTargets(targets, func(c *libpod.Container) error {
				err := c.Kill(sig)
				if sel.all && errors.Is(err, libpod.ErrNotRunning) {
					return errSkip
				}
				return err
			})
		},
	}
	sel.addFlags(cmd, "signal all running containers", selectFlags{cidfile: true, allShort: true})
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal to send to the container")
	return cmd
}

func newRmCommand(use string) *cobra.Command {
	var all, force, volumes, ignore, depend, latest bool
	var stopTime int
	cmd := &cobra.Command{
		Use:   use + " [options] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && latest:
				return errors.New("--all and --latest cannot be used together")
			case len(args) > 0 && latest:
				return errors.New("--latest and containers cannot be used together")
			case len(args) == 0 && !all && !latest:
				return errors.New("you must provide at least one name or id")
			case len(args) > 0 && all:
				return errors.New("no arguments are needed with --all")
			}
			if latest {
				cs, err := runtime().Containers()
				if err != nil {
					return err
				}
				c := latestOf(cs)
				if c == nil {
					return containerError("latest", state.ErrNoSuchContainer)
				}
				args = []string{c.ID()}
			}
			opts := libpod.RemoveOptions{Force: force, Volumes: volumes, StopTimeout: time.Duration(stopTime) * time.Second}
			// --force also ignores containers that do not exist (podman)
			return removeContainers(runtime(), args, all, ignore || force, opts)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove all containers")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "force removal of a running or unusable container")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove anonymous volumes associated with the container")
	cmd.Flags().BoolVarP(&ignore, "ignore", "i", false, "ignore errors when a specified container is missing")
	// berth containers do not depend on each other yet (no --network
	// container:), so --depend removes just the containers named.
	cmd.Flags().BoolVar(&depend, "depend", false, "remove container and all containers that depend on it")
	cmd.Flags().IntVarP(&stopTime, "time", "t", 0, "seconds to wait for a running container to stop before killing it (with --force)")
	return cmd
}

// removeContainers is rm: berth's containers through the engine; a name or
// ID that only a storage container of another tool (podman, buildah) has
// removes that one from storage, as podman does, but --all leaves those
// alone. It prints what the user typed (full IDs for --all). The exit code
// is podman's: 1 if a container was not found, 2 if one runs, else 125.
func removeContainers(r *libpod.Runtime, names []string, all, ignore bool, opts libpod.RemoveOptions) error {
	var errs []error
	code := 0
	fail := func(err error) {
		errs = append(errs, err)
		switch {
		case code == 1:
		case errors.Is(err, state.ErrNoSuchContainer):
			code = 1
		case errors.Is(err, libpod.ErrRunning):
			code = 2
		}
	}
	if all {
		cs, err := r.Containers()
		if err != nil {
			return err
		}
		for _, c := range cs {
			// one that went meanwhile (run --rm) is removed all the same
			if err := r.RemoveContainer(c, opts); err != nil && !(ignore && errors.Is(err, state.ErrNoSuchContainer)) {
				fail(err)
				continue
			}
			fmt.Println(c.ID())
		}
	}
	for _, name := range names {
		c, err := r.LookupContainer(name)
		if err == nil {
			if err = r.RemoveContainer(c, opts); ignore && errors.Is(err, state.ErrNoSuchContainer) {
				err = nil // went meanwhile (run --rm)
			}
		} else if errors.Is(err, state.ErrNoSuchContainer) {
			err = r.RemoveExternalContainer(name, opts.Force)
		}
		if err != nil {
			if errors.Is(err, state.ErrNoSuchContainer) {
				if ignore {
					continue
				}
				err = containerError(name, state.ErrNoSuchContainer)
			}
			fail(err)
			continue
		}
		fmt.Println(name)
	}
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintln(os.Stderr, "Error:", e)
	}
	if code == 0 {
		code = 125
	}
	return &exitError{code: code, err: errs[len(errs)-1]}
}

func newWaitCommand() *cobra.Command {
	var conditions []string
	var interval string
	cmd := &cobra.Command{
		Use:   "wait [options] CONTAINER [CONTAINER...]",
		Short: "Block on one or more containers",
		Args:  idsOrLatest(-1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := time.ParseDuration(interval)
			if err != nil {
				if d, err = time.ParseDuration(interval + "ms"); err != nil {
					return fmt.Errorf("invalid --interval %q", interval)
				}
			}
			if err := libpod.CheckWaitConditions(conditions); err != nil {
				return err
			}
			return forEachContainer(args, false, func(c *libpod.Container) error {
				code, err := c.Wait(conditions, d)
				if err != nil {
					return err
				}
				fmt.Println(code)
				return nil
			}, nil)
		},
	}
	cmd.Flags().StringSliceVar(&conditions, "condition", nil, "condition to wait on")
	cmd.Flags().StringVarP(&interval, "interval", "i", "250ms", "time interval to wait before polling for completion")
	return cmd
}

func newContainerExistsCommand() *cobra.Command {
	var external bool
	cmd := &cobra.Command{
		Use:   "exists [options] CONTAINER",
		Short: "Check if a container exists in local storage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := runtime()
			_, err := r.LookupContainer(args[0])
			if external && errors.Is(err, state.ErrNoSuchContainer) {
				_, err = r.LookupExternalContainer(args[0])
			}
			if err != nil {
				if errors.Is(err, state.ErrNoSuchContainer) {
					return &exitError{code: 1, err: errors.New("")}
				}
				return err
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&external, "external", false, "check external storage containers as well as berth containers")
	return cmd
}

func newCleanupCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "cleanup CONTAINER",
		Short:  "Clean up after a container exited (run by the monitor)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runtime().Cleanup(args[0])
		},
	}
}

// stopTimeout is --time when given, else the container's own stop timeout.
func stopTimeout(cmd *cobra.Command, c *libpod.Container, flag int) time.Duration {
	if cmd.Flags().Changed("time") {
		return time.Duration(flag) * time.Second
	}
	return c.StopTimeoutDuration()
}
