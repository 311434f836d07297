package libpod

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ociVersion is the spec version written: what Debian's runc 1.1 and
// crun 1.8 accept.
const ociVersion = "1.0.2-dev"

// generateSpec builds the container's OCI spec for one start: the options
// decided at create time (the ContainerSpec) completed with what
// depends on the host and on the mounted root filesystem.
func (c *Container) generateSpec(rootfs string, files preparedFiles) (*specs.Spec, error) {
	o := c.Config.generatorOptions()
	o.Rootfs = rootfs
	o.Host = nil
	o.Files = specgen.Files{Hosts: files.Hosts, ResolvConf: files.ResolvConf, Hostname: files.Hostname,
		ContainerEnv: files.ContainerEnv, Localtime: files.Localtime}
	o.Rootless = rootless.IsRootless()
	o.Hostname = c.hostname()
	o.Created = c.Config.Created
	o.CanRaiseRlimits = specgen.CanRaiseRlimits()

	// Cgroups: a rootless berth has none it may use (no systemd
	// delegation); the CLI warned when limits were asked for. As root, runc
	// puts the container in /berth/<id> of each hierarchy (cgroupfs) and
	// removes it at delete.
	o.UseCgroups = !o.Rootless
	if o.UseCgroups {
		o.CgroupsPath = "/berth/" + c.ID()
	}
	if !oci.CgroupsUnified() {
		o.Cgroup = specgen.Namespace{Mode: specgen.NSHost} // podman's default on cgroup v1
	}

	switch c.Config.Network {
	case "host":
		o.Network = specgen.Namespace{Mode: specgen.NSHost}
	case "none":
		o.Network = specgen.Namespace{Mode: specgen.NSNone}
	case "bridge":
		if c.State.Network == nil {
			return nil, fmt.Errorf("container %s has no network namespace set up", c.Name())
		}
		o.Network = specgen.Namespace{Mode: specgen.NSPath, Path: c.State.Network.NetNSPath}
	case "slirp4netns":
		o.Network = specgen.Namespace{}
		if c.slirpOnOwnNetNS() {
			if c.State.Network == nil || c.State.Network.NetNSPath == "" {
				return nil, fmt.Errorf("container %s has no network namespace set up", c.Name())
			}
			o.Network = specgen.Namespace{Mode: specgen.NSPath, Path: c.State.Network.NetNSPath}
		}
	default:
		o.Network = specgen.Namespace{}
	}

	if c.Config.UserNS != "" {
		m, err := userNSMappings(c.Config.UserNS)
		if err != nil {
			return nil, err
		}
		o.UserNS = m
	}

	// podman's additions to /etc/passwd and /etc/group (keep-id's user,
	// --hostuser, a numeric --user), before the user is resolved in them.
	if err := c.addPasswdEntries(rootfs, filepath.Dir(files.Hosts), &o); err != nil {
		return nil, err
	}

	// The user, resolved in the container's /etc/passwd and /etc/group,
	// owns a working directory berth creates and the sources of :U mounts.
	user := o.User
	if user == "" && o.Image != nil {
		user = o.Image.User
	}
	eu, err := specgen.ResolveUser(rootfs, user, o.GroupAdd)
	if err != nil {
		return nil, err
	}
	uid, gid := eu.UID, eu.GID
	if o.UserNS != nil {
		var ok1, ok2 bool
		uid, ok1 = toOuterID(o.UserNS.UIDMap, uid)
		gid, ok2 = toOuterID(o.UserNS.GIDMap, gid)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("user %d:%d is not mapped in the container's user namespace", eu.UID, eu.GID)
		}
	}
	if err := c.prepareWorkDir(rootfs, &o, int(uid), int(gid)); err != nil {
		return nil, err
	}
	for _, m := range o.Mounts {
		if m.Type == "bind" && hasOption(m.Options, "U") {
			if err := chownTree(m.Source, int(uid), int(gid)); err != nil {
				return nil, fmt.Errorf("changing the owner of %s (the U option): %w", m.Source, err)
			}
		}
	}

	s, err := specgen.Generate(&o)
	if err != nil {
		return nil, err
	}
	s.Version = ociVersion
	return s, nil
}

