package e2e

import (
	"os"
	"strings"
	"testing"
)

// --pid, --ipc and --uts host share the host's namespaces; private (the
// default) does not; container: is refused until pods.
func TestNamespaceFlags(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		host := func(ns string) string {
			l, err := os.Readlink("/proc/self/ns/" + ns)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		for _, ns := range []string{"pid", "ipc", "uts"} {
			in := e.BerthOK("run", "--rm", "--network", "host", "--"+ns+"=host", img, "readlink", "/proc/self/ns/"+ns).Out()
			if in != host(ns) {
				t.Errorf("--%s=host: the container's %s namespace is %s, the host's %s", ns, ns, in, host(ns))
			}
			private := e.BerthOK("run", "--rm", "--network", "host", img, "readlink", "/proc/self/ns/"+ns).Out()
			if private == host(ns) {
				t.Errorf("by default the container shares the host's %s namespace", ns)
			}
			r := e.BerthFail(125, "run", "--rm", "--"+ns+"=container:other", img, "true")
			if !strings.Contains(r.Stderr, "not supported yet") {
				t.Errorf("--%s=container:other: %s", ns, r.Stderr)
			}
			e.BerthFail(125, "run", "--rm", "--"+ns+"=bogus", img, "true")
		}
		hostname, _ := os.Hostname()
		if out := e.BerthOK("run", "--rm", "--network", "host", "--uts=host", img, "hostname").Out(); out != hostname {
			t.Errorf("--uts=host: hostname %q, want %q", out, hostname)
		}
	})
}
