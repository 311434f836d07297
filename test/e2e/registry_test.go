package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pushBusybox imports busybox into e's store, pushes it to a fresh
// repository of reg (with the given extra push flags, e.g. --creds) and
// returns the reference and the image ID.
func (e *Env) pushBusybox(reg *Registry, pushFlags ...string) (ref, id string) {
	e.T.Helper()
	id = e.BusyboxImage(busyboxName)
	ref = reg.Ref("busybox")
	args := append([]string{"push", "--tls-verify=false"}, pushFlags...)
	e.BerthOK(append(args, busyboxName, ref)...)
	return ref, id
}

// mustBeEmpty fails unless e's store has no images at all.
func (e *Env) mustBeEmpty() {
	e.T.Helper()
	if out := e.BerthOK("images", "-a", "-q").Out(); out != "" {
		e.T.Fatalf("want an empty store, images -a -q lists:\n%s", out)
	}
}

func TestPushPull(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref, id := e.pushBusybox(reg)
		e.BerthOK("rmi", busyboxName)
		e.mustBeEmpty()

		// Not a terminal: progress as plain lines, no escape sequences.
		r := e.BerthOK("pull", "--tls-verify=false", ref)
		if got := lastLine(r.Stdout); got != id {
			t.Errorf("pull printed %q as its last line, want the image ID %s (same as before the push)", got, id)
		}
		if strings.Contains(r.Stderr, "\x1b") || strings.Contains(r.Stdout, "\x1b") {
			t.Errorf("pull with output to a pipe printed escape sequences (a progress bar):\n%q", r.Stderr)
		}
		if !strings.Contains(r.Stderr, "Copying blob") || !strings.Contains(r.Stderr, "Writing manifest") {
			t.Errorf("pull did not report its progress as lines on stderr:\n%s", r.describe())
		}
		if got := e.BerthOK("images", "-q", "--no-trunc").Lines(); !slices.Equal(got, []string{"sha256:" + id}) {
			t.Errorf("after pull, images -q --no-trunc = %q, want [sha256:%s]", got, id)
		}
		if names := e.names(); !slices.Equal(names, []string{ref}) {
			t.Errorf("after pull, images = %q, want [%s]", names, ref)
		}

		// A second pull of what is there is fine and changes nothing.
		e.BerthOK("pull", "-q", "--tls-verify=false", ref)

		e.BerthOK("rmi", ref)
		r = e.BerthOK("pull", "-q", "--tls-verify=false", ref)
		if r.Stdout != id+"\n" {
			t.Errorf("pull -q printed %q, want only the ID %s", r.Stdout, id)
		}
		if strings.Contains(r.Stderr, "Copying") || strings.Contains(r.Stderr, "Trying to pull") {
			t.Errorf("pull -q printed progress:\n%s", r.Stderr)
		}

		// NAME:TAG@DIGEST pulls by the digest, as podman's does; untag of
		// that name leaves the tag.
		digest := e.BerthOK("inspect", "--format", "{{.Digest}}", ref).Out()
		if got := e.BerthOK("pull", "-q", "--tls-verify=false", ref+"@"+digest).Out(); got != id {
			t.Errorf("pull by tag@digest gave %q, want %s", got, id)
		}
		e.BerthOK("untag", ref, ref+"@"+digest)
		e.BerthOK("image", "exists", ref)

		// The image pulled back pushes again (to another repository).
		ref2 := reg.Ref("busybox-again")
		e.BerthOK("push", "-q", "--tls-verify=false", ref, "docker://"+ref2)
		e.BerthOK("rmi", ref)
		if got := lastLine(e.BerthOK("pull", "-q", "--tls-verify=false", "docker://"+ref2).Stdout); got != id {
			t.Errorf("pull of the re-pushed image gave %s, want %s", got, id)
		}
	})
}

