package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/config"
	"github.com/berth-containers/berth/rootless"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

var (
	globalOpts config.Options
	// rt is the engine of this invocation; commands get it from runtime().
	rt *libpod.Runtime
	// debugLogging is --debug (-D), docker's spelling of --log-level=debug.
	debugLogging bool
)

// noStorage marks commands that neither join the user namespace nor open
// storage. join.c keeps its own list of these for the fast path.
const noStorage = "berth.noStorage"

// noRuntimeDir marks commands that do not use the runtime directory either
// (version, help, completion): they work whatever state it is in.
const noRuntimeDir = "berth.noRuntimeDir"

// newRootCommand is berth with every command (help, completion, docs).
func newRootCommand() *cobra.Command {
	root := newRootBase()
	addAllCommands(root)
	finishRoot(root)
	return root
}

// newRootBase is the root command and its global flags, without commands.
func newRootBase() *cobra.Command {
	var noOut bool
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Manage pods, containers and images, without a daemon",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if noOut {
				// podman's --noout: everything the command would print on
				// stdout goes to /dev/null (errors still reach stderr).
				null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					return err
				}
				os.Stdout = null
			}
			return setup(cmd)
		},
		Args: cobra.ArbitraryArgs,
		RunE: subCommandExists,
	}
	root.SetVersionTemplate("berth version {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&globalOpts.Root, "root", "", "path to the graph root directory where images and containers are stored")
	pf.StringVar(&globalOpts.RunRoot, "runroot", "", "path to the 'run directory' where all state information is stored")
	pf.StringVar(&globalOpts.StorageDriver, "storage-driver", "", "select which storage driver is used to manage storage of images and containers")
	pf.StringArrayVar(&globalOpts.StorageOpts, "storage-opt", nil, "used to pass an option to the storage driver")
	pf.StringVar(&globalOpts.Runtime, "runtime", "", "path to the OCI-compatible binary used to run containers")
	pf.StringArrayVar(&globalOpts.RuntimeFlags, "runtime-flag", nil, "add global flags for the container runtime")
	pf.StringVar(&globalOpts.LogLevel, "log-level", "warn", "log messages at and above specified level (trace, debug, info, warn, warning, error, fatal, panic)")
	// -D is docker's shorthand; it is not a persistent shorthand because
	// build has its own -D (see dockerDebugArgs).
	pf.BoolVar(&debugLogging, "debug", false, "Docker compatibility, same as --log-level=debug")
	_ = pf.MarkHidden("debug")
	pf.String("config", "", "Docker compatibility, ignored")
	_ = pf.MarkHidden("config")
	pf.StringVar(&globalOpts.RegistriesConf, "registries-conf", "", "path to the registries.conf file")
	_ = pf.MarkHidden("registries-conf")
	pf.BoolVar(&noOut, "noout", false, "do not output to stdout")
	return root
}

// addAllCommands adds every top-level command (topLevelCommands indexes
// them by name).
func addAllCommands(root *cobra.Command) {
	root.AddCommand(
		newVersionCommand(),
		newInfoCommand(),
		newSystemCommand(),
		newImageCommand(),
		newLoginCommand(),
		newLogoutCommand(),
		newContainerCommand(),
		newBuildCommand(), newBuildxCommand(),
	)
	root.AddCommand(containerAliases()...)
	root.AddCommand(imageAliases()...)
}

// finishRoot adds cobra's help and completion commands and the shell
// completions of the commands root has.
func finishRoot(root *cobra.Command) {
	// cobra's own completion and help commands need no storage either.
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" || c.Name() == "help" {
			markNoStorage(c)
			c.Annotations[noRuntimeDir] = "true"
		}
	}
	addCompletions(root)
}

// logLevels are the values --log-level accepts, in podman's words.
var logLevels = []string{"trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"}

func setup(cmd *cobra.Command) error {
	if err := setupLogging(cmd); err != nil {
		return err
	}
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[noRuntimeDir] == "true" {
			return nil
		}
	}
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[noStorage] == "true" {
			return rootless.SetRuntimeDir()
		}
	}
	if err := rootless.Enter(); err != nil {
		return err
	}
	if err := rootless.SetRuntimeDir(); err != nil {
		return err
	}
	rt = libpod.New(globalOpts)
	return nil
}

// setupLogging applies --log-level and --debug as podman does: a bad level
// or both flags at once exit 1 with podman's message (no "Error:" prefix).
func setupLogging(cmd *cobra.Command) error {
	fail := func(msg string) error {
		fmt.Fprintln(os.Stderr, msg)
		return &exitError{code: 1, err: errors.New("")}
	}
	pf := cmd.Root().PersistentFlags()
	if debugLogging {
		if pf.Changed("log-level") {
			return fail("Setting --log-level and --debug is not allowed")
		}
		globalOpts.LogLevel = "debug"
	}
	valid := false
	for _, l := range logLevels {
		valid = valid || globalOpts.LogLevel == l
	}
	level, err := logrus.ParseLevel(globalOpts.LogLevel)
	if !valid || err != nil {
		return fail(fmt.Sprintf("Log Level %q is not supported, choose from: %s", globalOpts.LogLevel, strings.Join(logLevels, ", ")))
	}
	logrus.SetLevel(level)
	// podman's form: logrus' own text format, on stderr. On a terminal that
	// is a coloured "WARN[0000] message" (seconds since start), otherwise
	// time="..." level=warning msg="message".
	logrus.SetFormatter(&logrus.TextFormatter{})
	logrus.SetOutput(os.Stderr)
	logrus.Infof("%s filtering at log level %s", os.Args[0], logrus.GetLevel())
	logrus.Debugf("Called %s.PersistentPreRunE(%s)", cmd.Name(), strings.Join(os.Args, " "))
	logrus.Tracef("global options: %+v", globalOpts)
	if pf.Changed("config") {
		logrus.Warn("The --config flag is ignored by Podman. Exists for Docker compatibility")
	}
	return nil
}

// dockerDebugArgs turns docker's global -D, given before the command name
// (`berth -D info`), into --debug; a -D after the command name is the
// command's own (build -D is --disable-compression).
func dockerDebugArgs(root *cobra.Command, args []string) []string {
	out := append([]string(nil), args...)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "-D" {
			out[i] = "--debug"
			continue
		}
		if a == "--" || !strings.HasPrefix(a, "-") {
			break // the command name
		}
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") {
			if f := root.PersistentFlags().Lookup(a[2:]); f != nil && f.NoOptDefVal == "" {
				i++ // its value
			}
		}
	}
	return out
}

// runtime returns the engine; setup created it for every storage command.
func runtime() *libpod.Runtime {
	if rt == nil {
		rt = libpod.New(globalOpts)
	}
	return rt
}

func markNoStorage(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[noStorage] = "true"
	for _, sub := range c.Commands() {
		markNoStorage(sub)
	}
}
