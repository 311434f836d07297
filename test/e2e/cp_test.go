package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCpSymlinkSwapRace: a container that keeps swapping a directory of its
// own with a symlink to "/" must never make `cp` read or write the host's
// files (the docker CVE-2018-15664 class): berth resolves and opens every
// path inside the container's root.
func TestCpSymlinkSwapRace(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		// A host directory with a secret, at a path that the container has
		// below /x: through the symlink /x -> /, a cp that resolved the
		// path on the host would reach the host's copy.
		secretDir := filepath.Join(e.Dir, "secret")
		e.WriteFile("secret/marker.txt", "HOST-ONLY-SECRET\n")
		e.WriteFile("secret/sub/marker.txt", "HOST-ONLY-SECRET\n")
		e.BerthOK("run", "-d", "--name", "swapper", "--network", "host", img, "sh", "-c",
			"mkdir -p /x"+secretDir+"/sub && echo container > /x"+secretDir+"/marker.txt && "+
				"echo container > /x"+secretDir+"/sub/marker.txt && "+
				"while :; do mv /x /x.dir; ln -s / /x; rm /x; mv /x.dir /x; done")
		into := e.WriteFile("into.txt", "from the host\n")
		// Bounded: 200 tries or 20 s, by three workers at once (each cp
		// takes a few hundred milliseconds).
		deadline := time.Now().Add(20 * time.Second)
		var mu sync.Mutex
		tries, copied := 0, 0
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			out := filepath.Join(e.Dir, fmt.Sprintf("out%d", w))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !t.Failed() && time.Now().Before(deadline) {
					mu.Lock()
					tries++
					i := tries
					mu.Unlock()
					if i > 200 {
						return
					}
					_ = os.RemoveAll(out)
					if err := mkdirOwned(out, 0o755, e.user); err != nil {
						t.Error(err)
						return
					}
					switch i % 5 {
					case 0, 4: // a directory (the widest window for the old race)
						if r := e.Berth("cp", "swapper:/x"+secretDir+"/sub", out+"/"); r.ExitCode == 0 {
							mu.Lock()
							copied++
							mu.Unlock()
						}
					case 1: // a directory as a tar on stdout
						r := e.Berth("cp", "swapper:/x"+secretDir, "-")
						if strings.Contains(r.Stdout, "HOST-ONLY-SECRET") {
							t.Errorf("try %d: cp to stdout archived the host's file:\n%s", i, tarList(r.Stdout))
						}
						if r.ExitCode == 0 {
							mu.Lock()
							copied++
							mu.Unlock()
						}
					case 2: // writing: a copy into /x/... must land in the container
						e.Berth("cp", into, "swapper:/x"+secretDir+"/")
						if _, err := os.Stat(filepath.Join(secretDir, "into.txt")); err == nil {
							t.Errorf("try %d: cp into the container wrote into the host's %s", i, secretDir)
						}
					default: // a file
						if r := e.Berth("cp", "swapper:/x"+secretDir+"/marker.txt", out+"/"); r.ExitCode == 0 {
							mu.Lock()
							copied++
							mu.Unlock()
						}
					}
					if err := findSecret(out); err != "" {
						t.Errorf("try %d: cp copied the host's file out of a container: %s", i, err)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%d tries, %d copies out succeeded", tries, copied)
		if copied == 0 && !t.Failed() {
			t.Fatal("no copy out of the swapping container succeeded: the test did not exercise cp")
		}
		e.BerthOK("rm", "-f", "-t", "0", "swapper")
	})
}

// findSecret returns a file below dir that holds the host-only secret.
func findSecret(dir string) string {
	found := ""
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("HOST-ONLY-SECRET")) {
			found = p
		}
		return nil
	})
	return found
}

func tarList(s string) string {
	var names []string
	tr := tar.NewReader(strings.NewReader(s))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name+": "+strings.TrimSpace(string(b)))
	}
	return strings.Join(names, "\n")
}

