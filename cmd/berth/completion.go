package main

import (
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/storage/pkg/stringid"
	"golang.org/x/sys/unix"
)

// addCompletions gives shell completion of what the arguments name, as
// podman 4.3's: which containers (by state) or images each argument of each
// command completes, paths inside the image for run/create's command, and
// CONTAINER:PATH for cp.
func addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.ValidArgsFunction != nil || !c.Runnable() {
			return
		}
		fn := completionFor(c)
		if fn == nil {
			return
		}
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			// cobra parses the global flags (--root, ...) of a completion
			// request only after setup made the engine: make it again.
			rt = libpod.New(globalOpts)
			return fn(cmd, args, toComplete)
		}
	}
	walk(root)
}

// Container states as podman's completions choose them.
var (
	allStates       []libpod.ContainerStatus // any container
	runningStates   = []libpod.ContainerStatus{libpod.StatusRunning}
	pausedStates    = []libpod.ContainerStatus{libpod.StatusPaused}
	createdStates   = []libpod.ContainerStatus{libpod.StatusCreated}
	startableStates = []libpod.ContainerStatus{libpod.StatusCreated, libpod.StatusExited, libpod.StatusStopped}
)

// completionFor is podman's ValidArgsFunction of the command (nil: nothing
// to complete). "berth X" and "berth container X" complete alike, as do
// "berth rmi" and "berth image rm".
func completionFor(c *cobra.Command) cobra.CompletionFunc {
	name := c.Name()
	parent := ""
	if c.HasParent() && c.Parent() != c.Root() {
		parent = c.Parent().Name()
	}
	if parent == "image" || (parent == "" && imageAliasNames[name]) {
		switch name {
		case "exists", "history":
			return firstArg(completeImages)
		case "import", "load", "prune":
			return nil // podman: files for import, nothing for the others
		case "images", "ls", "list", "inspect", "rm", "rmi", "save", "tag", "untag", "mount", "unmount", "umount", "push", "pull":
			return completeImages
		}
		return nil
	}
	if name == "login" || name == "logout" {
		return firstArg(completeRegistries)
	}
	if parent != "" && parent != "container" {
		return nil
	}
	switch name {
	case "create", "run":
		return completeImageThenPath
	case "cp":
		return completeCopyPath
	case "inspect":
		if parent == "" { // containers and images (networks, volumes when they exist)
			return completeContainersAndImages
		}
		return containersIn(allStates)
	case "attach":
		return firstArg(containersIn(runningStates))
	case "exec":
		return completeExec
	case "commit":
		return completeCommit
	case "diff":
		return firstArg(completeContainersAndImages)
	case "exists", "export", "port", "rename", "top":
		return firstArg(containersIn(allStates))
	case "init":
		return containersIn(createdStates)
	case "kill", "pause", "stop":
		return containersIn(runningStates)
	case "unpause":
		return containersIn(pausedStates)
	case "start":
		return containersIn(startableStates)
	case "logs", "mount", "restart", "rm", "unmount", "umount", "wait":
		return containersIn(allStates)
	}
	return nil
}

// imageAliasNames are the top-level commands that are image commands.
var imageAliasNames = map[string]bool{
	"images": true, "rmi": true, "history": true, "tag": true, "untag": true, "save": true,
	"load": true, "pull": true, "push": true, "import": true,
}

// firstArg completes the first argument only.
func firstArg(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(cmd, args, toComplete)
	}
}

// containersIn completes the names of the containers in one of states (any
// state if none), and their IDs once two characters are typed.
func containersIn(states []libpod.ContainerStatus) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return containerNames(toComplete, "", states...), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeExec completes a running container, then files (the command).
func completeExec(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return containersIn(runningStates)(cmd, args, toComplete)
}

