// Package library tests libpod as a library, with no CLI: what the next
// front ends (kube play, quadlet, the API service) do. test/e2e's
// TestLibrary builds this test and runs it against a prepared store, as
// root and as an unprivileged user (BERTH_LIBTEST_* say where).
package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/pkg/config"
	"github.com/berth-containers/berth/rootless"
)

// TestMain does what every program that uses libpod does first: serve the
// pause process when started as one, and enter the rootless user namespace
// (re-executing this test binary inside it when needed).
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == rootless.PauseCommand {
		rootless.RunPause()
	}
	if err := rootless.Enter(); err != nil {
		fmt.Fprintln(os.Stderr, "entering the user namespace:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run this test through test/e2e (TestLibrary)", name)
	}
	return v
}

func TestCreateStartRemove(t *testing.T) {
	rt := libpod.New(config.Options{
		Root: env(t, "BERTH_LIBTEST_ROOT"), RunRoot: env(t, "BERTH_LIBTEST_RUNROOT"),
		EngineBinary: env(t, "BERTH_LIBTEST_BERTH"),
	})
	ctx := context.Background()
	spec := &libpod.ContainerSpec{
		Name:       "lib-ctr",
		Image:      env(t, "BERTH_LIBTEST_IMAGE"),
		PullPolicy: "never",
		Command:    []string{"sh", "-c", "echo hello from $WHO; exit 7"},
		Env:        []string{"WHO=libpod"},
		Labels:     map[string]string{"made-by": "library-test"},
		Network:    "none",
	}
	c, err := rt.CreateContainer(ctx, spec, libpod.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if spec.ID == "" || spec.ImageID == "" || spec.StopTimeout == nil || spec.LogDriver == "" {
		t.Errorf("create did not fill the spec: id %q, image %q, stop timeout %v, log driver %q",
			spec.ID, spec.ImageID, spec.StopTimeout, spec.LogDriver)
	}

	// A second container of that name is refused, and nothing is written.
	dup := &libpod.ContainerSpec{Name: "lib-ctr", Image: spec.Image, PullPolicy: "never", Network: "none", Command: []string{"true"}}
	if _, err := rt.CreateContainer(ctx, dup, libpod.CreateOptions{}); !errors.Is(err, state.ErrNameInUse) {
		t.Errorf("second create of lib-ctr: %v, want ErrNameInUse", err)
	}
	bad := &libpod.ContainerSpec{Name: "bad name", Image: spec.Image, PullPolicy: "never", Command: []string{"true"}}
	if _, err := rt.CreateContainer(ctx, bad, libpod.CreateOptions{}); err == nil || !strings.Contains(err.Error(), "invalid container name") {
		t.Errorf("create with a bad name: %v", err)
	}

	found, err := rt.LookupContainer("lib-ctr")
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if found.ID() != c.ID() || found.Config.Labels["made-by"] != "library-test" {
		t.Errorf("lookup found %s with labels %v", found.ID(), found.Config.Labels)
	}
	if err := c.Start(nil); err != nil {
		t.Fatalf("start: %v", err)
	}
	code, err := c.Wait(nil, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
	var out strings.Builder
	if err := c.ReadLog(libpod.LogOptions{Tail: -1}, func(l libpod.LogLine) { out.WriteString(l.Text) }); err != nil {
		t.Fatalf("reading the log: %v", err)
	}
	if !strings.Contains(out.String(), "hello from libpod") {
		t.Errorf("log %q, want hello from libpod", out.String())
	}
	if err := rt.RemoveContainer(c, libpod.RemoveOptions{}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := rt.LookupContainer("lib-ctr"); !errors.Is(err, state.ErrNoSuchContainer) {
		t.Errorf("lookup after remove: %v, want ErrNoSuchContainer", err)
	}
}
