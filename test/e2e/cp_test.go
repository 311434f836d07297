package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCpSymlinkSwapRace: a container that keeps swapping a directory of its
// own with a symlink to "/" must never make `cp` read or write the host's
// files (the docker CVE-2018-15664 class): berth resolves and opens every
// path inside the container's root.
func TestCpSymlinkSwapRace(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		// A host directory with a secret, at a path that the container has
		// below /x: through the symlink /x -> /, a cp that resolved the
		// path on the host would reach the host's copy.
		secretDir := filepath.Join(e.Dir, "secret")
		e.WriteFile("secret/marker.txt", "HOST-ONLY-SECRET\n")
		e.WriteFile("secret/sub/marker.txt", "HOST-ONLY-SECRET\n")
		e.BerthOK("run", "-d", "--name", "swapper", "--network", "host", img, "sh", "-c",
			"mkdir -p /x"+secretDir+"/sub && echo container > /x"+secretDir+"/marker.txt && "+
				"echo container > /x"+secretDir+"/sub/marker.txt && "+
				"while :; do mv /x /x.dir; ln -s / /x; rm /x; mv /x.dir /x; done")
		into := e.WriteFile("into.txt", "from the host\n")
		// Bounded: 200 tries or 20 s, by three workers at once (each cp
		// takes a few hundred milliseconds).
		deadline := time.Now().Add(20 * time.Second)
		var mu sync.Mutex
		tries, copied := 0, 0
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			out := filepath.Join(e.Dir, fmt.Sprintf("out%d", w))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !t.Failed() && time.Now().Before(deadline) {
					mu.Lock()
					tries++
					i := tries
					mu.Unlock()
					if i > 200 {
						return
					}
					_ = os.RemoveAll(out)
					if err := mkdirOwned(out, 0o755, e.user); err != nil {
						t.Error(err)
						return
					}
					switch i % 4 {
					case 0: // a directory
						e.Berth("cp", "swapper:/x"+secretDir+"/sub", out+"/")
					case 1: // a directory as a tar on stdout
						if r := e.Berth("cp", "swapper:/x"+secretDir, "-"); strings.Contains(r.Stdout, "HOST-ONLY-SECRET") {
							t.Errorf("try %d: cp to stdout archived the host's file:\n%s", i, tarList(r.Stdout))
						}
					case 2: // writing: a copy into /x/... must land in the container
						e.Berth("cp", into, "swapper:/x"+secretDir+"/")
						if _, err := os.Stat(filepath.Join(secretDir, "into.txt")); err == nil {
							t.Errorf("try %d: cp into the container wrote into the host's %s", i, secretDir)
						}
					default: // a file
						if r := e.Berth("cp", "swapper:/x"+secretDir+"/marker.txt", out+"/"); r.ExitCode == 0 {
							mu.Lock()
							copied++
							mu.Unlock()
						}
					}
					if err := findSecret(out); err != "" {
						t.Errorf("try %d: cp copied the host's file out of a container: %s", i, err)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%d tries, %d file copies succeeded", tries, copied)
		if copied == 0 && !t.Failed() {
			t.Fatal("no copy out of the swapping container succeeded: the test did not exercise cp")
		}
		e.BerthOK("rm", "-f", "-t", "0", "swapper")
	})
}

// findSecret returns a file below dir that holds the host-only secret.
func findSecret(dir string) string {
	found := ""
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("HOST-ONLY-SECRET")) {
			found = p
		}
		return nil
	})
	return found
}

func tarList(s string) string {
	var names []string
	tr := tar.NewReader(strings.NewReader(s))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name+": "+strings.TrimSpace(string(b)))
	}
	return strings.Join(names, "\n")
}
