package specgen

import (
	"os"
	"path/filepath"
	"testing"
)

func passwdRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nping:x:999:999::/:/bin/false\n",
		"etc/group":  "root:x:0:\nping:x:999:\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestPasswdAdditions(t *testing.T) {
	root := passwdRoot(t)
	me := HostUser{Name: "alice", UID: "1000", GID: "1000", Gecos: "Alice A", Home: "/home/alice"}
	for _, tt := range []struct {
		name          string
		req           PasswdRequest
		passwd, group string
	}{
		{"nothing asked", PasswdRequest{}, "", ""},
		{"keep-id, home not mounted: the workdir",
			PasswdRequest{Current: &me, CurrentGroup: &HostGroup{Name: "alice", GID: "1000"}, User: "1000:1000", WorkDir: "/work"},
			"alice:*:1000:1000:Alice A:/work:/bin/sh\n", "alice:x:1000:alice\n"},
		{"keep-id, home mounted",
			PasswdRequest{Current: &me, User: "1000:1000", MountDests: []string{"/home/alice"}},
			"alice:*:1000:1000:Alice A:/home/alice:/bin/sh\n", "1000:x:1000:1000\n"}, // host group unknown
		{"keep-id, a directory above home mounted",
			PasswdRequest{Current: &me, User: "1000:1000", MountDests: []string{"/home"}},
			"alice:*:1000:1000:Alice A:/home/alice:/bin/sh\n", "1000:x:1000:1000\n"}, // host group unknown
		{"keep-id, another directory mounted",
			PasswdRequest{Current: &me, CurrentGroup: &HostGroup{Name: "alice", GID: "1000"}, User: "1000:1000", MountDests: []string{"/home/xalice"}},
			"alice:*:1000:1000:Alice A:/:/bin/sh\n", "alice:x:1000:alice\n"},
		{"keep-id, group already there", PasswdRequest{Current: &me, CurrentGroup: &HostGroup{Name: "ping", GID: "999"}, User: "1000:999"},
			"alice:*:1000:1000:Alice A:/:/bin/sh\n", ""},
		{"numeric user without entry", PasswdRequest{User: "1234", WorkDir: "/srv"},
			"1234:*:1234:0:container user:/srv:/bin/sh\n", "1234:x:1234:1234\n"},
		{"numeric user, named group", PasswdRequest{User: "1234:ping"},
			"1234:*:1234:999:container user:/:/bin/sh\n", ""},
		{"user with an entry", PasswdRequest{User: "999"}, "", ""},
		{"named user", PasswdRequest{User: "root"}, "", ""},
		{"hostuser", PasswdRequest{HostUsers: []HostUser{{Name: "daemon", UID: "1", GID: "1", Gecos: "daemon", Home: "/usr/sbin"}}},
			"daemon:*:1:1:daemon:/:/bin/sh\n", ""},
		{"hostuser already in the image", PasswdRequest{HostUsers: []HostUser{{Name: "root", UID: "0", GID: "0", Home: "/root"}}}, "", ""},
		{"hostuser and --user of the same UID: one entry",
			PasswdRequest{HostUsers: []HostUser{me}, User: "1000"},
			"alice:*:1000:1000:Alice A:/:/bin/sh\n", "1000:x:1000:1000\n"},
		{"--passwd-entry, numeric user", PasswdRequest{User: "1234", WorkDir: "/srv", Entry: "X$USERNAME:$UID:$GID:$NAME:$HOME"},
			"X1234:1234:0:container user:/srv\n", "1234:x:1234:1234\n"},
		{"--passwd-entry, hostuser", PasswdRequest{HostUsers: []HostUser{{Name: "daemon", UID: "1", GID: "1"}}, Entry: "X$USERNAME:$UID"},
			"Xdaemon:1\n", ""},
	} {
		p, g, err := PasswdAdditions(root, tt.req)
		if err != nil || p != tt.passwd || g != tt.group {
			t.Errorf("%s: got %q %q %v, want %q %q", tt.name, p, g, err, tt.passwd, tt.group)
		}
	}
	if _, _, err := PasswdAdditions(root, PasswdRequest{User: "1234:nosuchgroup"}); err == nil {
		t.Error("an unknown group name was accepted")
	}
}
