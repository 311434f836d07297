package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const busyboxName = "localhost/e2e/busybox:latest"

// names lists "repository:tag" of every row of `berth images`.
func (e *Env) names() []string {
	e.T.Helper()
	return e.BerthOK("images", "--format", "{{.Repository}}:{{.Tag}}").Lines()
}

func TestImagesList(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		id := e.BusyboxImage(busyboxName)
		short := id[:12]

		t.Run("table", func(t *testing.T) {
			lines := e.BerthOK("images").Lines()
			if len(lines) != 2 {
				t.Fatalf("want a header and one row, got:\n%s", strings.Join(lines, "\n"))
			}
			if !regexp.MustCompile(`^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$`).MatchString(lines[0]) {
				t.Errorf("header = %q, want REPOSITORY  TAG  IMAGE ID  CREATED  SIZE", lines[0])
			}
			fields := strings.Fields(lines[1])
			if len(fields) < 5 || fields[0] != "localhost/e2e/busybox" || fields[1] != "latest" || fields[2] != short {
				t.Errorf("row = %q, want localhost/e2e/busybox  latest  %s ...", lines[1], short)
			}
			// The header's columns line up with the row's.
			if i := strings.Index(lines[0], "IMAGE ID"); i < 0 || !strings.HasPrefix(lines[1][i:], short) {
				t.Errorf("IMAGE ID column is not aligned:\n%s\n%s", lines[0], lines[1])
			}
			noHead := e.BerthOK("images", "--noheading").Lines()
			if len(noHead) != 1 || strings.Contains(noHead[0], "REPOSITORY") {
				t.Errorf("images --noheading = %q, want just the row", noHead)
			}
		})

		t.Run("quiet", func(t *testing.T) {
			if got := e.BerthOK("images", "-q").Lines(); !slices.Equal(got, []string{short}) {
				t.Errorf("images -q = %q, want [%s]", got, short)
			}
			if got := e.BerthOK("images", "-q", "--no-trunc").Lines(); !slices.Equal(got, []string{"sha256:" + id}) {
				t.Errorf("images -q --no-trunc = %q, want [sha256:%s]", got, id)
			}
		})

		t.Run("format", func(t *testing.T) {
			if got := e.BerthOK("images", "--format", "{{.ID}}").Lines(); !slices.Equal(got, []string{short}) {
				t.Errorf("images --format {{.ID}} = %q, want [%s]", got, short)
			}
			got := e.BerthOK("images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}").Out()
			if want := "localhost/e2e/busybox latest " + short; got != want {
				t.Errorf("images --format = %q, want %q", got, want)
			}
		})

		t.Run("json", func(t *testing.T) {
			out := e.BerthOK("images", "--format", "json").Stdout
			var list []struct {
				ID       string   `json:"Id"`
				RepoTags []string `json:"RepoTags"`
				Names    []string `json:"Names"`
				Size     int64    `json:"Size"`
				Created  int64    `json:"Created"`
				Dangling bool     `json:"Dangling"`
			}
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatalf("images --format json does not parse: %v\n%s", err, out)
			}
			if len(list) != 1 {
				t.Fatalf("images --format json has %d images, want 1:\n%s", len(list), out)
			}
			img := list[0]
			if img.ID != id {
				t.Errorf("Id = %q, want %q", img.ID, id)
			}
			if !slices.Contains(img.Names, busyboxName) || !slices.Contains(img.RepoTags, busyboxName) {
				t.Errorf("Names = %q, RepoTags = %q, want both to contain %s", img.Names, img.RepoTags, busyboxName)
			}
			if img.Size <= 1<<20 {
				t.Errorf("Size = %d, want more than 1 MiB (busybox is about 2 MB)", img.Size)
			}
			if img.Created == 0 || img.Dangling {
				t.Errorf("Created = %d, Dangling = %v: want a creation time and not dangling", img.Created, img.Dangling)
			}
		})

		t.Run("no-trunc", func(t *testing.T) {
			out := e.BerthOK("images", "--no-trunc").Stdout
			if !strings.Contains(out, "sha256:"+id) {
				t.Errorf("images --no-trunc does not show sha256:%s:\n%s", id, out)
			}
			if out := e.BerthOK("images").Stdout; strings.Contains(out, id) {
				t.Errorf("images shows the full ID without --no-trunc:\n%s", out)
			}
		})

		t.Run("filters", func(t *testing.T) {
			tiny := e.ImportImage(e.TarFile("tiny.tar", map[string]string{"hello.txt": "hello\n"}), "localhost/e2e/tiny:1")
			if tiny == id {
				t.Fatalf("two different rootfs tarballs gave the same image ID %s", id)
			}
			check := func(want []string, args ...string) {
				t.Helper()
				got := e.BerthOK(append([]string{"images", "-q", "--no-trunc"}, args...)...).Lines()
				for i := range got {
					got[i] = strings.TrimPrefix(got[i], "sha256:")
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("images %s = %q, want %q", strings.Join(args, " "), got, want)
				}
			}
			check([]string{id, tiny})
			check([]string{id}, "--filter", "reference=localhost/e2e/busybox")
			check([]string{id}, "--filter", "reference=busybox")
			check([]string{id}, "--filter", "reference=*box:latest")
			check([]string{tiny}, "--filter", "reference=tiny:1")
			check(nil, "--filter", "reference=tiny:2")
			check([]string{id, tiny}, "--filter", "reference=localhost/e2e/*")
			check(nil, "--filter", "dangling=true")
			check([]string{id, tiny}, "--filter", "dangling=false")
			check([]string{tiny}, "--filter", "id="+tiny[:10])

			// Without names the tiny image is dangling.
			e.BerthOK("untag", "localhost/e2e/tiny:1")
			check([]string{tiny}, "--filter", "dangling=true")
			check([]string{id}, "--filter", "dangling=false")
			rows := e.BerthOK("images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}", "--filter", "dangling=true").Lines()
			if want := "<none> <none> " + tiny[:12]; !slices.Equal(rows, []string{want}) {
				t.Errorf("dangling image rows = %q, want [%q]", rows, want)
			}

			r := e.Berth("images", "--filter", "bogus=1")
			if r.ExitCode != 125 || !strings.Contains(r.Stderr, "bogus") {
				t.Errorf("an unknown filter must fail with exit 125 naming it:\n%s", r.describe())
			}
		})
	})
}

