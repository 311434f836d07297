package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The upgrade test: a store made by an older berth (the fixture in
// testdata/upgrade, see its README.md) is used by the berth under test.

const (
	// upgradeSchemaVersion is the state DB schema version (PRAGMA
	// user_version) of the berth under test: the first berth command on the
	// fixture's store must have migrated its database to it. Bump it with
	// libpod/state's schemaVersion.
	upgradeSchemaVersion = 3

	// fixtureSchemaVersion is the schema version of the fixture's
	// databases, as the berth that made them (b863c5b) wrote them. It only
	// changes with the fixture.
	fixtureSchemaVersion = 2

	// upgradeFixtureTop is where make-fixture.sh made the stores: their
	// databases record these paths, so the test recreates them there.
	upgradeFixtureTop = "/var/tmp/berth-upgrade-fixture"
	// upgradeFixturePort is the host port upg-d publishes (make-fixture.sh).
	upgradeFixturePort = 39412
	upgradeImage       = "localhost/upgrade-probe:latest"
)

// upgradeInspectChanges lists the inspect fields (JSON paths, as reported
// by the test) whose value may differ from what the fixture's berth showed,
// each with the reason. Add an entry only for a deliberate change of
// inspect's output, never to hide a value lost in a migration.
var upgradeInspectChanges = map[string]string{}

// rebootInspectChanges are the fields that differ when the run root was
// emptied (a reboot): inspect shows the files berth made there at start
// only while they exist.
var rebootInspectChanges = map[string]string{
	"upg-b.HostnamePath":   "in the run root",
	"upg-b.HostsPath":      "in the run root",
	"upg-b.ResolvConfPath": "in the run root",
	"upg-b.OCIConfigPath":  "in the run root",
}

func TestUpgrade(t *testing.T) {
	// One TestUpgrade at a time on this machine: the paths are fixed.
	if err := os.MkdirAll(upgradeFixtureTop, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(upgradeFixtureTop, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(upgradeFixtureTop, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"root", "rootless"} {
		// The package is upgraded while the store is in use: the run root
		// is the fixture's.
		t.Run(mode, func(t *testing.T) {
			testUpgrade(t, newFixtureEnv(t, mode), false)
		})
		// The upgrade comes with a reboot: the run root (a tmpfs) is empty.
		t.Run(mode+"-reboot", func(t *testing.T) {
			e := newFixtureEnv(t, mode)
			if err := os.RemoveAll(e.RunRoot); err != nil {
				t.Fatal(err)
			}
			testUpgrade(t, e, true)
		})
	}
}

// newFixtureEnv extracts the fixture of mode (graph and run roots) at its
// fixed path, as the mode's user (so rootless files belong to berthtest,
// whatever its uid was where the fixture was made). Whatever an earlier run left there is removed first.
func newFixtureEnv(t *testing.T, mode string) *Env {
	t.Helper()
	base := filepath.Join(upgradeFixtureTop, mode)
	removeFixtureDir(base)
	var u *sysUser
	if mode == "rootless" {
		u = rootlessUser
	}
	e := &Env{T: t, Mode: mode, base: base, user: u,
		Root: filepath.Join(base, "graph"), RunRoot: filepath.Join(base, "run"), Dir: filepath.Join(base, "work")}
	if err := mkdirOwned(base, 0o700, u); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.cleanup)
	// e.cleanup's berth commands give no --storage-driver.
	e.SetEnv("STORAGE_DRIVER", "vfs")
	if err := mkdirOwned(e.Dir, 0o755, u); err != nil {
		t.Fatal(err)
	}
	tarball, err := filepath.Abs(filepath.Join("testdata", "upgrade", mode+".tar.xz"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r := e.run(context.Background(), f, "tar", "-C", base, "-xJf", "-"); r.ExitCode != 0 {
		t.Fatalf("extracting the fixture:\n%s", r.describe())
	}
	return e
}

func removeFixtureDir(dir string) {
	killProcessesMentioning(dir + "/")
	unmountUnder(dir)
	_ = os.RemoveAll(dir)
}

// fixtureFile decodes testdata/upgrade/NAME.
func fixtureFile(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "upgrade", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// dbUserVersion reads PRAGMA user_version of the store's state DB.
func dbUserVersion(t *testing.T, e *Env) int {
	t.Helper()
	db := filepath.Join(e.Root, "berth", "state.db")
	out, err := exec.Command("sqlite3", "-readonly", db, "PRAGMA user_version").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s: %v: %s", db, err, out)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("sqlite3 %s: user_version %q: %v", db, out, err)
	}
	return v
}

func testUpgrade(t *testing.T, e *Env, reboot bool) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatalf("sqlite3 is needed to read the state DB's schema version: %v", err)
	}
	vfs := func(args ...string) []string { return append([]string{"--storage-driver", "vfs"}, args...) }
	ok := func(args ...string) *Result { t.Helper(); return e.BerthOK(vfs(args...)...) }
	fail := func(code int, args ...string) *Result { t.Helper(); return e.BerthFail(code, vfs(args...)...) }

	// The bind mount source of upg-a, with new contents: the container
	// must see the directory as it is now.
	data := filepath.Join(e.base, "data")
	if err := mkdirOwned(data, 0o755, e.user); err != nil {
		t.Fatal(err)
	}
	dataFile := filepath.Join(data, "file")
	if err := os.WriteFile(dataFile, []byte("bind mounted after the upgrade\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e.user != nil {
		if err := os.Chown(dataFile, e.user.UID, e.user.GID); err != nil {
			t.Fatal(err)
		}
	}

	if v := dbUserVersion(t, e); v != fixtureSchemaVersion {
		t.Fatalf("the fixture's database has schema version %d, want %d", v, fixtureSchemaVersion)
	}

	// 1. inspect shows what the old berth showed, field by field.
	var wantInspect []map[string]any
	fixtureFile(t, e.Mode+".inspect.json", &wantInspect)
	r := ok("inspect", "upg-a", "upg-b", "upg-d")
	if v := dbUserVersion(t, e); v != upgradeSchemaVersion {
		t.Fatalf("after the first berth command the database has schema version %d, want %d", v, upgradeSchemaVersion)
	}
	var gotInspect []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &gotInspect); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, r.Stdout)
	}
	if len(gotInspect) != len(wantInspect) {
		t.Fatalf("inspect shows %d containers, want %d", len(gotInspect), len(wantInspect))
	}
	allowed := upgradeInspectChanges
	if reboot {
		allowed = map[string]string{}
		for _, m := range []map[string]string{upgradeInspectChanges, rebootInspectChanges} {
			for k, v := range m {
				allowed[k] = v
			}
		}
	}
	for i := range wantInspect {
		var diffs []string
		jsonDiff(fmt.Sprint(wantInspect[i]["Name"]), wantInspect[i], gotInspect[i], allowed, &diffs)
		for _, d := range diffs {
			t.Errorf("inspect after the upgrade differs: %s", d)
		}
	}

	// 2. The options of upg-a, explicitly (the comparison above fails too
	// if the fixture's own snapshot lacked them).
	checkUpgradeOptions(t, e, ok("inspect", "upg-a").Stdout)
	var d []struct {
		Name       string
		HostConfig struct {
			PortBindings map[string][]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(ok("inspect", "upg-d").Stdout), &d); err != nil || len(d) != 1 {
		t.Fatalf("inspect upg-d: %v", err)
	}
	wantPorts := map[string][]map[string]string{"8080/tcp": {{"HostIp": "127.0.0.1", "HostPort": strconv.Itoa(upgradeFixturePort)}}}
	if d[0].Name != "upg-d" || !reflect.DeepEqual(d[0].HostConfig.PortBindings, wantPorts) {
		t.Errorf("inspect upg-d: name %q, port bindings %v; want upg-d, %v", d[0].Name, d[0].HostConfig.PortBindings, wantPorts)
	}
	r = fail(125, "inspect", "upg-d-before")
	if !strings.Contains(r.Stderr, "no such") {
		t.Errorf("inspect of the name before the rename: %s", r.Stderr)
	}

	// 3. ps -a: the containers, as the old berth listed them.
	checkUpgradePs(t, e, ok("ps", "-a", "--format", "json").Stdout)
	table := ok("ps", "-a").Stdout
	for _, want := range []string{"upg-a", "upg-b", "upg-d", "Created", "Exited (3)", "/probe a1 @/data/...",
		fmt.Sprintf("127.0.0.1:%d->8080/tcp", upgradeFixturePort)} {
		if !strings.Contains(table, want) {
			t.Errorf("ps -a lacks %q:\n%s", want, table)
		}
	}

	// 4. The old log of upg-b.
	wantB := []string{"uid=0 gid=0", "cwd=/", "arg=hello", "arg=exit=3", "env=FROM_B=1"}
	logB := ok("logs", "upg-b").Stdout
	checkLines(t, "logs upg-b (made before the upgrade)", logB, wantB, nil)

	// 5. upg-a starts with its options, and stops with its stop signal.
	if out := ok("start", "upg-a").Out(); out != "upg-a" {
		t.Errorf("start upg-a printed %q", out)
	}
	waitFor(t, func() bool { return strings.Contains(e.Berth(vfs("logs", "upg-a")...).Stdout, "ready\n") })
	if st := ok("inspect", "--format", "{{.State.Status}}", "upg-a").Out(); st != "running" {
		t.Errorf("upg-a after start: status %q, want running", st)
	}
	if !strings.Contains(ok("ps", "--format", "{{.Names}} {{.Status}}").Stdout, "upg-a Up") {
		t.Errorf("ps does not show upg-a up")
	}
	start := time.Now()
	ok("stop", "upg-a")
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("stop upg-a took %s: its stop signal (SIGUSR1, which ends it) was not sent?", d)
	}
	logA := ok("logs", "upg-a").Stdout
	checkLines(t, "logs upg-a", logA, []string{
		"uid=1000 gid=1000", "cwd=/srv", "arg=a1", "arg=@/data/file", "arg=wait",
		"env=FOO=bar", "env=SPACED=a b", "env=HOSTNAME=upg-a-host",
		"bind mounted after the upgrade", "ready", "caught signal 10",
	}, []string{"bind mounted when the fixture was made"})
	if st := ok("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "upg-a").Out(); st != "exited 0" {
		t.Errorf("upg-a after stop: %q, want exited 0", st)
	}

	// 6. upg-b runs again: exit code 3, its log grows.
	r = fail(3, "start", "-a", "upg-b")
	checkLines(t, "start -a upg-b", r.Stdout, wantB, nil)
	if n := strings.Count(ok("logs", "upg-b").Stdout, "arg=hello\n"); n != 2 {
		t.Errorf("logs upg-b after a second run has %d runs, want 2", n)
	}

	// 7. The renamed upg-d starts under its new name, with its port.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", upgradeFixturePort)); err != nil {
		t.Fatalf("port %d, published by the fixture's upg-d, is busy: %v", upgradeFixturePort, err)
	} else {
		_ = l.Close()
	}
	r = ok("start", "-a", "upg-d")
	checkLines(t, "start -a upg-d", r.Stdout, []string{"arg=renamed"}, nil)
	ok("rename", "upg-d", "upg-d2")
	checkLines(t, "start -a upg-d2", ok("start", "-a", "upg-d2").Stdout, []string{"arg=renamed"}, nil)

	// 8. A new container beside the old ones.
	r = fail(5, "run", "--name", "upg-new", "--env", "NEW=1", upgradeImage, "/probe", "new", "exit=5")
	checkLines(t, "run upg-new", r.Stdout, []string{"arg=new", "env=NEW=1"}, nil)
	names := strings.Fields(ok("ps", "-a", "--format", "{{.Names}}").Out())
	sort.Strings(names)
	if want := []string{"upg-a", "upg-b", "upg-d2", "upg-new"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ps -a names: %v, want %v", names, want)
	}

	// 9. All of them go; so does the image.
	ok("rm", "upg-a", "upg-b", "upg-d2", "upg-new")
	if out := ok("ps", "-a", "-q").Out(); out != "" {
		t.Errorf("ps -a after rm: %q", out)
	}
	ok("rmi", upgradeImage)
	if v := dbUserVersion(t, e); v != upgradeSchemaVersion {
		t.Errorf("at the end the database has schema version %d, want %d", v, upgradeSchemaVersion)
	}
}

