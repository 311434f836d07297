package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The store is shared with podman and buildah: berth never deletes a
// container it did not create, lists them with ps --external, and removes
// one only when the user names it (podman's behaviour).

// foreignContainer makes a buildah working container named name from img in
// e's store, as another tool sharing the store would, and returns its ID.
// Rootless, buildah runs in berth's user namespace for the store (berth
// unshare), as a user's buildah would.
func foreignContainer(t *testing.T, e *Env, name, img string) string {
	t.Helper()
	args := buildahArgs(t, e)
	r := buildah(e, append(args, "from", "--name", name, img)...)
	if r.ExitCode != 0 {
		t.Fatalf("making a buildah container: %s", r.describe())
	}
	id := foreignID(e, name)
	if !isImageID(id) {
		t.Fatalf("buildah container %s has no ID: %q", name, id)
	}
	return id
}

// foreignID is the ID buildah gives the container name, "" if buildah does
// not know it (any more).
func foreignID(e *Env, name string) string {
	r := buildah(e, append(buildahArgs(e.T, e), "inspect", "--type", "container", "--format", "{{.ContainerID}}", name)...)
	if r.ExitCode != 0 {
		return ""
	}
	return r.Out()
}

func buildah(e *Env, args ...string) *Result {
	if e.Rootless() {
		return e.Berth(append([]string{"unshare", "buildah"}, args...)...)
	}
	return e.Run("buildah", args...)
}

// buildahArgs are the global buildah flags for e's store, with the driver
// berth chose for it.
func buildahArgs(t *testing.T, e *Env) []string {
	t.Helper()
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Skip("buildah is not installed (make deps installs it)")
	}
	args := []string{"--root", e.Root, "--runroot", e.RunRoot}
	switch {
	case isDir(filepath.Join(e.Root, "overlay-layers")):
		args = append(args, "--storage-driver", "overlay")
		if prog, err := os.ReadFile(filepath.Join(e.Root, "overlay", ".berth-mount-program")); err == nil {
			args = append(args, "--storage-opt", "overlay.mount_program="+strings.TrimSpace(string(prog)))
		}
	case isDir(filepath.Join(e.Root, "vfs-layers")):
		args = append(args, "--storage-driver", "vfs")
	default:
		t.Fatalf("no overlay or vfs layers in %s: make an image with berth first", e.Root)
	}
	return args
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// stateOf is the status of berth's container name.
func stateOf(e *Env, name string) string {
	return e.BerthOK("inspect", "--format", "{{.State.Status}}", name).Out()
}

func nameInUse(name, id string) string {
	return fmt.Sprintf("Error: creating container storage: the container name %q is already in use by %s. "+
		"You have to remove that container to be able to reuse that name: that name is already in use", name, id)
}

func TestSharedStoreForeignNameIsRefused(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := foreignContainer(t, e, "web", img)
		for _, args := range [][]string{
			{"create", "--name", "web", img, "true"},
			{"run", "-d", "--network", "host", "--name", "web", img, "sleep", "100"},
			{"create", "--replace", "--name", "web", img, "true"},
			{"run", "--rm", "--replace", "--network", "host", "--name", "web", img, "true"},
		} {
			r := e.BerthFail(125, args...)
			if got := strings.TrimSpace(r.Stderr); got != nameInUse("web", id) {
				t.Errorf("berth %s: stderr\n%s\nwant\n%s", shellJoin(args), got, nameInUse("web", id))
			}
			if got := foreignID(e, "web"); got != id {
				t.Fatalf("after berth %s the buildah container web is %q, want %s", shellJoin(args), got, id)
			}
			if out := e.BerthOK("ps", "-a", "-q").Out(); out != "" {
				t.Fatalf("after a refused berth %s, berth has containers: %q", shellJoin(args), out)
			}
		}
		e.BerthFail(1, "container", "exists", "web")
		r := e.BerthFail(125, "create", "--replace", img, "true")
		if !strings.Contains(r.Stderr, "cannot replace container without --name being set") {
			t.Errorf("create --replace without a name: %s", r.describe())
		}
		// a generated name, or another name, is fine beside it
		e.BerthOK("create", img, "true")
		e.BerthOK("create", "--name", "web2", img, "true")
		if got := foreignID(e, "web"); got != id {
			t.Fatalf("the buildah container web is %q, want %s", got, id)
		}
		// rename onto the foreign name is refused too, and changes nothing
		r = e.BerthFail(125, "rename", "web2", "web")
		if !strings.Contains(r.Stderr, "already in use") {
			t.Errorf("rename web2 web: %s", r.describe())
		}
		e.BerthOK("container", "exists", "web2")
		if got := foreignID(e, "web"); got != id {
			t.Fatalf("after a refused rename the buildah container web is %q, want %s", got, id)
		}
	})
}

