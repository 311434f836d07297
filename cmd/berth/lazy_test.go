package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// describe is what makes a command itself: its names, help, flags and
// subcommands, recursively.
func describe(c *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v %q hidden=%v\n", c.Use, c.Aliases, c.Short, c.Hidden)
	c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		fmt.Fprintf(&b, "  --%s -%s %s %q %q hidden=%v\n", f.Name, f.Shorthand, f.Value.Type(), f.DefValue, f.Usage, f.Hidden)
	})
	for _, sub := range c.Commands() {
		b.WriteString(describe(sub))
	}
	return b.String()
}

// TestTopLevelIndexMatchesTree: topLevelCommands answers to exactly the
// names and aliases of the full tree's top-level commands, and builds for
// each the very command of the full tree.
func TestTopLevelIndexMatchesTree(t *testing.T) {
	var names []string
	for _, c := range newRootCommand().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue // cobra's own: they need the full tree
		}
		for _, name := range append([]string{c.Name()}, c.Aliases...) {
			names = append(names, name)
			build, ok := topLevelCommands[name]
			if !ok {
				t.Errorf("top-level command %q is not in topLevelCommands (lazy.go)", name)
				continue
			}
			if got, want := describe(build()), describe(c); got != want {
				t.Errorf("topLevelCommands[%q] builds\n%s\nthe full tree has\n%s", name, got, want)
			}
		}
	}
	for name := range topLevelCommands {
		if !slices.Contains(names, name) {
			t.Errorf("topLevelCommands has %q, which the full tree does not", name)
		}
	}
}

func TestCommandName(t *testing.T) {
	root := newRootBase()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "version"},
		{[]string{"run", "--rm", "img"}, "run"},
		{[]string{"--root", "/x", "--runroot=/y", "--log-level", "debug", "ps", "-a"}, "ps"},
		{[]string{"--noout", "--debug", "images"}, "images"},
		{[]string{"--storage-opt", "overlay.mount_program=/x", "info"}, "info"},
		{[]string{}, ""},
		{[]string{"--help"}, ""},
		{[]string{"-h", "run"}, ""},
		{[]string{"--version"}, ""},
		{[]string{"--bogus", "run"}, ""},
		{[]string{"--", "run"}, ""},
		{[]string{"--root"}, ""},
	} {
		if got := commandName(root, c.args); got != c.want {
			t.Errorf("commandName(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestAddCommandsFor: a named command is built alone; anything else gets
// every command, so that help, completion and cobra's suggestions see them.
func TestAddCommandsFor(t *testing.T) {
	names := func(args ...string) []string {
		root := newRootBase()
		addCommandsFor(root, args)
		var n []string
		for _, c := range root.Commands() {
			n = append(n, c.Name())
		}
		return n
	}
	if got := names("--root", "/x", "run", "--rm", "img"); !slices.Equal(got, []string{"completion", "help", "run"}) {
		t.Errorf("berth --root /x run: commands %v, want run and cobra's help and completion", got)
	}
	if got := names("builder", "prune"); !slices.Equal(got, []string{"buildx", "completion", "help"}) {
		t.Errorf("berth builder prune: commands %v, want buildx and cobra's help and completion", got)
	}
	full := len(newRootCommand().Commands())
	for _, args := range [][]string{{"help", "run"}, {"--help"}, {"__complete", "run", ""}, {"completion", "bash"}, {"rnu"}} {
		if got := names(args...); len(got) != full {
			t.Errorf("berth %v: %d commands, want all %d", args, len(got), full)
		}
	}
}
