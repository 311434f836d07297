package main

import (
	"encoding/json"
	"os"
	goruntime "runtime"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var (
	version   = "0.1.0-dev"
	gitCommit = ""
	buildTime = ""
)

// versionInfo has podman 4.3's fields (version and info's "version").
type versionInfo struct {
	APIVersion string `json:"APIVersion" yaml:"APIVersion"`
	Version    string `json:"Version" yaml:"Version"`
	GoVersion  string `json:"GoVersion" yaml:"GoVersion"`
	GitCommit  string `json:"GitCommit" yaml:"GitCommit"`
	BuiltTime  string `json:"BuiltTime" yaml:"BuiltTime"`
	Built      int64  `json:"Built" yaml:"Built"`
	OsArch     string `json:"OsArch" yaml:"OsArch"`
	Os         string `json:"Os" yaml:"Os"`
}

func newVersionInfo() versionInfo {
	// buildTime is RFC 3339 (or unset); podman prints time.ANSIC.
	var built time.Time
	if t, err := time.Parse(time.RFC3339, buildTime); err == nil {
		built = t
	} else {
		built = time.Unix(0, 0)
	}
	return versionInfo{
		APIVersion: version,
		Version:    version,
		GoVersion:  goruntime.Version(),
		GitCommit:  gitCommit,
		BuiltTime:  built.UTC().Format(time.ANSIC),
		Built:      built.Unix(),
		OsArch:     goruntime.GOOS + "/" + goruntime.GOARCH,
		Os:         goruntime.GOOS,
	}
}

// versionText is podman's `version` layout.
var versionText = template.Must(template.New("version").Parse(`Client:       Berth Engine
Version:      {{.Version}}
API Version:  {{.APIVersion}}
Go Version:   {{.GoVersion}}
{{if .GitCommit}}Git Commit:   {{.GitCommit}}
{{end}}Built:        {{.BuiltTime}}
OS/Arch:      {{.OsArch}}
`))

func newVersionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:         "version",
		Short:       "Display the berth version information",
		Args:        noArgs,
		Annotations: map[string]string{noStorage: "true", noRuntimeDir: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			v := newVersionInfo()
			switch {
			case format == "":
				return versionText.Execute(os.Stdout, v)
			case format == "json" || format == "{{json .}}":
				// podman prints it on one line
				return json.NewEncoder(os.Stdout).Encode(map[string]versionInfo{"Client": v})
			case !strings.Contains(format, ".Client") && !strings.Contains(format, ".Server"):
				// podman also accepts {{.Version}} for the client's fields
				return printTemplate(format, v)
			default:
				return printTemplate(format, map[string]versionInfo{"Client": v})
			}
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "change the output format to JSON or a Go template")
	return cmd
}