// checkUpgradeOptions checks the options make-fixture.sh gave upg-a in its
// inspect output.
func checkUpgradeOptions(t *testing.T, e *Env, out string) {
	t.Helper()
	var got []struct {
		Name   string
		Config struct {
			Hostname, User, WorkingDir string
			Env                        []string
			Cmd                        []string
			Labels, Annotations        map[string]string
			StopSignal                 int
			StopTimeout                int
		}
		Mounts []struct {
			Type, Source, Destination string
			RW                        bool
		}
		HostConfig struct {
			NetworkMode   string
			RestartPolicy struct {
				Name              string
				MaximumRetryCount int
			}
			LogConfig struct{ Type, Path, Size string }
		}
		State struct{ Status string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("inspect upg-a: %v\n%s", err, out)
	}
	a := got[0]
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("inspect upg-a: %s is %#v, want %#v", what, got, want)
		}
	}
	check("Name", a.Name, "upg-a")
	check("State.Status", a.State.Status, "created")
	check("Config.Cmd", a.Config.Cmd, []string{"/probe", "a1", "@/data/file", "wait"})
	check("Config.Hostname", a.Config.Hostname, "upg-a-host")
	check("Config.User", a.Config.User, "1000:1000")
	check("Config.WorkingDir", a.Config.WorkingDir, "/srv")
	for _, env := range []string{"FOO=bar", "SPACED=a b"} {
		if !contains(a.Config.Env, env) {
			t.Errorf("inspect upg-a: Config.Env %q lacks %q", a.Config.Env, env)
		}
	}
	check("Config.Labels", a.Config.Labels, map[string]string{"l1": "v1", "l2": "v2"})
	check("Config.Annotations[an1]", a.Config.Annotations["an1"], "av1")
	check("Config.StopSignal", a.Config.StopSignal, 10)
	check("Config.StopTimeout", a.Config.StopTimeout, 7)
	check("Mounts", len(a.Mounts), 1)
	if len(a.Mounts) == 1 {
		m := a.Mounts[0]
		check("Mounts[0]", []any{m.Type, m.Source, m.Destination, m.RW}, []any{"bind", filepath.Join(e.base, "data"), "/data", false})
	}
	check("HostConfig.NetworkMode", a.HostConfig.NetworkMode, "none")
	check("HostConfig.RestartPolicy", []any{a.HostConfig.RestartPolicy.Name, a.HostConfig.RestartPolicy.MaximumRetryCount}, []any{"on-failure", 2})
	check("HostConfig.LogConfig.Type", a.HostConfig.LogConfig.Type, "k8s-file")
	check("HostConfig.LogConfig.Size", a.HostConfig.LogConfig.Size, "1MB")
	if !strings.HasPrefix(a.HostConfig.LogConfig.Path, e.Root+"/") {
		t.Errorf("inspect upg-a: log path %q is not in the graph root %s", a.HostConfig.LogConfig.Path, e.Root)
	}
}