func TestSharedStoreReplaceOwn(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		old := e.BerthOK("run", "-d", "--stop-timeout", "0", "--network", "host", "--name", "own", img, "sleep", "1000").Out()
		cur := e.BerthOK("run", "-d", "--replace", "--network", "host", "--name", "own", img, "sleep", "1000").Out()
		if cur == old || !isImageID(cur) {
			t.Fatalf("run --replace printed %q (old container %s)", cur, old)
		}
		if out := e.BerthOK("ps", "-a", "-q", "--no-trunc").Out(); out != cur {
			t.Fatalf("after run --replace, ps -a -q = %q, want only %s", out, cur)
		}
		if st := stateOf(e, "own"); st != "running" {
			t.Fatalf("replacing container is %q", st)
		}
		e.BerthFail(1, "container", "exists", old)
		// nothing to replace: --replace just creates
		fresh := e.BerthOK("create", "--replace", "--name", "fresh", img, "true").Out()
		e.BerthOK("container", "exists", fresh)
	})
}

func TestSharedStoreExternalContainers(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := foreignContainer(t, e, "web", img)
		mine := e.BerthOK("create", "--name", "mine", img, "true").Out()

		if out := e.BerthOK("ps", "-a", "--format", "{{.Names}}").Out(); out != "mine" {
			t.Errorf("ps -a without --external = %q, want only mine", out)
		}
		lines := e.BerthOK("ps", "-a", "--external", "--format", "{{.Names}} {{.Status}} {{.Command}} {{.State}} {{.Image}}").Lines()
		slices.Sort(lines)
		// podman 4.3's {{.State}} is for people too ("Created", "Up 2 seconds ago")
		want := []string{"mine Created true Created " + img, "web Storage buildah Storage " + img}
		if !slices.Equal(lines, want) {
			t.Errorf("ps -a --external = %q, want %q", lines, want)
		}
		ids := e.BerthOK("ps", "-a", "--external", "-q", "--no-trunc").Lines()
		slices.Sort(ids)
		wantIDs := []string{id, mine}
		slices.Sort(wantIDs)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("ps -a --external -q --no-trunc = %q, want %q", ids, wantIDs)
		}
		if out := e.BerthOK("ps", "--external", "-q").Out(); out != id[:12] {
			t.Errorf("ps --external -q (mine is not running) = %q, want %s", out, id[:12])
		}
		var js []struct {
			ID      string   `json:"Id"`
			Names   []string `json:"Names"`
			State   string   `json:"State"`
			Status  string   `json:"Status"`
			Command []string `json:"Command"`
		}
		if err := json.Unmarshal([]byte(e.BerthOK("ps", "--external", "--format", "json").Stdout), &js); err != nil {
			t.Fatal(err)
		}
		if len(js) != 1 || js[0].ID != id || !slices.Equal(js[0].Names, []string{"web"}) || js[0].State != "storage" ||
			js[0].Status != "Storage" || !slices.Equal(js[0].Command, []string{"buildah"}) {
			t.Errorf("ps --external --format json = %+v", js)
		}

		e.BerthFail(1, "container", "exists", "web")
		e.BerthFail(1, "container", "exists", id)
		e.BerthOK("container", "exists", "--external", "web")
		e.BerthOK("container", "exists", "--external", id[:12])
		e.BerthOK("container", "exists", "--external", "mine")
		e.BerthFail(1, "container", "exists", "--external", "nosuch")

		// rm -a removes berth's containers only
		if out := e.BerthOK("rm", "-a").Out(); out != mine {
			t.Errorf("rm -a printed %q, want %s", out, mine)
		}
		if got := foreignID(e, "web"); got != id {
			t.Fatalf("rm -a removed the buildah container (now %q)", got)
		}
		// naming it removes it, and rm prints what was typed
		if out := e.BerthOK("rm", "web").Out(); out != "web" {
			t.Errorf("rm web printed %q", out)
		}
		if got := foreignID(e, "web"); got != "" {
			t.Fatalf("rm web left the buildah container %s", got)
		}
		e.BerthFail(1, "container", "exists", "--external", "web")
		id2 := foreignContainer(t, e, "web2", img)
		if out := e.BerthOK("rm", id2[:12]).Out(); out != id2[:12] {
			t.Errorf("rm %s printed %q", id2[:12], out)
		}
		e.BerthFail(1, "container", "exists", "--external", id2)
		own := e.BerthOK("create", "--name", "own", img, "true").Out()
		if out := e.BerthOK("rm", own[:12]).Out(); out != own[:12] {
			t.Errorf("rm of berth's container by short ID printed %q", out)
		}
	})
}

