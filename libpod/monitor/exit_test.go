package monitor

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRecordExit: the exit code lands in the file whole; a failure to
// write it is returned (the monitor reports it) and leaves no temp file.
func TestRecordExit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "exit")
	if err := recordExit(p, 42); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "42" {
		t.Fatalf("exit file: %q, %v", b, err)
	}
	if _, err := os.Stat(p + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temp file left: %v", err)
	}
	// A directory where the exit file goes: the rename fails.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := recordExit(blocked, 1); err == nil {
		t.Fatal("recording over a non-empty directory succeeded")
	}
	if _, err := os.Stat(blocked + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temp file left after a failed rename: %v", err)
	}
	if err := recordExit(filepath.Join(dir, "no", "such", "exit"), 1); err == nil {
		t.Fatal("recording in a missing directory succeeded")
	}
}
