package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// The checks of positional arguments, with podman's messages (podman's
// cmd/podman/validate). Commands with a plain count use cobra's own
// (cobra.ExactArgs, RangeArgs, MinimumNArgs, MaximumNArgs), as podman does.

// noArgs is for a command that takes no arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("`%s` takes no arguments", cmd.CommandPath())
	}
	return nil
}

// subCommandExists is the RunE of a command that only groups others (and of
// berth itself): an unknown subcommand, or none, is an error.
func subCommandExists(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		suggestions := cmd.SuggestionsFor(args[0])
		if len(suggestions) == 0 {
			return fmt.Errorf("unrecognized command `%[1]s %[2]s`\nTry '%[1]s --help' for more information", cmd.CommandPath(), args[0])
		}
		return fmt.Errorf("unrecognized command `%[1]s %[2]s`\n\nDid you mean this?\n\t%[3]s\n\nTry '%[1]s --help' for more information",
			cmd.CommandPath(), args[0], strings.Join(suggestions, "\n\t"))
	}
	_ = cmd.Help()
	return fmt.Errorf("missing command '%s COMMAND'", cmd.CommandPath())
}

// requireArgs is at least min arguments, with the command's own message
// when there are fewer.
func requireArgs(min int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return errors.New(what)
		}
		return nil
	}
}

// idsOrLatest is for commands that name containers or take --latest: at
// most max names (max < 0: any number), and names or --latest, not both.
func idsOrLatest(max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		latest := false
		if f := cmd.Flags().Lookup("latest"); f != nil {
			latest = f.Value.String() == "true"
		}
		switch {
		case max == 1 && len(args) > 1:
			return fmt.Errorf("`%s` accepts at most one argument", cmd.CommandPath())
		case max > 1 && len(args) > max:
			return cobra.RangeArgs(1, max)(cmd, args)
		case len(args) == 0 && !latest:
			return fmt.Errorf("%q requires a name, id, or the \"--latest\" flag", cmd.CommandPath())
		case len(args) > 0 && latest:
			return errors.New("--latest and containers cannot be used together")
		}
		return nil
	}
}