func TestRmMissingContainer(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		r := e.BerthFail(1, "rm", "nosuch")
		if got := strings.TrimSpace(r.Stderr); got != `Error: no container with name or ID "nosuch" found: no such container` {
			t.Errorf("rm nosuch: %q", got)
		}
		if r := e.BerthOK("rm", "--force", "nosuch"); r.Stdout != "" || r.Stderr != "" {
			t.Errorf("rm --force nosuch: %s", r.describe())
		}
		e.BerthOK("rm", "--ignore", "nosuch")
		// one missing among others: the others go, exit 1
		e.BerthOK("create", "--name", "a", img, "true")
		r = e.BerthFail(1, "rm", "nosuch", "a")
		if r.Out() != "a" {
			t.Errorf("rm nosuch a printed %q", r.Stdout)
		}
		e.BerthFail(1, "container", "exists", "a")
		e.BerthFail(125, "rm")
		e.BerthFail(125, "rm", "-a", "a")
		cid := e.BerthOK("run", "-d", "--network", "host", img, "sleep", "1000").Out()
		r = e.BerthFail(2, "rm", cid)
		want := "Error: cannot remove container " + cid + " as it is running - running or paused containers cannot be removed without force: container state improper"
		if got := strings.TrimSpace(r.Stderr); got != want {
			t.Errorf("rm of a running container: %q, want %q", got, want)
		}
		if out := e.BerthOK("rm", "--depend", "-f", "-t", "0", cid).Out(); out != cid {
			t.Errorf("rm --depend -f printed %q", out)
		}
		// -l: the container created last, printed by its ID
		e.BerthOK("create", "--name", "older", img, "true")
		newest := e.BerthOK("create", "--name", "newest", img, "true").Out()
		if out := e.BerthOK("rm", "-l").Out(); out != newest {
			t.Errorf("rm -l printed %q, want the newest container %s", out, newest)
		}
		e.BerthOK("container", "exists", "older")
		e.BerthFail(125, "rm", "-l", "older")
		e.BerthFail(125, "rm", "-l", "-a")
		e.BerthOK("rm", "older")
		// a run --rm container goes by itself while rm -a -f stops it: fine
		for i := 0; i < 3; i++ {
			e.BerthOK("run", "--rm", "-d", "--network", "host", img, "sleep", "1000")
			e.BerthOK("rm", "-a", "-f")
			if out := e.BerthOK("ps", "-a", "-q").Out(); out != "" {
				t.Fatalf("rm -a -f left %q", out)
			}
		}
	})
}

