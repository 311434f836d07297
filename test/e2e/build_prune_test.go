package e2e

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestBuildCachePrune: RUN --mount=type=cache keeps its files between
// builds until `image prune --build-cache` (or `builder prune
// --build-cache`) removes them; a cache a build is using is left alone.
func TestBuildCachePrune(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		dir := e.buildContext("ctx-cache-prune", `FROM {{BASE}}
RUN --mount=type=cache,id=counter,target=/c echo x >> /c/count && wc -l < /c/count > /n
`, nil)
		count := func() string {
			t.Helper()
			e.BerthOK("build", "-q", "--no-cache", "-t", "cache-prune", dir)
			return e.runIn("cache-prune", "cat /n")
		}
		if a, b := count(), count(); a != "1" || b != "2" {
			t.Fatalf("the cache did not persist between builds: %s then %s", a, b)
		}
		e.BerthOK("image", "prune", "-f", "--build-cache")
		if n := count(); n != "1" {
			t.Errorf("after image prune --build-cache the cache held %s lines, want a new cache", n)
		}
		e.BerthOK("builder", "prune", "-f", "--build-cache")
		if n := count(); n != "1" {
			t.Errorf("after builder prune --build-cache the cache held %s lines, want a new cache", n)
		}

		// a cache in use stays
		busy := e.buildContext("ctx-cache-busy", `FROM {{BASE}}
RUN --mount=type=cache,id=busy,target=/c echo a >> /c/f && sleep 2 && cat /c/f > /seen
`, nil)
		var out, errOut bytes.Buffer
		cmd := e.Start(&out, &errOut, "build", "-q", "--no-cache", "-t", "cache-busy", busy)
		time.Sleep(time.Second)
		e.BerthOK("image", "prune", "-f", "--build-cache")
		if err := cmd.Wait(); err != nil {
			t.Fatalf("the build using the cache failed: %v\n%s", err, errOut.String())
		}
		check := e.buildContext("ctx-cache-busy-check", "FROM {{BASE}}\nRUN --mount=type=cache,id=busy,target=/c cat /c/f > /still\n", nil)
		e.BerthOK("build", "-q", "--no-cache", "-t", "cache-busy-check", check)
		if got := e.runIn("cache-busy-check", "cat /still"); strings.TrimSpace(got) != "a" {
			t.Errorf("a cache in use was pruned: it now holds %q", got)
		}
	})
}
