package e2e

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// A host port is published once: a second container asking for it fails
// to start (exit 126, as podman) and, with --rm, leaves nothing; a port a
// host process listens on is refused the same way.
func TestPublishedPortConflict(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(p)
		e.BerthOK("run", "-d", "--rm", "-p", port+":80", "--name", "c_ok", img, "sleep", "1000")
		r := e.BerthFail(126, "run", "-d", "-p", port+":80", "--name", "c_fail_no_rm", img, "sleep", "1000")
		if !strings.Contains(r.Stderr, port) {
			t.Errorf("the conflict message does not name the port:\n%s", r.describe())
		}
		e.BerthFail(126, "run", "-d", "--rm", "-p", port+":80", "--name", "c_fail_with_rm", img, "sleep", "1000")
		if out := e.BerthOK("ps", "-a", "--sort", "names", "--format", "{{.Names}}").Out(); out != "c_fail_no_rm\nc_ok" {
			t.Errorf("ps -a after the conflicts: %q, want c_fail_no_rm and c_ok", out)
		}
		e.BerthOK("rm", "-f", "-t", "0", "c_ok", "c_fail_no_rm")

		// a host process holds the port
		l, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		held := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		r = e.BerthFail(126, "run", "-d", "--rm", "-p", held+":80", img, "sleep", "1000")
		if !strings.Contains(r.Stderr, "address already in use") {
			t.Errorf("a port a host process holds: %s", r.describe())
		}
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Errorf("a failed run --rm left %q", out)
		}
	})
}
