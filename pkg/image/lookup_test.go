package image

import "testing"

func TestShortNameMatches(t *testing.T) {
	for _, tc := range []struct {
		stored, short string
		want          bool
	}{
		{"docker.io/library/busybox:latest", "busybox", true},
		{"docker.io/library/busybox:latest", "library/busybox", true},
		{"docker.io/library/busybox:1.36", "busybox:1.36", true},
		{"docker.io/library/busybox:1.36", "busybox", false},
		{"127.0.0.1:5000/e2e/x:latest", "e2e/x:latest", true},
		{"127.0.0.1:5000/e2e/x:latest", "x", true},
		{"127.0.0.1:5000/e2e/xx:latest", "x", false},
		{"localhost/mybusybox:latest", "busybox", false},
		{"localhost/busybox:latest", "busybox@sha256:abc", false},
	} {
		if got := shortNameMatches(tc.stored, tc.short); got != tc.want {
			t.Errorf("shortNameMatches(%q, %q) = %v, want %v", tc.stored, tc.short, got, tc.want)
		}
	}
}
