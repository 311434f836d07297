package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBuildKilled: kill -9 of a build at random moments (copying, running,
// committing) leaves a store that works: images lists, the next build
// succeeds and gives a complete image, and it clears what the killed build
// left (working layers, mounts, RUN containers).
func TestBuildKilled(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		files := map[string]string{}
		for i := 0; i < 300; i++ {
			files[fmt.Sprintf("src/d%d/f%d.txt", i%10, i)] = strings.Repeat("x", i)
		}
		dir := e.buildContext("ctx-killed", `FROM {{BASE}}
COPY src /src
RUN for i in $(seq 400); do echo $i > /gen-$i; done; sleep 0.3
RUN rm /gen-1 && tar -cf /src.tar /src
COPY src /src-again
RUN ls /src | wc -l > /count
`, files)
		for round := 0; round < 4; round++ {
			delay := time.Duration(100+rand.IntN(1400)) * time.Millisecond
			var stdout, stderr bytes.Buffer
			cmd := e.Start(&stdout, &stderr, "build", "--no-cache", "-t", "localhost/e2e/killed", dir)
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			t.Logf("killed berth build after %s: %v\nstdout:\n%s", delay, err, indent(stdout.String()))
			e.BerthOK("images", "-a")
			// a RUN of the killed build may still be finishing
			time.Sleep(400 * time.Millisecond)
		}
		e.BerthOK("build", "--no-cache", "-t", "localhost/e2e/killed", dir)
		if got := e.runIn("localhost/e2e/killed", "cat /count; ls /gen-1 2>&1 >/dev/null | wc -l; ls /src-again/d3 | wc -l"); got != "10\n1\n30" {
			t.Errorf("the image built after the killed builds: %q", got)
		}
		checkNoBuildLeftovers(t, e)
	})
}
