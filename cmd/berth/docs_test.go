package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

var updateDocs = flag.Bool("update-docs", false, "write missing docs/commands pages and contrib completions")

// TestDocsCoverEveryCommand keeps one page per command in docs/commands and
// the shell completions in contrib/ in step with the CLI.
func TestDocsCoverEveryCommand(t *testing.T) {
	root := newRootCommand()
	root.DisableAutoGenTag = true
	dir := filepath.Join("..", "..", "docs", "commands")
	if *updateDocs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := doc.GenMarkdownTree(root, dir); err != nil {
			t.Fatal(err)
		}
		writeCompletions(t, root)
	}
	var missing []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		page := filepath.Join(dir, strings.ReplaceAll(c.CommandPath(), " ", "_")+".md")
		if _, err := os.Stat(page); err != nil {
			missing = append(missing, page)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(missing) > 0 {
		t.Fatalf("commands without a docs page (run `go test ./cmd/berth -run TestDocs -update-docs`): %v", missing)
	}
}

func writeCompletions(t *testing.T, root *cobra.Command) {
	dir := filepath.Join("..", "..", "contrib", "completions")
	for shell, gen := range map[string]func(string) error{
		"bash/berth":      func(p string) error { return root.GenBashCompletionFileV2(p, true) },
		"zsh/_berth":      root.GenZshCompletionFile,
		"fish/berth.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
	} {
		p := filepath.Join(dir, shell)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := gen(p); err != nil {
			t.Fatal(err)
		}
	}
}
