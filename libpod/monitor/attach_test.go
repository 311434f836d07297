package monitor

import (
	"io"
	"net"
	"testing"
	"time"
)

// attachClient connects a client to m's hub over a pipe, serves it as the
// monitor does, and returns the client's end after the FrameAttached.
func attachClient(t *testing.T, m *monitor) (net.Conn, *client) {
	t.Helper()
	ours, theirs := net.Pipe()
	c := m.hub.add(ours)
	if c == nil {
		t.Fatal("hub refused a client")
	}
	go m.serveClient(c)
	if typ, _, err := ReadFrame(theirs); err != nil || typ != FrameAttached {
		t.Fatalf("first frame %d, %v; want FrameAttached", typ, err)
	}
	return theirs, c
}

// readUntilExit reads frames until FrameExit, then reports whether the
// monitor closed the connection after it.
func readUntilExit(t *testing.T, conn net.Conn) (closed bool) {
	t.Helper()
	for {
		typ, _, err := ReadFrame(conn)
		if err != nil {
			t.Fatalf("connection ended before the exit frame: %v", err)
		}
		if typ == FrameExit {
			break
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, _, err := ReadFrame(conn)
	_ = conn.SetReadDeadline(time.Time{})
	return err == io.EOF
}

func waitOwners(m *monitor, owners []*client) <-chan bool {
	res := make(chan bool, 1)
	go func() { res <- m.ownersCleanedUp(owners) }()
	return res
}

func TestOwnerReportsCleanupDone(t *testing.T) {
	m := &monitor{hub: newHub(), startRequests: make(chan startRequest)}
	owner, _ := attachClient(t, m)
	other, _ := attachClient(t, m)
	if err := WriteFrame(owner, FrameOwnCleanup, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the monitor read it
	owners := m.hub.finish(3)         // frames are queued per client: no blocking
	if !readUntilExit(t, other) {
		t.Fatal("a client that does not own cleanup stays connected after the exit")
	}
	if readUntilExit(t, owner) {
		t.Fatal("the owner of the cleanup was disconnected after the exit, before it reported")
	}
	if len(owners) != 1 {
		t.Fatalf("finish returned %d owners, want 1", len(owners))
	}
	res := waitOwners(m, owners)
	select {
	case <-res:
		t.Fatal("the monitor stopped waiting for an owner that is still there")
	case <-time.After(100 * time.Millisecond):
	}
	if err := WriteFrame(owner, FrameCleanupDone, nil); err != nil {
		t.Fatal(err)
	}
	if !<-res {
		t.Fatal("an owner that reported its cleanup done is taken as dead")
	}
}

func TestOwnerDiesBeforeCleanup(t *testing.T) {
	m := &monitor{hub: newHub(), startRequests: make(chan startRequest)}
	owner, _ := attachClient(t, m)
	if err := WriteFrame(owner, FrameOwnCleanup, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	owners := m.hub.finish(0)
	readUntilExit(t, owner)
	_ = owner.Close() // killed after it received the exit
	if len(owners) != 1 {
		t.Fatalf("finish returned %d owners, want 1", len(owners))
	}
	if <-waitOwners(m, owners) {
		t.Fatal("an owner that went away without reporting is taken to have cleaned up")
	}
}

func TestNoOwnerMeansMonitorCleansUp(t *testing.T) {
	m := &monitor{hub: newHub(), startRequests: make(chan startRequest)}
	conn, _ := attachClient(t, m)
	// an owner that detaches before the exit is no owner any more
	if err := WriteFrame(conn, FrameOwnCleanup, nil); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	time.Sleep(50 * time.Millisecond)
	owners := m.hub.finish(0)
	if len(owners) != 0 {
		t.Fatalf("finish returned %d owners after the owner detached", len(owners))
	}
	if m.ownersCleanedUp(owners) {
		t.Fatal("with no owner left, the monitor must run cleanup itself")
	}
}
