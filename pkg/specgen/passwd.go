package specgen

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// HostUser is a user of the host, as the engine looked it up (os/user):
// what --hostuser and --userns=keep-id add to the container's /etc/passwd.
type HostUser struct {
	Name, UID, GID, Gecos, Home string
}

// HostGroup is a group of the host (keep-id adds the user's primary group).
type HostGroup struct {
	Name, GID string
}

// PasswdRequest is what decides the lines podman adds to a container's
// /etc/passwd and /etc/group before it starts.
type PasswdRequest struct {
	// HostUsers are --hostuser users, looked up on the host.
	HostUsers []HostUser
	// Current is the user running the engine with --userns=keep-id (nil
	// otherwise, and for root); CurrentGroup its primary group.
	Current      *HostUser
	CurrentGroup *HostGroup
	// User is the container's user ([user][:group]): --user, keep-id's
	// UID:GID, or the image's USER.
	User string
	// WorkDir is the container's working directory: the home of a user
	// added without one of its own.
	WorkDir string
	// MountDests are the destinations of the container's mounts: a host
	// user's home directory is used when it (or a directory above it) is
	// mounted.
	MountDests []string
	// Entry is --passwd-entry: the template of a user's line, with
	// $USERNAME, $UID, $GID, $NAME and $HOME; "" is podman's format.
	Entry string
}

// entry formats one /etc/passwd line.
func (req *PasswdRequest) entry(username, uid, gid, name, home string) string {
	if req.Entry == "" {
		return fmt.Sprintf("%s:*:%s:%s:%s:%s:/bin/sh\n", username, uid, gid, name, home)
	}
	r := strings.NewReplacer("$USERNAME", username, "$UID", uid, "$GID", gid, "$NAME", name, "$HOME", home)
	return r.Replace(req.Entry) + "\n"
}

// PasswdAdditions returns the lines to append to /etc/passwd and
// /etc/group of the root filesystem at rootfs, following podman 4.3:
//   - each --hostuser, and the keep-id user, unless the container has a
//     user of that name or UID: "name:*:uid:gid:gecos:home:/bin/sh", home
//     being the user's own when mounted, else the working directory;
//   - keep-id's primary group, unless the container has it (by name or
//     GID): "group:x:gid:user";
//   - a numeric --user without an entry: "uid:*:uid:gid:container user:
//     workdir:/bin/sh", and for a numeric group without an entry
//     "gid:x:gid:user".
//
// Lines already present (a restart) are not added again. It reads and
// writes nothing but the two files.
func PasswdAdditions(rootfs string, req PasswdRequest) (passwd, group string, err error) {
	users, err := readPasswd(rootfs)
	if err != nil {
		return "", "", err
	}
	groups, err := readGroup(rootfs)
	if err != nil {
		return "", "", err
	}
	hasUser := func(nameOrID string) bool {
		id, numeric := parseID(nameOrID)
		for _, u := range users {
			if u.name == nameOrID || numeric && u.uid == id {
				return true
			}
		}
		return false
	}
	hasGroup := func(nameOrID string) bool {
		id, numeric := parseID(nameOrID)
		for _, g := range groups {
			if g.name == nameOrID || numeric && g.gid == id {
				return true
			}
		}
		return false
	}
	workDir := req.WorkDir
	if workDir == "" {
		workDir = "/"
	}
	var pw, gr strings.Builder
	added := map[string]bool{}
	addHostUser := func(u HostUser) {
		if hasUser(u.Name) || hasUser(u.UID) || added[u.UID] {
			return
		}
		added[u.UID] = true
		home := workDir
		for d := u.Home; d != "/" && d != "." && d != ""; d = path.Dir(d) {
			if contains(req.MountDests, d) {
				home = u.Home
				break
			}
		}
		pw.WriteString(req.entry(u.Name, u.UID, u.GID, u.Gecos, home))
	}
	for _, u := range req.HostUsers {
		addHostUser(u)
	}
	addedUID := ""
	if req.Current != nil {
		addHostUser(*req.Current)
		addedUID = req.Current.UID
		if g := req.CurrentGroup; g != nil && !hasGroup(g.Name) && !hasGroup(g.GID) {
			fmt.Fprintf(&gr, "%s:x:%s:%s\n", g.Name, g.GID, req.Current.Name)
		}
	}
	if req.User != "" {
		userPart, groupPart, _ := strings.Cut(req.User, ":")
		if uid, ok := parseID(userPart); ok && userPart != addedUID && !added[userPart] && !hasUser(userPart) {
			gid := uint32(0)
			if groupPart != "" {
				if id, ok := parseID(groupPart); ok {
					gid = id
				} else if gid, err = lookupGroup(groups, groupPart); err != nil {
					return "", "", err
				}
			}
			id := strconv.FormatUint(uint64(uid), 10)
			pw.WriteString(req.entry(id, id, strconv.FormatUint(uint64(gid), 10), "container user", workDir))
		}
		g := userPart
		if groupPart != "" {
			g = groupPart
		}
		if gid, ok := parseID(g); ok && (req.CurrentGroup == nil || req.CurrentGroup.GID != g) && !hasGroup(g) {
			fmt.Fprintf(&gr, "%d:x:%d:%s\n", gid, gid, userPart)
		}
	}
	return pw.String(), gr.String(), nil
}
