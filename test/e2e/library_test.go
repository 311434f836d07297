package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var libraryTest struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// libraryTestBinary compiles test/library (libpod used as a library, with
// no CLI) once per run, into runDir where the unprivileged user can run it.
func libraryTestBinary(t *testing.T) string {
	t.Helper()
	libraryTest.once.Do(func() {
		libraryTest.path = filepath.Join(runDir, "bin", "library.test")
		var tags string
		if tags, libraryTest.err = makefileBuildTags(); libraryTest.err != nil {
			return
		}
		cmd := exec.Command("go", "test", "-c", "-tags", tags, "-o", libraryTest.path, "../library")
		libraryTest.out, libraryTest.err = cmd.CombinedOutput()
	})
	if libraryTest.err != nil {
		t.Fatalf("building test/library: %v\n%s", libraryTest.err, libraryTest.out)
	}
	return libraryTest.path
}

// makefileBuildTags are the build tags berth is built with (the Makefile's
// BUILDTAGS), so that the library test links what berth links.
func makefileBuildTags() (string, error) {
	data, err := os.ReadFile("../../Makefile")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if tags, ok := strings.CutPrefix(line, "BUILDTAGS := "); ok {
			return strings.TrimSpace(tags), nil
		}
	}
	return "", errors.New("no BUILDTAGS in ../../Makefile")
}

// TestLibrary creates, starts, waits for and removes a container through
// libpod alone (test/library), as root and rootless.
func TestLibrary(t *testing.T) {
	bin := libraryTestBinary(t)
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage("localhost/busybox:latest")
		e.SetEnv("BERTH_LIBTEST_ROOT", e.Root)
		e.SetEnv("BERTH_LIBTEST_RUNROOT", e.RunRoot)
		e.SetEnv("BERTH_LIBTEST_BERTH", berthBinary)
		e.SetEnv("BERTH_LIBTEST_IMAGE", "localhost/busybox:latest")
		e.SetEnv("PATH", filepath.Dir(berthBinary)+":"+systemPath) // berth-monitor
		r := e.Run(bin, "-test.v", "-test.count=1")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "--- PASS: TestCreateStartRemove") {
			t.Fatalf("the library test failed:\n%s", r.describe())
		}
		// The container is gone for the CLI too.
		if out := e.BerthOK("ps", "-a", "-q").Out(); out != "" {
			t.Errorf("ps -a after the library test: %q, want no container", out)
		}
	})
}
