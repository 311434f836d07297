package main

import "github.com/spf13/cobra"

// imageSubcommands are the `berth image` subcommands beyond the basics.
func imageSubcommands() []*cobra.Command { return nil }

// topLevelImageCommands are their top-level spellings.
func topLevelImageCommands() []*cobra.Command { return nil }
