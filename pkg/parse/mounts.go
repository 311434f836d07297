package parse

import (
	"encoding/csv"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Mount types.
const (
	TypeBind   = "bind"
	TypeVolume = "volume"
	TypeTmpfs  = "tmpfs"
	TypeImage  = "image"
	TypeDevpts = "devpts"
)

// Mount is a -v, --mount or --tmpfs value.
//
// Options holds only options for the kernel and the OCI runtime (ro/rw,
// propagation, bind/rbind, [no]exec, [no]suid, [no]dev, idmap, size=, mode=,
// tmpcopyup, ...), in the order given; defaults are not added here (the spec
// generator adds them). What the engine itself must do is in the other fields.
type Mount struct {
	Type        string // TypeBind, TypeVolume, TypeTmpfs, TypeImage or TypeDevpts
	Source      string // bind: absolute host path; volume: name, "" for an anonymous volume; image: image reference
	Destination string // absolute path in the container
	Options     []string

	Relabel           string // "z" (shared) or "Z" (private): relabel Source for SELinux; "" for none
	Chown             bool   // U: chown the source to the container's user
	Overlay           bool   // O: mount an overlay with Source as the lower directory (changes are discarded)
	UpperDir, WorkDir string // with O: persistent upper and work directories
	NoCopy            bool   // nocopy: do not copy the image's content at Destination into a new volume
	SubPath           string // volume/image: mount only this path inside the volume or image
	ReadWrite         bool   // image: mount the image read-write (readwrite=true)
}

// ReadOnly tells whether the mount is read-only.
func (m Mount) ReadOnly() bool {
	for _, o := range m.Options {
		if o == "ro" {
			return true
		}
	}
	return false
}

var volumeNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ValidVolumeName tells whether name can name a volume.
func ValidVolumeName(name string) error {
	if !volumeNameRE.MatchString(name) {
		return fmt.Errorf("invalid volume name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
	}
	return nil
}

const volumeSyntax = "[host-dir|volume-name:]ctr-dir[:options]"

// Volume parses a -v/--volume value: SRC:DST[:OPTS], or DST alone for an
// anonymous volume. A SRC starting with "/" or "." is a host path (made
// absolute) and gives a bind mount; anything else names a volume.
func Volume(spec string) (Mount, error) {
	var m Mount
	parts := strings.Split(spec, ":")
	if len(parts) > 3 {
		return m, fmt.Errorf("invalid volume %q: expected %s", spec, volumeSyntax)
	}
	var opts []string
	switch len(parts) {
	case 1:
		m.Type, m.Destination = TypeVolume, parts[0]
	default:
		if parts[0] == "" {
			return m, fmt.Errorf("invalid volume %q: the host directory or volume name is empty", spec)
		}
		m.Source, m.Destination = parts[0], parts[1]
		if len(parts) == 3 {
			if parts[2] == "" {
				return m, fmt.Errorf("invalid volume %q: the options after the last ':' are empty", spec)
			}
			opts = strings.Split(parts[2], ",")
		}
	}
	if m.Destination == "" {
		return m, fmt.Errorf("invalid volume %q: the container directory is empty", spec)
	}
	if err := containerPath(m.Destination); err != nil {
		return m, err
	}
	m.Destination = path.Clean(m.Destination)
	if m.Source != "" {
		if strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, ".") {
			m.Type = TypeBind
			abs, err := filepath.Abs(m.Source)
			if err != nil {
				return m, fmt.Errorf("invalid volume %q: %w", spec, err)
			}
			m.Source = abs
		} else {
			m.Type = TypeVolume
			if err := ValidVolumeName(m.Source); err != nil {
				return m, fmt.Errorf("invalid volume %q: %q is neither an absolute host path nor a volume name (names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*)", spec, m.Source)
			}
		}
	}
	if err := applyVolumeOptions(&m, opts); err != nil {
		return m, fmt.Errorf("invalid volume %q: %w", spec, err)
	}
	return m, nil
}

func containerPath(p string) error {
	if !path.IsAbs(p) {
		return fmt.Errorf("invalid container path %q, must be an absolute path", p)
	}
	return nil
}

// option groups of which at most one member may be given
var exclusive = []struct {
	members []string
	what    string
}{
	{[]string{"ro", "rw"}, "'rw' or 'ro'"},
	{[]string{"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}, "'[r]shared', '[r]private', '[r]slave' or '[r]unbindable'"},
	{[]string{"bind", "rbind"}, "'bind' or 'rbind'"},
	{[]string{"z", "Z", "O"}, "'z', 'Z' or 'O'"},
	{[]string{"U"}, "'U'"},
	{[]string{"exec", "noexec"}, "'exec' or 'noexec'"},
	{[]string{"dev", "nodev"}, "'dev' or 'nodev'"},
	{[]string{"suid", "nosuid"}, "'suid' or 'nosuid'"},
	{[]string{"copy", "nocopy"}, "'copy' or 'nocopy'"},
	{[]string{"idmap"}, "'idmap'"},
	{[]string{"tmpcopyup", "notmpcopyup"}, "'tmpcopyup' or 'notmpcopyup'"},
}

func optionKey(o string) string {
	k, _, _ := strings.Cut(o, "=")
	return k
}

func checkExclusive(opts []string) error {
	for _, g := range exclusive {
		var found []string
		for _, o := range opts {
			for _, mbr := range g.members {
				if optionKey(o) == mbr {
					found = append(found, o)
				}
			}
		}
		if len(found) > 1 {
			return fmt.Errorf("options %q conflict: only one of %s may be given", strings.Join(found, ","), g.what)
		}
	}
	return nil
}

// applyVolumeOptions validates -v options and sorts them into m.
func applyVolumeOptions(m *Mount, opts []string) error {
	if err := checkExclusive(opts); err != nil {
		return err
	}
	for _, o := range opts {
		k, v, hasV := strings.Cut(o, "=")
		switch k {
		case "ro", "rw", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
			"bind", "rbind", "exec", "noexec", "dev", "nodev", "suid", "nosuid":
			if hasV {
				return fmt.Errorf("option %q takes no value", k)
			}
			m.Options = append(m.Options, o)
		case "idmap":
			m.Options = append(m.Options, o)
		case "z", "Z":
			m.Relabel = k
		case "U":
			m.Chown = true
		case "O":
			m.Overlay = true
		case "upperdir":
			m.UpperDir = v
		case "workdir":
			m.WorkDir = v
		case "nocopy":
			m.NoCopy = true
		case "copy":
		case "subpath":
			m.SubPath = v
		default:
			return fmt.Errorf("unknown option %q", o)
		}
	}
	if (m.UpperDir != "" || m.WorkDir != "") && (!m.Overlay || m.UpperDir == "" || m.WorkDir == "") {
		return fmt.Errorf("upperdir and workdir go together, with the O option")
	}
	if m.Overlay && m.Type != TypeBind && m.Type != TypeVolume {
		return fmt.Errorf("the O option needs a source directory or volume")
	}
	return nil
}

const mountSyntax = "type=<bind|volume|tmpfs|image|devpts>,[src=<host-dir|volume-name|image>,]target=<ctr-dir>[,options]"

// MountFlag parses a --mount value: comma-separated key[=value] fields
// (CSV, so a value may be quoted), with type=bind|volume|tmpfs|image|devpts,
// src|source, dst|destination|target, ro|readonly[=true|false],
// bind-propagation=, bind-nonrecursive, tmpfs-size=, tmpfs-mode=,
// relabel=shared|private, z, Z, U, idmap, nocopy|volume-nocopy, subpath=,
// [no]exec, [no]suid, [no]dev, tmpcopyup, notmpcopyup, readwrite= (image),
// uid=/gid=/mode= (devpts).
func MountFlag(spec string) (Mount, error) {
	var m Mount
	r := csv.NewReader(strings.NewReader(spec))
	fields, err := r.Read()
	if err != nil {
		return m, fmt.Errorf("invalid --mount %q: %w", spec, err)
	}
	bad := func(format string, a ...any) (Mount, error) {
		return Mount{}, fmt.Errorf("invalid --mount %q: %s", spec, fmt.Sprintf(format, a...))
	}
	// type first: it decides how the other fields are read
	for _, f := range fields {
		if k, v, _ := strings.Cut(f, "="); strings.TrimSpace(k) == "type" {
			m.Type = v
		}
	}
	switch m.Type {
	case TypeBind, TypeVolume, TypeTmpfs, TypeImage, TypeDevpts:
	case "":
		return bad("type= is missing; expected %s", mountSyntax)
	default:
		return bad("unknown type %q: use bind, volume, tmpfs, image or devpts", m.Type)
	}
	var opts []string
	nonRecursive := false
	boolValue := func(k, v string, hasV bool) (bool, error) {
		if !hasV {
			return true, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("invalid --mount %q: %s must be true or false, not %q", spec, k, v)
		}
		return b, nil
	}
	for _, f := range fields {
		k, v, hasV := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		switch k {
		case "type":
		case "src", "source":
			if m.Type == TypeTmpfs || m.Type == TypeDevpts {
				return bad("a %s mount has no source", m.Type)
			}
			if v == "" {
				return bad("%s= is empty", k)
			}
			m.Source = v
		case "dst", "destination", "target":
			if v == "" {
				return bad("%s= is empty", k)
			}
			if err := containerPath(v); err != nil {
				return m, err
			}
			m.Destination = path.Clean(v)
		case "ro", "readonly", "rw", "readwrite":
			b, err := boolValue(k, v, hasV)
			if err != nil {
				return m, err
			}
			if k == "rw" || k == "readwrite" {
				b = !b
			}
			if m.Type == TypeImage && (k == "rw" || k == "readwrite") {
				m.ReadWrite = !b
				continue
			}
			if b {
				opts = append(opts, "ro")
			} else {
				opts = append(opts, "rw")
			}
		case "bind-propagation":
			switch v {
			case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
				opts = append(opts, v)
			default:
				return bad("unknown bind-propagation %q: use [r]private, [r]shared, [r]slave or [r]unbindable", v)
			}
		case "bind-nonrecursive":
			b, err := boolValue(k, v, hasV)
			if err != nil {
				return m, err
			}
			nonRecursive = b
		case "relabel":
			switch v {
			case "shared":
				m.Relabel = "z"
			case "private":
				m.Relabel = "Z"
			default:
				return bad("relabel must be shared or private, not %q", v)
			}
		case "z", "Z":
			m.Relabel = k
		case "U", "chown":
			b, err := boolValue(k, v, hasV)
			if err != nil {
				return m, err
			}
			m.Chown = b
		case "idmap":
			opts = append(opts, f)
		case "nocopy", "volume-nocopy":
			b, err := boolValue(k, v, hasV)
			if err != nil {
				return m, err
			}
			m.NoCopy = b
		case "subpath", "volume-subpath":
			m.SubPath = v
		case "exec", "noexec", "suid", "nosuid", "dev", "nodev", "tmpcopyup", "notmpcopyup":
			opts = append(opts, k)
		case "tmpfs-size":
			if m.Type != TypeTmpfs {
				return bad("tmpfs-size is only for tmpfs mounts")
			}
			if !tmpfsSizeRE.MatchString(v) {
				return bad("invalid tmpfs-size %q: use a size such as 64m, 1g or 50%%", v)
			}
			opts = append(opts, "size="+v)
		case "tmpfs-mode":
			if m.Type != TypeTmpfs {
				return bad("tmpfs-mode is only for tmpfs mounts")
			}
			if _, err := strconv.ParseUint(v, 8, 32); err != nil {
				return bad("invalid tmpfs-mode %q: use an octal mode such as 1777", v)
			}
			opts = append(opts, "mode="+v)
		case "uid", "gid", "mode", "max":
			if m.Type != TypeDevpts {
				return bad("unknown option %q", f)
			}
			opts = append(opts, f)
		case "consistency":
			// accepted for docker compatibility, ignored as by podman
		default:
			return bad("unknown option %q", f)
		}
	}
	if m.Destination == "" {
		return bad("target= is missing; expected %s", mountSyntax)
	}
	switch m.Type {
	case TypeBind:
		if m.Source == "" {
			return bad("a bind mount needs a source (src=/host/path)")
		}
		abs, err := filepath.Abs(m.Source)
		if err != nil {
			return m, err
		}
		m.Source = abs
		if nonRecursive {
			opts = append(opts, "bind")
		}
	case TypeVolume:
		if m.Source != "" {
			if err := ValidVolumeName(m.Source); err != nil {
				return bad("%v", err)
			}
		}
	case TypeImage:
		if m.Source == "" {
			return bad("an image mount needs the image in src=")
		}
	}
	if nonRecursive && m.Type != TypeBind {
		return bad("bind-nonrecursive is only for bind mounts")
	}
	if err := checkExclusive(opts); err != nil {
		return bad("%v", err)
	}
	m.Options = opts
	return m, nil
}

var tmpfsSizeRE = regexp.MustCompile(`^[0-9]+[kKmMgGtTpPeE%]?$`)

// Tmpfs parses a --tmpfs value: /dst[:opt,opt...], where the options are
// those of mount(8) for tmpfs (size=, mode=, uid=, gid=, nr_inodes=, ro, rw,
// [no]exec, [no]suid, [no]dev, ...) plus tmpcopyup/notmpcopyup.
func Tmpfs(spec string) (Mount, error) {
	dst, optStr, hasOpts := strings.Cut(spec, ":")
	m := Mount{Type: TypeTmpfs, Destination: dst}
	if dst == "" {
		return m, fmt.Errorf("invalid --tmpfs %q: the container directory is empty", spec)
	}
	if err := containerPath(dst); err != nil {
		return m, err
	}
	m.Destination = path.Clean(dst)
	if !hasOpts {
		return m, nil
	}
	for _, o := range strings.Split(optStr, ",") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "sync", "async", "dirsync",
			"atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime",
			"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
			"tmpcopyup", "notmpcopyup", "huge", "nr_blocks", "nr_inodes", "uid", "gid", "mpol", "inode64", "noswap":
		case "size":
			if !tmpfsSizeRE.MatchString(v) {
				return m, fmt.Errorf("invalid --tmpfs %q: invalid size %q, use a size such as 64m, 1g or 50%%", spec, v)
			}
		case "mode":
			if _, err := strconv.ParseUint(v, 8, 32); err != nil {
				return m, fmt.Errorf("invalid --tmpfs %q: invalid mode %q, use an octal mode such as 1777", spec, v)
			}
		case "U":
			m.Chown = true
			continue
		case "z", "Z":
			m.Relabel = k
			continue
		default:
			return m, fmt.Errorf("invalid --tmpfs %q: unknown option %q", spec, o)
		}
		m.Options = append(m.Options, o)
	}
	if err := checkExclusive(m.Options); err != nil {
		return m, fmt.Errorf("invalid --tmpfs %q: %w", spec, err)
	}
	return m, nil
}
