package monitor

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// consoleSocket receives the pty master the runtime creates for -t.
type consoleSocket struct {
	dir  string
	path string
	l    *net.UnixListener
}

func newConsoleSocket() (*consoleSocket, error) {
	dir, err := os.MkdirTemp("", "berth-console")
	if err != nil {
		return nil, fmt.Errorf("creating console socket directory: %w", err)
	}
	path := filepath.Join(dir, "sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("listening on console socket: %w", err)
	}
	return &consoleSocket{dir: dir, path: path, l: l}, nil
}

func (c *consoleSocket) receive() (*os.File, error) {
	conn, err := c.l.AcceptUnix()
	if err != nil {
		return nil, fmt.Errorf("accepting console socket: %w", err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("receiving pty: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("receiving pty: no file descriptor")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("receiving pty: no file descriptor")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

func (c *consoleSocket) close() {
	_ = c.l.Close()
	_ = os.RemoveAll(c.dir)
}
