package main

import (
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
)

// noStorage marks commands that neither join the user namespace nor open
// storage. join.c keeps its own list of these for the fast path.
const noStorage = "berth.noStorage"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Manage pods, containers and images, without a daemon",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return setup(cmd)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		Args: noArgs,
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
	pf.StringVar(&globalOpts.RegistriesConf, "registries-conf", "", "path to the registries.conf file")
	_ = pf.MarkHidden("registries-conf")

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
	// cobra's own completion and help commands need no storage either.
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" || c.Name() == "help" {
			markNoStorage(c)
		}
	}
	return root
}

func setup(cmd *cobra.Command) error {
	level, err := logrus.ParseLevel(globalOpts.LogLevel)
	if err != nil {
		return fmt.Errorf("invalid --log-level %q: %w", globalOpts.LogLevel, err)
	}
	logrus.SetLevel(level)
	logrus.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000000"})
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

// runtime returns the engine; setup created it for every storage command.
func runtime() *libpod.Runtime {
	if rt == nil {
		rt = libpod.New(globalOpts)
	}
	return rt
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unrecognized command `%s %s`\nTry '%s --help' for more information", cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

// exactArgs and friends give podman's messages for wrong argument counts.
func requireArgs(min int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return fmt.Errorf("%s", what)
		}
		return nil
	}
}

func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

func markNoStorage(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[noStorage] = "true"
	for _, sub := range c.Commands() {
		markNoStorage(sub)
	}
}
