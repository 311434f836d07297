package libpod

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"

	"github.com/berth-containers/berth/libpod/monitor"
)

// ErrDetached is returned by an attach session the user detached from.
var ErrDetached = errors.New("detached from container")

// AttachStreams are the caller's ends of an attach session.
type AttachStreams struct {
	Stdin      io.Reader // nil: do not forward stdin
	Stdout     io.Writer
	Stderr     io.Writer
	DetachKeys []byte // a sequence on stdin that ends the session
}

// AttachSession is a live connection to a container's monitor.
type AttachSession struct {
	conn net.Conn
	mu   sync.Mutex
}

// Dial connects to the container's monitor.
func (c *Container) Dial() (*AttachSession, error) {
	dir, err := c.runDir()
	if err != nil {
		return nil, err
	}
	conn, err := monitor.Dial(filepath.Join(dir, "attach"))
	if err != nil {
		return nil, fmt.Errorf("attaching to %s: %w", c.Name(), err)
	}
	// Wait until the monitor has registered us: only then is no output,
	// and no exit, missed.
	if typ, _, err := monitor.ReadFrame(conn); err != nil || typ != monitor.FrameAttached {
		_ = conn.Close()
		return nil, fmt.Errorf("attaching to %s: the container is not running", c.Name())
	}
	return &AttachSession{conn: conn}, nil
}

func (s *AttachSession) send(typ byte, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return monitor.WriteFrame(s.conn, typ, payload)
}

// Resize tells the container's terminal its new size.
func (s *AttachSession) Resize(rows, cols uint16) {
	var b [4]byte
	binary.BigEndian.PutUint16(b[:], rows)
	binary.BigEndian.PutUint16(b[2:], cols)
	_ = s.send(monitor.FrameResize, b[:])
}

// OwnCleanup tells the monitor that this client runs cleanup after the
// exit, so the monitor need not start a cleanup process of its own.
func (s *AttachSession) OwnCleanup() error { return s.send(monitor.FrameOwnCleanup, nil) }

// CleanupDone tells the monitor that this client, which owns cleanup, has
// finished it. A client that closes the session without saying so is
// taken to have died before it did: the monitor then cleans up itself.
func (s *AttachSession) CleanupDone() error { return s.send(monitor.FrameCleanupDone, nil) }

// Close ends the session without affecting the container.
func (s *AttachSession) Close() error { return s.conn.Close() }

// Run copies the streams until the container exits (returning its exit
// code), the user detaches (ErrDetached), or the connection breaks.
func (s *AttachSession) Run(streams AttachStreams) (int32, error) {
	if streams.Stdin != nil {
		go s.forwardStdin(streams.Stdin, streams.DetachKeys)
	}
	for {
		typ, payload, err := monitor.ReadFrame(s.conn)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return -1, ErrDetached
			}
			return -1, fmt.Errorf("connection to the container's monitor lost: %w", err)
		}
		switch typ {
		case monitor.FrameStdout:
			if streams.Stdout != nil {
				_, _ = streams.Stdout.Write(payload)
			}
		case monitor.FrameStderr:
			if streams.Stderr != nil {
				_, _ = streams.Stderr.Write(payload)
			}
		case monitor.FrameExit:
			if len(payload) == 4 {
				return int32(binary.BigEndian.Uint32(payload)), nil
			}
			return -1, errors.New("bad exit message from monitor")
		}
	}
}

func (s *AttachSession) forwardStdin(in io.Reader, detach []byte) {
	buf := make([]byte, 32*1024)
	matched := 0
	for {
		n, err := in.Read(buf)
		if n > 0 {
			data := buf[:n]
			if len(detach) > 0 {
				for i, b := range data {
					if b == detach[matched] {
						matched++
						if matched == len(detach) {
							if i+1-len(detach) > 0 {
								_ = s.send(monitor.FrameStdin, data[:i+1-len(detach)])
							}
							_ = s.conn.Close()
							return
						}
					} else {
						matched = 0
					}
				}
			}
			if err := s.send(monitor.FrameStdin, data); err != nil {
				return
			}
		}
		if err != nil {
			_ = s.send(monitor.FrameCloseIn, nil)
			return
		}
	}
}
