package specgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ExecUser is the user a container's process runs as.
type ExecUser struct {
	UID, GID       uint32
	AdditionalGids []uint32
	Name           string // "" when the UID has no /etc/passwd entry
	Home           string // "" when the UID has no /etc/passwd entry
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// maxIDFileSize bounds what is read of /etc/passwd and /etc/group.
const maxIDFileSize = 32 << 20

// openInRoot opens name (relative to the root of the tree at rootfs) for
// reading, resolving symlinks as if rootfs were "/": a symlink in the image
// cannot point outside it. It refuses what is not a regular file.
func openInRoot(rootfs, name string) (*os.File, error) {
	dir, err := os.Open(rootfs)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat2(int(dir.Fd()), name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	var f *os.File
	switch {
	case err == nil:
		f = os.NewFile(uintptr(fd), name)
	case errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM):
		// no openat2 (kernel < 5.6, or a seccomp filter): resolve in user space
		p, jerr := securejoin.SecureJoin(rootfs, name)
		if jerr != nil {
			return nil, jerr
		}
		f, err = os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
		if err != nil {
			return nil, err
		}
	default:
		return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s in the container is not a regular file", name)
	}
	return f, nil
}

// readIDFile returns the lines of /etc/passwd or /etc/group of rootfs split
// on ':', or nil if the file does not exist.
func readIDFile(rootfs, name string) ([][]string, error) {
	f, err := openInRoot(rootfs, name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading /%s of the container: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIDFileSize))
	if err != nil {
		return nil, fmt.Errorf("reading /%s of the container: %w", name, err)
	}
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), maxIDFileSize)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out, nil
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

func readPasswd(rootfs string) ([]passwdEntry, error) {
	lines, err := readIDFile(rootfs, "etc/passwd")
	var out []passwdEntry
	for _, f := range lines {
		if len(f) < 4 {
			continue
		}
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if !ok1 || !ok2 {
			continue
		}
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		out = append(out, e)
	}
	return out, err
}

func readGroup(rootfs string) ([]groupEntry, error) {
	lines, err := readIDFile(rootfs, "etc/group")
	var out []groupEntry
	for _, f := range lines {
		if len(f) < 3 {
			continue
		}
		gid, ok := parseID(f[2])
		if !ok {
			continue
		}
		e := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			e.members = strings.Split(f[3], ",")
		}
		out = append(out, e)
	}
	return out, err
}

func lookupGroup(groups []groupEntry, g string) (uint32, error) {
	if id, ok := parseID(g); ok {
		return id, nil
	}
	for _, e := range groups {
		if e.name == g {
			return e.gid, nil
		}
	}
	return 0, fmt.Errorf("unable to find group %s: no matching entries in the container's /etc/group", g)
}

// ResolveUser resolves a --user value (user[:group], each a name or a
// number; "" is root) and --group-add values against /etc/passwd and
// /etc/group of the root filesystem at rootfs, as podman does:
//   - a number needs no entry; a name must have one;
//   - without a group, the group is the user's from /etc/passwd (0 if the
//     UID has none), and the groups listing the user as a member are added;
//   - the primary group is the first additional group when a user is given;
//   - --group-add names must exist, numbers need not; "keep-groups" is left
//     to the engine and skipped here.
func ResolveUser(rootfs, user string, groupAdd []string) (ExecUser, error) {
	return resolveUser(rootfs, user, groupAdd, nil)
}

// resolveUser is ResolveUser in a user namespace whose GID mapping is gidMap
// (nil: all IDs): a group the user is a member of that is not mapped is
// left out (as podman does), a group asked for explicitly is an error.
func resolveUser(rootfs, user string, groupAdd []string, gidMap []specs.LinuxIDMapping) (ExecUser, error) {
	var u ExecUser
	userPart, groupPart, hasGroup := strings.Cut(user, ":")
	if hasGroup && groupPart == "" {
		return u, fmt.Errorf("invalid user %q: the group after ':' is empty", user)
	}
	if user != "" && userPart == "" {
		return u, fmt.Errorf("invalid user %q: the user before ':' is empty", user)
	}
	passwd, err := readPasswd(rootfs)
	if err != nil {
		return u, err
	}
	groups, err := readGroup(rootfs)
	if err != nil {
		return u, err
	}

	var entry *passwdEntry
	if userPart == "" {
		userPart = "0"
	}
	if id, ok := parseID(userPart); ok {
		u.UID = id
		for i := range passwd {
			if passwd[i].uid == id {
				entry = &passwd[i]
				break
			}
		}
	} else {
		for i := range passwd {
			if passwd[i].name == userPart {
				entry = &passwd[i]
				break
			}
		}
		if entry == nil {
			if userPart != "root" {
				return u, fmt.Errorf("unable to find user %s: no matching entries in the container's /etc/passwd", userPart)
			}
		} else {
			u.UID = entry.uid
		}
	}
	if entry != nil {
		u.Name, u.Home, u.GID = entry.name, entry.home, entry.gid
	}
	if hasGroup {
		if u.GID, err = lookupGroup(groups, groupPart); err != nil {
			return u, err
		}
	}

	add := func(g uint32) error {
		if !mapped(gidMap, g) {
			return fmt.Errorf("group %d is not mapped in the container's user namespace", g)
		}
		for _, x := range u.AdditionalGids {
			if x == g {
				return nil
			}
		}
		u.AdditionalGids = append(u.AdditionalGids, g)
		return nil
	}
	if !mapped(gidMap, u.GID) {
		return u, fmt.Errorf("group %d is not mapped in the container's user namespace", u.GID)
	}
	if user != "" {
		_ = add(u.GID)
	}
	for _, g := range groupAdd {
		if g == "keep-groups" {
			continue
		}
		gid, err := lookupGroup(groups, g)
		if err != nil {
			return u, fmt.Errorf("--group-add: %w", err)
		}
		if err := add(gid); err != nil {
			return u, fmt.Errorf("--group-add %s: %w", g, err)
		}
	}
	if !hasGroup && u.Name != "" {
		for _, g := range groups {
			if contains(g.members, u.Name) && mapped(gidMap, g.gid) {
				_ = add(g.gid)
			}
		}
	}
	return u, nil
}
