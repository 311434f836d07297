package libpod

import (
	"encoding/json"
	"errors"
	"fmt"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"time"

	"github.com/berth-containers/berth/libpod/network"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/sirupsen/logrus"
)

// ContainerStatus is where a container is in its life. Its values are
// podman's state names, and they are what the state DB stores (the JSON of
// ContainerState is a plain string, as it was before this type existed).
type ContainerStatus string

// Container statuses, as podman names them.
const (
	StatusCreated ContainerStatus = "created"
	StatusRunning ContainerStatus = "running"
	StatusPaused  ContainerStatus = "paused"
	StatusStopped ContainerStatus = "stopped" // stopped by berth, cleanup pending
	// StatusStopping: `stop` sent the stop signal and waits for the exit
	// (podman's "stopping"); the container still runs.
	StatusStopping ContainerStatus = "stopping"
	StatusExited   ContainerStatus = "exited"
)

// String is the status as podman prints it.
func (s ContainerStatus) String() string { return string(s) }

// ContainerState changes over the container's life.
type ContainerState struct {
	Status       ContainerStatus `json:"status"`
	Pid          int             `json:"pid,omitempty"`
	MonitorPid   int             `json:"monitorPid,omitempty"`
	MonitorStart uint64          `json:"monitorStart,omitempty"` // start time in ticks, against pid reuse
	ExitCode     int32           `json:"exitCode"`
	StartedAt    time.Time       `json:"startedAt,omitempty"`
	FinishedAt   time.Time       `json:"finishedAt,omitempty"`
	Mountpoint   string          `json:"mountpoint,omitempty"`
	RestartCount int             `json:"restartCount,omitempty"`
	Error        string          `json:"error,omitempty"`
	// StoppedByUser keeps a restart policy from restarting the container.
	StoppedByUser bool `json:"stoppedByUser,omitempty"`
	// Network is the CNI bridge set up for the running container (rootful),
	// kept so that cleanup, even after a crash, can tear it down.
	Network *network.Status `json:"network,omitempty"`
}

// Container is a container with its config and last-read state.
type Container struct {
	// Config is the container's spec, as created (see ContainerSpec).
	Config ContainerSpec
	State  ContainerState
	rt     *Runtime
	// consoleSize is the terminal size the next start gives a -t
	// container's console from its first instant (not stored).
	consoleSize *specs.Box
}

// SetConsoleSize sets the size of the console the next start creates for a
// container with a terminal, so that its process never sees 0x0 (a resize
// after start comes too late for a command such as `stty size`).
func (c *Container) SetConsoleSize(rows, cols uint16) {
	c.consoleSize = &specs.Box{Height: uint(rows), Width: uint(cols)}
}

func (r *Runtime) containerFromRow(row *state.ContainerRow) (*Container, error) {
	c := &Container{rt: r}
	if err := json.Unmarshal(row.Config, &c.Config); err != nil {
		return nil, fmt.Errorf("decoding config of container %s: %w", row.ID, err)
	}
	if err := json.Unmarshal(row.State, &c.State); err != nil {
		return nil, fmt.Errorf("decoding state of container %s: %w", row.ID, err)
	}
	c.Config.Name = row.Name // rename changes only the row
	return c, nil
}

// active reports whether the container's process may still run: running,
// paused or stopping.
func (s *ContainerState) active() bool {
	return s.Status == StatusRunning || s.Status == StatusPaused || s.Status == StatusStopping
}

// ID is the container's full ID.
func (c *Container) ID() string { return c.Config.ID }

// Name is the container's name.
func (c *Container) Name() string { return c.Config.Name }

// refresh re-reads the state from the database.
func (c *Container) refresh() error {
	db, err := c.rt.DB()
	if err != nil {
		return err
	}
	row, err := db.LookupContainer(c.ID())
	if err != nil {
		return err
	}
	fresh, err := c.rt.containerFromRow(row)
	if err != nil {
		return err
	}
	c.Config.Name = fresh.Config.Name
	c.State = fresh.State
	return nil
}

// save writes the in-memory state.
func (c *Container) save() error {
	db, err := c.rt.DB()
	if err != nil {
		return err
	}
	b, err := json.Marshal(&c.State)
	if err != nil {
		return err
	}
	return db.UpdateState(c.ID(), b)
}

// LookupContainer finds a container by name, ID or ID prefix.
func (r *Runtime) LookupContainer(nameOrID string) (*Container, error) {
	db, err := r.DB()
	if err != nil {
		return nil, err
	}
	row, err := db.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	c, err := r.containerFromRow(row)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Containers lists all containers, oldest first.
func (r *Runtime) Containers() ([]*Container, error) {
	db, err := r.DB()
	if err != nil {
		return nil, err
	}
	rows, err := db.Containers()
	if err != nil {
		return nil, err
	}
	out := make([]*Container, 0, len(rows))
	for _, row := range rows {
		c, err := r.containerFromRow(row)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ListContainers lists all containers with their states made true: a
// container whose monitor died is reconciled first (under its lock).
func (r *Runtime) ListContainers() ([]*Container, error) {
	cs, err := r.Containers()
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	for _, c := range cs {
		removed := false
		if c.needsReconcile() {
			if lock, err := r.lockContainer(c.ID()); err == nil {
				if err := c.refresh(); err == nil {
					// A listing shows the state made true in memory even
					// when recording it failed (the DB still has the old
					// one, so the next command reconciles again): one
					// container's DB error does not hide all the others.
					var err error
					if removed, err = c.reconcile(); err != nil {
						logrus.Warnf("%v", err) // names the container
					}
				} else if errors.Is(err, state.ErrNoSuchContainer) {
					removed = true
				}
				lock.unlock()
			}
		}
		if !removed {
			out = append(out, c)
		}
	}
	return out, nil
}

// needsReconcile is a cheap check, without the lock, that the recorded
// state may be stale.
func (c *Container) needsReconcile() bool {
	switch c.State.Status {
	case StatusRunning, StatusPaused, StatusStopped, StatusStopping:
		return !c.monitorAlive()
	case StatusCreated:
		return c.State.MonitorPid != 0 && !c.monitorAlive()
	}
	return false
}
