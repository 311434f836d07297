package e2e

import (
	"strings"
	"testing"
)

// berthIn runs berth with args where mounts are visible: directly as root,
// inside `berth unshare` rootless (podman's rule for mount commands).
func berthIn(e *Env, script string) *Result {
	cmd := berthBinary + " --root " + e.Root + " --runroot " + e.RunRoot + " " + script
	if e.Rootless() {
		return e.Berth("unshare", "sh", "-c", cmd)
	}
	return e.Run("sh", "-c", cmd)
}

// image mount / unmount as podman's 060-mount.bats: a path with the
// image's files, the list of mounted images, unmount printing the ID once.
func TestImageMount(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := e.BerthOK("image", "inspect", "--format", "{{.Id}}", img).Out()
		if e.Rootless() {
			e.BerthFail(125, "image", "mount", img)
		}
		r := berthIn(e, "image mount "+img+" && test -x \"$("+berthBinary+" --root "+e.Root+" --runroot "+e.RunRoot+" image mount "+img+")/bin/busybox\" && echo has-busybox")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "has-busybox") {
			t.Fatalf("image mount: %s", r.describe())
		}
		if out := berthIn(e, "image mount").Out(); !strings.HasPrefix(out, img+" /") {
			t.Errorf("image mount with no image: %q, want %s and its path", out, img)
		}
		if out := berthIn(e, "image umount -f "+img).Out(); out != id {
			t.Errorf("image umount -f printed %q, want the image ID %s", out, id)
		}
		if out := berthIn(e, "image umount "+img).Out(); out != "" {
			t.Errorf("a second image umount printed %q", out)
		}
		if out := berthIn(e, "image mount").Out(); out != "" {
			t.Errorf("image mount after umount lists %q", out)
		}
		r = berthIn(e, "image umount no-such-image")
		if r.ExitCode != 125 || !strings.Contains(r.Stderr, "Error: no-such-image: image not known") {
			t.Errorf("image umount of a missing image: %s", r.describe())
		}
	})
}

// mount/umount of another tool's container (a buildah working container),
// listed by `mount` as podman lists it.
func TestMountExternalContainer(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		id := foreignContainer(t, e, "ext", img)
		out := berthIn(e, "mount ext && "+berthBinary+" --root "+e.Root+" --runroot "+e.RunRoot+" mount --notruncate").Out()
		lines := strings.Split(out, "\n")
		if len(lines) != 2 || !strings.HasSuffix(lines[0], "/merged") || lines[1] != id+"  "+lines[0] {
			t.Fatalf("mount of a buildah container, then the list: %q", out)
		}
		if out := berthIn(e, "umount ext").Out(); out != "ext" {
			t.Errorf("umount ext printed %q", out)
		}
		if out := berthIn(e, "mount --notruncate").Out(); out != "" {
			t.Errorf("after umount, mount lists %q", out)
		}
		if foreignID(e, "ext") != id {
			t.Errorf("mount/umount changed the buildah container")
		}
	})
}
