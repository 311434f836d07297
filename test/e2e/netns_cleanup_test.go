package e2e

import (
	"os"
	"strings"
	"testing"
)

// Once no container uses the bridge network, nothing berth mounted under
// the run root stays mounted: a test or user can remove the run root
// (podman's 150-login.bats does, after rm and rmi).
func TestRunRootFreeAfterLastContainer(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		if e.Rootless() {
			t.Skip("rootless containers use slirp4netns or pasta: no namespace is mounted on the host")
		}
		img := containerEnv(t, e)
		e.BerthOK("run", "--rm", img, "true")
		e.BerthOK("run", "-d", "--name", "a", img, "sleep", "1000")
		e.BerthOK("run", "-d", "--name", "b", img, "sleep", "1000")
		e.BerthOK("rm", "-f", "-t", "0", "a")
		if !strings.Contains(mountsUnder(t, e.RunRoot), "/netns/") {
			t.Fatalf("the namespace of the running container b is not mounted")
		}
		e.BerthOK("rm", "-f", "-t", "0", "b")
		if m := mountsUnder(t, e.RunRoot); m != "" {
			t.Fatalf("mounts left under the run root with no container:\n%s", m)
		}
	})
}

func mountsUnder(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	return strings.Join(out, "\n")
}
