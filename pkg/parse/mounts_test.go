package parse

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func checkMount(t *testing.T, fn string, in string, got Mount, err error, want Mount, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s(%q) error = %v, want %q", fn, in, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Errorf("%s(%q): %v", fn, in, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s(%q) =\n %+v\nwant\n %+v", fn, in, got, want)
	}
}

func TestVolume(t *testing.T) {
	cwd, _ := os.Getwd()
	tests := []struct {
		in   string
		want Mount
		err  string
	}{
		{in: "/host:/ctr", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr"}},
		{in: "/host/:/ctr/", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr"}},
		{in: "/host:/ctr:ro", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr", Options: []string{"ro"}}},
		{in: "/host:/ctr:ro,Z,rslave,noexec,nosuid,nodev", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr", Options: []string{"ro", "rslave", "noexec", "nosuid", "nodev"}, Relabel: "Z"}},
		{in: "/host:/ctr:z,U,bind", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr", Options: []string{"bind"}, Relabel: "z", Chown: true}},
		{in: "/host:/ctr:O", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr", Overlay: true}},
		{in: "/host:/ctr:O,upperdir=/u,workdir=/w", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr", Overlay: true, UpperDir: "/u", WorkDir: "/w"}},
		{in: "/host:/ctr:idmap", want: Mount{Type: "bind", Source: "/host", Destination: "/ctr", Options: []string{"idmap"}}},
		{in: "./sub:/ctr", want: Mount{Type: "bind", Source: filepath.Join(cwd, "sub"), Destination: "/ctr"}},
		{in: ".:/ctr", want: Mount{Type: "bind", Source: cwd, Destination: "/ctr"}},
		{in: "vol1:/data", want: Mount{Type: "volume", Source: "vol1", Destination: "/data"}},
		{in: "my_vol.2-x:/data:ro,nocopy", want: Mount{Type: "volume", Source: "my_vol.2-x", Destination: "/data", Options: []string{"ro"}, NoCopy: true}},
		{in: "rel:/a:ro", want: Mount{Type: "volume", Source: "rel", Destination: "/a", Options: []string{"ro"}}},
		{in: "/data", want: Mount{Type: "volume", Destination: "/data"}},

		{in: "/host:rel", err: `invalid container path "rel", must be an absolute path`},
		{in: "rel", err: `invalid container path "rel", must be an absolute path`},
		{in: "a/b:/c", err: `"a/b" is neither an absolute host path nor a volume name`},
		{in: "~foo:/c", err: "is neither an absolute host path nor a volume name"},
		{in: "vol name:/c", err: "is neither an absolute host path nor a volume name"},
		{in: "", err: "the container directory is empty"},
		{in: ":/c", err: "the host directory or volume name is empty"},
		{in: "/x:", err: "the container directory is empty"},
		{in: "/x:/y:", err: "options after the last ':' are empty"},
		{in: "/x:/y:/z:ro", err: "expected [host-dir|volume-name:]ctr-dir[:options]"},
		{in: "/x:/y:foo", err: `unknown option "foo"`},
		{in: "/x:/y:ro,rw", err: `options "ro,rw" conflict: only one of 'rw' or 'ro'`},
		{in: "/x:/y:z,Z", err: "only one of 'z', 'Z' or 'O'"},
		{in: "/x:/y:shared,slave", err: "only one of '[r]shared'"},
		{in: "/x:/y:noexec,exec", err: "'exec' or 'noexec'"},
		{in: "/x:/y:U,U", err: "only one of 'U'"},
		{in: "/x:/y:copy,nocopy", err: "'copy' or 'nocopy'"},
		{in: "/x:/y:upperdir=/u", err: "upperdir and workdir go together"},
		{in: "/x:/y:ro=1", err: `option "ro" takes no value`},
	}
	for _, tt := range tests {
		got, err := Volume(tt.in)
		checkMount(t, "Volume", tt.in, got, err, tt.want, tt.err)
	}
}

func TestMountFlag(t *testing.T) {
	tests := []struct {
		in   string
		want Mount
		err  string
	}{
		{in: "type=bind,src=/x,dst=/a", want: Mount{Type: "bind", Source: "/x", Destination: "/a"}},
		{in: "type=bind,source=/x,target=/a,readonly,bind-propagation=rshared", want: Mount{Type: "bind", Source: "/x", Destination: "/a", Options: []string{"ro", "rshared"}}},
		{in: "type=bind,source=/x,destination=/a,ro=true,bind-nonrecursive", want: Mount{Type: "bind", Source: "/x", Destination: "/a", Options: []string{"ro", "bind"}}},
		{in: "type=bind,src=/x,dst=/a,ro=false", want: Mount{Type: "bind", Source: "/x", Destination: "/a", Options: []string{"rw"}}},
		{in: "type=bind,src=/x,dst=/a,relabel=shared,U,noexec", want: Mount{Type: "bind", Source: "/x", Destination: "/a", Options: []string{"noexec"}, Relabel: "z", Chown: true}},
		{in: `type=bind,"src=/x,y",dst=/a`, want: Mount{Type: "bind", Source: "/x,y", Destination: "/a"}},
		{in: "type=volume,src=vol1,dst=/a", want: Mount{Type: "volume", Source: "vol1", Destination: "/a"}},
		{in: "type=volume,dst=/a,volume-nocopy,subpath=sub", want: Mount{Type: "volume", Destination: "/a", NoCopy: true, SubPath: "sub"}},
		{in: "type=volume,src=vol1,dst=/a,ro", want: Mount{Type: "volume", Source: "vol1", Destination: "/a", Options: []string{"ro"}}},
		{in: "type=tmpfs,dst=/t", want: Mount{Type: "tmpfs", Destination: "/t"}},
		{in: "type=tmpfs,dst=/t,tmpfs-size=10m,tmpfs-mode=1700,ro,notmpcopyup", want: Mount{Type: "tmpfs", Destination: "/t", Options: []string{"size=10m", "mode=1700", "ro", "notmpcopyup"}}},
		{in: "type=devpts,dst=/dev/pts2,uid=5,mode=600", want: Mount{Type: "devpts", Destination: "/dev/pts2", Options: []string{"uid=5", "mode=600"}}},
		{in: "type=image,src=busybox,dst=/img,rw=true", want: Mount{Type: "image", Source: "busybox", Destination: "/img", ReadWrite: true}},

		{in: "type=foo,dst=/a", err: `unknown type "foo"`},
		{in: "src=/x,dst=/a", err: "type= is missing"},
		{in: "type=bind,src=/x", err: "target= is missing"},
		{in: "type=bind,dst=/a", err: "a bind mount needs a source"},
		{in: "type=bind,src=/x,dst=rel", err: `invalid container path "rel", must be an absolute path`},
		{in: "type=bind,src=/x,dst=/a,foo=bar", err: `unknown option "foo=bar"`},
		{in: "type=bind,src=/x,dst=/a,ro=maybe", err: `ro must be true or false, not "maybe"`},
		{in: "type=bind,src=/x,dst=/a,bind-propagation=foo", err: `unknown bind-propagation "foo"`},
		{in: "type=tmpfs,src=/x,dst=/a", err: "a tmpfs mount has no source"},
		{in: "type=tmpfs,dst=/a,tmpfs-size=abc", err: `invalid tmpfs-size "abc"`},
		{in: "type=tmpfs,dst=/a,tmpfs-mode=999", err: `invalid tmpfs-mode "999"`},
		{in: "type=bind,src=/x,dst=/a,tmpfs-size=1m", err: "tmpfs-size is only for tmpfs mounts"},
		{in: "type=volume,src=/x,dst=/a", err: `invalid volume name "/x"`},
		{in: "type=volume,src=v,dst=/a,bind-nonrecursive", err: "bind-nonrecursive is only for bind mounts"},
		{in: "type=image,dst=/a", err: "an image mount needs the image"},
		{in: "type=bind,src=/x,dst=/a,ro,rw", err: "conflict"},
		{in: `type=bind,"src=/x`, err: "invalid --mount"},
	}
	for _, tt := range tests {
		got, err := MountFlag(tt.in)
		checkMount(t, "MountFlag", tt.in, got, err, tt.want, tt.err)
	}
}

func TestTmpfs(t *testing.T) {
	tests := []struct {
		in   string
		want Mount
		err  string
	}{
		{in: "/t", want: Mount{Type: "tmpfs", Destination: "/t"}},
		{in: "/t:size=10m,mode=700,noexec", want: Mount{Type: "tmpfs", Destination: "/t", Options: []string{"size=10m", "mode=700", "noexec"}}},
		{in: "/t:ro,uid=1000,gid=1000,nr_inodes=400k,U", want: Mount{Type: "tmpfs", Destination: "/t", Options: []string{"ro", "uid=1000", "gid=1000", "nr_inodes=400k"}, Chown: true}},
		{in: "rel", err: `invalid container path "rel", must be an absolute path`},
		{in: "/a:foo", err: `unknown option "foo"`},
		{in: "/a:size=big", err: `invalid size "big"`},
		{in: "/a:mode=rwx", err: `invalid mode "rwx"`},
		{in: "/a:ro,rw", err: "conflict"},
		{in: "", err: "the container directory is empty"},
	}
	for _, tt := range tests {
		got, err := Tmpfs(tt.in)
		checkMount(t, "Tmpfs", tt.in, got, err, tt.want, tt.err)
	}
}

func TestMountReadOnly(t *testing.T) {
	if (Mount{Options: []string{"rw"}}).ReadOnly() || !(Mount{Options: []string{"noexec", "ro"}}).ReadOnly() {
		t.Error("ReadOnly is wrong")
	}
}
