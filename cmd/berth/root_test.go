package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestJoinKnowsGlobalFlags: rootless/join.c finds the command name before
// Go starts, skipping the global flags and the values of those that take
// one. Its list must be berth's global flags that take a value, no more.
func TestJoinKnowsGlobalFlags(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "rootless", "join.c"))
	if err != nil {
		t.Fatal(err)
	}
	list := regexp.MustCompile(`(?s)with_value\[\] = \{(.*?)NULL`).FindSubmatch(src)
	if list == nil {
		t.Fatal("no with_value list in join.c")
	}
	var inC []string
	for _, m := range regexp.MustCompile(`"(--[a-z-]+)"`).FindAllSubmatch(list[1], -1) {
		inC = append(inC, string(m[1]))
	}
	var inGo []string
	newRootCommand().PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.NoOptDefVal == "" { // takes a value
			inGo = append(inGo, "--"+f.Name)
		}
	})
	sort.Strings(inC)
	sort.Strings(inGo)
	if strings.Join(inC, " ") != strings.Join(inGo, " ") {
		t.Errorf("join.c's global flags with a value:\n  %v\nberth's:\n  %v", inC, inGo)
	}
}
