package libpod

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/pkg/specgen"
)

// testdata/state-v2.db was made by berth b863c5b (schema version 2):
//
//	berth import bb.tar localhost/bb:latest   # a busybox rootfs
//	berth create --name a -e FOO=bar -l k=v --workdir /tmp --user 1:1 \
//	    --restart on-failure:2 --stop-signal USR1 --annotation an=1 --memory 100m \
//	    --init -v /tmp:/hosttmp:ro --network none localhost/bb echo hi
//	berth run --name b localhost/bb sh -c 'echo out; exit 3'
//	berth create --name c --entrypoint "" localhost/bb env && berth rename c c2
func TestUpgradeStateV2(t *testing.T) {
	data, err := os.ReadFile("testdata/state-v2.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second open finds the current schema: nothing to do
		db, err := state.Open(path, state.Options{UpgradeConfig: upgradeContainerConfig})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Containers()
		if err != nil {
			t.Fatal(err)
		}
		specs := map[string]ContainerSpec{}
		for _, row := range rows {
			var s ContainerSpec
			if err := json.Unmarshal(row.Config, &s); err != nil {
				t.Fatalf("decoding the upgraded config of %s: %v", row.Name, err)
			}
			if s.SchemaVersion != SpecSchemaVersion {
				t.Errorf("%s: schema version %d, want %d", row.Name, s.SchemaVersion, SpecSchemaVersion)
			}
			specs[row.Name] = s // rename changes only the row
		}
		_ = db.Close()
		if len(specs) != 3 {
			t.Fatalf("containers after the upgrade: %v, want a, b and c2", specs)
		}

		a := specs["a"]
		if !slices.Equal(a.Command, []string{"echo", "hi"}) || !slices.Equal(a.Args, []string{"echo", "hi"}) || a.Entrypoint != nil {
			t.Errorf("a: entrypoint %q, command %q, args %q", a.Entrypoint, a.Command, a.Args)
		}
		if !slices.Equal(a.Env, []string{"FOO=bar"}) || a.Labels["k"] != "v" || a.Annotations["an"] != "1" {
			t.Errorf("a: env %q, labels %v, annotations %v", a.Env, a.Labels, a.Annotations)
		}
		if a.WorkDir != "/tmp" || a.User != "1:1" || a.RestartPolicy != "on-failure" || a.RestartMax != 2 {
			t.Errorf("a: workdir %q, user %q, restart %s:%d", a.WorkDir, a.User, a.RestartPolicy, a.RestartMax)
		}
		if a.StopSignal != syscall.SIGUSR1 || a.StopTimeout == nil || *a.StopTimeout != 10 {
			t.Errorf("a: stop signal %d, stop timeout %v", a.StopSignal, a.StopTimeout)
		}
		if a.Memory == nil || *a.Memory != 100<<20 || !a.Init || a.InitPath == "" || a.Network != "none" {
			t.Errorf("a: memory %v, init %v %q, network %q", a.Memory, a.Init, a.InitPath, a.Network)
		}
		if len(a.Mounts) != 1 || a.Mounts[0].Source != "/tmp" || a.Mounts[0].Destination != "/hosttmp" || !slices.Contains(a.Mounts[0].Options, "ro") {
			t.Errorf("a: mounts %+v", a.Mounts)
		}
		if a.ImageName != "localhost/bb:latest" || a.Image != "localhost/bb:latest" || len(a.ImageID) != 64 || a.ImageConfig == nil {
			t.Errorf("a: image %q %q %q, config %v", a.Image, a.ImageName, a.ImageID, a.ImageConfig)
		}
		if a.LogDriver != "k8s-file" || filepath.Base(a.LogPath) != "ctr.log" || a.OCIRuntime != "runc" || a.PullPolicy != "missing" {
			t.Errorf("a: log %q %q, runtime %q, pull %q", a.LogDriver, a.LogPath, a.OCIRuntime, a.PullPolicy)
		}
		if a.PID.Mode != specgen.NSPrivate || a.ID == "" || a.Created.IsZero() || len(a.CreateCommand) == 0 {
			t.Errorf("a: pid %+v, id %q, created %v, create command %q", a.PID, a.ID, a.Created, a.CreateCommand)
		}

		b := specs["b"]
		if !slices.Equal(b.Args, []string{"sh", "-c", "echo out; exit 3"}) || b.Network != "bridge" {
			t.Errorf("b: args %q, network %q", b.Args, b.Network)
		}
		c := specs["c2"]
		if c.Entrypoint == nil || len(c.Entrypoint) != 0 || !slices.Equal(c.Command, []string{"env"}) || c.Name != "c" {
			t.Errorf("c2: entrypoint %q, command %q, args %q", c.Entrypoint, c.Command, c.Args)
		}
		// generation reads the upgraded spec as a new one
		if o := a.generatorOptions(); o.InitBinary != a.InitPath || o.Memory != 100<<20 || o.StopSignal != syscall.SIGUSR1 {
			t.Errorf("a: generator options: init %q, memory %d, stop signal %d", o.InitBinary, o.Memory, o.StopSignal)
		}
	}
}
