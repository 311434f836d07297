package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestContainersConfOrder(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONTAINERS_CONF", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	user := filepath.Join(dir, "containers", "containers.conf")
	if err := os.MkdirAll(user+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(user, "[containers]\nenv = [\"A=user\"]\n[engine]\nunknown_key = 1\n")
	write(filepath.Join(user+".d", "20-b.conf"), "[containers]\nenv = [\"B=dropin20\"]\n")
	write(filepath.Join(user+".d", "10-a.conf"), "[containers]\nenv = [\"B=dropin10\"]\n")
	write(filepath.Join(user+".d", "ignored.txt"), "not toml [")

	// rootless: the user's file, then its drop-ins in name order; the last
	// one that sets env wins (a list is replaced, not merged)
	c, err := LoadContainersConf(true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"B=dropin20"}; !reflect.DeepEqual(c.Containers.Env, want) {
		t.Fatalf("env = %q, want %q", c.Containers.Env, want)
	}
	files, err := ContainersConfFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	n := len(files)
	if n < 3 || files[n-3] != user || filepath.Base(files[n-2]) != "10-a.conf" || filepath.Base(files[n-1]) != "20-b.conf" {
		t.Fatalf("files = %q", files)
	}
	// root does not read the user's files
	rootful, _ := ContainersConfFiles(false)
	for _, f := range rootful {
		if f == user || filepath.Dir(f) == user+".d" {
			t.Fatalf("rootful reads the user's files: %q", rootful)
		}
	}

	// CONTAINERS_CONF alone; a missing one, or a broken one, is an error
	t.Setenv("CONTAINERS_CONF", user)
	if files, _ := ContainersConfFiles(true); !reflect.DeepEqual(files, []string{user}) {
		t.Fatalf("with CONTAINERS_CONF: files = %q", files)
	}
	t.Setenv("CONTAINERS_CONF", filepath.Join(dir, "missing.conf"))
	if _, err := LoadContainersConf(true); err == nil {
		t.Fatal("a missing CONTAINERS_CONF file was accepted")
	}
	broken := filepath.Join(dir, "broken.conf")
	write(broken, "[containers\n")
	t.Setenv("CONTAINERS_CONF", broken)
	if _, err := LoadContainersConf(true); err == nil {
		t.Fatal("a broken containers.conf was accepted")
	}
}
