package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/rootless"
	"github.com/spf13/cobra"
	"go.podman.io/storage/pkg/stringid"
	"golang.org/x/term"
)

func moreContainerCommands() []*cobra.Command {
	return []*cobra.Command{newRestartCommand(), newPauseCommand(true), newPauseCommand(false), newRenameCommand(),
		newPortCommand(), newAttachCommand(), newMountCommand(), newUnmountCommand(), newExportCommand(), newDiffCommand(),
		newExecCommand(), newCpCommand(), newCommitCommand(), newTopCommand(), newInitCommand()}
}

func newRestartCommand() *cobra.Command {
	var running bool
	var timeout int
	var sel ctrSelect
	cmd := &cobra.Command{
		Use:   "restart [options] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if running && len(args) == 0 && !sel.latest && len(sel.cidfiles) == 0 {
				sel.all = true
			}
			targets, err := sel.resolve(args)
			if err != nil {
				return err
			}
			return runOnTargets(targets, func(c *libpod.Container) error {
				if running && c.State.Status != libpod.StatusRunning {
					return errSkip
				}
				return c.Restart(stopTimeout(cmd, c, timeout))
			})
		},
	}
	sel.addFlags(cmd, "restart all non-running containers", selectFlags{cidfile: true, filter: true, allShort: true})
	cmd.Flags().BoolVar(&running, "running", false, "restart only running containers")
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait for stop before killing the container")
	return cmd
}

func newPauseCommand(pause bool) *cobra.Command {
	use, short, allHelp := "pause", "Pause all the processes in one or more containers", "pause all running containers"
	if !pause {
		use, short, allHelp = "unpause", "Unpause the processes in one or more containers", "unpause all paused containers"
	}
	var sel ctrSelect
	cmd := &cobra.Command{
		Use:   use + " [options] CONTAINER [CONTAINER...]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := sel.resolve(args)
			if err != nil {
				return err
			}
			return runOnTargets(targets, func(c *libpod.Container) error {
				if sel.all && (pause && c.State.Status != libpod.StatusRunning || !pause && c.State.Status != libpod.StatusPaused) {
					return errSkip
				}
				if pause {
					return c.Pause()
				}
				return c.Unpause()
			})
		},
	}
	sel.addFlags(cmd, allHelp, selectFlags{cidfile: true, filter: true, allShort: true})
	return cmd
}

func newRenameCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NAME",
		Short: "Rename an existing container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := runtime().LookupContainer(args[0])
			if err != nil {
				return containerError(args[0], err)
			}
			return c.Rename(args[1])
		},
	}
}

func newPortCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "port [options] CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 2 {
				return errors.New("`port` accepts at most 2 arguments")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r := runtime()
			var cs []*libpod.Container
			filter := ""
			if all {
				var err error
				if cs, err = r.Containers(); err != nil {
					return err
				}
				if len(args) > 0 {
					filter = args[0]
				}
			} else {
				if len(args) == 0 {
					return errors.New("you must supply a running container name or id")
				}
				c, err := r.LookupContainer(args[0])
				if err != nil {
					return containerError(args[0], err)
				}
				cs = []*libpod.Container{c}
				if len(args) > 1 {
					filter = args[1]
				}
			}
			if filter != "" && !strings.Contains(filter, "/") {
				filter += "/tcp"
			}
			for _, c := range cs {
				for _, p := range c.Config.Ports {
					key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
					ip := p.HostIP
					if ip == "" {
						ip = "0.0.0.0"
					}
					switch filter {
					case "":
						if all {
							fmt.Printf("%s\t", stringid.TruncateID(c.ID()))
						}
						fmt.Printf("%s -> %s:%d\n", key, ip, p.HostPort)
					case key:
						fmt.Printf("%s:%d\n", ip, p.HostPort)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "display port information for all containers")
	return cmd
}

func newAttachCommand() *cobra.Command {
	var noStdin bool
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "attach [options] CONTAINER",
		Short: "Attach to a running container",
		Args:  idsOrLatest(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := runtime().LookupContainer(args[0])
			if err != nil {
				return containerError(args[0], err)
			}
			if c.State.Status != libpod.StatusRunning {
				return fmt.Errorf("you can only attach to running containers")
			}
			keys, err := parseDetachKeys(detachKeys)
			if err != nil {
				return err
			}
			session, err := c.Dial()
			if err != nil {
				return err
			}
			defer session.Close()
			streams := libpod.AttachStreams{Stdout: os.Stdout, Stderr: os.Stderr, DetachKeys: keys}
			if !noStdin && c.Config.Stdin {
				streams.Stdin = os.Stdin
			}
			if c.Config.Terminal && term.IsTerminal(int(os.Stdin.Fd())) {
				if old, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
					defer func() { _ = term.Restore(int(os.Stdin.Fd()), old) }()
				}
				if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil {
					session.Resize(uint16(h), uint16(w))
				}
			}
			code, err := session.Run(streams)
			if errors.Is(err, libpod.ErrDetached) {
				return nil
			}
			if err != nil {
				return err
			}
			_ = runtime().Cleanup(c.ID())
			if code != 0 {
				return &exitError{code: int(code), err: errors.New("")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "do not attach STDIN")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", "ctrl-p,ctrl-q", "select the key sequence for detaching a container")
	return cmd
}

// inUnshare reports whether this berth runs under `berth unshare`, where
// rootless mounts are visible to the user's commands.
func inUnshare() bool { return os.Getenv("_BERTH_UNSHARE") != "" }

func newMountCommand() *cobra.Command {
	var all, latest, noTrunc bool
	var format string
	cmd := &cobra.Command{
		Use:   "mount [options] [CONTAINER...]",
		Short: "Mount a working container's root filesystem",
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootless.IsRootless() && !inUnshare() {
				return errors.New("cannot run command \"berth mount\" in rootless mode, must execute `berth unshare` first")
			}
			if format != "" && format != "json" {
				return errors.New("only supported value for '--format' is 'json'")
			}
			if len(args) > 0 && (all || latest) {
				return errors.New("--all, --latest and containers cannot be used together")
			}
			if len(args) == 0 && !all && !latest {
				return listMounts(format == "json", noTrunc)
			}
			// another tool's container (buildah's) is mounted from storage
			if len(args) == 1 && format == "" {
				if _, err := runtime().LookupContainer(args[0]); errors.Is(err, state.ErrNoSuchContainer) {
					if p, err := runtime().MountExternal(args[0]); err == nil {
						fmt.Println(p)
						return nil
					}
				}
			}
			sel := ctrSelect{all: all, latest: latest}
			targets, err := sel.resolve(args)
			if err != nil {
				return err
			}
			type mounted struct {
				ID         string   `json:"id"`
				Names      []string `json:"Names"`
				Mountpoint string   `json:"mountpoint"`
			}
			var out []mounted
			var lastErr error
			for _, t := range targets {
				p, err := t.c.Mount()
				if err != nil {
					if lastErr != nil {
						fmt.Fprintln(os.Stderr, "Error:", lastErr)
					}
					lastErr = fmt.Errorf("mounting %s: %w", t.input, err)
					continue
				}
				out = append(out, mounted{t.c.ID(), []string{t.c.Name()}, p})
			}
			switch {
			case format == "json":
				if err := printJSON(out); err != nil {
					return err
				}
			case len(args) == 0: // --all, --latest: a table, as podman
				for _, m := range out {
					fmt.Printf("%s  %s\n", m.ID, m.Mountpoint)
				}
			default:
				for _, m := range out {
					fmt.Println(m.Mountpoint)
				}
			}
			return lastErr
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "mount all containers")
	fl.BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	fl.StringVar(&format, "format", "", "print the mounted containers in specified format (json)")
	fl.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	fl.BoolVar(&noTrunc, "notruncate", false, "do not truncate output")
	_ = fl.MarkHidden("notruncate")
	return cmd
}

// listMounts prints the containers whose root filesystem is mounted (by
// `mount`, because they run, or by another tool on the same store).
func listMounts(asJSON, noTrunc bool) error {
	cs, err := runtime().Containers()
	if err != nil {
		return err
	}
	type mounted struct {
		ID         string   `json:"id"`
		Names      []string `json:"Names"`
		Mountpoint string   `json:"mountpoint"`
	}
	out := []mounted{}
	for _, c := range cs {
		p, err := c.MountPoint()
		if err != nil {
			return fmt.Errorf("checking whether %s is mounted: %w", c.Name(), err)
		}
		if p != "" {
			out = append(out, mounted{c.ID(), []string{c.Name()}, p})
		}
	}
	externals, err := runtime().ExternalContainers()
	if err != nil {
		return err
	}
	for _, e := range externals {
		if p, err := e.MountPoint(runtime()); err == nil && p != "" {
			out = append(out, mounted{e.ID, e.Names, p})
		}
	}
	if asJSON {
		return printJSON(out)
	}
	for _, m := range out {
		id := m.ID
		if !noTrunc {
			id = stringid.TruncateID(id)
		}
		fmt.Printf("%s  %s\n", id, m.Mountpoint)
	}
	return nil
}

func newUnmountCommand() *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:     "unmount [options] CONTAINER [CONTAINER...]",
		Aliases: []string{"umount"},
		Short:   "Unmount working container's root filesystem",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && !all {
				if _, err := runtime().LookupContainer(args[0]); errors.Is(err, state.ErrNoSuchContainer) {
					if err := runtime().UnmountExternal(args[0], force); err == nil {
						fmt.Println(args[0]) // another tool's container
						return nil
					}
				}
			}
			return forEachContainer(args, all, func(c *libpod.Container) error {
				return c.Unmount(force)
			}, func(name string, c *libpod.Container) { fmt.Println(name) })
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "unmount all of the currently mounted containers")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "force the complete unmount of the specified mounted containers")
	return cmd
}

func newExportCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [options] CONTAINER",
		Short: "Export container's filesystem contents as a tar archive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := runtime().LookupContainer(args[0])
			if err != nil {
				return containerError(args[0], err)
			}
			w := os.Stdout
			var f *os.File
			if output != "" {
				if f, err = os.Create(output); err != nil {
					return fmt.Errorf("creating %s: %w", output, err)
				}
				defer f.Close()
				w = f
			} else if term.IsTerminal(int(os.Stdout.Fd())) {
				return errors.New("refusing to export to terminal. Use -o flag or redirect")
			}
			bw := bufio.NewWriterSize(w, 1<<20)
			err = c.Export(bw)
			if err == nil {
				err = bw.Flush()
			}
			// The file's Close reports a failed write too: a truncated
			// archive must not be left as if it were complete.
			if err == nil && f != nil {
				err = f.Close()
			}
			if err != nil {
				// not a device such as /dev/full
				if st, serr := os.Stat(output); output != "" && serr == nil && st.Mode().IsRegular() {
					_ = os.Remove(output)
				}
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to a specified file (default: stdout, which must be redirected)")
	return cmd
}

func newDiffCommand() *cobra.Command {
	var format string
	var latest bool
	cmd := &cobra.Command{
		Use:   "diff [options] CONTAINER",
		Short: "Inspect changes to the container's file systems",
		Args:  idsOrLatest(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" {
				return errors.New("only supported value for '--format' is 'json'")
			}
			var changes []libpod.Change
			if latest {
				targets, err := (&ctrSelect{latest: true}).resolve(nil)
				if err != nil {
					return fmt.Errorf("unable to get latest container: %w", err)
				}
				if changes, err = targets[0].c.Diff(); err != nil {
					return err
				}
			} else {
				c, err := runtime().LookupContainer(args[0])
				switch {
				case err == nil:
					changes, err = c.Diff()
				case errors.Is(err, state.ErrNoSuchContainer):
					// another tool's container, or an image, as podman
					changes, err = runtime().DiffStorage(args[0])
				}
				if err != nil {
					return err
				}
			}
			if format == "json" {
				var out struct {
					Changed []string `json:"changed,omitempty"`
					Added   []string `json:"added,omitempty"`
					Deleted []string `json:"deleted,omitempty"`
				}
				for _, ch := range changes {
					switch ch.Kind {
					case "A":
						out.Added = append(out.Added, ch.Path)
					case "D":
						out.Deleted = append(out.Deleted, ch.Path)
					default:
						out.Changed = append(out.Changed, ch.Path)
					}
				}
				return printJSON(out)
			}
			for _, ch := range changes {
				fmt.Println(ch.Kind, ch.Path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "change the output format (json)")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	return cmd
}

// newUnshareCommand runs a command in berth's user namespace, as podman unshare.
func newUnshareCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unshare [options] [COMMAND [ARG...]]",
		Short: "Run a command in a modified user namespace",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !rootless.IsRootless() {
				return errors.New("please use unshare with rootless")
			}
			if len(args) == 0 {
				shell := os.Getenv("SHELL")
				if shell == "" {
					shell = "/bin/sh"
				}
				args = []string{shell}
			}
			path, err := exec.LookPath(args[0])
			if err != nil {
				return &exitError{code: 127, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			so, err := runtime().Store()
			if err != nil {
				return err
			}
			env := append(os.Environ(), "_BERTH_UNSHARE=1", "CONTAINERS_GRAPHROOT="+so.GraphRoot(), "CONTAINERS_RUNROOT="+so.RunRoot())
			runtime().Shutdown()
			return syscall.Exec(path, args, env)
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func newInitCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "init [options] CONTAINER [CONTAINER...]",
		Short: "Initialize one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachContainer(args, all, func(c *libpod.Container) error {
				err := c.Init()
				if all && (errors.Is(err, libpod.ErrInitialized) || errors.Is(err, libpod.ErrAlreadyRunning)) {
					return nil
				}
				return startFailure(err)
			}, func(name string, c *libpod.Container) { fmt.Println(name) })
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "initialize all containers")
	return cmd
}
