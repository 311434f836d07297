package image

import (
	"strings"
	"testing"
)

func TestSplitTransport(t *testing.T) {
	for _, c := range []struct {
		name, transport string
		ok              bool
		err             string
	}{
		{"busybox", "", false, ""},
		{"localhost:5000/busybox:latest", "", false, ""},
		{"docker://busybox", "docker", true, ""},
		{"docker-archive:/tmp/a.tar", "docker-archive", true, ""},
		{"oci:/tmp/layout:tag", "oci", true, ""},
		{"docker-daemon:busybox:latest", "", false, "docker-daemon transport is not supported"},
		{"ftp://host/x", "", false, "unsupported transport"},
	} {
		transport, ok, err := splitTransport(c.name)
		if transport != c.transport || ok != c.ok || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("splitTransport(%q) = %q, %v, %v; want %q, %v, error with %q", c.name, transport, ok, err, c.transport, c.ok, c.err)
		}
	}
}