// prepareWorkDir creates the image's working directory when the image
// lacks it, owned by the container's user (as podman does), and refuses a
// --workdir that does not exist (podman does too).
func (c *Container) prepareWorkDir(rootfs string, o *specgen.Options, uid, gid int) error {
	wd, explicit := o.WorkDir, true
	if wd == "" && o.Image != nil {
		wd, explicit = o.Image.WorkingDir, false
	}
	if wd == "" || wd == "/" {
		return nil
	}
	p, err := securejoin.SecureJoin(rootfs, wd)
	if err != nil {
		return fmt.Errorf("resolving the working directory %s: %w", wd, err)
	}
	st, err := os.Stat(p)
	switch {
	case err == nil && st.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("workdir %q of container %s is not a directory", wd, c.ID())
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("checking the working directory %s: %w", wd, err)
	case explicit:
		// A mount may provide it, or a mount below it (the runtime creates
		// the directories up to a mount point); otherwise podman refuses it.
		for _, m := range o.Mounts {
			if rel, err := filepath.Rel(m.Destination, wd); err == nil && !strings.HasPrefix(rel, "..") {
				return nil
			}
			if rel, err := filepath.Rel(wd, m.Destination); err == nil && !strings.HasPrefix(rel, "..") {
				return nil
			}
		}
		// podman exits 126 (cannot invoke) for it, as for a start failure
		return &StartError{Code: 126, Err: fmt.Errorf("workdir %q does not exist on container %s", wd, c.ID())}
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return fmt.Errorf("creating the working directory %s: %w", wd, err)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		return fmt.Errorf("changing the owner of the working directory %s: %w", wd, err)
	}
	return nil
}

// userNSMappings computes the mappings of --userns=keep-id or nomap in the
// user namespace berth runs in (the user is ID 0 there, followed by the
// subordinate IDs).
func userNSMappings(spec string) (*specgen.IDMappings, error) {
	uns, err := parse.ParseUserNS(spec)
	if err != nil {
		return nil, err
	}
	uidNS, err := specgen.NamespaceSize("/proc/self/uid_map")
	if err != nil {
		return nil, fmt.Errorf("reading the user namespace's mappings: %w", err)
	}
	gidNS, err := specgen.NamespaceSize("/proc/self/gid_map")
	if err != nil {
		return nil, fmt.Errorf("reading the user namespace's mappings: %w", err)
	}
	switch uns.Mode {
	case parse.UserNSKeepID:
		uid, gid := uint32(rootless.UID()), uint32(rootless.GID())
		if uns.UID != nil {
			uid = *uns.UID
		}
		if uns.GID != nil {
			gid = *uns.GID
		}
		return specgen.KeepIDMappings(uid, gid, uidNS, gidNS)
	case parse.UserNSNoMap:
		return specgen.NoMapMappings(uidNS, gidNS)
	}
	return nil, fmt.Errorf("--userns=%s is not supported yet", spec)
}

// toOuterID maps a container ID to the ID it has in berth's namespace.
func toOuterID(m []specs.LinuxIDMapping, id uint32) (uint32, bool) {
	for _, e := range m {
		if id >= e.ContainerID && uint64(id) < uint64(e.ContainerID)+uint64(e.Size) {
			return e.HostID + (id - e.ContainerID), true
		}
	}
	return 0, false
}

func hasOption(opts []string, name string) bool {
	for _, o := range opts {
		if o == name {
			return true
		}
	}
	return false
}

// chownTree gives dir and everything below it to uid:gid (symlinks
// themselves, not their targets).
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// zoneinfoDir is where the host's time zone files are.
const zoneinfoDir = "/usr/share/zoneinfo"

// TimezoneFile returns the host file that becomes the container's
// /etc/localtime for --tz: the host's own for "local", else the zone's.
func TimezoneFile(tz string) (string, error) {
	if tz == "local" {
		p, err := filepath.EvalSymlinks("/etc/localtime")
		if err != nil {
			return "", fmt.Errorf("--tz local: the host's time zone: %w", err)
		}
		return p, nil
	}
	if tz == "" || filepath.IsAbs(tz) || strings.Contains(tz, "..") {
		return "", fmt.Errorf("invalid --tz %q: use local or a time zone name such as Europe/Paris", tz)
	}
	p, err := filepath.EvalSymlinks(filepath.Join(zoneinfoDir, tz))
	if err != nil {
		return "", fmt.Errorf("invalid --tz %q: unknown time zone (no %s)", tz, filepath.Join(zoneinfoDir, tz))
	}
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("invalid --tz %q: not a time zone file", tz)
	}
	return p, nil
}

