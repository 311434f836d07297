package main

import (
	"fmt"
	"os"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/spf13/cobra"
)

func newCommitCommand() *cobra.Command {
	var changes []string
	var message, author, format string
	var pause, quiet bool
	cmd := &cobra.Command{
		Use:   "commit [options] CONTAINER [IMAGE]",
		Short: "Create new image based on the changed container",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "oci" && format != "docker" {
				return fmt.Errorf("unrecognized image type %q: use oci or docker", format)
			}
			c, err := runtime().LookupContainer(args[0])
			if err != nil {
				return containerError(args[0], err)
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			if !quiet {
				fmt.Fprintln(os.Stderr, "Getting image source signatures")
			}
			img, err := c.Commit(name, image.CommitOptions{Changes: changes, Message: message, Author: author}, pause)
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintln(os.Stderr, "Writing manifest to image destination")
			}
			fmt.Println(img.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&changes, "change", "c", nil, "apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR")
	fl.StringVarP(&message, "message", "m", "", "set commit message for imported image")
	fl.StringVarP(&author, "author", "a", "", "set the author for the image committed")
	fl.StringVarP(&format, "format", "f", "oci", "format of the image manifest and metadata")
	fl.BoolVarP(&pause, "pause", "p", false, "pause container during commit")
	fl.BoolVarP(&quiet, "quiet", "q", false, "suppress output")
	return cmd
}