// completeCommit completes a container, then the image name.
func completeCommit(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return containersIn(allStates)(cmd, args, toComplete)
	case 1:
		return completeImages(cmd, args, toComplete)
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func completeContainersAndImages(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return append(containerNames(toComplete, ""), imageNames(toComplete)...), cobra.ShellCompDirectiveNoFileComp
}

// completeRegistries completes the unqualified-search registries of
// registries.conf, as podman's login and logout.
func completeRegistries(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	regs, err := sysregistriesv2.UnqualifiedSearchRegistries(globalOpts.SystemContext())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return regs, cobra.ShellCompDirectiveNoFileComp
}

// nameAndID is an object that completion suggests by name, or by ID.
type nameAndID struct{ name, id string }

// namesOrIDs is podman's choice among objects (containers now; networks
// and volumes take the same): the names that start with toComplete, and
// the short IDs that do once at least two characters are typed.
func namesOrIDs(objs []nameAndID, toComplete, suffix string) []string {
	var out []string
	for _, o := range objs {
		if len(toComplete) > 1 && o.id != "" && strings.HasPrefix(o.id, toComplete) {
			out = append(out, stringid.TruncateID(o.id)+suffix)
		}
		if strings.HasPrefix(o.name, toComplete) {
			out = append(out, o.name+suffix)
		}
	}
	return out
}

// containerNames are the names (and IDs) of the containers in one of
// states (all if none) that complete prefix, each followed by suffix.
func containerNames(prefix, suffix string, states ...libpod.ContainerStatus) []string {
	cs, err := runtime().Containers()
	if err != nil {
		return nil
	}
	var objs []nameAndID
	for _, c := range cs {
		if len(states) > 0 && !slices.Contains(states, c.State.Status) {
			continue
		}
		objs = append(objs, nameAndID{c.Name(), c.ID()})
	}
	return namesOrIDs(objs, prefix, suffix)
}

func completeImages(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return imageNames(toComplete), cobra.ShellCompDirectiveNoFileComp
}

// imageNames completes images as podman: the full names (name:tag) when
// nothing is typed; else every name with its leading path components
// dropped one by one ("localhost/busybox:latest", "busybox:latest") that
// starts with what is typed, and the short ID once two characters are.
func imageNames(prefix string) []string {
	ir, err := imageRuntime()
	if err != nil {
		return nil
	}
	list, err := ir.List()
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range list {
		if len(prefix) > 1 && strings.HasPrefix(s.ID, prefix) {
			out = append(out, stringid.TruncateID(s.ID))
		}
		for _, n := range s.Names {
			if strings.Contains(n, "@") {
				continue // a digest, not a tag
			}
			if prefix == "" {
				out = append(out, n)
				continue
			}
			parts := strings.Split(n, "/")
			for i := range parts {
				if cand := strings.Join(parts[i:], "/"); strings.HasPrefix(cand, prefix) {
					out = append(out, cand)
				}
			}
		}
	}
	return out
}

// completeImageThenPath completes run/create: the image, then paths inside
// it for the command and its arguments.
func completeImageThenPath(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return imageNames(toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	_, img, err := lookupImage(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	st, err := runtime().Store()
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	root, err := st.MountImage(img.ID, nil, "")
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	defer func() { _, _ = st.UnmountImage(img.ID, false) }()
	if toComplete == "" {
		toComplete = "/" // commands are named from the root, as podman suggests them
	}
	return pathsInRoot(root, toComplete, ""), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeCopyPath completes cp's CONTAINER:PATH arguments; a word without
// a colon may be a container or a host path.
func completeCopyPath(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) >= 2 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	name, p, ok := strings.Cut(toComplete, ":")
	if !ok {
		return containerNames(toComplete, ":"), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveDefault
	}
	c, err := runtime().LookupContainer(name)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	st, err := runtime().Store()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	// storage counts mounts, so this leaves a running container's alone.
	root, err := st.Mount(c.ID(), "")
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer func() { _, _ = st.Unmount(c.ID(), false) }()
	if p == "" {
		p = "/"
	}
	return pathsInRoot(root, p, name+":"), cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// pathsInRoot lists the entries of a directory inside root that complete
// word, each prefixed as typed; directories end in "/". A word that names a
// directory (and nothing else) completes to it and its entries. Paths resolve
// inside root, symbolic links included, never to the host.
func pathsInRoot(root, word, prefix string) []string {
	dir, base := "", word
	if i := strings.LastIndex(word, "/"); i >= 0 {
		dir, base = word[:i+1], word[i+1:]
	}
	matches := listInRoot(root, dir, base)
	var out []string
	if len(matches) == 1 && strings.TrimSuffix(matches[0], "/") == base && strings.HasSuffix(matches[0], "/") {
		// the word names a directory: it, then what is in it (podman's)
		out = append(out, prefix+dir+matches[0])
		dir, base = dir+matches[0], ""
		matches = listInRoot(root, dir, base)
	}
	for _, m := range matches {
		out = append(out, prefix+dir+m)
	}
	return out
}

func listInRoot(root, dir, base string) []string {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(rootFd)
	rel := path.Clean("/" + dir)
	fd, err := unix.Openat2(rootFd, "."+rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), base) {
			continue
		}
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
