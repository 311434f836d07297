package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// Building every command costs each start of berth a few milliseconds
// (measured cold: 5 to 10 ms, most of it pflag formatting the default of
// every flag, with a 4 KiB buffer for each list flag), while an invocation
// runs one command. topLevelCommands finds the constructor of the one
// command that args name, so that main builds only that one beside the
// root (addCommandsFor); anything else (help, completion, an unknown name, a shorthand
// before the name) gets the full tree of newRootCommand.
//
// The index must answer to exactly the names and aliases of the full
// tree's top-level commands and build the same commands:
// TestTopLevelIndexMatchesTree checks it. A name missing here only costs
// that command the full tree.
var topLevelCommands = map[string]func() *cobra.Command{
	"attach":    newAttachCommand,
	"build":     newBuildCommand,
	"buildx":    newBuildxCommand,
	"builder":   newBuildxCommand,
	"commit":    newCommitCommand,
	"container": newContainerCommand,
	"cp":        newCpCommand,
	"create":    newCreateCommand,
	"diff":      newDiffCommand,
	"exec":      newExecCommand,
	"export":    newExportCommand,
	"history":   newHistoryCommand,
	"image":     newImageCommand,
	"images":    func() *cobra.Command { return newImagesCommand("images") },
	"import":    newImportCommand,
	"info":      newInfoCommand,
	"init":      newInitCommand,
	"inspect":   newInspectCommand,
	"kill":      newKillCommand,
	"load":      newLoadCommand,
	"login":     newLoginCommand,
	"logout":    newLogoutCommand,
	"logs":      newLogsCommand,
	"mount":     newMountCommand,
	"pause":     func() *cobra.Command { return newPauseCommand(true) },
	"port":      newPortCommand,
	"ps":        func() *cobra.Command { return newPsCommand("ps") },
	"pull":      newPullCommand,
	"push":      newPushCommand,
	"rename":    newRenameCommand,
	"restart":   newRestartCommand,
	"rm":        func() *cobra.Command { return newRmCommand("rm") },
	"rmi":       func() *cobra.Command { return newRmiCommand("rmi") },
	"run":       newRunCommand,
	"save":      newSaveCommand,
	"start":     newStartCommand,
	"stop":      newStopCommand,
	"system":    newSystemCommand,
	"tag":       newTagCommand,
	"top":       newTopCommand,
	"unmount":   newUnmountCommand,
	"umount":    newUnmountCommand,
	"unpause":   func() *cobra.Command { return newPauseCommand(false) },
	"unshare":   newUnshareCommand,
	"untag":     newUntagCommand,
	"version":   newVersionCommand,
	"wait":      newWaitCommand,
}

// addCommandsFor adds to root (newRootBase) what args run: the top-level
// command they name, or every command when that name is not plainly there.
func addCommandsFor(root *cobra.Command, args []string) {
	if build, ok := topLevelCommands[commandName(root, args)]; ok {
		root.AddCommand(build())
	} else {
		addAllCommands(root)
	}
	finishRoot(root)
}

// commandName is the first argument that is not a global flag or its
// value: the top-level command's name. It is "" when something before it
// is not a global flag by its long name (-h, --help, --version, a
// misspelt flag) or there is no name: then cobra needs the full tree.
func commandName(root *cobra.Command, args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a
		}
		if a == "--" || !strings.HasPrefix(a, "--") {
			return ""
		}
		name, _, hasValue := strings.Cut(a[2:], "=")
		f := root.PersistentFlags().Lookup(name)
		if f == nil {
			return ""
		}
		if !hasValue && f.NoOptDefVal == "" {
			i++ // its value
		}
	}
	return ""
}
