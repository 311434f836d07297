package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
)

func newContainerInspectCommand() *cobra.Command {
	var format string
	var latest, size bool
	cmd := &cobra.Command{
		Use:   "inspect [options] CONTAINER [CONTAINER...]",
		Short: "Display the configuration of a container",
		RunE: func(cmd *cobra.Command, args []string) error {
			return printContainerInspect(args, format, latest, size)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "json", "format the output to a Go template or json")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	cmd.Flags().BoolVarP(&size, "size", "s", false, "display total file size")
	return cmd
}

// latestContainer is the container created last.
func latestContainer() (*libpod.Container, error) {
	all, err := runtime().ListContainers()
	if err != nil {
		return nil, err
	}
	var last *libpod.Container
	for _, c := range all {
		if last == nil || c.Config.Created.After(last.Config.Created) {
			last = c
		}
	}
	if last == nil {
		return nil, errors.New("no containers to inspect")
	}
	return last, nil
}

func printContainerInspect(names []string, format string, latest, size bool) error {
	r := runtime()
	if latest {
		if len(names) > 0 {
			return errors.New("--latest and containers cannot be used together")
		}
		c, err := latestContainer()
		if err != nil {
			return err
		}
		names = []string{c.ID()}
	}
	if len(names) == 0 {
		return errors.New("no names or ids specified")
	}
	var out []*libpod.InspectContainerData
	var errs []error
	for _, n := range names {
		c, err := r.LookupContainer(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("no such container %s", n))
			continue
		}
		d, err := c.Inspect(libpod.InspectOptions{Size: size})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	if err := printInspected(format, out); err != nil {
		return err
	}
	return lastError(errs)
}

// printInspected prints inspect documents as podman does: a JSON array
// (five-space indent), or the template once per document.
func printInspected[T any](format string, out []T) error {
	if format == "" || format == "json" {
		if out == nil {
			out = []T{}
		}
		return printInspectJSON(out)
	}
	return printEach(inspectNormalize(format), out)
}

// inspectNormalize rewrites the field names podman's inspect accepts
// beside the JSON keys (docker's .Src, .Dst and .ImageID).
func inspectNormalize(format string) string {
	return strings.NewReplacer(".Src", ".Source", ".Dst", ".Destination", ".ImageID", ".Image").Replace(format)
}
