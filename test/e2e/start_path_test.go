package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The start path makes one runtime call to create and start a container
// (`run --detach`) where no network helper must join between the two,
// and for slirp4netns, which configures a namespace made beforehand; a
// --rm container's storage is volatile; nothing of its namespace remains.
func TestStartPathRuntimeCalls(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		real := e.BerthOK("info", "--format", "{{.Host.OCIRuntime.Path}}").Out()
		log := filepath.Join(e.Dir, "runtime-calls.log")
		if err := os.WriteFile(log, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(log, 0o666); err != nil {
			t.Fatal(err)
		}
		wrapper := filepath.Join(e.Dir, "logging-runtime")
		script := "#!/bin/sh\necho \"$*\" >> " + log + "\nexec " + real + " \"$@\"\n"
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		// calls returns the runtime operations logged since the last call,
		// once the last one is last: rootless, the monitor deletes the
		// container after `run --rm` has returned.
		calls := func(last string) []string {
			var data []byte
			waitFor(t, func() bool {
				var err error
				if data, err = os.ReadFile(log); err != nil {
					t.Fatal(err)
				}
				return strings.Contains(string(data), " "+last+" ")
			})
			_ = os.WriteFile(log, nil, 0o666)
			var ops []string
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				for _, op := range []string{"create", "start", "run", "delete"} {
					if strings.Contains(" "+line+" ", " "+op+" ") {
						ops = append(ops, op)
						break
					}
				}
			}
			return ops
		}

		wantOut(t, "run --rm --network host", e.BerthOK("run", "--rm", "--runtime", wrapper, "--network", "host", img, "echo", "hi").Out(), "hi")
		if got := strings.Join(calls("delete"), " "); got != "run delete" {
			t.Fatalf("runtime calls of run --rm --network host = %q, want \"run delete\" (create and start in one)", got)
		}

		out := e.BerthOK("run", "--rm", "--runtime", wrapper, "--network", "slirp4netns", img, "sh", "-c", "ip -4 addr show tap0").Out()
		wantContains(t, "slirp4netns address", out, "10.0.2.100/24")
		if got := strings.Join(calls("delete"), " "); got != "run delete" {
			t.Fatalf("runtime calls of run --rm --network slirp4netns = %q, want \"run delete\"", got)
		}
		if entries, _ := os.ReadDir(filepath.Join(e.RunRoot, "berth", "slirp-netns")); len(entries) != 0 {
			t.Fatalf("run --rm left network namespaces behind: %v", entries)
		}

		// A container with its own user namespace gets the namespace the
		// runtime makes (one of berth's could not mount /sys in it), which
		// slirp4netns joins between create and start.
		if e.Rootless() {
			out := e.BerthOK("run", "--rm", "--runtime", wrapper, "--userns", "keep-id", "--network", "slirp4netns", img, "sh", "-c", "ip -4 addr show tap0").Out()
			wantContains(t, "slirp4netns address with keep-id", out, "10.0.2.100/24")
			if got := strings.Join(calls("delete"), " "); got != "create start delete" {
				t.Fatalf("runtime calls of run --rm --userns keep-id = %q, want \"create start delete\"", got)
			}
		}

		// berth init still creates without starting; start then starts
		e.BerthOK("create", "--runtime", wrapper, "--name", "deferred", "--network", "host", img, "echo", "later")
		e.BerthOK("init", "deferred")
		if got := strings.Join(calls("create"), " "); got != "create" {
			t.Fatalf("runtime calls of init = %q, want \"create\"", got)
		}
		wantOut(t, "start -a of an initialized container", e.BerthOK("start", "-a", "deferred").Out(), "later")
		e.BerthOK("rm", "deferred")

		// a --rm container's storage is volatile (not synced), as podman's
		id := e.BerthOK("run", "-d", "--rm", "--network", "host", img, "sleep", "60").Out()
		volatile, _ := os.ReadFile(filepath.Join(e.Root, "overlay-containers", "volatile-containers.json"))
		durable, _ := os.ReadFile(filepath.Join(e.Root, "overlay-containers", "containers.json"))
		if !strings.Contains(string(volatile), id) || strings.Contains(string(durable), id) {
			t.Fatalf("the storage of a --rm container is not volatile:\nvolatile: %s\ndurable: %s", volatile, durable)
		}
		e.BerthOK("rm", "-f", "-t", "0", id)
	})
}
