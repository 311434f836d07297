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

func requireNotSuggested(t *testing.T, got []string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		for _, g := range got {
			if g == u {
				t.Errorf("completion %q has %q", got, u)
			}
		}
	}
}

// Which containers and images each argument completes, as podman 4.3's
// completions: by container state (start: created or exited ones; stop,
// kill, attach, exec: running ones; init: created ones), only the first
// argument of one-container commands, image names with their path
// components dropped, and IDs once two characters are typed.
func TestCompletionByStateAndArgument(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("create", "--name", "made", img, "true")
		e.BerthOK("run", "-d", "--name", "up", "--network", "host", img, "sleep", "1000")
		e.BerthOK("run", "--name", "done", "--network", "host", img, "true")
		all := []string{"made", "up", "done"}
		for _, c := range []struct {
			args       []string
			want, nots []string
		}{
			{[]string{"start", ""}, []string{"made", "done"}, []string{"up"}},
			{[]string{"container", "start", ""}, []string{"made", "done"}, []string{"up"}},
			{[]string{"stop", ""}, []string{"up"}, []string{"made", "done"}},
			{[]string{"kill", ""}, []string{"up"}, []string{"made", "done"}},
			{[]string{"attach", ""}, []string{"up"}, []string{"made", "done"}},
			{[]string{"exec", ""}, []string{"up"}, []string{"made", "done"}},
			{[]string{"init", ""}, []string{"made"}, []string{"up", "done"}},
			{[]string{"rm", ""}, all, nil},
			{[]string{"rm", "made", ""}, all, nil},
			{[]string{"logs", ""}, all, nil},
			{[]string{"rename", ""}, all, nil},
			{[]string{"rename", "made", ""}, nil, all},
			{[]string{"export", "made", ""}, nil, all},
			{[]string{"commit", ""}, all, []string{img}},
			{[]string{"commit", "made", ""}, []string{img}, all},
			{[]string{"inspect", ""}, append([]string{img}, all...), nil},
			{[]string{"container", "inspect", ""}, all, []string{img}},
			{[]string{"rmi", ""}, []string{img}, all},
			{[]string{"image", "rm", ""}, []string{img}, all},
			{[]string{"rmi", "busy"}, []string{"busybox:latest"}, []string{img}},
			{[]string{"tag", img, ""}, []string{img}, nil},
			{[]string{"history", img, ""}, nil, []string{img}},
			{[]string{"ps", ""}, nil, all},
		} {
			got := complete(t, e, c.args...)
			requireSuggested(t, got, c.want...)
			requireNotSuggested(t, got, c.nots...)
		}
		// IDs once two characters are typed, as podman's short IDs
		id := e.BerthOK("inspect", "--format", "{{.Id}}", "made").Out()
		requireSuggested(t, complete(t, e, "rm", id[:3]), id[:12])
		requireNotSuggested(t, complete(t, e, "rm", id[:1]), id[:12])
		imgID := e.BerthOK("image", "inspect", "--format", "{{.Id}}", img).Out()
		requireSuggested(t, complete(t, e, "rmi", imgID[:3]), imgID[:12])
		requireNotSuggested(t, complete(t, e, "rmi", imgID[:1]), imgID[:12])
	})
}
