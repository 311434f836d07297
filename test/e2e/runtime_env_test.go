package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// privateTmpDir gives e's commands a TMPDIR of their own (so a fallback
// runtime directory and pause process of their own) and returns it.
func privateTmpDir(t *testing.T, e *Env) string {
	t.Helper()
	dir := filepath.Join(e.Dir, "tmp")
	if err := mkdirOwned(dir, 0o700, e.user); err != nil {
		t.Fatal(err)
	}
	e.UseTmpDir(dir)
	return dir
}

// The fallback runtime directory $TMPDIR/berth-run-UID has a predictable
// name: one that another user made first, or that others can write to, is
// refused and left untouched; one berth makes itself is private.
func TestRuntimeDirFallbackMustBePrivate(t *testing.T) {
	e := newEnv(t, "rootless")
	tmp := privateTmpDir(t, e)
	runDir := filepath.Join(tmp, fmt.Sprintf("berth-run-%d", e.UID()))

	cases := []struct {
		name  string
		owner int
		mode  os.FileMode
		want  string
	}{
		{"owned by root", 0, 0o755, "is not owned by the current user"},
		{"owned by root, world-writable", 0, 0o777, "is not owned by the current user"},
		{"the user's but world-writable", e.UID(), 0o777, "is writable by group or others"},
		{"the user's but group-writable", e.UID(), 0o770, "is writable by group or others"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Mkdir(runDir, tc.mode); err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(runDir)
			if err := os.Chmod(runDir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(runDir, tc.owner, tc.owner); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"ps"}, {"info"}, {"logout", "--all"}, {"system", "migrate"}} {
				r := e.BerthFail(125, args...)
				if !strings.Contains(r.Stderr, runDir) || !strings.Contains(r.Stderr, tc.want) {
					t.Errorf("berth %s: stderr does not name %s and say %q:\n%s", strings.Join(args, " "), runDir, tc.want, r.Stderr)
				}
			}
			if entries, _ := os.ReadDir(runDir); len(entries) != 0 {
				t.Errorf("berth wrote into the refused %s: %v", runDir, entries)
			}
			st, err := os.Stat(runDir)
			if err != nil || st.Mode().Perm() != tc.mode || int(st.Sys().(*syscall.Stat_t).Uid) != tc.owner {
				t.Errorf("berth changed the refused %s: %v %v", runDir, st.Mode(), err)
			}
			if _, err := os.Stat(e.Root); err == nil {
				t.Errorf("berth created the store %s although it refused the runtime directory", e.Root)
			}
			// Commands that need no runtime directory still work.
			e.BerthOK("version")
		})
	}

	// A symbolic link (to a directory the user owns, private) is refused
	// too: whoever made the link chose where berth's files would go.
	t.Run("symbolic link", func(t *testing.T) {
		target := filepath.Join(e.Dir, "elsewhere")
		if err := mkdirOwned(target, 0o700, e.user); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, runDir); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(runDir)
		r := e.BerthFail(125, "ps")
		if !strings.Contains(r.Stderr, runDir+" is a symbolic link") {
			t.Errorf("stderr does not say %s is a symbolic link:\n%s", runDir, r.Stderr)
		}
		if entries, _ := os.ReadDir(target); len(entries) != 0 {
			t.Errorf("berth wrote through the refused link into %s: %v", target, entries)
		}
	})

	// Absent, berth creates it private and uses it.
	e.BerthOK("ps")
	st, err := os.Stat(runDir)
	if err != nil {
		t.Fatalf("berth did not create its runtime directory: %v", err)
	}
	if st.Mode().Perm() != 0o700 || int(st.Sys().(*syscall.Stat_t).Uid) != e.UID() {
		t.Errorf("runtime directory %s: mode %v owner %d, want 0700 and uid %d", runDir, st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Uid, e.UID())
	}
	if _, err := os.Stat(filepath.Join(runDir, "pause.pid")); err != nil {
		t.Errorf("no pause pid file in the runtime directory: %v", err)
	}
}

