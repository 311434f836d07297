package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// load -i URL fetches the archive first, as podman does; a URL that
// answers with an error loads nothing and says what the server said.
func TestLoadFromURL(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		id := e.BusyboxImage(busyboxName)
		archive := filepath.Join(e.Dir, "image.tar")
		e.BerthOK("save", "-q", "-o", archive, busyboxName)
		e.BerthOK("rmi", busyboxName)
		srv := httptest.NewServer(http.FileServer(http.Dir(e.Dir)))
		defer srv.Close()

		r := e.BerthOK("load", "-i", srv.URL+"/image.tar")
		if !strings.Contains(r.Stdout, "Loaded image: "+busyboxName) {
			t.Fatalf("load -i URL:\n%s", r.describe())
		}
		if got := e.BerthOK("image", "inspect", "--format", "{{.Id}}", busyboxName).Out(); got != id {
			t.Fatalf("loaded image %s, want %s", got, id)
		}
		r = e.BerthFail(125, "load", "-i", srv.URL+"/missing.tar")
		if !strings.Contains(r.Stderr, "404") {
			t.Fatalf("load of a missing URL does not give the status:\n%s", r.describe())
		}
	})
}