// checkUpgradePs compares ps -a --format json with what the fixture's berth
// printed: everything but the relative times ("5 minutes ago").
func checkUpgradePs(t *testing.T, e *Env, out string) {
	t.Helper()
	var want, got []map[string]any
	fixtureFile(t, e.Mode+".ps.json", &want)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("ps -a --format json: %v\n%s", err, out)
	}
	byID := map[string]map[string]any{}
	for _, c := range got {
		byID[fmt.Sprint(c["Id"])] = c
	}
	if len(got) != len(want) {
		t.Errorf("ps -a lists %d containers, want %d", len(got), len(want))
	}
	for _, w := range want {
		id := fmt.Sprint(w["Id"])
		g, found := byID[id]
		if !found {
			t.Errorf("ps -a lacks container %s %v", id, w["Names"])
			continue
		}
		// "Exited (3) 5 minutes ago" -> "Exited (3)"; "Created" stays.
		for _, m := range []map[string]any{w, g} {
			m["Status"] = strings.Split(fmt.Sprint(m["Status"]), ")")[0]
			delete(m, "CreatedAt")
		}
		var diffs []string
		jsonDiff(fmt.Sprint(w["Names"]), w, g, nil, &diffs)
		for _, d := range diffs {
			t.Errorf("ps -a after the upgrade differs: %s", d)
		}
	}
}

// jsonDiff appends to diffs each JSON path under path where got differs
// from want, but those in allowed. A field only got has is no difference.
func jsonDiff(path string, want, got any, allowed map[string]string, diffs *[]string) {
	if _, ok := allowed[path]; ok {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inW:
				// a new field is no loss
			case !inG && allowed[path+"."+k] == "":
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing, was %s", path, k, compactJSON(wv)))
			case inG:
				jsonDiff(path+"."+k, wv, gv, allowed, diffs)
			}
		}
		return
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			break
		}
		for i := range w {
			jsonDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], allowed, diffs)
		}
		return
	default:
		if reflect.DeepEqual(want, got) {
			return
		}
	}
	*diffs = append(*diffs, fmt.Sprintf("%s: %s, was %s", path, compactJSON(got), compactJSON(want)))
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// checkLines checks that out has each line of want and none of notWant.
func checkLines(t *testing.T, what, out string, want, notWant []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for _, w := range want {
		if !contains(lines, w) {
			t.Errorf("%s lacks the line %q:\n%s", what, w, out)
		}
	}
	for _, w := range notWant {
		if contains(lines, w) {
			t.Errorf("%s has the line %q:\n%s", what, w, out)
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
