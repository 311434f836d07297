package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newCpCommand() *cobra.Command {
	var chown, overwrite, extract, pause bool
	cmd := &cobra.Command{
		Use:   "cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: `Copy the contents of SRC_PATH to the DEST_PATH.

  You can copy from the container's file system to the local machine or the reverse, from the local filesystem to the container. If "-" is specified for either the SRC_PATH or DEST_PATH, you can also stream a tar archive from STDIN or to STDOUT. The CONTAINER can be a running or stopped container. The SRC_PATH or DEST_PATH can be a file or a directory.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcCtr, srcPath := splitContainerPath(args[0])
			dstCtr, dstPath := splitContainerPath(args[1])
			if srcPath == "" || dstPath == "" {
				return fmt.Errorf("invalid arguments %q, %q: you must specify paths", args[0], args[1])
			}
			if srcCtr != "" && dstCtr == "" && dstPath == "-" && term.IsTerminal(int(os.Stdout.Fd())) {
				return errors.New("refusing to write a tar archive to a terminal: redirect stdout")
			}
			return runtime().Copy(libpod.CopyOptions{
				SrcContainer: srcCtr, SrcPath: srcPath,
				DstContainer: dstCtr, DstPath: dstPath,
				Stdin: os.Stdin, Stdout: os.Stdout,
				Chown: chown, Overwrite: overwrite,
			})
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&chown, "archive", "a", true, "Chown copied files to the primary uid/gid of the destination container.")
	flags.BoolVar(&overwrite, "overwrite", false, "Allow to overwrite directories with non-directories and vice versa")
	// Accepted for compatibility and ignored, as podman does: cp resolves
	// every path inside the container, so it needs no pause.
	flags.BoolVar(&extract, "extract", false, "Deprecated...")
	flags.BoolVar(&pause, "pause", true, "Deprecated")
	_ = flags.MarkHidden("extract")
	_ = flags.MarkHidden("pause")
	return cmd
}

// splitContainerPath splits "ctr:/path" as podman does: an argument that
// starts with "." or "/" is a host path.
func splitContainerPath(arg string) (container, path string) {
	if arg == "" || arg[0] == '.' || arg[0] == '/' {
		return "", arg
	}
	if c, p, ok := strings.Cut(arg, ":"); ok {
		return c, p
	}
	return "", arg
}
