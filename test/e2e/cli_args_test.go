package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestArgumentCounts: every command checks how many arguments it has
// before doing anything, with podman 4.3's messages and exit code 125;
// berth alone and a command group alone print their help and fail.
func TestArgumentCounts(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{nil, "Error: missing command 'berth COMMAND'"},
			{[]string{"container"}, "Error: missing command 'berth container COMMAND'"},
			{[]string{"image"}, "Error: missing command 'berth image COMMAND'"},
			{[]string{"system"}, "Error: missing command 'berth system COMMAND'"},
			{[]string{"buildx"}, "Error: missing command 'berth buildx COMMAND'"},
			{[]string{"buildx", "prune", "a"}, "Error: `berth buildx prune` takes no arguments"},
			{[]string{"container", "nosuch"}, "Error: unrecognized command `berth container nosuch`\nTry 'berth container --help' for more information"},
			{[]string{"rename", "a", "b", "c"}, "Error: accepts 2 arg(s), received 3"},
			{[]string{"container", "rename", "a"}, "Error: accepts 2 arg(s), received 1"},
			{[]string{"cp", "a", "b", "c"}, "Error: accepts 2 arg(s), received 3"},
			{[]string{"ps", "a"}, "Error: `berth ps` takes no arguments"},
			{[]string{"info", "a"}, "Error: `berth info` takes no arguments"},
			{[]string{"version", "a"}, "Error: `berth version` takes no arguments"},
			{[]string{"image", "prune", "a"}, "Error: `berth image prune` takes no arguments"},
			{[]string{"load", "a"}, "Error: `berth load` takes no arguments"},
			{[]string{"system", "migrate", "a"}, "Error: `berth system migrate` takes no arguments"},
			{[]string{"attach"}, "Error: \"berth attach\" requires a name, id, or the \"--latest\" flag"},
			{[]string{"attach", "a", "b"}, "Error: `berth attach` accepts at most one argument"},
			{[]string{"diff", "a", "b"}, "Error: `berth diff` accepts at most one argument"},
			{[]string{"diff"}, "Error: \"berth diff\" requires a name, id, or the \"--latest\" flag"},
			{[]string{"wait"}, "Error: \"berth wait\" requires a name, id, or the \"--latest\" flag"},
			{[]string{"exec"}, "Error: exec requires the name or ID of a container or the --latest flag"},
			{[]string{"port", "a", "b", "c"}, "Error: `port` accepts at most 2 arguments"},
			{[]string{"port"}, "Error: you must supply a running container name or id"},
			{[]string{"logs"}, "Error: specify at least one container name or ID to log"},
			{[]string{"history"}, "Error: accepts 1 arg(s), received 0"},
			{[]string{"history", "a", "b"}, "Error: accepts 1 arg(s), received 2"},
			{[]string{"import"}, "Error: accepts between 1 and 2 arg(s), received 0"},
			{[]string{"import", "a", "b", "c"}, "Error: accepts between 1 and 2 arg(s), received 3"},
			{[]string{"tag", "a"}, "Error: requires at least 2 arg(s), only received 1"},
			{[]string{"untag"}, "Error: requires at least 1 arg(s), only received 0"},
			{[]string{"pull"}, "Error: requires at least 1 arg(s), only received 0"},
			{[]string{"inspect"}, "Error: no names or ids specified"},
			{[]string{"image", "inspect"}, "Error: no names or ids specified"},
			{[]string{"init"}, "Error: you must provide at least one name or id"},
			{[]string{"unmount"}, "Error: you must provide at least one name or id"},
		} {
			r := e.BerthFail(125, c.args...)
			if !strings.Contains(r.Stderr, c.msg+"\n") {
				t.Errorf("berth %s: want %q:\n%s", strings.Join(c.args, " "), c.msg, r.Stderr)
			}
		}
		// login and logout without a registry use registries.conf's first
		// unqualified-search registry, as podman's
		none := e.WriteFile("registries-none.conf", "unqualified-search-registries = []\n")
		for _, cmd := range []string{"login", "logout"} {
			r := e.BerthFail(125, "--registries-conf", none, cmd)
			if !strings.Contains(r.Stderr, "Error: no registries found in registries.conf, a registry must be provided\n") {
				t.Errorf("%s without a registry, none configured: %s", cmd, r.Stderr)
			}
			r = e.BerthFail(125, cmd, "a", "b")
			if !strings.Contains(r.Stderr, "Error: accepts at most 1 arg(s), received 2\n") {
				t.Errorf("%s a b: %s", cmd, r.Stderr)
			}
		}
		one := e.WriteFile("registries-one.conf", "unqualified-search-registries = [\"registry.e2e.invalid\"]\n")
		r := e.BerthFail(125, "--registries-conf", one, "logout")
		if !strings.Contains(r.Stderr, "Error: not logged into registry.e2e.invalid\n") {
			t.Errorf("logout without a registry: %s", r.Stderr)
		}
		requireSuggested(t, complete(t, e, "--registries-conf", one, "logout", ""), "registry.e2e.invalid")

		// a container that exists: the command is missing
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "argc", img, "true")
		r = e.BerthFail(125, "exec", "argc")
		if !strings.Contains(r.Stderr, "Error: must provide a non-empty command to start an exec session: invalid argument\n") {
			t.Errorf("exec without a command: %s", r.Stderr)
		}
		e.BerthFail(125, "rename", "argc", "b", "c")
		if e.Berth("container", "exists", "argc").ExitCode != 0 {
			t.Errorf("rename with three arguments renamed the container")
		}
	})
}

