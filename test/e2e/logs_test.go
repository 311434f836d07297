package e2e

import (
	"strings"
	"testing"
)

// logs -f of several containers follows them all at once: lines come in the
// order the containers wrote them, and a --rm container that ends (and is
// removed) while an earlier one still runs still has all its lines shown.
func TestLogsFollowSeveralContainers(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id1 := e.BerthOK("run", "--rm", "-d", "--network", "host", "--name", "c1", img,
			"sh", "-c", "echo a; sleep 4; echo d; sleep 1").Out()
		id2 := e.BerthOK("run", "--rm", "-d", "--network", "host", "--name", "c2", img,
			"sh", "-c", "sleep 1; echo b; sleep 1; echo c").Out()
		out := e.BerthOK("logs", "-f", "c1", "c2").Out()
		want := strings.Join([]string{id1[:12] + " a", id2[:12] + " b", id2[:12] + " c", id1[:12] + " d"}, "\n")
		if out != want {
			t.Fatalf("logs -f c1 c2:\n%s\nwant:\n%s", out, want)
		}
	})
}
