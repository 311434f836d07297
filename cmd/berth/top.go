package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
)

func newTopCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top [options] CONTAINER [FORMAT-DESCRIPTORS...]",
		Short: "Display the running processes of a container",
		Args:  requireArgs(1, "you must provide the name or id of a running container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := runtime().LookupContainer(args[0])
			if err != nil {
				return containerError(args[0], err)
			}
			descriptors := libpod.DefaultTopDescriptors
			if len(args) > 1 {
				descriptors = nil
				for _, a := range args[1:] {
					for _, d := range strings.Split(a, ",") {
						if d = strings.TrimSpace(d); d != "" {
							descriptors = append(descriptors, d)
						}
					}
				}
			}
			rows, err := c.Top(descriptors)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			for _, r := range rows {
				fmt.Fprintln(w, strings.Join(r, "\t"))
			}
			return w.Flush()
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}