func TestPullConcurrent(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref, id := e.pushBusybox(reg)
		e.BerthOK("rmi", busyboxName)
		e.mustBeEmpty()

		const n = 2
		results := make([]*Result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.Berth("pull", "-q", "--tls-verify=false", ref)
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r.ExitCode != 0 || r.Out() != id {
				t.Errorf("concurrent pull: want exit 0 and ID %s:\n%s", id, r.describe())
			}
		}
		if got := e.BerthOK("images", "-a", "-q", "--no-trunc").Lines(); !slices.Equal(got, []string{"sha256:" + id}) {
			t.Errorf("after two concurrent pulls, images -a -q = %q, want one ID sha256:%s", got, id)
		}
		if names := e.names(); !slices.Equal(names, []string{ref}) {
			t.Errorf("after two concurrent pulls, images = %q, want [%s]", names, ref)
		}

		// The same into a store that does not exist yet: both create it.
		fresh := newEnv(t, e.Mode)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = fresh.Berth("pull", "-q", "--tls-verify=false", ref)
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r.ExitCode != 0 || r.Out() != id {
				t.Errorf("concurrent pull into a new store: want exit 0 and ID %s:\n%s", id, r.describe())
			}
		}
		if got := fresh.BerthOK("images", "-a", "-q", "--no-trunc").Lines(); !slices.Equal(got, []string{"sha256:" + id}) {
			t.Errorf("after two concurrent pulls into a new store, images -a -q = %q, want one ID sha256:%s", got, id)
		}
	})
}

func TestLoginLogout(t *testing.T) {
	reg := startRegistry(t, true)
	forEachMode(t, func(t *testing.T, e *Env) { testLoginLogout(t, e, reg) })
	// As in a desktop or ssh session with systemd-logind.
	t.Run("rootless-xdg", func(t *testing.T) {
		e := newEnv(t, "rootless")
		e.UseXDGRuntimeDir()
		testLoginLogout(t, e, reg)
	})
}

func testLoginLogout(t *testing.T, e *Env, reg *Registry) {
	host := reg.Addr
	id := e.BusyboxImage(busyboxName)
	ref := reg.Ref("private")

	r := e.BerthFail(125, "push", "-q", "--tls-verify=false", busyboxName, ref)
	if !strings.Contains(r.Stderr, ": unauthorized: authentication required") {
		t.Errorf("push without credentials to a registry that requires them: want podman's \": unauthorized: authentication required\":\n%s", r.describe())
	}

	r = e.BerthFail(125, "login", "--tls-verify=false", "-u", reg.User, "-p", "wrong-password", host)
	if !strings.Contains(r.Stderr, "invalid username/password") {
		t.Errorf("login with a wrong password: want \"invalid username/password\":\n%s", r.describe())
	}
	r = e.Berth("login", "--tls-verify=false", "-u", reg.User, "-p", reg.Password, host)
	if r.ExitCode != 0 {
		t.Fatalf("login failed:\n%s", r.describe())
	}
	if !strings.Contains(r.Stdout, "Login Succeeded") {
		t.Errorf("login: want \"Login Succeeded!\":\n%s", r.describe())
	}
	if got := e.BerthOK("login", "--get-login", host).Out(); got != reg.User {
		t.Errorf("login --get-login = %q, want %q", got, reg.User)
	}

	// Logged in: push and pull need no --creds.
	e.BerthOK("push", "-q", "--tls-verify=false", busyboxName, ref)
	e.BerthOK("rmi", busyboxName)
	e.mustBeEmpty()
	if got := e.BerthOK("pull", "-q", "--tls-verify=false", ref).Out(); got != id {
		t.Errorf("pull after login = %q, want %s", got, id)
	}
	e.BerthOK("rmi", ref)

	// --password-stdin, as scripts log in.
	e.BerthOK("logout", host)
	e.BerthFail(125, "login", "--get-login", host)
	r = e.BerthIn(strings.NewReader(reg.Password+"\n"), "login", "--tls-verify=false", "-u", reg.User, "--password-stdin", host)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "Login Succeeded") {
		t.Errorf("login --password-stdin:\n%s", r.describe())
	}

	r = e.BerthOK("logout", host)
	if !strings.Contains(r.Stdout, "Removed login credentials for "+host) {
		t.Errorf("logout: unexpected output:\n%s", r.describe())
	}
	r = e.BerthFail(125, "pull", "-q", "--tls-verify=false", ref)
	if !hasAuthError(r.Stderr) {
		t.Errorf("pull after logout: want an authentication error:\n%s", r.describe())
	}
	e.mustBeEmpty()
	e.BerthFail(125, "logout", host) // not logged in any more

	// --creds works without a login.
	r = e.BerthOK("pull", "-q", "--tls-verify=false", "--creds", reg.User+":"+reg.Password, ref)
	if r.Out() != id {
		t.Errorf("pull --creds = %q, want %s", r.Out(), id)
	}
	r = e.BerthFail(125, "pull", "-q", "--tls-verify=false", "--creds", reg.User+":nope", ref)
	if !hasAuthError(r.Stderr) {
		t.Errorf("pull with wrong --creds: want an authentication error:\n%s", r.describe())
	}
}