func TestTagUntag(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		id := e.BusyboxImage(busyboxName)

		e.BerthOK("tag", busyboxName, "localhost/e2e/busybox:v2", "registry.example.com/team/bb:1.0")
		e.BerthOK("tag", id[:12], "shortname:3")
		names := e.names()
		for _, want := range []string{busyboxName, "localhost/e2e/busybox:v2", "registry.example.com/team/bb:1.0", "localhost/shortname:3"} {
			if !slices.Contains(names, want) {
				t.Errorf("after tag, images lists %q, want %s among them", names, want)
			}
		}
		if ids := e.BerthOK("images", "-q").Lines(); !slices.Equal(ids, []string{id[:12]}) {
			t.Errorf("one image with four names: images -q = %q, want [%s]", ids, id[:12])
		}
		e.BerthOK("image", "exists", "localhost/e2e/busybox:v2")
		e.BerthOK("image", "exists", "shortname:3")

		e.BerthOK("untag", id, "localhost/e2e/busybox:v2")
		e.BerthOK("untag", busyboxName, "shortname:3")
		names = e.names()
		for _, gone := range []string{"localhost/e2e/busybox:v2", "localhost/shortname:3"} {
			if slices.Contains(names, gone) {
				t.Errorf("after untag, images still lists %s: %q", gone, names)
			}
		}
		if !slices.Contains(names, busyboxName) || !slices.Contains(names, "registry.example.com/team/bb:1.0") {
			t.Errorf("untag removed other names too: %q", names)
		}
		e.BerthFail(1, "image", "exists", "localhost/e2e/busybox:v2")
		e.BerthOK("image", "exists", id)

		// untag without names removes them all; the image stays, dangling.
		e.BerthOK("untag", id)
		if names := e.names(); !slices.Equal(names, []string{"<none>:<none>"}) {
			t.Errorf("after untag of all names, images = %q, want [<none>:<none>]", names)
		}
		if got := e.BerthOK("images", "-q", "--filter", "dangling=true").Lines(); !slices.Equal(got, []string{id[:12]}) {
			t.Errorf("images -q --filter dangling=true = %q, want [%s]", got, id[:12])
		}
		e.BerthFail(1, "image", "exists", busyboxName)

		e.BerthFail(125, "tag", "localhost/e2e/nosuch:latest", "localhost/x:1")
		e.BerthFail(125, "tag", id, "Invalid@@Name")
	})
}

