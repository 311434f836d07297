package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// containers.conf's [engine] runtime picks the OCI runtime when --runtime
// is not given: run, build and info use it; --runtime still wins.
func TestContainersConfRuntime(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		conf := e.WriteFile("containers.conf", "[engine]\nruntime = \"idonotexist\"\n")
		e.SetEnv("CONTAINERS_CONF", conf)
		r := e.BerthFail(125, "run", "--rm", "--network", "host", img, "true")
		if !strings.Contains(r.Stderr, `"idonotexist" not found`) {
			t.Errorf("run with containers.conf runtime idonotexist:\n%s", r.describe())
		}
		ctx := e.buildContext("confrt", "FROM "+img+"\nRUN true\n", nil)
		r = e.BerthFail(125, "build", "-t", "localhost/e2e/confrt", ctx)
		if !strings.Contains(r.Stderr, `"idonotexist" not found`) {
			t.Errorf("build with containers.conf runtime idonotexist:\n%s", r.describe())
		}
		if out := e.BerthOK("--runtime", "runc", "run", "--rm", "--network", "host", img, "echo", "ok").Out(); out != "ok" {
			t.Errorf("--runtime over containers.conf: %q", out)
		}
		// a name of its own, resolved through [engine.runtimes], also for
		// the --rm cleanup the monitor starts
		runc, err := exec.LookPath("runc")
		if err != nil {
			t.Fatal(err)
		}
		e.WriteFile("containers.conf", "[engine]\nruntime = \"nonstandard_runtime_name\"\n[engine.runtimes]\nnonstandard_runtime_name = [\"/no/such/runtime\", \""+runc+"\"]\n")
		cid := e.BerthOK("run", "-d", "--rm", "--network", "host", img, "true").Out()
		waitFor(t, func() bool { return e.Berth("container", "exists", cid).ExitCode == 1 })
		e.WriteFile("containers.conf", "[engine]\nruntime = \"runc\"\n")
		if out := e.BerthOK("info", "--format", "{{.Host.OCIRuntime.Name}}").Out(); out != "runc" {
			t.Errorf("info with containers.conf runtime runc: %q", out)
		}
	})
}

// --storage-opt replaces storage.conf's driver options, as podman's does,
// and --storage-opt "" clears them.
func TestStorageOptReplacesConfigured(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		if e.Rootless() {
			t.Skip("podman's case is rootful: rootless overlay may need its configured options")
		}
		conf := e.WriteFile("storage.conf", "[storage]\ndriver = \"overlay\"\n[storage.options.overlay]\nmountopt = \"nodev\"\n")
		e.SetEnv("CONTAINERS_STORAGE_CONF", conf)
		if out := e.BerthOK("info", "--format", "{{.Store.GraphOptions}}").Out(); !strings.Contains(out, "nodev") {
			t.Errorf("info without --storage-opt: graph options %q lack storage.conf's", out)
		}
		if out := e.BerthOK("--storage-opt", "", "info", "--format", "{{.Store.GraphOptions}}").Out(); out != "map[]" {
			t.Errorf("info --storage-opt '': graph options %q, want none", out)
		}
		if out := e.BerthOK("--storage-opt", "", "info").Stdout; !strings.Contains(out, "graphOptions: {}") {
			t.Errorf("info --storage-opt '': no 'graphOptions: {}' in\n%s", out)
		}
	})
}