// TestCpRules checks cp against podman's rules for names, the container's
// states, stdin/stdout, owners, errors and exit codes.
func TestCpRules(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		cat := func(ctr, p string) string {
			t.Helper()
			return e.BerthOK("exec", ctr, "cat", p).Out()
		}
		e.BerthOK("run", "-d", "--name", "box", "--network", "host", "--workdir", "/var", img, "sh", "-c",
			"mkdir -p /var/sub /srv /tmp/d/inner && echo in-ctr > /tmp/d/inner/f && ln -s .. /tmp/d/inner/up && "+
				"ln -s /tmp/nonesuch /tmp/dangling && ln -s /etc /tmp/etclink && echo ctr-host > /etc/hostname; sleep 1000")
		waitFor(t, func() bool { return e.Berth("exec", "box", "test", "-L", "/tmp/etclink").ExitCode == 0 })
		f := e.WriteFile("hostfile", "from-host\n")
		e.WriteFile("dir/sub/a", "a\n")

		// host -> running container
		e.BerthOK("cp", f, "box:/tmp")
		e.BerthOK("cp", f, "box:/tmp/renamed")
		e.BerthOK("cp", f, "box:.")             // the working directory
		e.BerthOK("cp", f, "box:sub")           // relative to the working directory
		e.BerthOK("cp", f, "box:/tmp/dangling") // a symlink to nowhere names its target
		e.BerthOK("cp", filepath.Join(e.Dir, "dir")+"/.", "box:/newdir")
		e.BerthOK("cp", filepath.Join(e.Dir, "dir"), "box:/tmp")
		for p, want := range map[string]string{
			"/tmp/hostfile": "from-host", "/tmp/renamed": "from-host", "/var/hostfile": "from-host",
			"/var/sub/hostfile": "from-host", "/tmp/nonesuch": "from-host", "/newdir/sub/a": "a", "/tmp/dir/sub/a": "a",
		} {
			if got := cat("box", p); got != want {
				t.Errorf("%s in the container = %q, want %q", p, got, want)
			}
		}
		if owner := e.BerthOK("exec", "box", "stat", "-c", "%u:%g", "/tmp/hostfile").Out(); owner != "0:0" {
			t.Errorf("a file copied in belongs to %s, want the container's root 0:0", owner)
		}

		// running container -> host
		out := filepath.Join(e.Dir, "out")
		if err := mkdirOwned(out, 0o755, e.user); err != nil {
			t.Fatal(err)
		}
		e.BerthOK("cp", "box:/tmp/d", out)
		e.BerthOK("cp", "box:/tmp/d/.", out+"/contents")
		e.BerthOK("cp", "box:/tmp/d/inner/up", out+"/viaup")    // ".." resolved in the container
		e.BerthOK("cp", "box:/tmp/etclink/hostname", out+"/hn") // an absolute link, in the container's root
		for p, want := range map[string]string{
			"d/inner/f": "in-ctr\n", "contents/inner/f": "in-ctr\n", "viaup/inner/f": "in-ctr\n", "hn": "ctr-host\n",
		} {
			if b, err := os.ReadFile(filepath.Join(out, p)); err != nil || string(b) != want {
				t.Errorf("host %s = %q (%v), want %q", p, b, err, want)
			}
		}
		if st, err := os.Lstat(filepath.Join(out, "d/inner/up")); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("a symlink inside a copied directory is not copied as a symlink: %v", err)
		}

		// stdout and stdin
		names := tarList(e.BerthOK("cp", "box:/tmp/d", "-").Stdout)
		if !strings.Contains(names, "d/inner/f: in-ctr") {
			t.Errorf("cp to stdout:\n%s", names)
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Name: "fromtar.txt", Mode: 0o644, Size: 4, Uid: 1042, Gid: 1043, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte("tar\n")); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		e.BerthIn(bytes.NewReader(buf.Bytes()), "cp", "-a=false", "-", "box:/tmp/")
		if owner := e.BerthOK("exec", "box", "stat", "-c", "%u:%g", "/tmp/fromtar.txt").Out(); owner != "1042:1043" {
			t.Errorf("cp -a=false from stdin: owner %s, want the archive's 1042:1043", owner)
		}
		r := e.BerthIn(strings.NewReader("not a tar"), "cp", "-", "box:/tmp")
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "Error: source must be a (compressed) tar archive when copying from stdin") {
			t.Errorf("cp of a non-archive from stdin: %d %q", r.ExitCode, r.Stderr)
		}
		r = e.BerthIn(bytes.NewReader(buf.Bytes()), "cp", "-", "box:/tmp/hostfile")
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "Error: destination must be a directory when copying from stdin") {
			t.Errorf("cp from stdin onto a file: %d %q", r.ExitCode, r.Stderr)
		}

		// errors: podman's messages and exit code 125
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{[]string{f + "-no", "box:/tmp"}, `could not be found on the host`},
			{[]string{f, "box:/IdoNotExist/"}, `Error: "/IdoNotExist/" could not be found on container box: no such file or directory`},
			{[]string{"box:/IdoNotExist", out}, `Error: "/IdoNotExist" could not be found on container box: no such file or directory`},
			{[]string{filepath.Join(e.Dir, "dir"), "box:/tmp/hostfile"}, "Error: destination must be a directory when copying a directory"},
			{[]string{"box:/tmp/d", f}, "Error: destination must be a directory when copying a directory"},
			{[]string{f, out}, "Error: name or ID cannot be empty"},
			{[]string{"nosuch:/x", out}, `Error: container "nosuch" does not exist`},
			{[]string{"box:/tmp/hostfile", "/dev/null"}, `Error: invalid destination: "/dev/null" must be a directory or a regular file`},
			{[]string{"box:", out}, `you must specify paths`},
		} {
			r := e.BerthFail(125, append([]string{"cp"}, c.args...)...)
			if !strings.Contains(r.Stderr, c.msg) {
				t.Errorf("cp %v: stderr %q, want %q", c.args, r.Stderr, c.msg)
			}
		}

		// --overwrite: a directory replaces a file only when asked
		e.BerthOK("exec", "box", "sh", "-c", "echo file > /tmp/clash; mkdir -p /srv/x/clash")
		r = e.BerthFail(125, "cp", "box:/srv/x/clash", "box:/tmp")
		if !strings.Contains(r.Stderr, `error creating "/tmp/clash"`) || !strings.Contains(r.Stderr, "file exists") {
			t.Errorf("cp of a directory over a file: %q", r.Stderr)
		}
		e.BerthOK("cp", "--overwrite", "box:/srv/x/clash", "box:/tmp")
		e.BerthOK("exec", "box", "test", "-d", "/tmp/clash")

		// created container, to and from, with a --user: files copied in
		// belong to that user
		e.BerthOK("create", "--name", "created", "--user", "1000:1000", img, "sleep", "1000")
		e.BerthOK("cp", f, "created:/tmp/in-created")
		e.BerthOK("cp", "box:/tmp/d", "created:/tmp/")
		e.BerthOK("cp", "created:/tmp/d/inner/f", out+"/from-created")
		e.BerthOK("start", "created")
		if got := cat("created", "/tmp/in-created"); got != "from-host" {
			t.Errorf("copied into a created container: %q", got)
		}
		if owner := e.BerthOK("exec", "created", "stat", "-c", "%u:%g", "/tmp/in-created").Out(); owner != "1000:1000" {
			t.Errorf("a file copied into a --user 1000:1000 container belongs to %s", owner)
		}
		if b, _ := os.ReadFile(out + "/from-created"); string(b) != "in-ctr\n" {
			t.Errorf("copied out of a created container: %q", b)
		}
	})
}
