package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExitRecordingFailureIsReported: when the state DB refuses the write
// that records a container's exit, cleanup fails with the error instead of
// succeeding with the exit lost; listings still show the exit (with a
// warning), and once the DB takes writes again the exit code is recorded.
func TestExitRecordingFailureIsReported(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 is not installed (make deps installs it)")
	}
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := e.BerthOK("run", "-d", "--name", "rec", "--network", "host", img,
			"sh", "-c", `trap "exit 3" USR1; while :; do sleep 0.1; done`).Out()
		db := filepath.Join(e.Root, "berth", "state.db")
		sql := func(stmt string) {
			t.Helper()
			// as the mode's user: the DB stays owned by it
			if r := e.Run("sqlite3", db, stmt); r.ExitCode != 0 {
				t.Fatalf("sqlite3 %q: %s", stmt, r.describe())
			}
		}
		// From now on every state write fails, as with a full disk.
		sql(`CREATE TRIGGER refuse BEFORE UPDATE ON containers BEGIN SELECT RAISE(ABORT, 'test: writes refused'); END;`)
		e.BerthOK("kill", "-s", "USR1", "rec")
		// Once the container has exited, cleanup tries to record it.
		var r *Result
		waitFor(t, func() bool {
			r = e.Berth("container", "cleanup", "rec")
			return r.ExitCode != 0
		})
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "recording the exit of container "+id) ||
			!strings.Contains(r.Stderr, "test: writes refused") {
			t.Fatalf("cleanup with the exit not recordable: %s", r.describe())
		}
		// The monitor's own cleanup failed the same way; once it is gone,
		// ps shows the exit it could not record, and says so.
		waitFor(t, func() bool {
			return strings.Contains(e.BerthOK("ps", "-a").Stderr, "recording the exit of container "+id)
		})
		if out := e.BerthOK("ps", "-a", "--format", "{{.Status}}").Out(); !strings.HasPrefix(out, "Exited (3) ") {
			t.Fatalf("ps -a while the exit cannot be recorded: status %q", out)
		}
		// The monitor said why in the bundle's cleanup.log.
		log, err := os.ReadFile(filepath.Join(e.RunRoot, "overlay-containers", id, "userdata", "cleanup.log"))
		if err != nil || !strings.Contains(string(log), "recording the exit of container "+id) ||
			!regexp.MustCompile(`(?m)^berth-monitor: cleanup command .* container cleanup .*: exit status 125$`).Match(log) {
			t.Fatalf("the monitor's cleanup.log: %v\n%s", err, log)
		}
		sql(`DROP TRIGGER refuse;`)
		r = e.BerthOK("ps", "-a", "--format", "{{.Status}}")
		if !strings.HasPrefix(r.Out(), "Exited (3) ") || r.Stderr != "" {
			t.Fatalf("ps -a once the DB takes writes again: %s", r.describe())
		}
		out := e.Run("sqlite3", db, "SELECT state FROM containers WHERE name = 'rec'").Out()
		if !regexp.MustCompile(`"status":"exited","exitCode":3\b`).MatchString(out) {
			t.Fatalf("recorded state after the DB recovered: %s", out)
		}
	})
}