func TestRmi(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		t.Run("unknown", func(t *testing.T) {
			r := e.BerthFail(1, "rmi", "localhost/e2e/nosuch:latest")
			if !strings.Contains(r.Stderr, "nosuch") {
				t.Errorf("rmi of an unknown image should name it:\n%s", r.describe())
			}
			e.BerthOK("rmi", "--ignore", "localhost/e2e/nosuch:latest")
			e.BerthFail(125, "rmi")
		})

		t.Run("by name", func(t *testing.T) {
			id := e.BusyboxImage(busyboxName)
			r := e.BerthOK("rmi", busyboxName)
			if !strings.Contains(r.Stdout, "Untagged: "+busyboxName) || !strings.Contains(r.Stdout, "Deleted: "+id) {
				t.Errorf("rmi output should report the untag and the deletion:\n%s", r.describe())
			}
			e.BerthFail(1, "image", "exists", busyboxName)
			e.BerthFail(1, "image", "exists", id)
			if out := e.BerthOK("images", "-a", "-q").Out(); out != "" {
				t.Errorf("images -a -q after rmi = %q, want nothing", out)
			}
			e.BerthFail(1, "rmi", busyboxName)
		})

		t.Run("two names", func(t *testing.T) {
			id := e.BusyboxImage(busyboxName)
			e.BerthOK("tag", busyboxName, "localhost/e2e/second:1")
			r := e.BerthOK("rmi", "localhost/e2e/second:1")
			if !strings.Contains(r.Stdout, "Untagged: localhost/e2e/second:1") || strings.Contains(r.Stdout, "Deleted") {
				t.Errorf("rmi of one of two names must only untag it:\n%s", r.describe())
			}
			e.BerthFail(1, "image", "exists", "localhost/e2e/second:1")
			e.BerthOK("image", "exists", busyboxName)
			if got := e.BerthOK("images", "-q").Lines(); !slices.Equal(got, []string{id[:12]}) {
				t.Errorf("images -q = %q, want [%s]", got, id[:12])
			}
			e.BerthOK("rmi", busyboxName)
			e.BerthFail(1, "image", "exists", id)
		})

		t.Run("all", func(t *testing.T) {
			a := e.BusyboxImage(busyboxName)
			b := e.ImportImage(e.TarFile("tiny.tar", map[string]string{"a.txt": "a\n"}), "localhost/e2e/tiny:1")
			e.BerthOK("tag", b, "localhost/e2e/tiny:2")
			if n := len(e.BerthOK("images", "-q").Lines()); n != 2 {
				t.Fatalf("want 2 images before rmi -a, have %d", n)
			}
			r := e.BerthOK("rmi", "-a")
			for _, id := range []string{a, b} {
				if !strings.Contains(r.Stdout, "Deleted: "+id) {
					t.Errorf("rmi -a did not report deleting %s:\n%s", id, r.describe())
				}
			}
			if out := e.BerthOK("images", "-a", "-q").Out(); out != "" {
				t.Errorf("images -a -q after rmi -a = %q, want nothing", out)
			}
			e.BerthOK("rmi", "-a") // nothing left: still fine
			e.BerthFail(125, "rmi", "-a", busyboxName)
		})
	})
}

func TestRmiOfImageInUse(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage("localhost/inuse:latest")
		e.BerthOK("run", "-d", "--name", "user", "--network", "host", "localhost/inuse:latest", "sleep", "1000")
		r := e.BerthFail(2, "rmi", "localhost/inuse:latest")
		if !strings.Contains(r.Stderr, "in use") {
			t.Fatalf("rmi of an image in use: %s", r.Stderr)
		}
		e.BerthOK("rmi", "-f", "localhost/inuse:latest")
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Fatalf("rmi -f left the container that used the image: %s", out)
		}
		e.BerthFail(1, "image", "exists", "localhost/inuse:latest")
	})
}
