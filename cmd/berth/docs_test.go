package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
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
	var missing, stale []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		page := filepath.Join(dir, strings.ReplaceAll(c.CommandPath(), " ", "_")+".md")
		data, err := os.ReadFile(page)
		if err != nil {
			missing = append(missing, page)
		} else {
			stale = append(stale, staleFlags(c, page, string(data))...)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(missing) > 0 {
		t.Fatalf("commands without a docs page (run `go test ./cmd/berth -run TestDocs -update-docs`): %v", missing)
	}
	if len(stale) > 0 {
		t.Fatalf("docs pages whose options are not the command's (run `go test ./cmd/berth -run TestDocs -update-docs`):\n%s", strings.Join(stale, "\n"))
	}
}

// docFlag is a flag as a docs page lists it: "  -a, --all   ..." or
// "      --root string   ...".
var docFlag = regexp.MustCompile(`^\s+(?:-[^-], )?--([A-Za-z0-9][A-Za-z0-9-]*)`)

// staleFlags compares the flags a docs page lists, in its "Options" and
// "Options inherited from parent commands" sections, with the command's
// visible flags, and says what is missing or stale.
func staleFlags(c *cobra.Command, page, text string) []string {
	c.InitDefaultHelpFlag()
	want := map[string]map[string]bool{"### Options": {}, "### Options inherited from parent commands": {}}
	add := func(section string, fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				want[section][f.Name] = true
			}
		})
	}
	add("### Options", c.NonInheritedFlags())
	add("### Options inherited from parent commands", c.InheritedFlags())
	got := map[string]map[string]bool{"### Options": {}, "### Options inherited from parent commands": {}}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(line)
			continue
		}
		if m := docFlag.FindStringSubmatch(line); m != nil && got[section] != nil {
			got[section][m[1]] = true
		}
	}
	var out []string
	for sec, names := range want {
		for n := range names {
			if !got[sec][n] {
				out = append(out, fmt.Sprintf("%s: --%s is not listed under %q", page, n, sec))
			}
		}
		for n := range got[sec] {
			if !names[n] {
				out = append(out, fmt.Sprintf("%s: --%s is listed under %q but the command has no such flag", page, n, sec))
			}
		}
	}
	sort.Strings(out)
	return out
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
