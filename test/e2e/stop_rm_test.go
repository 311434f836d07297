package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stop of a --rm container succeeds even when its own cleanup removes it
// while stop waits (podman's 050-stop.bats "stop --noout" raced here).
func TestStopRunRmContainer(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		for i := 0; i < 5; i++ {
			e.BerthOK("run", "--rm", "-d", "--network", "host", "--name", "stopme", img, "sleep", "1000")
			e.BerthOK("--noout", "stop", "-t", "0", "stopme")
			waitFor(t, func() bool { return e.Berth("container", "exists", "stopme").ExitCode == 1 })
		}
	})
}

// A --rm container is volatile in storage, as podman makes it: recorded in
// volatile-containers.json, so that run --rm does not rewrite (and sync)
// containers.json and layers.json, which hold every container of the store.
// Other containers stay in containers.json.
func TestRunRmStorageIsVolatile(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		rm := e.BerthOK("run", "-d", "--rm", "--network", "host", "--name", "short", img, "sleep", "1000").Out()
		kept := e.BerthOK("create", "--name", "kept", img, "true").Out()
		dirs, _ := filepath.Glob(filepath.Join(e.Root, "*-containers"))
		if len(dirs) != 1 {
			t.Fatalf("storage containers directories in %s: %q", e.Root, dirs)
		}
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(dirs[0], name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			return string(b)
		}
		stable, volatile := read("containers.json"), read("volatile-containers.json")
		if !strings.Contains(volatile, rm) || strings.Contains(stable, rm) {
			t.Errorf("--rm container %s: in volatile-containers.json %v, in containers.json %v; want only volatile",
				rm, strings.Contains(volatile, rm), strings.Contains(stable, rm))
		}
		if strings.Contains(volatile, kept) || !strings.Contains(stable, kept) {
			t.Errorf("container %s without --rm: in volatile-containers.json %v, in containers.json %v; want only containers.json",
				kept, strings.Contains(volatile, kept), strings.Contains(stable, kept))
		}
		if out := e.BerthOK("ps", "-a", "--format", "{{.Names}} {{.AutoRemove}}").Lines(); !slices.Equal(out, []string{"short true", "kept false"}) {
			t.Errorf("ps -a = %q", out)
		}
		e.BerthOK("rm", "-f", "-t", "0", "short")
		if strings.Contains(read("volatile-containers.json"), rm) {
			t.Errorf("volatile-containers.json still holds %s after rm -f", rm)
		}
		e.BerthOK("rm", "kept")
		if out := e.BerthOK("ps", "-a", "-q").Out(); out != "" {
			t.Errorf("ps -a -q after rm = %q", out)
		}
	})
}