func hasAuthError(stderr string) bool {
	s := strings.ToLower(stderr)
	return strings.Contains(s, "unauthorized") || strings.Contains(s, "authentication required") ||
		strings.Contains(s, "invalid username/password")
}

func TestPullErrors(t *testing.T) {
	reg := sharedRegistry(t, false)
	closedPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	forEachMode(t, func(t *testing.T, e *Env) {
		t.Run("invalid reference", func(t *testing.T) {
			r := e.BerthFail(125, "pull", "Inv@lid")
			if !strings.Contains(r.Stderr, "Inv@lid") || !strings.Contains(r.Stderr, "invalid reference format") {
				t.Errorf("want a message naming the reference and saying it is invalid:\n%s", r.describe())
			}
		})
		t.Run("unknown transport", func(t *testing.T) {
			r := e.BerthFail(125, "pull", "foo://x")
			if !strings.Contains(r.Stderr, "foo") {
				t.Errorf("want a message naming the transport:\n%s", r.describe())
			}
		})
		t.Run("registry down", func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", closedPort)
			start := time.Now()
			r := e.BerthFail(125, "pull", "--tls-verify=false", addr+"/e2e/nothing:latest")
			if !strings.Contains(r.Stderr, addr) {
				t.Errorf("want the registry's address %s in the message:\n%s", addr, r.describe())
			}
			if !strings.Contains(r.Stderr, "connection refused") {
				t.Errorf("want the reason (connection refused) in the message:\n%s", r.describe())
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("pull from a closed port took %s", d)
			}
		})
		t.Run("no such image", func(t *testing.T) {
			ref := reg.Ref("never-pushed")
			r := e.BerthFail(125, "pull", "--tls-verify=false", ref)
			if !strings.Contains(r.Stderr, ref) || !strings.Contains(r.Stderr, "manifest unknown") {
				t.Errorf("want the reference and \"manifest unknown\" in the message:\n%s", r.describe())
			}
		})
		t.Run("push of a missing image", func(t *testing.T) {
			r := e.BerthFail(125, "push", "--tls-verify=false", "localhost/e2e/nosuch:latest", reg.Ref("nosuch"))
			if !strings.Contains(r.Stderr, "nosuch") {
				t.Errorf("want the image's name in the message:\n%s", r.describe())
			}
		})
		t.Run("tls", func(t *testing.T) {
			// The registry speaks plain HTTP: with TLS verification (the
			// default for a non-localhost-by-name registry) the pull fails.
			r := e.BerthFail(125, "pull", reg.Ref("busybox"))
			if !strings.Contains(r.Stderr, reg.Addr) {
				t.Errorf("want the registry's address in the message:\n%s", r.describe())
			}
		})
		e.mustBeEmpty() // failed pulls leave nothing behind
	})
}

func TestPullSignaturePolicy(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref, _ := e.pushBusybox(reg)
		e.BerthOK("rmi", busyboxName)
		reject := e.WriteFile("reject.json", `{"default":[{"type":"reject"}]}`)
		r := e.BerthFail(125, "pull", "--tls-verify=false", "--signature-policy", reject, ref)
		if !strings.Contains(r.Stderr, "rejected") {
			t.Errorf("pull with a rejecting policy: want \"rejected\" in the message:\n%s", r.describe())
		}
		e.BerthFail(1, "image", "exists", ref)
		e.mustBeEmpty()

		accept := e.WriteFile("accept.json", `{"default":[{"type":"insecureAcceptAnything"}]}`)
		e.BerthOK("pull", "-q", "--tls-verify=false", "--signature-policy", accept, ref)

		bad := e.WriteFile("broken.json", `{"default": [`)
		e.BerthOK("rmi", ref)
		r = e.BerthFail(125, "pull", "--tls-verify=false", "--signature-policy", bad, ref)
		if !strings.Contains(r.Stderr, "policy") {
			t.Errorf("pull with a broken policy file: want a message about the policy:\n%s", r.describe())
		}
	})
}