// addPasswdEntries appends podman's lines (specgen.PasswdAdditions) to the
// container's /etc/passwd and /etc/group, as podman 4.3 does: into the
// container's own files, or, with a read-only root filesystem, into copies
// in runDir bind-mounted over them. A file the image lacks, or that a mount
// of the user provides, is left alone.
func (c *Container) addPasswdEntries(rootfs, runDir string, o *specgen.Options) error {
	if o.NoPasswd {
		return nil
	}
	req := specgen.PasswdRequest{User: o.User, WorkDir: o.WorkDir, Entry: o.PasswdEntry}
	if req.User == "" && o.Image != nil {
		req.User = o.Image.User
	}
	if req.WorkDir == "" && o.Image != nil {
		req.WorkDir = o.Image.WorkingDir
	}
	mounted := map[string]bool{}
	for _, m := range o.Mounts {
		req.MountDests = append(req.MountDests, filepath.Clean(m.Destination))
		mounted[filepath.Clean(m.Destination)] = true
	}
	for _, name := range o.HostUsers {
		u, err := lookupHostUser(name)
		if err != nil {
			return &StartError{Code: 126, Err: fmt.Errorf("--hostuser %s: %w", name, err)}
		}
		req.HostUsers = append(req.HostUsers, u)
	}
	if c.Config.UserNS != "" && rootless.UID() != 0 {
		if uns, err := parse.ParseUserNS(c.Config.UserNS); err == nil && uns.Mode == parse.UserNSKeepID {
			u, err := lookupHostUser(strconv.Itoa(rootless.UID()))
			if err != nil {
				return fmt.Errorf("--userns=keep-id: looking up the current user: %w", err)
			}
			req.Current = &u
			if g, err := user.LookupGroupId(strconv.Itoa(rootless.GID())); err == nil {
				req.CurrentGroup = &specgen.HostGroup{Name: g.Name, GID: g.Gid}
			}
		}
	}
	if len(req.HostUsers) == 0 && req.Current == nil && req.User == "" {
		return nil
	}
	passwd, group, err := specgen.PasswdAdditions(rootfs, req)
	if err != nil {
		return err
	}
	for _, f := range []struct{ name, add string }{{"/etc/passwd", passwd}, {"/etc/group", group}} {
		if f.add == "" || mounted[f.name] {
			continue
		}
		p, err := securejoin.SecureJoin(rootfs, f.name)
		if err != nil {
			return fmt.Errorf("resolving %s in the container: %w", f.name, err)
		}
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // podman does not create them
		}
		if err != nil {
			return fmt.Errorf("adding users to %s: %w", f.name, err)
		}
		if !st.Mode().IsRegular() {
			continue
		}
		if o.ReadOnly {
			orig, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("adding users to %s: %w", f.name, err)
			}
			copyPath := filepath.Join(runDir, filepath.Base(f.name))
			if err := os.WriteFile(copyPath, append(orig, f.add...), 0o644); err != nil {
				return fmt.Errorf("adding users to %s: %w", f.name, err)
			}
			o.Mounts = append(o.Mounts, specs.Mount{Destination: f.name, Type: "bind", Source: copyPath, Options: []string{"rbind", "ro"}})
			continue
		}
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|unix.O_NOFOLLOW, 0)
		if err != nil {
			return fmt.Errorf("adding users to %s: %w", f.name, err)
		}
		_, werr := fh.WriteString(f.add)
		cerr := fh.Close()
		if werr != nil || cerr != nil {
			return fmt.Errorf("adding users to %s: %w", f.name, errors.Join(werr, cerr))
		}
	}
	return nil
}

// lookupHostUser finds a host user by name, else by UID, as podman does.
func lookupHostUser(nameOrID string) (specgen.HostUser, error) {
	u, err := user.Lookup(nameOrID)
	if err != nil {
		var err2 error
		if u, err2 = user.LookupId(nameOrID); err2 != nil {
			return specgen.HostUser{}, err
		}
	}
	gecos, _, _ := strings.Cut(u.Name, ",")
	return specgen.HostUser{Name: u.Username, UID: u.Uid, GID: u.Gid, Gecos: gecos, Home: u.HomeDir}, nil
}
