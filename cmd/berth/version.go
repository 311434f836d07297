package main

import (
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var (
	version   = "0.1.0-dev"
	gitCommit = ""
	buildTime = ""
)

type versionInfo struct {
	Version    string
	APIVersion string
	GoVersion  string
	GitCommit  string
	Built      string
	OsArch     string
}

func newVersionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:         "version",
		Short:       "Display the berth version information",
		Args:        noArgs,
		Annotations: map[string]string{noStorage: "true", noRuntimeDir: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo{
				Version:    version,
				APIVersion: version,
				GoVersion:  goruntime.Version(),
				GitCommit:  gitCommit,
				Built:      buildTime,
				OsArch:     goruntime.GOOS + "/" + goruntime.GOARCH,
			}
			switch format {
			case "":
				fmt.Printf("Version:      %s\nAPI Version:  %s\nGo Version:   %s\nGit Commit:   %s\nBuilt:        %s\nOS/Arch:      %s\n",
					v.Version, v.APIVersion, v.GoVersion, v.GitCommit, v.Built, v.OsArch)
				return nil
			case "json", "{{json .}}":
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "     ")
				return enc.Encode(map[string]versionInfo{"Client": v})
			default:
				return printTemplate(format, map[string]versionInfo{"Client": v})
			}
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "change the output format to JSON or a Go template")
	return cmd
}