func TestPullShortName(t *testing.T) {
	reg := sharedRegistry(t, false)
	forEachMode(t, func(t *testing.T, e *Env) {
		ref, id := e.pushBusybox(reg)
		e.BerthOK("rmi", busyboxName)
		short := strings.TrimPrefix(ref, reg.Addr+"/") // e2e/busybox-N:latest

		conf := e.WriteFile("registries.conf", fmt.Sprintf(`unqualified-search-registries = [%q]

[[registry]]
location = %q
insecure = true
`, reg.Addr, reg.Addr))
		r := e.BerthOK("--registries-conf", conf, "pull", short)
		if got := lastLine(r.Stdout); got != id {
			t.Errorf("pull %s via the search registry printed %q, want %s", short, got, id)
		}
		if !strings.Contains(r.Stderr, "Trying to pull "+ref) {
			t.Errorf("pull of a short name should say which candidate it tries:\n%s", r.describe())
		}
		if names := e.names(); !slices.Equal(names, []string{ref}) {
			t.Errorf("images = %q, want the fully qualified [%s]", names, ref)
		}
		noSearch := e.WriteFile("empty-registries.conf", "unqualified-search-registries = []\n")
		e.BerthOK("rmi", ref)
		r = e.BerthFail(125, "--registries-conf", noSearch, "pull", short)
		if !strings.Contains(r.Stderr, "short-name") {
			t.Errorf("a short name without search registries: want podman's \"short-name ...\" message:\n%s", r.describe())
		}
		e.mustBeEmpty()

		// A short name finds a local image by the end of its repository
		// path, as podman's does.
		e.BerthOK("--registries-conf", conf, "pull", "-q", short)
		if r := e.Berth("image", "exists", short); r.ExitCode != 0 {
			t.Errorf("image exists %s:\n%s", short, r.describe())
		}
		e.BerthOK("rmi", short)
		e.mustBeEmpty()
	})
}

var debianSeed struct {
	once    sync.Once
	ref, id string
}

// debianInRegistry pushes the debian rootfs image to the shared registry
// once per test process and returns its reference and ID.
func debianInRegistry(t *testing.T) (ref, id string) {
	t.Helper()
	debianSeed.once.Do(func() {
		reg := sharedRegistry(t, false)
		e := newEnv(t, "root")
		tarball := debianRootfsTar(t)
		id := e.ImportImage(tarball, "localhost/e2e/debian:bookworm")
		ref := reg.Ref("debian")
		e.BerthOK("push", "-q", "--tls-verify=false", "localhost/e2e/debian:bookworm", ref)
		debianSeed.ref, debianSeed.id = ref, id
	})
	if debianSeed.ref == "" {
		t.Fatal("pushing the debian image to the test registry failed earlier")
	}
	return debianSeed.ref, debianSeed.id
}

func TestPullKilled(t *testing.T) {
	ref, id := debianInRegistry(t)
	forEachMode(t, func(t *testing.T, e *Env) {
		// Kill -9 at a few random moments (0.2-1.5 s: resolving, fetching,
		// extracting, committing); each time the store must hold either
		// the complete, named image or nothing.
		for round := 0; round < 3; round++ {
			delay := time.Duration(200+rand.IntN(1300)) * time.Millisecond
			var stdout, stderr bytes.Buffer
			cmd := e.Start(&stdout, &stderr, "pull", "--tls-verify=false", ref)
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			t.Logf("killed berth pull after %s: %v\nstderr:\n%s", delay, err, indent(stderr.String()))

			r := e.Berth("images", "-a", "-q", "--no-trunc")
			if r.ExitCode != 0 {
				t.Fatalf("images after killing a pull:\n%s", r.describe())
			}
			ids := r.Lines()
			switch {
			case len(ids) == 0:
			case slices.Equal(ids, []string{"sha256:" + id}):
				if names := e.names(); !slices.Equal(names, []string{ref}) {
					t.Errorf("after killing a pull, the image is there but named %q, want [%s]", names, ref)
				}
				t.Logf("the pull finished before the kill")
				e.BerthOK("rmi", ref)
			default:
				t.Errorf("after killing a pull, images -a -q = %q, want nothing or sha256:%s", ids, id)
			}
			e.BerthOK("images")
		}

		r := e.BerthOK("pull", "-q", "--tls-verify=false", ref)
		if r.Out() != id {
			t.Errorf("pull after the killed ones printed %q, want %s", r.Out(), id)
		}
		if got := e.BerthOK("images", "-a", "-q", "--no-trunc").Lines(); !slices.Equal(got, []string{"sha256:" + id}) {
			t.Errorf("after the complete pull, images -a -q = %q, want [sha256:%s]", got, id)
		}
		if names := e.names(); !slices.Equal(names, []string{ref}) {
			t.Errorf("after the complete pull, images = %q, want [%s]", names, ref)
		}
		e.BerthOK("rmi", ref)
		e.mustBeEmpty()
	})
}
