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
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	migrate := &cobra.Command{
		Use:         "migrate",
		Short:       "Stop the rootless pause process so that /etc/subuid and /etc/subgid changes take effect",
		Args:        noArgs,
		Annotations: map[string]string{noStorage: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !rootless.IsRootless() {
				return nil
			}
			if err := rootless.StopPause(); err != nil {
				return fmt.Errorf("stopping the rootless pause process: %w", err)
			}
			return nil
		},
	}
	cmd.AddCommand(migrate, newInfoCommand())
	return cmd
}
