package config

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestContainersConfOrder(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONTAINERS_CONF", "")
	t.Setenv("CONTAINERS_CONF_OVERRIDE", "")
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

// writeConf writes a containers.conf under t's temporary directory.
func writeConf(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestContainersConfFilesRecorded(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CONTAINERS_CONF", "")
	t.Setenv("CONTAINERS_CONF_OVERRIDE", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	user := filepath.Join(dir, "containers", "containers.conf")
	if err := os.MkdirAll(user+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(user, []byte("[containers]\npids_limit = 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(user+".d", "a.conf"), []byte("[containers]\ntz = \"local\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := ContainersConfFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadContainersConf(true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Files, want) || c.Files[len(c.Files)-1] != filepath.Join(user+".d", "a.conf") {
		t.Fatalf("Files = %q, want %q ending with the user's drop-in", c.Files, want)
	}
	if c.Containers.PidsLimit != 7 || c.Containers.TZ != "local" {
		t.Fatalf("pids_limit %d tz %q: the user's files were not applied", c.Containers.PidsLimit, c.Containers.TZ)
	}
	if got := c.SetIn("containers", "pids_limit"); got != user {
		t.Fatalf("SetIn(pids_limit) = %q, want %q", got, user)
	}
}

func TestContainersConfOverride(t *testing.T) {
	base := writeConf(t, "base.conf", "[containers]\npids_limit = 100\numask = \"0077\"\n[engine]\nruntime = \"crun\"\n[engine.runtimes]\na = [\"/a\"]\n")
	over := writeConf(t, "over.conf", "[containers]\npids_limit = 200\n[engine.runtimes]\nb = [\"/b\"]\n")
	t.Setenv("CONTAINERS_CONF", base)
	t.Setenv("CONTAINERS_CONF_OVERRIDE", over)
	c, err := LoadContainersConf(true)
	if err != nil {
		t.Fatal(err)
	}
	// CONTAINERS_CONF alone, then the override on top
	if !reflect.DeepEqual(c.Files, []string{base, over}) {
		t.Fatalf("Files = %q, want %q", c.Files, []string{base, over})
	}
	if c.Containers.PidsLimit != 200 {
		t.Errorf("pids_limit = %d, want the override's 200", c.Containers.PidsLimit)
	}
	if c.Containers.Umask != "0077" || c.Engine.Runtime != "crun" {
		t.Errorf("umask %q runtime %q: keys the override does not set must stay", c.Containers.Umask, c.Engine.Runtime)
	}
	if len(c.Engine.Runtimes) != 2 {
		t.Errorf("[engine.runtimes] = %v, want a and b merged", c.Engine.Runtimes)
	}
	// the override alone, over the system files
	t.Setenv("CONTAINERS_CONF", "")
	files, err := ContainersConfFiles(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || files[len(files)-1] != over {
		t.Fatalf("files = %q, want the override last", files)
	}
	t.Setenv("CONTAINERS_CONF_OVERRIDE", filepath.Join(t.TempDir(), "missing.conf"))
	if _, err := LoadContainersConf(false); err == nil || !strings.Contains(err.Error(), "CONTAINERS_CONF_OVERRIDE file") {
		t.Fatalf("a missing CONTAINERS_CONF_OVERRIDE: err = %v", err)
	}
}

func TestContainersConfDefaults(t *testing.T) {
	t.Setenv("CONTAINERS_CONF", writeConf(t, "empty.conf", "# nothing\n[containers]\nunknown_key = \"kept\"\n[machine]\ncpus = 2\n"))
	t.Setenv("CONTAINERS_CONF_OVERRIDE", "")
	c, err := LoadContainersConf(false)
	if err != nil {
		t.Fatal(err)
	}
	ct := c.Containers
	if !ct.HTTPProxy || ct.EnvHost || ct.PidsLimit != 2048 || ct.Umask != "0022" || ct.ShmSize != "65536k" ||
		ct.LogDriver != "k8s-file" || ct.LogSizeMax != -1 || ct.TZ != "" || ct.SeccompProfile != "" || ct.InitPath != "" {
		t.Errorf("defaults: %+v", ct)
	}
	if want := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}; !reflect.DeepEqual(ct.Env, want) {
		t.Errorf("env = %q, want %q", ct.Env, want)
	}
	if len(ct.DefaultCapabilities) != 11 || ct.DefaultCapabilities[0] != "CAP_CHOWN" || len(ct.DefaultUlimits) != 0 || len(ct.DefaultSysctls) != 0 {
		t.Errorf("lists: caps %q ulimits %q sysctls %q", ct.DefaultCapabilities, ct.DefaultUlimits, ct.DefaultSysctls)
	}
	if c.Engine.ImageCopyTmpDir != "/var/tmp" || c.Engine.Runtime != "" {
		t.Errorf("engine: %+v", c.Engine)
	}
	if n, err := c.ShmSizeBytes(); err != nil || n != 65536000 {
		t.Errorf("ShmSizeBytes = %d, %v; want podman's 65536000", n, err)
	}
	if m, err := c.UmaskValue(); err != nil || m != 0o022 {
		t.Errorf("UmaskValue = %o, %v", m, err)
	}
	// a second load starts again from the defaults (no shared slices)
	t.Setenv("CONTAINERS_CONF", writeConf(t, "caps.conf", "[containers]\ndefault_capabilities = [\"chown\", \"CAP_KILL\"]\n"))
	if c, err = LoadContainersConf(false); err != nil {
		t.Fatal(err)
	}
	if want := []string{"CAP_CHOWN", "CAP_KILL"}; !reflect.DeepEqual(c.Containers.DefaultCapabilities, want) {
		t.Errorf("capabilities = %q, want %q", c.Containers.DefaultCapabilities, want)
	}
	if d := DefaultContainersConf(); len(d.Containers.DefaultCapabilities) != 11 || d.Containers.DefaultCapabilities[1] != "CAP_DAC_OVERRIDE" {
		t.Errorf("a load changed the built-in defaults: %q", d.Containers.DefaultCapabilities)
	}
}

func TestContainersConfValues(t *testing.T) {
	t.Setenv("CONTAINERS_CONF", writeConf(t, "v.conf", `[containers]
default_ulimits = ["nofile=1024:2048", "nproc=-1"]
default_sysctls = ["net.ipv4.ping_group_range=0 0", "kernel.msgmax=8192"]
umask = "077"
shm_size = "1g"
log_size_max = 8192
`))
	t.Setenv("CONTAINERS_CONF_OVERRIDE", "")
	c, err := LoadContainersConf(false)
	if err != nil {
		t.Fatal(err)
	}
	ul, err := c.Ulimits()
	if err != nil || len(ul) != 2 || ul[0].Type != "RLIMIT_NOFILE" || ul[0].Soft != 1024 || ul[0].Hard != 2048 || ul[1].Type != "RLIMIT_NPROC" || ul[1].Soft != math.MaxUint64 {
		t.Errorf("Ulimits = %+v, %v", ul, err)
	}
	sc, err := c.Sysctls()
	if err != nil || sc["net.ipv4.ping_group_range"] != "0 0" || sc["kernel.msgmax"] != "8192" || len(sc) != 2 {
		t.Errorf("Sysctls = %v, %v", sc, err)
	}
	if m, err := c.UmaskValue(); err != nil || m != 0o077 {
		t.Errorf("UmaskValue = %o, %v", m, err)
	}
	if n, err := c.ShmSizeBytes(); err != nil || n != 1000000000 {
		t.Errorf("ShmSizeBytes = %d, %v", n, err)
	}
	c.Containers.DefaultSysctls = []string{"novalue"}
	if _, err := c.Sysctls(); err == nil || !strings.Contains(err.Error(), "[containers] default_sysctls: novalue is invalid") {
		t.Errorf("Sysctls of a bad entry: %v", err)
	}
}

func TestContainersConfBadValues(t *testing.T) {
	t.Setenv("CONTAINERS_CONF_OVERRIDE", "")
	for _, tc := range []struct{ conf, want string }{
		{"[containers]\numask = \"999\"\n", "[containers] umask: not a valid umask 999"},
		{"[containers]\numask = \"0o22\"\n", "[containers] umask: not a valid umask 0o22"},
		{"[containers]\nshm_size = \"abc\"\n", `[containers] shm_size: invalid --shm-size abc, "invalid size: 'abc'"`},
		{"[containers]\ndefault_ulimits = [\"nofile=abc\"]\n", "[containers] default_ulimits: unrecognized ulimit nofile=abc"},
		{"[containers]\ndefault_ulimits = [\"bogus=1:2\"]\n", "[containers] default_ulimits: unrecognized ulimit bogus=1:2"},
		{"[containers]\nlog_size_max = 100\n", "[containers] log_size_max: log size max should be negative or >= 8192"},
		{"[containers]\ntz = \"No/Such_Zone\"\n", "[containers] tz: find timezone No/Such_Zone in paths"},
		{"[containers]\npids_limit = \"x\"\n", "decode configuration"},
		{"[containers\n", "decode configuration"},
	} {
		p := writeConf(t, "bad.conf", tc.conf)
		t.Setenv("CONTAINERS_CONF", p)
		_, err := LoadContainersConf(false)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: err = %v, want one naming %s and containing %q", tc.conf, err, p, tc.want)
		}
	}
}

func TestBigFilesTemporaryDir(t *testing.T) {
	c := DefaultContainersConf()
	t.Setenv("TMPDIR", "/from/env")
	if d, err := c.BigFilesTemporaryDir("/graph"); err != nil || d != "/from/env" {
		t.Errorf("with TMPDIR: %q, %v", d, err)
	}
	_ = os.Unsetenv("TMPDIR")
	for _, tc := range []struct{ value, want string }{
		{"/var/tmp", "/var/tmp"}, {"storage", "/graph/tmp"}, {"/x/y", "/x/y"}, {"", ""},
	} {
		c.Engine.ImageCopyTmpDir = tc.value
		if d, err := c.BigFilesTemporaryDir("/graph"); err != nil || d != tc.want {
			t.Errorf("image_copy_tmp_dir %q: %q, %v; want %q", tc.value, d, err, tc.want)
		}
	}
	c.Engine.ImageCopyTmpDir = "relative"
	if _, err := c.BigFilesTemporaryDir("/graph"); err == nil || !strings.Contains(err.Error(), `invalid image_copy_tmp_dir value "relative" (relative paths are not accepted)`) {
		t.Errorf("a relative image_copy_tmp_dir: %v", err)
	}
}
