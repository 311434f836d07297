package main

import (
	"fmt"

	"github.com/berth-containers/berth/rootless"
	"github.com/spf13/cobra"
)

func newSystemCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "Manage berth",
		Args:  cobra.ArbitraryArgs,
		RunE:  subCommandExists,
	}
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Stop the running containers and the rootless pause process so that /etc/subuid and /etc/subgid changes take effect",
		Args:  noArgs,
		// migrate must not create a user namespace: it joins the pause
		// process' one when there is one (join.c) and otherwise has no
		// running container to stop.
		Annotations: map[string]string{noStorage: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootless.IsRootless() && !rootless.InUserNS() {
				if err := rootless.StopPause(); err != nil {
					return fmt.Errorf("stopping the rootless pause process: %w", err)
				}
				return nil
			}
			return runtime().Migrate(func(id string) { fmt.Printf("stopped %s\n", id) })
		},
	}
	cmd.AddCommand(migrate, newInfoCommand())
	return cmd
}