func TestRmiOfImageUsedBySharedStore(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		imgID := e.BerthOK("image", "inspect", "--format", "{{.Id}}", img).Out()
		spare := e.ImportImage(e.TarFile("spare.tar", map[string]string{"a.txt": "a\n"}), "localhost/e2e/spare:1")
		id := foreignContainer(t, e, "web", img)
		e.BerthOK("run", "-d", "--network", "host", "--name", "mine", img, "sleep", "1000")

		second := e.ImportImage(e.TarFile("second.tar", map[string]string{"b.txt": "b\n"}), "localhost/e2e/second:1")
		id2 := foreignContainer(t, e, "web2", "localhost/e2e/second:1")

		// podman's report: what went, then every image in use, exit 2
		r := e.BerthFail(2, "rmi", "-a")
		if want := "Untagged: localhost/e2e/spare:1\nDeleted: " + spare; r.Out() != want {
			t.Errorf("rmi -a printed %q, want %q", r.Out(), want)
		}
		// img is used by two containers: either may be named
		const inUse = ": image is in use by a container: consider listing external containers and force-removing image"
		errLines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if len(errLines) != 3 || errLines[0] != "Error: 2 errors occurred:" ||
			!slices.Contains(errLines, "\t* image used by "+id2+inUse) ||
			!slices.ContainsFunc(errLines, func(l string) bool {
				return strings.HasPrefix(l, "\t* image used by ") && strings.HasSuffix(l, inUse) && !strings.Contains(l, id2)
			}) {
			t.Errorf("rmi -a stderr:\n%s\nwant podman's list of the 2 images in use", r.Stderr)
		}
		e.BerthOK("image", "exists", second)
		if got := foreignID(e, "web2"); got != id2 {
			t.Fatalf("rmi -a removed the buildah container web2 (now %q)", got)
		}
		if r := e.BerthOK("rmi", "-f", "localhost/e2e/nosuch"); r.Stdout != "" || r.Stderr != "" {
			t.Errorf("rmi -f of an unknown image: %s", r.describe())
		}
		e.BerthOK("image", "exists", img)
		if got := foreignID(e, "web"); got != id {
			t.Fatalf("rmi -a removed the buildah container (now %q)", got)
		}
		if st := stateOf(e, "mine"); st != "running" {
			t.Fatalf("after rmi -a berth's container is %q", st)
		}
		r = e.BerthFail(2, "rmi", img)
		if !strings.Contains(r.Stderr, "image is in use by a container") {
			t.Errorf("rmi of an image in use: %s", r.describe())
		}
		e.BerthOK("rm", "-f", "-t", "0", "mine")
		// only the buildah container uses it now
		r = e.BerthFail(2, "rmi", img)
		if want := "Error: image used by " + id + ": image is in use by a container: consider listing external containers and force-removing image"; strings.TrimSpace(r.Stderr) != want {
			t.Errorf("rmi of an image a buildah container uses: %q, want %q", strings.TrimSpace(r.Stderr), want)
		}
		e.BerthFail(2, "rmi", imgID)
		e.BerthOK("image", "exists", img)

		e.BerthOK("run", "-d", "--network", "host", "--name", "mine", img, "sleep", "1000")
		r = e.BerthOK("rmi", "-f", img)
		if !strings.Contains(r.Stdout, "Deleted: "+imgID) {
			t.Errorf("rmi -f: %s", r.describe())
		}
		e.BerthFail(1, "image", "exists", img)
		if got := foreignID(e, "web"); got != "" {
			t.Errorf("rmi -f left the buildah container %s", got)
		}
		if out := e.BerthOK("ps", "-a", "--external", "-q").Out(); out != id2[:12] {
			t.Errorf("rmi -f left containers: %q, want only web2 (%s)", out, id2[:12])
		}
	})
}

// TestCrashLeftoverStorageIsReplaced: a storage container berth made whose
// row is gone (a crash between the two) is berth's own: it shows as
// external, and a create of its name replaces it, unlike another tool's.
func TestCrashLeftoverStorageIsReplaced(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 is not installed (make deps installs it)")
	}
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		old := e.BerthOK("create", "--name", "ghost", img, "true").Out()
		// the crash: the row goes, the storage container stays
		if r := e.Run("sqlite3", filepath.Join(e.Root, "berth", "state.db"), "DELETE FROM containers WHERE id = '"+old+"'"); r.ExitCode != 0 {
			t.Fatalf("deleting the row: %s", r.describe())
		}
		if out := e.BerthOK("ps", "-a", "--external", "--format", "{{.ID}} {{.Names}} {{.Command}} {{.Status}}").Out(); out != old[:12]+" ghost storage Storage" {
			t.Fatalf("ps -a --external with a leftover: %q", out)
		}
		cur := e.BerthOK("create", "--name", "ghost", img, "true").Out()
		if out := e.BerthOK("ps", "-a", "--external", "-q", "--no-trunc").Out(); out != cur {
			t.Fatalf("after create over a leftover, ps -a --external -q = %q, want only %s", out, cur)
		}
	})
}