// The state database lives in the graph root and the locks in the run root:
// a second run root for the same graph root (or a second graph driver) is
// refused with podman's message, and nothing is changed.
func TestStateDBBoundToRunRoot(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "first", img, "true")
		driver := e.BerthOK("info", "--format", "{{.Store.GraphDriverName}}").Out()

		other := filepath.Join(filepath.Dir(e.RunRoot), "other-runroot")
		for _, args := range [][]string{{"ps", "-a"}, {"create", "--name", "second", img, "true"}, {"rm", "-f", "first"}, {"images"}} {
			r := e.BerthFail(125, append([]string{"--runroot", other}, args...)...)
			want := fmt.Sprintf("Error: database run root %q does not match our run root %q: database configuration mismatch", e.RunRoot, other)
			if strings.TrimSpace(r.Stderr) != want {
				t.Errorf("berth --runroot %s %s: stderr\n%s\nwant\n%s", other, strings.Join(args, " "), r.Stderr, want)
			}
		}
		if _, err := os.Stat(other); err == nil {
			t.Errorf("the refused run root %s was created", other)
		}

		otherDriver := "vfs"
		if driver == "vfs" {
			otherDriver = "overlay"
		}
		for _, args := range [][]string{{"images"}, {"create", "--name", "second", img, "true"}} {
			r := e.BerthFail(125, append([]string{"--storage-driver", otherDriver}, args...)...)
			want := fmt.Sprintf("Error: database graph driver %q does not match our graph driver %q: database configuration mismatch", driver, otherDriver)
			if strings.TrimSpace(r.Stderr) != want {
				t.Errorf("--storage-driver %s %s: stderr\n%s\nwant\n%s", otherDriver, strings.Join(args, " "), r.Stderr, want)
			}
		}
		if _, err := os.Stat(filepath.Join(e.Root, otherDriver+"-layers")); err == nil {
			t.Errorf("storage for the refused driver %s was created in %s", otherDriver, e.Root)
		}

		// The store is as it was, and still works with its own run root.
		if out := e.BerthOK("ps", "-a", "--format", "{{.Names}}").Out(); out != "first" {
			t.Errorf("ps -a after the refusals: %q, want only first", out)
		}
		e.BerthOK("rm", "first")
	})
}

// system migrate stops the running containers (reporting each, as podman
// does) before it stops the pause process; afterwards the containers start
// again in the new namespace.
func TestSystemMigrateStopsRunningContainers(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		if e.Rootless() {
			privateTmpDir(t, e) // a pause process of its own
		}
		img := containerEnv(t, e)
		id := e.BerthOK("run", "-d", "--name", "runner", "--network", "host", img, "sleep", "1000").Out()
		e.BerthOK("create", "--name", "idle", img, "true")
		oldPause := 0
		if e.Rootless() {
			oldPause = pausePidOf(t, e)
		}

		out := e.BerthOK("system", "migrate").Out()
		if out != "stopped "+id {
			t.Errorf("system migrate printed %q, want %q", out, "stopped "+id)
		}
		if st := e.BerthOK("inspect", "--format", "{{.State.Status}}", "runner").Out(); st != "exited" {
			t.Errorf("runner is %q after system migrate, want exited", st)
		}
		if e.Rootless() {
			if processAlive(oldPause) {
				t.Errorf("pause process %d still runs after system migrate", oldPause)
			}
		}

		// A second migrate has nothing to stop.
		if out := e.BerthOK("system", "migrate").Out(); out != "" {
			t.Errorf("second system migrate printed %q", out)
		}
		e.BerthOK("start", "runner")
		if got := e.BerthOK("exec", "runner", "echo", "again").Out(); got != "again" {
			t.Errorf("exec after migrate and start: %q", got)
		}
		if e.Rootless() {
			if p := pausePidOf(t, e); p == oldPause || p == 0 {
				t.Errorf("pause process after migrate: %d (before %d)", p, oldPause)
			}
		}
		e.BerthOK("stop", "-t", "0", "runner")
	})
}

// pausePidOf is the pause pid berth reports for e.
func pausePidOf(t *testing.T, e *Env) int {
	t.Helper()
	var pid int
	out := e.BerthOK("info", "--format", "{{.Host.PausePID}}").Out()
	if _, err := fmt.Sscan(out, &pid); err != nil || !processAlive(pid) {
		t.Fatalf("info reports pause pid %q, not a live process", out)
	}
	return pid
}

