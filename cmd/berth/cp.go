package main

import (
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newCpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Args:  requireArgs(2, "requires exactly 2 arg(s): SRC and DEST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return errors.New("requires exactly 2 arg(s): SRC and DEST")
			}
			srcCtr, srcPath := splitContainerPath(args[0])
			dstCtr, dstPath := splitContainerPath(args[1])
			switch {
			case srcCtr != "" && dstCtr != "":
				return errors.New("copying between containers is not supported")
			case srcCtr == "" && dstCtr == "":
				return errors.New("one of the paths must be CONTAINER:PATH")
			case srcCtr != "":
				c, err := runtime().LookupContainer(srcCtr)
				if err != nil {
					return containerError(srcCtr, err)
				}
				if dstPath == "-" && term.IsTerminal(int(os.Stdout.Fd())) {
					return errors.New("refusing to write a tar archive to a terminal: redirect stdout")
				}
				return c.CopyFrom(srcPath, dstPath, os.Stdout)
			default:
				c, err := runtime().LookupContainer(dstCtr)
				if err != nil {
					return containerError(dstCtr, err)
				}
				return c.CopyTo(srcPath, os.Stdin, dstPath)
			}
		},
	}
}

// splitContainerPath splits "ctr:/path"; a path with a slash before the
// colon (or starting with . or /) is a host path.
func splitContainerPath(arg string) (container, path string) {
	if arg == "-" || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	i := strings.Index(arg, ":")
	if i <= 0 || strings.Contains(arg[:i], "/") {
		return "", arg
	}
	return arg[:i], arg[i+1:]
}
