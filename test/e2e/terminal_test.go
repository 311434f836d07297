package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair and returns its terminal side with
// the given size.
func openPTY(t *testing.T, rows, cols uint16) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { _ = master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the terminal side: %v", err)
	}
	t.Cleanup(func() { _ = tty.Close() })
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatalf("setting the terminal size: %v", err)
	}
	return tty
}

// run -it with a terminal on stdin: the container's terminal has its size
// from the first instant (podman's 450-interactive); -it without one warns
// as podman does and still runs.
func TestRunTerminalSize(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		for _, size := range [][2]uint16{{33, 44}, {57, 120}} {
			tty := openPTY(t, size[0], size[1])
			r := e.BerthIn(tty, "run", "--rm", "-it", "--network", "host", img, "stty", "size")
			want := strconv.Itoa(int(size[0])) + " " + strconv.Itoa(int(size[1]))
			if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != want {
				t.Fatalf("stty size in run -it from a %s terminal: %s", want, r.describe())
			}
		}
		r := e.BerthIn(strings.NewReader(""), "run", "--rm", "-it", "--network", "host", img, "echo", "hello")
		if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "hello" ||
			!strings.Contains(r.Stderr, "The input device is not a TTY. The --tty and --interactive flags might not work properly") {
			t.Fatalf("run -it without a terminal: %s", r.describe())
		}
	})
}
