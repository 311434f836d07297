package e2e

import (
	"strings"
	"testing"
)

// complete runs berth's shell completion for args (the last is the word
// being completed) and returns the suggestions.
func complete(t *testing.T, e *Env, args ...string) []string {
	t.Helper()
	r := e.BerthOK(append([]string{"__completeNoDesc"}, args...)...)
	var out []string
	for _, l := range strings.Split(r.Out(), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "Completion ended") {
			out = append(out, l)
		}
	}
	return out
}

func requireSuggested(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("completion %q lacks %q", got, w)
		}
	}
}

// Completion as podman's: image names, then paths inside the image for
// run/create; CONTAINER: and paths inside the container for cp, resolved in
// the container's root (a symbolic link to a host path shows nothing of the
// host).
func TestShellCompletion(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		requireSuggested(t, complete(t, e, "run", "localhost/busy"), img)
		for _, cmd := range []string{"create", "run"} {
			requireSuggested(t, complete(t, e, cmd, img, ""), "/etc/", "/bin/")
			requireSuggested(t, complete(t, e, cmd, img, "/etc"), "/etc/passwd")
			requireSuggested(t, complete(t, e, cmd, img, "/etc/pas"), "/etc/passwd")
			requireSuggested(t, complete(t, e, cmd, img, "../../"), "../../etc/", "../../bin/")
		}
		e.WriteFile("host-secret", "not for containers")
		e.BerthOK("run", "--name", "comp", "--network", "host", img, "sh", "-c",
			"touch /tmp/afile /tmp/afile2 && mkdir /emptydir && ln -s "+e.Dir+" /esc")
		requireSuggested(t, complete(t, e, "cp", ""), "comp:")
		requireSuggested(t, complete(t, e, "cp", "comp:"), "comp:/etc/", "comp:/tmp/")
		requireSuggested(t, complete(t, e, "cp", "comp:/tmp/afile"), "comp:/tmp/afile", "comp:/tmp/afile2")
		requireSuggested(t, complete(t, e, "cp", "comp:/emptydir"), "comp:/emptydir/")
		for _, s := range complete(t, e, "cp", "comp:/esc/") {
			if strings.Contains(s, "host-secret") {
				t.Fatalf("cp completion followed a symbolic link out of the container: %q", s)
			}
		}
		requireSuggested(t, complete(t, e, "start", "co"), "comp")
	})
}
