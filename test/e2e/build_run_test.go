package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The RUN side of build: --mount (cache, bind, tmpfs, secret), --network
// and here-documents, in the Containerfile cases of TestBuildDockerfiles.
func init() { buildCaseTables = append(buildCaseTables, buildRunCases) }

// runSecret is the content of the secret the cases pass; it must never
// appear in an image, its history or its configuration.
const (
	runSecret    = "berth-e2e-s3cr3t-7f1c"
	runEnvSecret = "berth-e2e-env-s3cr3t-93a0"
)

// sha256Line is what busybox sha256sum prints for s on its stdin: the
// Containerfile compares digests, so that it does not hold the secret.
func sha256Line(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:]) + "  -"
}

// secretFile writes the secret outside the build context and returns
// its path (the same for a given context).
func secretFile(ctx string) string {
	return filepath.Join(filepath.Dir(ctx), filepath.Base(ctx)+".secret")
}

func writeSecret(t *testing.T, e *Env, ctx string) {
	t.Helper()
	e.WriteFile(filepath.Base(secretFile(ctx)), runSecret)
}

var buildRunCases = []buildCase{
	{
		// a cache mount persists between steps and builds, keyed by id,
		// and nothing of it reaches the image
		name: "run-mount-cache",
		dockerfile: `FROM {{BASE}}
RUN --mount=type=cache,target=/var/cache/e2e,id=e2e-cache-a echo one >> /var/cache/e2e/log
RUN --mount=type=cache,target=/other,id=e2e-cache-a cat /other/log > /seen
RUN --mount=type=cache,target=/c2,id=e2e-cache-perm,mode=0710,uid=1000,gid=1001 stat -c '%a %u %g' /c2 > /perm
RUN --mount=type=cache,target=/ro,id=e2e-cache-a,ro sh -c 'touch /ro/x 2>/dev/null && echo writable || echo readonly' > /romode
RUN --mount=type=cache,target=/lk,id=e2e-cache-a,sharing=locked --mount=type=cache,target=/pv,id=e2e-cache-b,sharing=private cat /lk/log > /locked
`,
		run: map[string]string{
			"cat /seen":   "one",
			"cat /perm":   "710 1000 1001",
			"cat /romode": "readonly",
			"cat /locked": "one",
			"for d in /var/cache/e2e /other /c2 /ro /lk /pv; do test -e $d && echo $d; done; true": "",
		},
		after: func(t *testing.T, e *Env, ctx string) {
			// another build (and --no-cache) sees what the first wrote
			e.WriteFile(filepath.Join(filepath.Base(ctx), "Containerfile"), strings.ReplaceAll(`FROM {{BASE}}
RUN --mount=type=cache,target=/cache,id=e2e-cache-a echo two >> /cache/log && cat /cache/log
`, "{{BASE}}", buildBase))
			r := e.BerthOK("build", "--no-cache", "-t", "localhost/e2e/build-run-cache2", ctx)
			wantContains(t, "the second build's RUN output", r.Stdout, "one\ntwo\n")
			if got := e.runIn("localhost/e2e/build-run-cache2", "test -e /cache && echo present || echo absent"); got != "absent" {
				t.Errorf("the cache mount point is in the image: %q", got)
			}
		},
	},
	{
		// from= seeds a new cache from a stage's directory
		name: "run-mount-cache-from",
		dockerfile: `FROM {{BASE}} AS seed
RUN mkdir -p /seed && echo seeded > /seed/s
FROM {{BASE}}
RUN --mount=type=cache,target=/c,id=e2e-cache-seeded,from=seed,source=/seed cat /c/s > /got
`,
		run: map[string]string{"cat /got": "seeded", "test -e /c && echo present || echo absent": "absent"},
	},
	{
		// a bind mount of the context: read-only by default, without what
		// .dockerignore hides; rw writes are discarded; a relative target
		// is in the working directory
		name: "run-mount-bind-context",
		dockerfile: `FROM {{BASE}}
WORKDIR /w
RUN --mount=type=bind,target=ctx cat ctx/f.txt > /f && ls ctx/d > /ls && (touch ctx/new 2>/dev/null && echo writable || echo readonly) > /mode
RUN --mount=type=bind,source=d/x,target=/one cat /one > /one.txt
RUN --mount=type=bind,target=/rw,rw echo changed > /rw/f.txt && cat /rw/f.txt > /rwseen
`,
		files: map[string]string{"f.txt": "from-context\n", "d/x": "x\n", "d/skip.log": "ignored\n", ".dockerignore": "d/*.log\n"},
		run: map[string]string{
			"cat /f /ls /mode": "from-context\nx\nreadonly",
			"cat /one.txt":     "x",
			"cat /rwseen":      "changed",
			"ls -A /w; ls -d /rw /one 2>/dev/null; true": "",
		},
		after: func(t *testing.T, e *Env, ctx string) {
			if data, err := os.ReadFile(filepath.Join(ctx, "f.txt")); err != nil || string(data) != "from-context\n" {
				t.Errorf("a rw bind mount wrote into the context: %q %v", data, err)
			}
			build := func() string {
				return e.BerthOK("build", "-t", "localhost/e2e/build-run-bind", ctx).Stdout
			}
			// the bound files decide the cache: an ignored file does not
			e.WriteFile(filepath.Join(filepath.Base(ctx), "d/skip.log"), "changed\n")
			if out := build(); countCached(out) != 4 {
				t.Errorf("changing an ignored file rebuilt steps:\n%s", out)
			}
			e.WriteFile(filepath.Join(filepath.Base(ctx), "f.txt"), "edited\n")
			if out := build(); countCached(out) != 1 {
				t.Errorf("changing a bound file: %d cached steps, want 1 (WORKDIR):\n%s", countCached(out), out)
			}
			if got := e.runIn("localhost/e2e/build-run-bind", "cat /f"); got != "edited" {
				t.Errorf("after editing the context, /f = %q", got)
			}
		},
	},
	{
		// a bind mount cannot leave the context, by ../ or by a symlink
		name:       "run-mount-bind-escape",
		dockerfile: "FROM {{BASE}}\nRUN --mount=type=bind,source=../../../../etc/hostname,target=/h cat /h\n",
		wantCode:   125,
		stderr:     []string{`source "../../../../etc/hostname": no such file or directory in the build context`},
	},
	{
		name:       "run-mount-bind-escape-symlink",
		dockerfile: "FROM {{BASE}}\nRUN --mount=type=bind,source=up/hostname,target=/h cat /h\n",
		prepare: func(t *testing.T, e *Env, ctx string) {
			if err := os.Symlink("/etc", filepath.Join(ctx, "up")); err != nil {
				t.Fatal(err)
			}
		},
		wantCode: 125,
		stderr:   []string{`source "up/hostname": no such file or directory in the build context`},
	},
	{
		// from= binds a stage (built because the mount needs it) or an image
		name: "run-mount-bind-from",
		dockerfile: `FROM {{BASE}} AS maker
RUN echo built > /built
FROM {{BASE}} AS unused
RUN false
FROM {{BASE}}
RUN --mount=type=bind,from=maker,source=/built,target=/b cat /b > /copy
RUN --mount=from={{BASE}},target=/base,rw test -x /base/bin/busybox && touch /base/scratch && echo ok > /img
`,
		run: map[string]string{"cat /copy /img": "built\nok", "ls -d /b /base 2>/dev/null; true": ""},
	},
	{
		name: "run-mount-tmpfs",
		dockerfile: `FROM {{BASE}}
RUN --mount=type=tmpfs,target=/t,size=1m grep ' /t ' /proc/mounts > /m && echo gone > /t/f
`,
		run: map[string]string{"grep -o 'tmpfs /t tmpfs.*size=1024k' /m | cut -d' ' -f1-3; test -e /t && echo present; true": "tmpfs /t tmpfs"},
	},
	{
		// secrets: a file (default /run/secrets/ID, mode 0400), an
		// environment variable, from a file or berth's environment; a
		// missing optional one is skipped
		name: "run-mount-secret",
		dockerfile: `FROM {{BASE}}
RUN --mount=type=secret,id=tok test "$(sha256sum < /run/secrets/tok)" = "` + sha256Line(runSecret) + `" && stat -c '%a %u' /run/secrets/tok > /perm
RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0444,uid=1000 stat -c '%a %u' /etc/tok > /perm2
RUN --mount=type=secret,id=tok,env=TOK test "$(printf %s "$TOK" | sha256sum)" = "` + sha256Line(runSecret) + `" && test ! -e /run/secrets/tok && echo env > /env
RUN --mount=type=secret,id=fromenv,target=/e test "$(sha256sum < /e)" = "` + sha256Line(runEnvSecret) + `" && echo ok > /fromenv
RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo skipped > /absent
RUN --mount=type=secret,id=tok cat /run/secrets/tok >/dev/null
`,
		prepare: func(t *testing.T, e *Env, ctx string) {
			writeSecret(t, e, ctx)
			e.SetEnv("BERTH_E2E_RUN_SECRET", runEnvSecret)
		},
		flagsFn: func(ctx string) []string {
			return []string{"--secret", "id=tok,src=" + secretFile(ctx), "--secret", "id=fromenv,env=BERTH_E2E_RUN_SECRET"}
		},
		run: map[string]string{
			"cat /perm /perm2 /env /fromenv": "400 0\n444 1000\nenv\nok",
			"cat /absent":                    "skipped",
			"test -e /run/secrets && echo present; ls /etc/tok /e 2>/dev/null; true": "",
		},
		after: func(t *testing.T, e *Env, ctx string) {
			img := "localhost/e2e/build-run-mount-secret"
			hist := e.BerthOK("history", "--no-trunc", "--format", "{{.CreatedBy}}", img).Stdout
			wantContains(t, "history", hist, "--mount=type=secret,id=tok,env=TOK")
			for what, text := range map[string]string{
				"history": hist,
				"inspect": e.BerthOK("image", "inspect", img).Stdout,
			} {
				if strings.Contains(text, runSecret) || strings.Contains(text, runEnvSecret) {
					t.Errorf("the secret is in the image's %s:\n%s", what, text)
				}
			}
			archive := filepath.Join(e.Dir, "secret-image.tar")
			e.BerthOK("save", "-q", "--format", "docker-archive", "-o", archive, img)
			if where := archiveMentions(t, archive, runSecret, runEnvSecret); len(where) > 0 {
				t.Errorf("the secret is in the saved image: %v", where)
			}
			// the secret's content is not in the cache key: a changed secret
			// reuses the steps (as docker)
			e.WriteFile(filepath.Base(secretFile(ctx)), "another value")
			r := e.BerthOK("build", "--secret", "id=tok,src="+secretFile(ctx), "--secret", "id=fromenv,env=BERTH_E2E_RUN_SECRET", "-t", img, ctx)
			if n := countCached(r.Stdout); n != 6 {
				t.Errorf("a changed secret: %d steps cached, want 6:\n%s", n, r.Stdout)
			}
		},
	},
	{
		name:       "run-mount-secret-required",
		dockerfile: "FROM {{BASE}}\nRUN --mount=type=secret,id=nope,required true\n",
		wantCode:   125,
		stderr:     []string{`secret required but no secret with id "nope" found`},
	},
	{
		name:       "run-secret-bad-spec",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--secret", "src=/etc/hostname"},
		wantCode:   125,
		stderr:     []string{"incorrect secret flag format: should be --secret id=foo,src=bar[,env=ENV,type=file|env]"},
	},
	{
		name:       "run-secret-bad-type",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--secret", "id=a,type=bogus"},
		wantCode:   125,
		stderr:     []string{"invalid secret type, must be file or env"},
	},
	{
		name:       "run-secret-missing-file",
		dockerfile: "FROM {{BASE}}\nRUN true\n",
		flags:      []string{"--secret", "id=a,src=/nonexistent/secret"},
		wantCode:   125,
		stderr:     []string{"could not parse secrets: stat /nonexistent/secret: no such file or directory"},
	},
	{
		name:       "run-mount-ssh",
		dockerfile: "FROM {{BASE}}\nRUN --mount=type=ssh true\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2: RUN --mount=type=ssh is not supported yet"},
	},
	{
		name:       "run-mount-bad-option",
		dockerfile: "FROM {{BASE}}\nRUN --mount=type=cache,target=/c,sharing=bogus true\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2: RUN --mount", `unsupported sharing value "bogus"`},
	},
	{
		name:       "run-security-insecure",
		dockerfile: "FROM {{BASE}}\nRUN --security=insecure true\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2: RUN --security=insecure is not supported yet"},
	},
	{
		// RUN --network overrides build --network for its step
		name: "run-network",
		dockerfile: `FROM {{BASE}}
RUN readlink /proc/self/ns/net > /default
RUN --network=host readlink /proc/self/ns/net > /host
RUN --network=none readlink /proc/self/ns/net > /none && ls /sys/class/net > /nets
RUN --network=default readlink /proc/self/ns/net > /default2
`,
		flags: []string{"--network", "none"},
		run:   map[string]string{"cat /nets": "lo"},
		after: func(t *testing.T, e *Env, ctx string) {
			host := e.Run("readlink", "/proc/self/ns/net").Out()
			got := map[string]string{}
			for _, f := range []string{"default", "host", "none", "default2"} {
				got[f] = e.runIn("localhost/e2e/build-run-network", "cat /"+f)
			}
			if got["host"] != host {
				t.Errorf("RUN --network=host ran in %s, want the host's %s", got["host"], host)
			}
			for _, f := range []string{"default", "none", "default2"} {
				if got[f] == host || got[f] == "" {
					t.Errorf("with build --network none, the %s step ran in %q (host: %s)", f, got[f], host)
				}
			}
		},
	},
	{
		// here-documents, as docker runs them
		name: "run-heredoc",
		dockerfile: "FROM {{BASE}}\n" +
			"ENV WHO=world\n" +
			"RUN <<EOF\necho hello $WHO > /lone\necho second line >> /lone\nEOF\n" +
			"RUN <<EOF\n#!/bin/sh\necho \"$0\" > /shebang\nEOF\n" +
			"RUN <<-EOF\n\techo chomped > /chomp\n\tEOF\n" +
			"RUN cat <<\"EOF\" > /quoted\n$WHO stays\nEOF\n" +
			"RUN cat <<EOF > /unquoted\n$WHO expanded\nEOF\n" +
			"RUN cat <<-EOF > /tabs\n\tno tab\n\tEOF\n" +
			"RUN sh <<EOF\necho via stdin > /stdin\nEOF\n" +
			"RUN cat <<A > /a && cat <<B > /b\nfirst\nA\nsecond\nB\n",
		run: map[string]string{
			"cat /lone":     "hello world\nsecond line",
			"cat /shebang":  "/dev/pipes/EOF",
			"cat /chomp":    "chomped",
			"cat /quoted":   "$WHO stays",
			"cat /unquoted": "world expanded",
			"cat /tabs":     "no tab",
			"cat /stdin":    "via stdin",
			"cat /a /b":     "first\nsecond",
		},
		after: func(t *testing.T, e *Env, ctx string) {
			img := "localhost/e2e/build-run-heredoc"
			hist := e.BerthOK("history", "--no-trunc", "--format", "{{.CreatedBy}}", img).Stdout
			wantContains(t, "history", hist, "/bin/sh -c <<EOF\necho hello $WHO > /lone\necho second line >> /lone\n")
			wantContains(t, "history", hist, "/bin/sh -c cat <<A > /a && cat <<B > /b\nfirst\nsecond\n")
			// the here-document is part of the step's cache key
			e.WriteFile(filepath.Join(filepath.Base(ctx), "Containerfile"), strings.ReplaceAll("FROM {{BASE}}\nENV WHO=world\nRUN <<EOF\necho bye $WHO > /lone\nEOF\n", "{{BASE}}", buildBase))
			r := e.BerthOK("build", "-t", img, ctx)
			if n := countCached(r.Stdout); n != 1 {
				t.Errorf("another here-document: %d steps cached, want 1 (ENV):\n%s", n, r.Stdout)
			}
			if got := e.runIn(img, "cat /lone"); got != "bye world" {
				t.Errorf("/lone = %q after changing the here-document", got)
			}
		},
	},
}

// archiveMentions lists the entries of a tar archive (and of the layer
// tarballs in it, compressed or not) whose content contains one of the
// strings.
func archiveMentions(t *testing.T, path string, needles ...string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	var scan func(name string, data []byte, depth int)
	scan = func(name string, data []byte, depth int) {
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				data = plain
			}
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				found = append(found, name)
				break
			}
		}
		if depth > 1 {
			return
		}
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			h, err := tr.Next()
			if err != nil {
				return
			}
			content, err := io.ReadAll(tr)
			if err != nil {
				return
			}
			scan(name+"!"+h.Name, content, depth+1)
		}
	}
	scan(filepath.Base(path), data, 0)
	return found
}