// TestPruneConfirmation: the prune commands ask as podman does; an answer
// starting with y is yes, stdin closed before an answer is an error (EOF).
func TestPruneConfirmation(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "pruned", img, "true")
		for _, cmd := range [][]string{{"container", "prune"}, {"image", "prune"}} {
			r := e.BerthFail(125, cmd...)
			if !strings.HasSuffix(r.Stderr, "Error: EOF\n") || !strings.Contains(r.Stdout, "Are you sure you want to continue? [y/N] ") {
				t.Errorf("%v with stdin closed:\n%s", cmd, r.describe())
			}
		}
		if r := e.BerthIn(strings.NewReader("n\n"), "container", "prune"); r.ExitCode != 0 || e.Berth("container", "exists", "pruned").ExitCode != 0 {
			t.Fatalf("container prune answered n:\n%s", r.describe())
		}
		if r := e.BerthIn(strings.NewReader("Yes\n"), "container", "prune"); r.ExitCode != 0 || e.Berth("container", "exists", "pruned").ExitCode == 0 {
			t.Fatalf("container prune answered Yes:\n%s", r.describe())
		}
	})
}

// TestWarningFormatAndSaveFailure: warnings go through logrus in podman's
// form (not a terminal: time="..." level=warning msg="..."); save to
// stdout of a missing image fails at once instead of waiting on its pipe.
func TestWarningFormatAndSaveFailure(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "-d", "--name", "stubborn", "--network", "host", img, "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
		r := e.BerthOK("stop", "-t", "1", "stubborn")
		if !strings.Contains(r.Stderr, ` level=warning msg="StopSignal SIGTERM failed to stop container stubborn in 1 seconds, resorting to SIGKILL"`) {
			t.Errorf("stop's warning is not logrus' (podman's):\n%s", r.Stderr)
		}
		if strings.Contains(r.Stderr, "WARN[") {
			t.Errorf("a hand-printed warning:\n%s", r.Stderr)
		}
		for i := 0; i < 10; i++ {
			start := time.Now()
			r := e.BerthFail(125, "save", "e2e-no-such-image")
			if !strings.Contains(r.Stderr, "image not known") || time.Since(start) > 20*time.Second {
				t.Fatalf("save of a missing image:\n%s", r.describe())
			}
		}
	})
}
