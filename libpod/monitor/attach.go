package monitor

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// WriteFrame writes one attach frame.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	hdr := make([]byte, 5, 5+len(payload))
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	_, err := w.Write(append(hdr, payload...))
	return err
}

// ReadFrame reads one attach frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("attach frame of %d bytes is too large", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// SocketPath returns a path to name in dir that stays under the 108 bytes
// of sun_path however long dir is, by going through an O_PATH descriptor.
// Call the returned release when the path is no longer needed.
func SocketPath(dir, name string) (string, func(), error) {
	p := filepath.Join(dir, name)
	if len(p) < 100 {
		return p, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd, name), func() { _ = unix.Close(fd) }, nil
}

// Dial connects to a container's attach socket.
func Dial(path string) (net.Conn, error) {
	sock, release, err := SocketPath(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, err
	}
	defer release()
	return net.Dial("unix", sock)
}

// hub fans the container's output out to the attached clients.
type hub struct {
	mu      sync.Mutex
	clients map[*client]bool
	closed  bool
}

type client struct {
	conn net.Conn
	out  chan []byte // frames, already encoded
	// owner: the client said it runs cleanup (FrameOwnCleanup); done: it
	// said it finished (FrameCleanupDone). Both under hub.mu.
	owner, done bool
	ended       chan struct{} // closed when the monitor stops serving it
}

func newHub() *hub { return &hub{clients: map[*client]bool{}} }

func (h *hub) add(conn net.Conn) *client {
	c := &client{conn: conn, out: make(chan []byte, 256), ended: make(chan struct{})}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = conn.Close()
		return nil
	}
	h.clients[c] = true
	c.out <- encode(FrameAttached, nil)
	h.mu.Unlock()
	go func() {
		var err error
		for frame := range c.out {
			if err == nil {
				_, err = conn.Write(frame)
			}
			// after a write error, keep draining: senders never wait
			// for a client that is gone
		}
		_ = conn.Close()
	}()
	return c
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[c] {
		delete(h.clients, c)
		close(c.out)
	}
}

func encode(typ byte, payload []byte) []byte {
	frame := make([]byte, 5+len(payload))
	frame[0] = typ
	binary.BigEndian.PutUint32(frame[1:], uint32(len(payload)))
	copy(frame[5:], payload)
	return frame
}

// stallTimeout is how long output waits for an attached client whose
// queue is full before the client is dropped.
const stallTimeout = 10 * time.Second

// send delivers a frame to every client. A client that reads slower than
// the container writes holds the output back (the container blocks on its
// pipe, as with conmon) rather than losing any of it; only a client that
// stops reading for stallTimeout is dropped, so that it cannot stall the
// container for ever.
func (h *hub) send(typ byte, payload []byte) {
	frame := encode(typ, payload)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.out <- frame:
			continue
		default:
		}
		t := time.NewTimer(stallTimeout)
		select {
		case c.out <- frame:
		case <-t.C:
			delete(h.clients, c)
			close(c.out)
		}
		t.Stop()
	}
}

// sendTo delivers a frame to one client, if it is still attached.
func (h *hub) sendTo(c *client, typ byte, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[c] {
		select {
		case c.out <- encode(typ, payload):
		default:
		}
	}
}

// finish sends the exit frame and closes every client but those that own
// cleanup: it returns them, still connected, for the monitor to wait on.
func (h *hub) finish(code int32) []*client {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(code))
	h.send(FrameExit, b[:])
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	var owners []*client
	for c := range h.clients {
		if c.owner {
			owners = append(owners, c)
			continue
		}
		delete(h.clients, c)
		close(c.out)
	}
	return owners
}
