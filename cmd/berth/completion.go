package main

import (
	"os"
	"path"
	"sort"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// addCompletions gives shell completion of what the arguments name, as
// podman's: container names for commands that take CONTAINER, image names
// for IMAGE, paths inside the image for run/create's command, and
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
		args := strings.Fields(strings.TrimPrefix(c.Use, c.Name()))
		var fn cobra.CompletionFunc
		switch {
		case (c.Name() == "create" || c.Name() == "run") && hasWord(args, "IMAGE"):
			fn = completeImageThenPath
		case c.Name() == "cp":
			fn = completeCopyPath
		case hasWord(args, "CONTAINER"):
			fn = completeContainers
		case hasWord(args, "IMAGE"):
			fn = completeImages
		default:
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

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if strings.Trim(x, "[].") == w {
			return true
		}
	}
	return false
}

func completeContainers(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return containerNames(toComplete, ""), cobra.ShellCompDirectiveNoFileComp
}

func containerNames(prefix, suffix string) []string {
	cs, err := runtime().Containers()
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range cs {
		if strings.HasPrefix(c.Name(), prefix) {
			out = append(out, c.Name()+suffix)
		}
	}
	return out
}

func completeImages(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return imageNames(toComplete), cobra.ShellCompDirectiveNoFileComp
}

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
		for _, n := range s.Names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
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
