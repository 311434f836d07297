package e2e

import (
	"strings"
	"testing"
)

// rmi of a built image removes the build's intermediate images with it (they
// are dangling once it is gone), as podman's does; an intermediate image
// that another image still builds on stays, and so does the base.
func TestRmiRemovesDanglingParents(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.BusyboxImage(buildBase)
		before := len(e.BerthOK("images", "-a", "-q").Lines())
		ctx := e.buildContext("parents", "FROM {{BASE}}\nRUN echo 1 > /one\nRUN echo 2 > /two\nLABEL x=y\n", nil)
		e.BerthOK("build", "-t", "localhost/e2e/parents", ctx)
		ctx2 := e.buildContext("sibling", "FROM {{BASE}}\nRUN echo 1 > /one\nRUN echo other > /other\n", nil)
		e.BerthOK("build", "-t", "localhost/e2e/sibling", ctx2)
		built := len(e.BerthOK("images", "-a", "-q").Lines())
		if built < before+4 {
			t.Fatalf("images -a: %d images after two builds, want the intermediate ones too", built)
		}

		r := e.BerthOK("rmi", "localhost/e2e/parents")
		deleted := strings.Count(r.Stdout, "Deleted: ")
		if deleted < 2 {
			t.Fatalf("rmi of a built image deleted only %d image(s):\n%s", deleted, r.Stdout)
		}
		// the shared RUN step's image stays: the sibling builds on it
		if out := e.runIn("localhost/e2e/sibling", "cat /one /other"); out != "1\nother" {
			t.Fatalf("the sibling image lost its parent: %q", out)
		}
		e.BerthOK("rmi", "localhost/e2e/sibling")
		if after := len(e.BerthOK("images", "-a", "-q").Lines()); after != before {
			t.Fatalf("images -a: %d images after removing both, want the %d there were before the builds:\n%s",
				after, before, e.BerthOK("images", "-a").Stdout)
		}
	})
}
