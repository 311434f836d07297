package specgen

import (
	"os"
	"path/filepath"
	"testing"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
# a comment

nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:User:/home/user:/bin/sh
broken line
`

const testGroup = `root:x:0:
daemon:x:1:
tty:x:5:
wheel:x:10:user,root
audio:x:29:user
nogroup:x:65534:
user:x:1000:
`

// testRootfs makes a root filesystem with /etc/passwd and /etc/group.
func testRootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// allCaps is the bounding set of a process with every capability but
// CAP_SYS_RESOURCE (root on the development machine).
var allCapsButResource = func() []string {
	var out []string
	for _, c := range capsFromMask(1<<41 - 1) {
		if c != "CAP_SYS_RESOURCE" {
			out = append(out, c)
		}
	}
	return out
}()

// fakeLimits reports hard limits of 20000 files and 96365 processes, as on
// the development machine, and 8 MiB (soft) / unlimited stacks.
func fakeLimits(res int, rl *unix.Rlimit) error {
	switch res {
	case unix.RLIMIT_NOFILE:
		*rl = unix.Rlimit{Cur: 1024, Max: 20000}
	case unix.RLIMIT_NPROC:
		*rl = unix.Rlimit{Cur: 96365, Max: 96365}
	case unix.RLIMIT_STACK:
		*rl = unix.Rlimit{Cur: 8 << 20, Max: unix.RLIM_INFINITY}
	default:
		*rl = unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	}
	return nil
}

func testHost() *HostFacts {
	return &HostFacts{BoundingSet: allCapsButResource, Getrlimit: fakeLimits, PidMax: 32768, Hostname: "hosty", KernelRelease: "6.1.0"}
}

// baseOptions are the options of "podman create busybox" as libpod would
// give them, root, cgroups usable.
func baseOptions(t *testing.T) *Options {
	return &Options{
		Rootfs:     testRootfs(t),
		Image:      &ociv1.ImageConfig{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=" + DefaultPath}},
		Hostname:   "c0ffee123456",
		UseCgroups: true,
		Files: Files{Hosts: "/run/c/hosts", ResolvConf: "/run/c/resolv.conf", Hostname: "/run/c/hostname",
			ContainerEnv: "/run/c/.containerenv"},
		Cgroup: Namespace{Mode: NSHost},
		Host:   testHost(),
	}
}

func mustGenerate(t *testing.T, o *Options) *specs.Spec {
	t.Helper()
	s, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

func findMount(s *specs.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func findRlimit(s *specs.Spec, typ string) *specs.POSIXRlimit {
	for i := range s.Process.Rlimits {
		if s.Process.Rlimits[i].Type == typ {
			return &s.Process.Rlimits[i]
		}
	}
	return nil
}
