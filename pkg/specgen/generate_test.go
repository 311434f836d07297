package specgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-containers/berth/pkg/parse"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestDefaultSpec checks the spec of "podman create busybox" as root
// against what podman 4.3 writes (config.json compared by hand).
func TestDefaultSpec(t *testing.T) {
	s := mustGenerate(t, baseOptions(t))

	if s.Root.Readonly || s.Hostname != "c0ffee123456" || s.Process.Cwd != "/" || s.Process.Terminal {
		t.Errorf("root/hostname/cwd/terminal = %+v %q %q %v", s.Root, s.Hostname, s.Process.Cwd, s.Process.Terminal)
	}
	if !reflect.DeepEqual(s.Process.Args, []string{"/bin/sh"}) {
		t.Errorf("args = %q", s.Process.Args)
	}
	wantEnv := []string{"PATH=" + DefaultPath, "TERM=xterm", "container=podman", "HOME=/root", "HOSTNAME=c0ffee123456"}
	if !reflect.DeepEqual(s.Process.Env, wantEnv) {
		t.Errorf("env = %q\nwant %q", s.Process.Env, wantEnv)
	}
	// no --user: root, and root's groups from /etc/group, without gid 0 (as podman)
	if u := s.Process.User; u.UID != 0 || u.GID != 0 || !reflect.DeepEqual(u.AdditionalGids, []uint32{10}) || *u.Umask != 0o022 {
		t.Errorf("user = %+v", u)
	}
	c := s.Process.Capabilities
	if !reflect.DeepEqual(c.Bounding, DefaultCapabilities) || !reflect.DeepEqual(c.Effective, DefaultCapabilities) ||
		!reflect.DeepEqual(c.Permitted, DefaultCapabilities) || c.Inheritable != nil || c.Ambient != nil {
		t.Errorf("capabilities = %+v", c)
	}
	if s.Process.NoNewPrivileges || s.Process.OOMScoreAdj != nil {
		t.Errorf("noNewPrivileges/oomScoreAdj set")
	}
	wantRlimits := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}, {Type: "RLIMIT_NPROC", Soft: 32768, Hard: 32768}}
	if !reflect.DeepEqual(s.Process.Rlimits, wantRlimits) {
		t.Errorf("rlimits = %+v", s.Process.Rlimits)
	}

	wantNS := []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}}
	if !reflect.DeepEqual(s.Linux.Namespaces, wantNS) {
		t.Errorf("namespaces = %+v", s.Linux.Namespaces)
	}
	if s.Linux.UIDMappings != nil || s.Linux.RootfsPropagation != "" {
		t.Errorf("unexpected user mappings or rootfs propagation")
	}
	if !reflect.DeepEqual(s.Linux.MaskedPaths, DefaultMaskedPaths) || !reflect.DeepEqual(s.Linux.ReadonlyPaths, DefaultReadonlyPaths) {
		t.Errorf("masked = %q readonly = %q", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if !reflect.DeepEqual(s.Linux.Sysctl, map[string]string{"net.ipv4.ping_group_range": "0 0"}) {
		t.Errorf("sysctl = %v", s.Linux.Sysctl)
	}
	r := s.Linux.Resources
	if len(r.Devices) != 1 || r.Devices[0].Allow || r.Devices[0].Access != "rwm" || *r.Pids.Limit != 2048 || r.Memory != nil || r.CPU != nil {
		t.Errorf("resources = %+v", r)
	}
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno || *s.Linux.Seccomp.DefaultErrnoRet != 38 {
		t.Errorf("seccomp = %+v", s.Linux.Seccomp)
	}

	type m struct {
		dst, typ, src string
		opts          []string
	}
	want := []m{
		{"/proc", "proc", "proc", []string{"nosuid", "noexec", "nodev"}},
		{"/dev", "tmpfs", "tmpfs", []string{"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}},
		{"/sys", "sysfs", "sysfs", []string{"nosuid", "noexec", "nodev", "ro"}},
		{"/dev/pts", "devpts", "devpts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{"/dev/mqueue", "mqueue", "mqueue", []string{"nosuid", "noexec", "nodev"}},
		{"/etc/resolv.conf", "bind", "/run/c/resolv.conf", []string{"bind", "rprivate"}},
		{"/etc/hosts", "bind", "/run/c/hosts", []string{"bind", "rprivate"}},
		{"/etc/hostname", "bind", "/run/c/hostname", []string{"bind", "rprivate"}},
		{"/run/.containerenv", "bind", "/run/c/.containerenv", []string{"bind", "rprivate"}},
		{"/dev/shm", "tmpfs", "shm", []string{"rw", "nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}},
		{"/sys/fs/cgroup", "cgroup", "cgroup", []string{"rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	var got []m
	for _, x := range s.Mounts {
		got = append(got, m{x.Destination, x.Type, x.Source, x.Options})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts =\n%v\nwant\n%v", got, want)
	}

	wantAnn := map[string]string{
		"io.container.manager": "libpod", "io.kubernetes.cri-o.TTY": "false",
		"io.podman.annotations.autoremove": "FALSE", "io.podman.annotations.init": "FALSE",
		"io.podman.annotations.privileged": "FALSE", "io.podman.annotations.publish-all": "FALSE",
		"org.opencontainers.image.stopSignal": "15",
	}
	if !reflect.DeepEqual(s.Annotations, wantAnn) {
		t.Errorf("annotations = %v", s.Annotations)
	}

	// the spec must survive JSON (what the runtime reads)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back specs.Spec
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back.Process.Args, s.Process.Args) {
		t.Errorf("JSON round trip: %v", err)
	}
}

func TestUser(t *testing.T) {
	tests := []struct {
		user     string
		groupAdd []string
		uid, gid uint32
		addl     []uint32
		home     string
		err      string
	}{
		{user: "", uid: 0, gid: 0, addl: []uint32{10}, home: "/root"},
		{user: "root", uid: 0, gid: 0, addl: []uint32{0, 10}, home: "/root"},
		{user: "0", uid: 0, gid: 0, addl: []uint32{0, 10}, home: "/root"},
		{user: "0:0", uid: 0, gid: 0, addl: []uint32{0}, home: "/root"},
		{user: "root:wheel", uid: 0, gid: 10, addl: []uint32{10}, home: "/root"},
		{user: "nobody", uid: 65534, gid: 65534, addl: []uint32{65534}, home: "/nonexistent"},
		{user: "daemon", uid: 1, gid: 1, addl: []uint32{1}, home: "/usr/sbin"},
		{user: "1000", uid: 1000, gid: 1000, addl: []uint32{1000, 10, 29}, home: "/home/user"},
		{user: "user", uid: 1000, gid: 1000, addl: []uint32{1000, 10, 29}, home: "/home/user"},
		{user: "1000:10", uid: 1000, gid: 10, addl: []uint32{10}, home: "/home/user"},
		{user: "user:wheel", uid: 1000, gid: 10, addl: []uint32{10}, home: "/home/user"},
		{user: "1234", uid: 1234, gid: 0, addl: []uint32{0}},
		{user: "1234:5678", uid: 1234, gid: 5678, addl: []uint32{5678}},
		{user: "user", groupAdd: []string{"audio", "777"}, uid: 1000, gid: 1000, addl: []uint32{1000, 29, 777, 10}, home: "/home/user"},
		{user: "1000:1000", groupAdd: []string{"5"}, uid: 1000, gid: 1000, addl: []uint32{1000, 5}, home: "/home/user"},
		{user: "", groupAdd: []string{"audio", "keep-groups"}, uid: 0, gid: 0, addl: []uint32{29, 10}, home: "/root"},
		{user: "nosuch", err: "unable to find user nosuch"},
		{user: "user:nosuch", err: "unable to find group nosuch"},
		{user: "", groupAdd: []string{"nosuch"}, err: "--group-add: unable to find group nosuch"},
		{user: "user:", err: "the group after ':' is empty"},
		{user: ":wheel", err: "the user before ':' is empty"},
	}
	for _, tt := range tests {
		o := baseOptions(t)
		o.User, o.GroupAdd = tt.user, tt.groupAdd
		s, err := Generate(o)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("--user %q: error = %v, want %q", tt.user, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("--user %q: %v", tt.user, err)
			continue
		}
		u := s.Process.User
		if u.UID != tt.uid || u.GID != tt.gid || !reflect.DeepEqual(u.AdditionalGids, tt.addl) {
			t.Errorf("--user %q --group-add %q: user = %d:%d %v, want %d:%d %v", tt.user, tt.groupAdd, u.UID, u.GID, u.AdditionalGids, tt.uid, tt.gid, tt.addl)
		}
		home := ""
		for _, e := range s.Process.Env {
			if h, ok := strings.CutPrefix(e, "HOME="); ok {
				home = h
			}
		}
		if home != tt.home {
			t.Errorf("--user %q: HOME = %q, want %q", tt.user, home, tt.home)
		}
	}
}

func TestUserFromImageAndNoPasswd(t *testing.T) {
	o := baseOptions(t)
	o.Image.User = "user"
	s := mustGenerate(t, o)
	if s.Process.User.UID != 1000 || len(s.Process.Capabilities.Effective) != 0 {
		t.Errorf("image USER user: uid %d, effective caps %v", s.Process.User.UID, s.Process.Capabilities.Effective)
	}
	// a root filesystem without /etc/passwd: numbers work, root works, names fail
	o = baseOptions(t)
	o.Rootfs = t.TempDir()
	for user, uid := range map[string]uint32{"": 0, "root": 0, "42": 42} {
		o.User = user
		if s, err := Generate(o); err != nil || s.Process.User.UID != uid {
			t.Errorf("no passwd, --user %q: %v", user, err)
		}
	}
	o.User = "user"
	if _, err := Generate(o); err == nil {
		t.Error("no passwd: --user user accepted")
	}
}

// A symlinked /etc/passwd must resolve inside the root filesystem.
func TestUserSymlinkStaysInRootfs(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "passwd"), []byte("evil:x:4242:4242::/evil:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, d := range []string{"etc", "inside"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "inside", "passwd"), []byte("good:x:7:7::/good:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// an absolute symlink, and one climbing out with ../
	rel, _ := filepath.Rel(filepath.Join(root, "etc"), filepath.Join(outside, "passwd"))
	for _, target := range []string{filepath.Join(outside, "passwd"), rel} {
		_ = os.Remove(filepath.Join(root, "etc", "passwd"))
		if err := os.Symlink(target, filepath.Join(root, "etc", "passwd")); err != nil {
			t.Fatal(err)
		}
		if _, err := ResolveUser(root, "evil", nil); err == nil {
			t.Errorf("symlink %q: a user from outside the rootfs was found", target)
		}
	}
	// a symlink that stays inside works
	_ = os.Remove(filepath.Join(root, "etc", "passwd"))
	if err := os.Symlink("/inside/passwd", filepath.Join(root, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if u, err := ResolveUser(root, "good", nil); err != nil || u.UID != 7 || u.Home != "/good" {
		t.Errorf("symlink inside the rootfs: %+v, %v", u, err)
	}
	// not a regular file
	_ = os.Remove(filepath.Join(root, "etc", "passwd"))
	if err := syscall.Mkfifo(filepath.Join(root, "etc", "passwd"), 0o644); err == nil {
		if _, err := ResolveUser(root, "good", nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("FIFO passwd: err = %v", err)
		}
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name          string
		user          string
		add, drop     []string
		bounding, eff []string
		inheritable   []string
		err           string
	}{
		{name: "drop ALL add NET_ADMIN", drop: []string{"ALL"}, add: []string{"NET_ADMIN"},
			bounding: []string{"CAP_NET_ADMIN"}, eff: []string{"CAP_NET_ADMIN"}},
		{name: "lower case and prefixes", drop: []string{"all"}, add: []string{"net_admin", "CAP_SYS_ADMIN"},
			bounding: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}, eff: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
		{name: "drop one", drop: []string{"chown", "KILL"},
			bounding: []string{"CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"},
			eff:      []string{"CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}},
		{name: "add ALL is the bounding set", add: []string{"ALL"}, drop: []string{"CHOWN"},
			bounding: without(allCapsButResource, "CAP_CHOWN"), eff: without(allCapsButResource, "CAP_CHOWN")},
		{name: "a capability the engine lacks is left out", add: []string{"SYS_RESOURCE", "NET_RAW"},
			bounding: sorted(append([]string{"CAP_NET_RAW"}, DefaultCapabilities...)), eff: sorted(append([]string{"CAP_NET_RAW"}, DefaultCapabilities...))},
		{name: "non-root user gets no effective capabilities", user: "1000",
			bounding: DefaultCapabilities, eff: nil},
		{name: "non-root user gets the added ones in every set", user: "user", add: []string{"NET_ADMIN"},
			bounding: sorted(append([]string{"CAP_NET_ADMIN"}, DefaultCapabilities...)), eff: []string{"CAP_NET_ADMIN"}, inheritable: []string{"CAP_NET_ADMIN"}},
		{name: "unknown", add: []string{"FOO"}, err: `--cap-add: unknown capability "FOO"`},
		{name: "unknown drop", drop: []string{"BAR"}, err: `--cap-drop: unknown capability "BAR"`},
		{name: "add and drop", add: []string{"NET_ADMIN"}, drop: []string{"net_admin"}, err: `capability "CAP_NET_ADMIN" cannot be both added and dropped`},
		{name: "ALL and ALL", add: []string{"ALL"}, drop: []string{"ALL"}, err: "cannot be used together"},
	}
	for _, tt := range tests {
		o := baseOptions(t)
		o.User, o.CapAdd, o.CapDrop = tt.user, tt.add, tt.drop
		s, err := Generate(o)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		c := s.Process.Capabilities
		if !reflect.DeepEqual(c.Bounding, tt.bounding) || !reflect.DeepEqual(c.Effective, tt.eff) || !reflect.DeepEqual(c.Permitted, tt.eff) ||
			!reflect.DeepEqual(c.Inheritable, tt.inheritable) || !reflect.DeepEqual(c.Ambient, tt.inheritable) {
			t.Errorf("%s: capabilities =\n %+v\nwant bounding %v effective %v inheritable %v", tt.name, c, tt.bounding, tt.eff, tt.inheritable)
		}
	}
}

func without(list []string, drop string) []string {
	var out []string
	for _, x := range list {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

func sorted(list []string) []string {
	out, _ := MergeCapabilities(list, nil, nil, nil)
	return out
}

func TestPrivileged(t *testing.T) {
	o := baseOptions(t)
	o.Privileged = true
	o.Devices = []Device{{HostPath: "/dev/null", ContainerPath: "/dev/mynull", Permissions: "r"}}
	s := mustGenerate(t, o)
	c := s.Process.Capabilities
	if !reflect.DeepEqual(c.Bounding, allCapsButResource) || !reflect.DeepEqual(c.Effective, allCapsButResource) {
		t.Errorf("privileged capabilities = %v", c.Bounding)
	}
	if s.Linux.Seccomp != nil || s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Errorf("privileged: seccomp %v masked %v readonly %v", s.Linux.Seccomp != nil, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if m := findMount(s, "/sys"); m.Type != "sysfs" || !reflect.DeepEqual(m.Options, []string{"rprivate", "nosuid", "noexec", "nodev", "rw"}) {
		t.Errorf("privileged /sys = %+v", m)
	}
	if m := findMount(s, "/sys/fs/cgroup"); m.Options[len(m.Options)-1] != "rw" {
		t.Errorf("privileged cgroup mount = %+v", m)
	}
	if len(s.Linux.Resources.Devices) != 1 || !s.Linux.Resources.Devices[0].Allow {
		t.Errorf("privileged device cgroup = %+v", s.Linux.Resources.Devices)
	}
	var null, mynull bool
	for _, d := range s.Linux.Devices {
		if d.Path == "/dev/null" && d.Type == "c" && d.Major == 1 && d.Minor == 3 {
			null = true
		}
		if d.Path == "/dev/mynull" {
			mynull = true
		}
		if strings.HasPrefix(d.Path, "/dev/pts/") {
			t.Errorf("privileged: %s must not be added", d.Path)
		}
	}
	if !null || !mynull {
		t.Errorf("privileged devices lack /dev/null (%v) or --device /dev/mynull (%v)", null, mynull)
	}

	// a seccomp profile given explicitly is kept
	o.SeccompProfile = writeProfile(t, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}`)
	if s := mustGenerate(t, o); s.Linux.Seccomp == nil {
		t.Error("privileged with an explicit seccomp profile: profile dropped")
	}

	// rootless: devices are bind mounts, without the consoles and ptmx
	o = baseOptions(t)
	o.Privileged, o.Rootless, o.UseCgroups = true, true, false
	s = mustGenerate(t, o)
	if len(s.Linux.Devices) != 0 {
		t.Errorf("rootless privileged: %d device nodes", len(s.Linux.Devices))
	}
	if m := findMount(s, "/dev/null"); m == nil || m.Type != "bind" || m.Source != "/dev/null" ||
		!reflect.DeepEqual(m.Options, []string{"slave", "nosuid", "noexec", "rw", "rbind"}) {
		t.Errorf("rootless privileged /dev/null = %+v", m)
	}
	for _, d := range []string{"/dev/ptmx", "/dev/tty", "/dev/tty0", "/dev/tty1"} {
		if m := findMount(s, d); m != nil && m.Type == "bind" {
			t.Errorf("rootless privileged: %s is bind-mounted", d)
		}
	}
	if s.Linux.RootfsPropagation != "rslave" {
		t.Errorf("rootless privileged: rootfsPropagation = %q, want rslave (the device mounts are slaves)", s.Linux.RootfsPropagation)
	}
	if m := findMount(s, "/dev/pts"); m == nil || m.Type != "devpts" {
		t.Errorf("/dev/pts = %+v", m)
	}
}

func writeProfile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadOnly(t *testing.T) {
	o := baseOptions(t)
	o.ReadOnly, o.ReadOnlyTmpfs = true, true
	s := mustGenerate(t, o)
	if !s.Root.Readonly {
		t.Error("root not read-only")
	}
	for _, d := range []string{"/tmp", "/var/tmp", "/run"} {
		m := findMount(s, d)
		if m == nil || m.Type != "tmpfs" || !reflect.DeepEqual(m.Options, []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}) {
			t.Errorf("--read-only: %s = %+v", d, m)
		}
	}
	for _, d := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/run/.containerenv"} {
		if m := findMount(s, d); m == nil || !reflect.DeepEqual(m.Options, []string{"bind", "rprivate", "ro", "nosuid", "noexec", "nodev"}) {
			t.Errorf("--read-only: %s = %+v", d, m)
		}
	}
	// /run comes before /run/.containerenv
	var iRun, iEnv int
	for i, m := range s.Mounts {
		switch m.Destination {
		case "/run":
			iRun = i
		case "/run/.containerenv":
			iEnv = i
		}
	}
	if iRun > iEnv {
		t.Errorf("/run is mounted after /run/.containerenv")
	}

	o.ReadOnlyTmpfs = false
	s = mustGenerate(t, o)
	if findMount(s, "/tmp") != nil || findMount(s, "/run") != nil {
		t.Error("--read-only-tmpfs=false still mounts tmpfs")
	}

	// a user mount replaces the tmpfs
	o.ReadOnlyTmpfs = true
	o.Mounts = []specs.Mount{{Destination: "/tmp", Type: "bind", Source: "/srv/tmp"}}
	s = mustGenerate(t, o)
	if m := findMount(s, "/tmp"); m.Type != "bind" || m.Source != "/srv/tmp" {
		t.Errorf("user /tmp = %+v", m)
	}
	n := 0
	for _, m := range s.Mounts {
		if m.Destination == "/tmp" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d mounts on /tmp", n)
	}
}

func TestRlimits(t *testing.T) {
	ul := func(s string) specs.POSIXRlimit {
		rl, err := parse.Ulimit(s)
		if err != nil {
			t.Fatal(err)
		}
		return rl
	}
	tests := []struct {
		name     string
		ulimits  []specs.POSIXRlimit
		host     bool
		canRaise bool
		want     []specs.POSIXRlimit
		err      string
	}{
		{name: "defaults clamped to the hard limits",
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}, {Type: "RLIMIT_NPROC", Soft: 32768, Hard: 32768}}},
		{name: "defaults when limits can be raised", canRaise: true,
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1048576, Hard: 1048576}, {Type: "RLIMIT_NPROC", Soft: 32768, Hard: 32768}}},
		{name: "user limits first, defaults for the rest", ulimits: []specs.POSIXRlimit{ul("nofile=100:200"), ul("core=0")},
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}, {Type: "RLIMIT_CORE", Soft: 0, Hard: 0}, {Type: "RLIMIT_NPROC", Soft: 32768, Hard: 32768}}},
		{name: "-1 is the current hard limit", ulimits: []specs.POSIXRlimit{ul("nofile=-1"), ul("nproc=10:-1")},
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}, {Type: "RLIMIT_NPROC", Soft: 10, Hard: 96365}}},
		{name: "-1 is unlimited when limits can be raised", canRaise: true, ulimits: []specs.POSIXRlimit{ul("nofile=-1")},
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: parse.RlimitMax, Hard: parse.RlimitMax}, {Type: "RLIMIT_NPROC", Soft: 32768, Hard: 32768}}},
		{name: "above the hard limit", ulimits: []specs.POSIXRlimit{ul("nofile=100000")},
			err: "--ulimit nofile: the hard limit 100000 is above the current hard limit 20000"},
		{name: "above the hard limit, allowed when limits can be raised", canRaise: true, ulimits: []specs.POSIXRlimit{ul("nofile=100000")},
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100000, Hard: 100000}, {Type: "RLIMIT_NPROC", Soft: 32768, Hard: 32768}}},
		{name: "host copies all", host: true, ulimits: []specs.POSIXRlimit{ul("core=0")}},
	}
	for _, tt := range tests {
		o := baseOptions(t)
		o.Ulimits, o.UlimitHost, o.CanRaiseRlimits = tt.ulimits, tt.host, tt.canRaise
		s, err := Generate(o)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.host {
			if len(s.Process.Rlimits) != 16 || *findRlimit(s, "RLIMIT_NOFILE") != (specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 20000}) ||
				*findRlimit(s, "RLIMIT_CORE") != (specs.POSIXRlimit{Type: "RLIMIT_CORE"}) {
				t.Errorf("%s: %+v", tt.name, s.Process.Rlimits)
			}
			continue
		}
		if !reflect.DeepEqual(s.Process.Rlimits, tt.want) {
			t.Errorf("%s: rlimits = %+v\nwant %+v", tt.name, s.Process.Rlimits, tt.want)
		}
	}
}

func TestKeepIDMappings(t *testing.T) {
	// podman 4.3, rootless as uid 1001 with 65536 subordinate IDs (65537 in its namespace)
	m, err := KeepIDMappings(1001, 1001, 65537, 65537)
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1001}, {ContainerID: 1001, HostID: 0, Size: 1}, {ContainerID: 1002, HostID: 1002, Size: 64535}}
	if err != nil || !reflect.DeepEqual(m.UIDMap, want) || !reflect.DeepEqual(m.GIDMap, want) {
		t.Errorf("keep-id = %+v, %v", m, err)
	}
	// keep-id:uid=200,gid=210
	m, err = KeepIDMappings(200, 210, 65537, 65537)
	if err != nil || !reflect.DeepEqual(m.UIDMap, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 200}, {ContainerID: 200, HostID: 0, Size: 1}, {ContainerID: 201, HostID: 201, Size: 65336}}) ||
		!reflect.DeepEqual(m.GIDMap, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 210}, {ContainerID: 210, HostID: 0, Size: 1}, {ContainerID: 211, HostID: 211, Size: 65326}}) {
		t.Errorf("keep-id:uid=200,gid=210 = %+v, %v", m, err)
	}
	// edges: ID 0, the last ID, out of range, no subordinate IDs
	if got, _ := KeepIDMapping(0, 10); !reflect.DeepEqual(got, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 1, Size: 9}}) {
		t.Errorf("KeepIDMapping(0, 10) = %+v", got)
	}
	if got, _ := KeepIDMapping(9, 10); !reflect.DeepEqual(got, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 9}, {ContainerID: 9, HostID: 0, Size: 1}}) {
		t.Errorf("KeepIDMapping(9, 10) = %+v", got)
	}
	if _, err := KeepIDMapping(10, 10); err == nil || !strings.Contains(err.Error(), "outside the 10 IDs") {
		t.Errorf("KeepIDMapping(10, 10) err = %v", err)
	}
	if _, err := KeepIDMapping(0, 1); err == nil || !strings.Contains(err.Error(), "/etc/subuid") {
		t.Errorf("KeepIDMapping(0, 1) err = %v", err)
	}
	nm, err := NoMapMappings(65537, 65537)
	if err != nil || !reflect.DeepEqual(nm.UIDMap, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 65536}}) {
		t.Errorf("nomap = %+v, %v", nm, err)
	}

	// in a spec
	o := baseOptions(t)
	o.Rootless, o.UseCgroups = true, false
	o.UserNS, _ = KeepIDMappings(1001, 1001, 65537, 65537)
	o.User = "1001:1001"
	s := mustGenerate(t, o)
	last := s.Linux.Namespaces[len(s.Linux.Namespaces)-1]
	if last.Type != "user" || last.Path != "" || !reflect.DeepEqual(s.Linux.UIDMappings, want) || !reflect.DeepEqual(s.Linux.GIDMappings, want) {
		t.Errorf("keep-id spec: namespaces %+v uid map %+v", s.Linux.Namespaces, s.Linux.UIDMappings)
	}
	if s.Process.User.UID != 1001 || len(s.Process.Capabilities.Effective) != 0 {
		t.Errorf("keep-id process user = %+v", s.Process.User)
	}
	// gid 5 (tty) is mapped: devpts keeps gid=5; with a map without it, it goes
	if m := findMount(s, "/dev/pts"); m.Options[len(m.Options)-1] != "gid=5" {
		t.Errorf("/dev/pts = %v", m.Options)
	}
	o.UserNS = &IDMappings{UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}, GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}}
	o.User = "0:0"
	s = mustGenerate(t, o)
	if m := findMount(s, "/dev/pts"); contains(m.Options, "gid=5") {
		t.Errorf("/dev/pts without gid 5 mapped = %v", m.Options)
	}
	// groups the user is a member of are left out when not mapped (root is
	// in wheel); users and groups asked for must be mapped
	o.User = ""
	if s := mustGenerate(t, o); len(s.Process.User.AdditionalGids) != 0 {
		t.Errorf("unmapped member groups kept: %v", s.Process.User.AdditionalGids)
	}
	for _, tt := range []struct {
		user     string
		groupAdd []string
		err      string
	}{
		{"user", nil, "group 1000 is not mapped"},
		{"1000:0", nil, "user 1000 is not mapped"},
		{"0:wheel", nil, "group 10 is not mapped"},
		{"0:0", []string{"audio"}, "--group-add audio: group 29 is not mapped"},
	} {
		o.User, o.GroupAdd = tt.user, tt.groupAdd
		if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("--user %s --group-add %v: err = %v, want %q", tt.user, tt.groupAdd, err, tt.err)
		}
	}
	o.GroupAdd = nil
	o.UserNSPath = "/proc/1/ns/user"
	if _, err := Generate(o); err == nil {
		t.Error("UserNS and UserNSPath together accepted")
	}
}

func TestNamespaceSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "uid_map")
	if err := os.WriteFile(p, []byte("         0       1001          1\n         1     100000      65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := NamespaceSize(p); err != nil || n != 65537 {
		t.Errorf("NamespaceSize = %d, %v", n, err)
	}
	if err := os.WriteFile(p, []byte("0 0 4294967295\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := NamespaceSize(p); err != nil || n != 4294967295 {
		t.Errorf("NamespaceSize(initial) = %d, %v", n, err)
	}
	if _, err := NamespaceSize("/proc/self/uid_map"); err != nil {
		t.Errorf("NamespaceSize(/proc/self/uid_map): %v", err)
	}
}

func TestMounts(t *testing.T) {
	tests := []struct {
		in   specs.Mount
		want specs.Mount
		err  string
	}{
		{in: specs.Mount{Destination: "/a", Type: "bind", Source: "/h"},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"rw", "rprivate", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"ro"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"ro", "rprivate", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"ro", "z", "shared"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"ro", "shared", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"noexec", "nosuid", "nodev", "rslave"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"noexec", "nosuid", "nodev", "rslave", "rw", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"bind", "U", "Z"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"bind", "rw", "rprivate"}}},
		{in: specs.Mount{Destination: "/a/", Type: "bind", Source: "/h", Options: []string{"idmap"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/h", Options: []string{"idmap", "rw", "rprivate", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "volume", Source: "/vols/v1/_data"},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/vols/v1/_data", Options: []string{"rw", "rprivate", "nosuid", "nodev", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "volume", Source: "/vols/v1/_data", Options: []string{"ro", "noexec", "nocopy"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/vols/v1/_data", Options: []string{"ro", "noexec", "rprivate", "nosuid", "nodev", "rbind"}}},
		{in: specs.Mount{Destination: "/a", Type: "volume", Source: "/v", Options: []string{"suid", "dev"}},
			want: specs.Mount{Destination: "/a", Type: "bind", Source: "/v", Options: []string{"suid", "dev", "rw", "rprivate", "rbind"}}},
		{in: specs.Mount{Destination: "/t", Type: "tmpfs"},
			want: specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}}},
		{in: specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"size=10m", "mode=700", "noexec"}},
			want: specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=10m", "mode=700", "noexec", "rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}}},
		{in: specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"ro", "notmpcopyup"}},
			want: specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "rprivate", "nosuid", "nodev"}}},
		{in: specs.Mount{Destination: "/p", Type: "devpts", Source: "devpts", Options: []string{"uid=5"}},
			want: specs.Mount{Destination: "/p", Type: "devpts", Source: "devpts", Options: []string{"uid=5"}}},
		{in: specs.Mount{Destination: "rel", Type: "bind", Source: "/h"}, err: `invalid container path "rel"`},
		{in: specs.Mount{Destination: "/a", Type: "bind", Source: "h"}, err: `the source "h" is not an absolute host path`},
	}
	for _, tt := range tests {
		o := baseOptions(t)
		o.Mounts = []specs.Mount{tt.in}
		s, err := Generate(o)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("mount %+v: error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("mount %+v: %v", tt.in, err)
			continue
		}
		if got := findMount(s, tt.want.Destination); got == nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("mount %+v =\n %+v\nwant\n %+v", tt.in, got, tt.want)
		}
	}

	// parents before children, user mounts replace defaults, propagation
	o := baseOptions(t)
	o.Mounts = []specs.Mount{
		{Destination: "/data/sub", Type: "bind", Source: "/h/sub", Options: []string{"rshared"}},
		{Destination: "/data", Type: "volume", Source: "/v"},
		{Destination: "/dev/shm", Type: "tmpfs", Options: []string{"size=1g"}},
	}
	s := mustGenerate(t, o)
	pos := map[string]int{}
	n := map[string]int{}
	for i, m := range s.Mounts {
		pos[m.Destination] = i
		n[m.Destination]++
	}
	if pos["/data"] > pos["/data/sub"] || pos["/dev"] > pos["/dev/shm"] || pos["/sys"] > pos["/sys/fs/cgroup"] {
		t.Errorf("mount order: %v", pos)
	}
	if n["/dev/shm"] != 1 || !contains(findMount(s, "/dev/shm").Options, "size=1g") {
		t.Errorf("user /dev/shm did not replace the default: %+v", findMount(s, "/dev/shm"))
	}
	if s.Linux.RootfsPropagation != "rshared" {
		t.Errorf("rootfsPropagation = %q, want rshared", s.Linux.RootfsPropagation)
	}
}

func TestShmAndIPC(t *testing.T) {
	o := baseOptions(t)
	o.ShmSize = 1 << 30
	if m := findMount(mustGenerate(t, o), "/dev/shm"); m.Type != "tmpfs" || !contains(m.Options, "size=1073741824") {
		t.Errorf("--shm-size 1g: %+v", m)
	}
	o.ShmPath = "/run/c/shm"
	if m := findMount(mustGenerate(t, o), "/dev/shm"); m.Type != "bind" || m.Source != "/run/c/shm" ||
		!reflect.DeepEqual(m.Options, []string{"bind", "rprivate", "nosuid", "noexec", "nodev"}) {
		t.Errorf("ShmPath: %+v", m)
	}
	o.IPC = Namespace{Mode: NSHost}
	s := mustGenerate(t, o)
	if m := findMount(s, "/dev/shm"); m.Source != "/dev/shm" {
		t.Errorf("--ipc host /dev/shm = %+v", m)
	}
	if m := findMount(s, "/dev/mqueue"); m.Type != "mqueue" {
		t.Errorf("--ipc host as root: /dev/mqueue = %+v", m)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == "ipc" {
			t.Error("--ipc host: the spec has an IPC namespace")
		}
	}
	o.Rootless = true
	m := findMount(mustGenerate(t, o), "/dev/mqueue")
	if _, err := os.Stat("/dev/mqueue"); err != nil {
		if m != nil {
			t.Errorf("--ipc host rootless, no /dev/mqueue on the host: /dev/mqueue = %+v", m)
		}
	} else if m == nil || m.Type != "bind" || m.Source != "/dev/mqueue" {
		t.Errorf("--ipc host rootless: /dev/mqueue = %+v", m)
	}
	o.IPC = Namespace{Mode: NSNone}
	if m := findMount(mustGenerate(t, o), "/dev/shm"); m != nil {
		t.Errorf("--ipc none: /dev/shm = %+v", m)
	}
}

func TestNetworkHostAndSysctls(t *testing.T) {
	o := baseOptions(t)
	o.Network = Namespace{Mode: NSHost}
	s := mustGenerate(t, o)
	if m := findMount(s, "/sys"); m.Type != "sysfs" {
		t.Errorf("root --network host: /sys = %+v", m)
	}
	if s.Linux.Sysctl != nil {
		t.Errorf("--network host: default net sysctl kept: %v", s.Linux.Sysctl)
	}
	o.Rootless, o.UseCgroups = true, false
	s = mustGenerate(t, o)
	if m := findMount(s, "/sys"); m.Type != "bind" || m.Source != "/sys" || !reflect.DeepEqual(m.Options, []string{"rprivate", "nosuid", "noexec", "nodev", "ro", "rbind"}) {
		t.Errorf("rootless --network host: /sys = %+v", m)
	}
	if findMount(s, "/sys/fs/cgroup") != nil {
		t.Error("rootless --network host: a cgroup mount under the bound /sys")
	}

	o.Sysctls = map[string]string{"net.core.somaxconn": "1"}
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "sysctl net.core.somaxconn=1 cannot be set: the container uses the host's network namespace") {
		t.Errorf("net sysctl with --network host: err = %v", err)
	}
	o = baseOptions(t)
	o.IPC = Namespace{Mode: NSHost}
	o.Sysctls = map[string]string{"kernel.shmmax": "1"}
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "IPC namespace") {
		t.Errorf("ipc sysctl with --ipc host: err = %v", err)
	}
	o = baseOptions(t)
	o.Sysctls = map[string]string{"net.core.somaxconn": "100", "net.ipv4.ping_group_range": "0 1000"}
	if s := mustGenerate(t, o); !reflect.DeepEqual(s.Linux.Sysctl, map[string]string{"net.core.somaxconn": "100", "net.ipv4.ping_group_range": "0 1000"}) {
		t.Errorf("sysctls = %v", s.Linux.Sysctl)
	}
	o.DefaultSysctls = map[string]string{}
	o.Sysctls = nil
	if s := mustGenerate(t, o); s.Linux.Sysctl != nil {
		t.Errorf("no default sysctls: %v", s.Linux.Sysctl)
	}
}

func TestNamespaces(t *testing.T) {
	o := baseOptions(t)
	o.PID = Namespace{Mode: NSHost}
	o.UTS = Namespace{Mode: NSHost}
	o.Network = Namespace{Mode: NSPath, Path: "/run/netns/x"}
	o.Cgroup = Namespace{}
	o.Hostname = ""
	s := mustGenerate(t, o)
	want := []specs.LinuxNamespace{{Type: "network", Path: "/run/netns/x"}, {Type: "ipc"}, {Type: "mount"}, {Type: "cgroup"}}
	if !reflect.DeepEqual(s.Linux.Namespaces, want) {
		t.Errorf("namespaces = %+v", s.Linux.Namespaces)
	}
	if s.Hostname != "" || !contains(s.Process.Env, "HOSTNAME=hosty") {
		t.Errorf("--uts host: hostname %q env %q", s.Hostname, s.Process.Env)
	}
	o.Network = Namespace{Mode: NSPath, Path: "rel"}
	if _, err := Generate(o); err == nil {
		t.Error("relative namespace path accepted")
	}
}

func TestEnvAndCommand(t *testing.T) {
	img := &ociv1.ImageConfig{
		Env: []string{"TERM=foo", "FOO=img", "PATH=/img/bin"}, WorkingDir: "/home/user", User: "user",
		Entrypoint: []string{"/bin/echo", "ep"}, Cmd: []string{"cmd1", "cmd2"}, StopSignal: "SIGINT",
	}
	o := baseOptions(t)
	o.Image = img
	s := mustGenerate(t, o)
	if want := []string{"PATH=/img/bin", "TERM=foo", "container=podman", "FOO=img", "HOME=/home/user", "HOSTNAME=c0ffee123456"}; !reflect.DeepEqual(s.Process.Env, want) {
		t.Errorf("env = %q\nwant %q", s.Process.Env, want)
	}
	if !reflect.DeepEqual(s.Process.Args, []string{"/bin/echo", "ep", "cmd1", "cmd2"}) || s.Process.Cwd != "/home/user" || s.Annotations["org.opencontainers.image.stopSignal"] != "2" {
		t.Errorf("args %q cwd %q stop %q", s.Process.Args, s.Process.Cwd, s.Annotations["org.opencontainers.image.stopSignal"])
	}
	o.Env = []string{"HOME=/x", "HOSTNAME=h", "container=c", "FOO=user", "NEW=1"}
	s = mustGenerate(t, o)
	if want := []string{"PATH=/img/bin", "TERM=foo", "container=c", "FOO=user", "HOME=/x", "HOSTNAME=h", "NEW=1"}; !reflect.DeepEqual(s.Process.Env, want) {
		t.Errorf("env with -e = %q\nwant %q", s.Process.Env, want)
	}

	tests := []struct {
		ep, cmd []string
		init    string
		want    []string
		err     error
	}{
		{want: []string{"/bin/echo", "ep", "cmd1", "cmd2"}},
		{cmd: []string{"x", "y"}, want: []string{"/bin/echo", "ep", "x", "y"}},
		{ep: ParseEntrypoint(""), err: ErrNoCommand},
		{ep: ParseEntrypoint(""), cmd: []string{"ls", "-l"}, want: []string{"ls", "-l"}},
		{ep: []string{""}, cmd: []string{"ls"}, want: []string{"ls"}},
		{ep: ParseEntrypoint(`["/bin/sh","-c"]`), want: []string{"/bin/sh", "-c"}},
		{ep: ParseEntrypoint(`["/bin/sh","-c"]`), cmd: []string{"echo hi"}, want: []string{"/bin/sh", "-c", "echo hi"}},
		{ep: ParseEntrypoint("/bin/sh -c"), cmd: []string{"x"}, want: []string{"/bin/sh -c", "x"}},
		{ep: ParseEntrypoint("["), cmd: []string{"x"}, want: []string{"[", "x"}},
		{ep: ParseEntrypoint("/bin/sh"), want: []string{"/bin/sh"}},
		{init: "/usr/bin/catatonit", want: []string{"/run/podman-init", "--", "/bin/echo", "ep", "cmd1", "cmd2"}},
	}
	for _, tt := range tests {
		o := baseOptions(t)
		o.Image, o.Entrypoint, o.Command, o.InitBinary = img, tt.ep, tt.cmd, tt.init
		s, err := Generate(o)
		if tt.err != nil {
			if err != tt.err {
				t.Errorf("entrypoint %q cmd %q: err = %v, want %v", tt.ep, tt.cmd, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(s.Process.Args, tt.want) {
			t.Errorf("entrypoint %q cmd %q: args = %q, %v; want %q", tt.ep, tt.cmd, s.Process.Args, err, tt.want)
			continue
		}
		if tt.init != "" {
			m := findMount(s, InitPath)
			if m == nil || m.Source != tt.init || !reflect.DeepEqual(m.Options, []string{"bind", "ro", "rprivate"}) || s.Annotations["io.podman.annotations.init"] != "TRUE" {
				t.Errorf("--init mount %+v annotations %v", m, s.Annotations)
			}
		}
	}
	// no image at all
	o = baseOptions(t)
	o.Image = nil
	if _, err := Generate(o); err != ErrNoCommand {
		t.Errorf("no image, no command: err = %v", err)
	}
	o.Command, o.WorkDir, o.Terminal = []string{"true"}, "/srv", true
	s = mustGenerate(t, o)
	if s.Process.Cwd != "/srv" || !s.Process.Terminal || s.Annotations["io.kubernetes.cri-o.TTY"] != "true" || !contains(s.Process.Env, "TERM=xterm") {
		t.Errorf("workdir/terminal: %q %v %v", s.Process.Cwd, s.Process.Terminal, s.Annotations)
	}
	o.WorkDir = "rel"
	if _, err := Generate(o); err == nil {
		t.Error("relative workdir accepted")
	}
}

func TestResources(t *testing.T) {
	o := baseOptions(t)
	o.Memory, o.MemoryReservation, o.CPUShares, o.CPUQuota, o.CPUPeriod, o.CPUSetCPUs = 512<<20, 256<<20, 512, 150000, 100000, "0-1"
	o.PidsLimit = ptr(int64(100))
	o.CgroupsPath = "/libpod_parent/libpod-x"
	s := mustGenerate(t, o)
	r := s.Linux.Resources
	if *r.Memory.Limit != 512<<20 || *r.Memory.Swap != 1<<30 || *r.Memory.Reservation != 256<<20 {
		t.Errorf("memory = %+v (swap must default to twice the limit)", r.Memory)
	}
	if *r.CPU.Shares != 512 || *r.CPU.Quota != 150000 || *r.CPU.Period != 100000 || r.CPU.Cpus != "0-1" || *r.Pids.Limit != 100 {
		t.Errorf("cpu = %+v pids = %+v", r.CPU, r.Pids)
	}
	if s.Linux.CgroupsPath != "/libpod_parent/libpod-x" {
		t.Errorf("cgroupsPath = %q", s.Linux.CgroupsPath)
	}
	o.MemorySwap = -1
	o.PidsLimit = ptr(int64(0))
	s = mustGenerate(t, o)
	if *s.Linux.Resources.Memory.Swap != -1 || *s.Linux.Resources.Pids.Limit != -1 {
		t.Errorf("swap -1 / pids 0: %+v %+v", s.Linux.Resources.Memory, s.Linux.Resources.Pids)
	}
	// the engine cannot use cgroups: nothing
	o.UseCgroups = false
	s = mustGenerate(t, o)
	if !reflect.DeepEqual(*s.Linux.Resources, specs.LinuxResources{}) || s.Linux.CgroupsPath != "" {
		t.Errorf("no cgroups: resources %+v path %q", s.Linux.Resources, s.Linux.CgroupsPath)
	}
}

func TestDevices(t *testing.T) {
	o := baseOptions(t)
	o.Devices = []Device{{HostPath: "/dev/null", ContainerPath: "/dev/mynull", Permissions: "r"}, {HostPath: "/dev/zero"}}
	s := mustGenerate(t, o)
	if len(s.Linux.Devices) != 2 {
		t.Fatalf("devices = %+v", s.Linux.Devices)
	}
	d := s.Linux.Devices[0]
	if d.Path != "/dev/mynull" || d.Type != "c" || d.Major != 1 || d.Minor != 3 || *d.FileMode&os.ModePerm != 0o666 || *d.UID != 0 {
		t.Errorf("device = %+v", d)
	}
	rules := s.Linux.Resources.Devices
	if len(rules) != 3 || rules[0].Allow || !rules[1].Allow || rules[1].Type != "c" || *rules[1].Major != 1 || *rules[1].Minor != 3 || rules[1].Access != "r" ||
		*rules[2].Minor != 5 || rules[2].Access != "rwm" {
		t.Errorf("device cgroup = %+v", rules)
	}
	o.Rootless, o.UseCgroups = true, false
	s = mustGenerate(t, o)
	if len(s.Linux.Devices) != 0 {
		t.Errorf("rootless device nodes = %+v", s.Linux.Devices)
	}
	if m := findMount(s, "/dev/mynull"); m == nil || m.Source != "/dev/null" || !reflect.DeepEqual(m.Options, []string{"slave", "nosuid", "noexec", "ro", "rbind"}) {
		t.Errorf("rootless /dev/mynull = %+v", m)
	}
	if m := findMount(s, "/dev/zero"); m == nil || !contains(m.Options, "rw") {
		t.Errorf("rootless /dev/zero = %+v", m)
	}
	o.Devices = []Device{{HostPath: "/etc/passwd"}}
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "not a device") {
		t.Errorf("non-device: err = %v", err)
	}
	o.Devices = []Device{{HostPath: "/dev/nosuch"}}
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "/dev/nosuch") {
		t.Errorf("missing device: err = %v", err)
	}
}

func TestMaskedPaths(t *testing.T) {
	tests := []struct {
		unmask, mask     []string
		masked, readonly []string
	}{
		{unmask: []string{"/proc/kcore", "/sys/firmware"}, mask: []string{"/proc/foo", "/sys/bar"},
			masked:   []string{"/proc/acpi", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/fs/selinux", "/sys/dev/block", "/sys/devices/virtual/powercap", "/proc/foo", "/sys/bar"},
			readonly: DefaultReadonlyPaths},
		{unmask: []string{"ALL"}},
		{unmask: []string{"/proc/*"}, masked: []string{"/sys/firmware", "/sys/fs/selinux", "/sys/dev/block", "/sys/devices/virtual/powercap"}},
	}
	for _, tt := range tests {
		o := baseOptions(t)
		o.Unmask, o.Mask = tt.unmask, tt.mask
		s := mustGenerate(t, o)
		if !reflect.DeepEqual(s.Linux.MaskedPaths, tt.masked) || !reflect.DeepEqual(s.Linux.ReadonlyPaths, tt.readonly) {
			t.Errorf("unmask %q mask %q: masked %q readonly %q", tt.unmask, tt.mask, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
		}
	}
}

func TestSecurityOptions(t *testing.T) {
	o := baseOptions(t)
	o.NoNewPrivileges, o.SeccompProfile, o.OOMScoreAdj, o.Umask = true, SeccompUnconfined, ptr(100), ptr(uint32(0o077))
	o.AppArmorProfile, o.SELinuxProcessLabel, o.SELinuxMountLabel = "myprofile", "system_u:system_r:container_t:s0", "system_u:object_r:container_file_t:s0"
	s := mustGenerate(t, o)
	if !s.Process.NoNewPrivileges || s.Linux.Seccomp != nil || *s.Process.OOMScoreAdj != 100 || *s.Process.User.Umask != 0o077 ||
		s.Process.ApparmorProfile != "myprofile" || s.Process.SelinuxLabel == "" || s.Linux.MountLabel == "" {
		t.Errorf("security options not applied: %+v", s.Process)
	}
	o.SeccompProfile = "/nonexistent.json"
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "reading the seccomp profile") {
		t.Errorf("missing profile: err = %v", err)
	}
	o.SeccompProfile = writeProfile(t, `{not json`)
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "decoding the seccomp profile") {
		t.Errorf("bad profile: err = %v", err)
	}
}

func TestAnnotations(t *testing.T) {
	o := baseOptions(t)
	o.Annotations = map[string]string{"foo": "bar"}
	o.StopSignal, o.AutoRemove, o.PublishAll, o.Privileged = syscall.SIGKILL, true, true, true
	o.Created = time.Date(2026, 11, 26, 13, 57, 33, 179703887, time.UTC)
	s := mustGenerate(t, o)
	want := map[string]string{
		"foo": "bar", "io.container.manager": "libpod", "io.kubernetes.cri-o.TTY": "false",
		"io.kubernetes.cri-o.Created":      "2026-11-26T13:57:33.179703887Z",
		"io.podman.annotations.autoremove": "TRUE", "io.podman.annotations.init": "FALSE",
		"io.podman.annotations.privileged": "TRUE", "io.podman.annotations.publish-all": "TRUE",
		"org.opencontainers.image.stopSignal": "9",
	}
	if !reflect.DeepEqual(s.Annotations, want) {
		t.Errorf("annotations = %v", s.Annotations)
	}
	if sig, err := StopSignal(0, &ociv1.ImageConfig{StopSignal: "BOGUS"}); err == nil {
		t.Errorf("bad image STOPSIGNAL accepted: %v", sig)
	}
	if sig, _ := StopSignal(0, nil); sig != syscall.SIGTERM {
		t.Errorf("default stop signal = %v", sig)
	}
}

func TestNoRootfs(t *testing.T) {
	if _, err := Generate(&Options{}); err == nil {
		t.Error("Generate without a root filesystem succeeded")
	}
}

func TestDeviceCgroupRulesAndImageVolumes(t *testing.T) {
	o := baseOptions(t)
	major := int64(10)
	rule := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Access: "rwm"}
	o.DeviceCgroupRules = []specs.LinuxDeviceCgroup{rule}
	s := mustGenerate(t, o)
	if r := s.Linux.Resources.Devices; len(r) != 2 || r[0].Allow || !reflect.DeepEqual(r[1], rule) {
		t.Errorf("device cgroup = %+v", r)
	}
	o.UseCgroups = false
	if s := mustGenerate(t, o); s.Linux.Resources.Devices != nil {
		t.Errorf("no cgroups: device rules %+v", s.Linux.Resources.Devices)
	}

	img := &ociv1.ImageConfig{Volumes: map[string]struct{}{"/data": {}, "/cache/": {}, "/logs": {}, "rel": {}}}
	got := ImageVolumes(img, []specs.Mount{{Destination: "/logs", Type: "bind", Source: "/srv/logs"}})
	if !reflect.DeepEqual(got, []string{"/cache", "/data"}) {
		t.Errorf("ImageVolumes = %q", got)
	}
	if ImageVolumes(nil, nil) != nil {
		t.Error("ImageVolumes(nil) not empty")
	}
}
