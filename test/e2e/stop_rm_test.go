package e2e

import "testing"

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