// info has the fields of podman 4.3 that scripts and podman's own tests
// read.
func TestInfoPodmanFields(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage("localhost/busybox:latest")
		var info map[string]any
		raw := e.BerthOK("info", "--format", "json").Stdout
		if err := json.Unmarshal([]byte(raw), &info); err != nil {
			t.Fatalf("info --format json: %v\n%s", err, raw)
		}
		get := func(path string) any {
			var v any = info
			for _, k := range strings.Split(path, ".") {
				m, ok := v.(map[string]any)
				if !ok {
					return nil
				}
				v = m[k]
			}
			return v
		}
		osRelease := readOSRelease(t)
		checks := map[string]string{
			"host.buildahVersion":            `^[0-9]+\.[0-9.]+`,
			"host.distribution.distribution": "^" + regexp.QuoteMeta(osRelease["ID"]) + "$",
			"host.distribution.version":      "^" + regexp.QuoteMeta(osRelease["VERSION_ID"]) + "$",
			"host.distribution.codename":     "^" + regexp.QuoteMeta(osRelease["VERSION_CODENAME"]) + "$",
			"host.logDriver":                 "^k8s-file$",
			"host.cgroupManager":             "^(systemd|cgroupfs)$",
			"host.cgroupVersion":             "^v[12]$",
			"host.ociRuntime.path":           "^/",
			"host.conmon.path":               "^/",
			"host.eventLogger":               ".+",
			"host.networkBackend":            ".+",
			"host.slirp4netns.executable":    "",
			"store.graphDriverName":          "^[a-z0-9]+$",
			"store.graphRoot":                "^" + regexp.QuoteMeta(e.Root) + "$",
			"store.runRoot":                  "^" + regexp.QuoteMeta(e.RunRoot) + "$",
			"store.configFile":               "^/",
			"store.imageStore.number":        "^1$",
			"store.containerStore.number":    "^0$",
			"version.Version":                ".+",
			"version.APIVersion":             ".+",
			"version.GoVersion":              "^go",
			"version.OsArch":                 "^linux/",
		}
		for path, want := range checks {
			v := get(path)
			if v == nil {
				t.Errorf("info: %s missing", path)
				continue
			}
			got := fmt.Sprint(v)
			if !regexp.MustCompile(want).MatchString(got) {
				t.Errorf("info: %s = %q, want /%s/", path, got, want)
			}
		}
		// Templates address the Go names, as podman's do.
		tmpl := "{{.Host.Distribution.Distribution}}{{.Host.Distribution.Version}}/{{.Host.LogDriver}}/{{.Host.BuildahVersion}}/{{.Host.CgroupManager}}/{{.Store.ImageStore.Number}}"
		want := fmt.Sprintf("%s%s/k8s-file/%v/%v/1", osRelease["ID"], osRelease["VERSION_ID"], get("host.buildahVersion"), get("host.cgroupManager"))
		if got := e.BerthOK("info", "--format", tmpl).Out(); got != want {
			t.Errorf("info --format %s = %q, want %q", tmpl, got, want)
		}
		// The text form has podman's keys.
		text := e.BerthOK("info").Stdout
		for _, key := range []string{"buildahVersion:", "distribution:", "logDriver:", "graphStatus:", "imageStore:", "cgroupManager:"} {
			if !strings.Contains(text, key) {
				t.Errorf("info text has no %q:\n%s", key, text)
			}
		}
	})
}

func readOSRelease(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		t.Skipf("no /etc/os-release: %v", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

// version and the global flags behave as podman 4.3's.
func TestVersionAndLogLevel(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		out := e.BerthOK("version").Stdout
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if strings.HasPrefix(lines[0], "Client:") {
			lines = lines[1:]
		}
		if !regexp.MustCompile(`^Version:\s+[0-9][0-9.]*`).MatchString(lines[0]) {
			t.Errorf("version: first line %q", lines[0])
		}
		for _, key := range []string{"API Version:", "Go Version:", "Built:", "OS/Arch:"} {
			if !strings.Contains(out, "\n"+key) {
				t.Errorf("version has no %q line:\n%s", key, out)
			}
		}
		m := regexp.MustCompile(`(?m)^Built:\s+(.+)$`).FindStringSubmatch(out)
		if len(m) < 2 || e.Run("date", "--date="+m[1], "+%s").ExitCode != 0 {
			t.Errorf("version: Built is not a date `date` reads: %q", out)
		}
		if got := e.BerthOK("-v").Out(); !regexp.MustCompile(`^berth version [0-9]`).MatchString(got) {
			t.Errorf("berth -v: %q", got)
		}

		r := e.BerthFail(1, "--log-level=telepathic", "info")
		if !strings.HasPrefix(strings.TrimSpace(r.Stderr), `Log Level "telepathic" is not supported`) {
			t.Errorf("bad --log-level: %q", r.Stderr)
		}
		if r := e.BerthOK("--log-level=debug", "info"); !strings.Contains(r.Stderr, " level=debug ") {
			t.Errorf("--log-level=debug logs no debug line:\n%s", r.Stderr)
		}
		for _, lvl := range []string{"warn", "warning", "error"} {
			if r := e.BerthOK("--log-level="+lvl, "info"); strings.Contains(r.Stderr, " level=") {
				t.Errorf("--log-level=%s logs:\n%s", lvl, r.Stderr)
			}
		}
		for _, flag := range []string{"--debug", "-D"} {
			if r := e.BerthOK(flag, "info"); !strings.Contains(r.Stderr, " level=debug ") {
				t.Errorf("%s logs no debug line:\n%s", flag, r.Stderr)
			}
		}
		// docker's -D before the command; after it, it is the command's own.
		if out := e.BerthOK("build", "--help").Stdout; !strings.Contains(out, "-D, --disable-compression") {
			t.Errorf("build --help lost its -D:\n%s", out)
		}
		r = e.BerthFail(1, "--debug", "--log-level=panic", "info")
		if strings.TrimSpace(r.Stderr) != "Setting --log-level and --debug is not allowed" {
			t.Errorf("--debug with --log-level: %q", r.Stderr)
		}
	})
}
