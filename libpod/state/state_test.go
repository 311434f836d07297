package state

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func row(id, name string) *ContainerRow {
	return &ContainerRow{ID: id, Name: name, Config: []byte("{}"), State: []byte(`{"status":"created"}`), Created: time.Now()}
}

func TestNamesAreUniqueUnderConcurrentOpeners(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			db, err := Open(path, Options{}) // a separate connection, as a separate process would have
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.AddContainer(row(fmt.Sprintf("%064x", i+1), "same"))
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrNameInUse):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d inserts of the same name succeeded, want exactly 1", ok)
	}
}

func TestLookupByNameIDAndPrefix(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range []*ContainerRow{row("abc111", "one"), row("abc222", "two"), row("def333", "three")} {
		if err := db.AddContainer(r); err != nil {
			t.Fatal(err)
		}
	}
	for in, want := range map[string]string{"one": "abc111", "abc222": "abc222", "def": "def333", "abc1": "abc111"} {
		r, err := db.LookupContainer(in)
		if err != nil || r.ID != want {
			t.Errorf("lookup %q = %v, %v; want %s", in, r, err, want)
		}
	}
	if _, err := db.LookupContainer("abc"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := db.LookupContainer("nope"); !errors.Is(err, ErrNoSuchContainer) {
		t.Errorf("missing: %v", err)
	}
}

func TestModifyStateAndRemove(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AddContainer(row("aaa", "a")); err != nil {
		t.Fatal(err)
	}
	if err := db.ModifyState("aaa", func(b []byte) ([]byte, error) { return []byte(`{"status":"running"}`), nil }); err != nil {
		t.Fatal(err)
	}
	r, _ := db.LookupContainer("a")
	if string(r.State) != `{"status":"running"}` {
		t.Fatalf("state = %s", r.State)
	}
	if err := db.SetName("aaa", "b"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveContainer("aaa"); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateState("aaa", nil); !errors.Is(err, ErrNoSuchContainer) {
		t.Fatalf("update of removed container: %v", err)
	}
}

// BenchmarkProcessLifecycle models berth invocations, in each journal
// mode: open, one write transaction, close (create, rm); open, the three
// of `run --rm` (add, running, remove), close; open, a read, close (ps).
// Used to choose the journal mode (see Open).
func BenchmarkProcessLifecycle(b *testing.B) {
	defer func(m string) { journalMode = m }(journalMode)
	for _, mode := range []string{"DELETE", "WAL"} {
		journalMode = mode
		b.Run(mode+"/one-write", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "state.db")
			for i := 0; b.Loop(); i++ {
				db, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := db.AddContainer(row(fmt.Sprintf("%064x", i), fmt.Sprintf("c%d", i))); err != nil {
					b.Fatal(err)
				}
				_ = db.Close()
			}
		})
		b.Run(mode+"/run-rm", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "state.db")
			for i := 0; b.Loop(); i++ {
				db, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				id := fmt.Sprintf("%064x", i)
				if err := db.AddContainer(row(id, "c")); err != nil {
					b.Fatal(err)
				}
				if err := db.UpdateState(id, []byte(`{"status":"running"}`)); err != nil {
					b.Fatal(err)
				}
				if err := db.RemoveContainer(id); err != nil {
					b.Fatal(err)
				}
				_ = db.Close()
			}
		})
		b.Run(mode+"/read", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "state.db")
			db, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := db.AddContainer(row(fmt.Sprintf("%064x", 1), "c")); err != nil {
				b.Fatal(err)
			}
			_ = db.Close()
			for b.Loop() {
				db, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.LookupContainer("c"); err != nil {
					b.Fatal(err)
				}
				_ = db.Close()
			}
		})
	}
}

func TestConfigRecordedAndMismatchRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := RuntimeConfig{OS: "linux", StaticDir: "/g/berth", GraphRoot: "/g", RunRoot: "/r"}
	if err := db.ValidateConfig(cfg); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := db.ValidateConfig(cfg); err != nil {
		t.Fatalf("same config: %v", err)
	}
	other := cfg
	other.RunRoot = "/r2"
	err = db.ValidateConfig(other)
	if !errors.Is(err, ErrDBBadConfig) || err.Error() != `database run root "/r" does not match our run root "/r2": database configuration mismatch` {
		t.Fatalf("other run root: %v", err)
	}
	// The driver is recorded when first known, then checked.
	withDriver := cfg
	withDriver.GraphDriver = "overlay"
	if err := db.ValidateConfig(withDriver); err != nil {
		t.Fatalf("recording the driver: %v", err)
	}
	if err := db.ValidateConfig(cfg); err != nil {
		t.Fatalf("unknown driver is not checked: %v", err)
	}
	withDriver.GraphDriver = "vfs"
	if err := db.ValidateConfig(withDriver); !errors.Is(err, ErrDBBadConfig) {
		t.Fatalf("other driver: %v", err)
	}
}

// Containers lists the oldest first whatever order the rows were added in
// (ps, rm --all and --latest rely on it).
func TestContainersOldestFirst(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Now()
	for i, offset := range []int{3, 1, 4, 0, 2} {
		r := row(fmt.Sprintf("%064x", i+1), fmt.Sprintf("c%d", offset))
		r.Created = base.Add(time.Duration(offset) * time.Second)
		if err := db.AddContainer(r); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Containers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	if got, want := fmt.Sprint(names), "[c0 c1 c2 c3 c4]"; got != want {
		t.Fatalf("Containers() order = %s, want %s", got, want)
	}
}
