// Package monitor is berth's conmon: one small process per container that
// creates it through the OCI runtime, owns its stdio, writes its log, serves
// attach, reaps its exit code and runs the cleanup command.
//
// This package is linked into the separate berth-monitor binary, so it
// imports only the standard library and x/sys: a monitor stays small for
// the whole life of its container.
package monitor

// Config is everything a monitor needs; berth writes it as JSON next to the
// bundle and passes its path.
type Config struct {
	ID          string   `json:"id"`
	Runtime     string   `json:"runtime"`     // path of runc or crun
	RuntimeRoot string   `json:"runtimeRoot"` // --root for the runtime
	Bundle      string   `json:"bundle"`      // directory with config.json
	PidFile     string   `json:"pidFile"`     // where the runtime writes the container pid
	Terminal    bool     `json:"terminal"`    // allocate a pty (console socket)
	Stdin       bool     `json:"stdin"`       // keep stdin open for attach (-i)
	LogDriver   string   `json:"logDriver"`   // k8s-file, none, passthrough
	LogPath     string   `json:"logPath"`
	LogMaxSize  int64    `json:"logMaxSize"`  // bytes, 0 = unlimited
	LogMaxFiles int      `json:"logMaxFiles"` // rotated files kept
	AttachPath  string   `json:"attachPath"`  // unix socket served for attach
	ExitFile    string   `json:"exitFile"`    // exit code written here
	ExitCommand []string `json:"exitCommand"` // run after exit (berth container cleanup)
	// Deferred containers (berth init) are started later, on a FrameStart
	// from an attach client, instead of on "start" from the sync socket.
	Deferred bool `json:"deferred,omitempty"`
	// RunAtOnce: the container is created and started by one
	// `runtime run --detach` once berth says "start" (berth has attached
	// by then), instead of `create` first and `start` on request: one
	// runtime process less. Only for containers whose network needs no
	// set-up between the two (no NetworkCommand).
	RunAtOnce bool `json:"runAtOnce,omitempty"`
	// NetworkCommand is started once the container exists, with "{pid}"
	// replaced by its pid (slirp4netns); it is killed when the container exits.
	NetworkCommand []string `json:"networkCommand,omitempty"`
	// NetworkReadyFD: the network command signals readiness by writing to
	// this fd number (slirp4netns --ready-fd); 0 = do not wait.
	NetworkReadyFD int `json:"networkReadyFd,omitempty"`
	// NetworkAPISocket is slirp4netns' API socket, used to publish Ports.
	NetworkAPISocket string        `json:"networkApiSocket,omitempty"`
	Ports            []PortForward `json:"ports,omitempty"`
	// Timeout (--timeout): SIGKILL the container after that many seconds
	// of running, as conmon does; 0 for no limit.
	Timeout uint `json:"timeout,omitempty"`
	// MonitorPidFile (--conmon-pidfile): the monitor writes its own pid there.
	MonitorPidFile string `json:"monitorPidFile,omitempty"`
	// PreserveFDs (--preserve-fds): fds 3..3+N-1 of the monitor go to the
	// container (the runtime's --preserve-fds); the sync socket is then
	// fd 3+N instead of 3.
	PreserveFDs uint `json:"preserveFds,omitempty"`
	// RuntimeFlags go before --root in every runtime command (--runtime-flag).
	RuntimeFlags []string `json:"runtimeFlags,omitempty"`
}

// PortForward is one published port: host address and port to container port.
type PortForward struct {
	HostIP        string `json:"hostIp"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

// Frame types on the attach socket. Each frame is 1 byte type, 4 bytes
// big-endian length, then the payload.
const (
	FrameStdin   byte = 0 // client -> monitor
	FrameStdout  byte = 1 // monitor -> client
	FrameStderr  byte = 2 // monitor -> client
	FrameResize  byte = 3 // client -> monitor: 4 bytes: rows, cols (uint16 BE)
	FrameCloseIn byte = 4 // client -> monitor: close the container's stdin
	FrameExit    byte = 5 // monitor -> client: 4 bytes exit code (int32 BE)
	// FrameOwnCleanup: client -> monitor: "I will run cleanup after the
	// exit", so the monitor skips its exit command while that client stays.
	FrameOwnCleanup byte = 6
	// FrameAttached: monitor -> client, first frame: the client is
	// registered and will see all output and the exit from now on.
	FrameAttached byte = 7
	// FrameStart: client -> monitor: start a deferred (`berth init`)
	// container; answered with FrameStartResult (error text, empty if ok).
	FrameStart       byte = 8
	FrameStartResult byte = 9
	// FrameCleanupDone: client -> monitor: the client that owns cleanup
	// (FrameOwnCleanup) has finished it. An owner that disconnects after
	// the exit without sending it died before cleaning up: the monitor
	// then runs its exit command itself.
	FrameCleanupDone byte = 10
	FrameStdinEOF         = FrameCloseIn
)

// Sync messages the monitor writes on fd 3 to the berth process that
// started it: one JSON line.
type SyncMessage struct {
	// Ready (RunAtOnce): the monitor serves attach and waits for "start".
	Ready   bool   `json:"ready,omitempty"`
	Pid     int    `json:"pid,omitempty"`
	Started bool   `json:"started,omitempty"`
	Error   string `json:"error,omitempty"`
}

// runtimeArgs are a runtime command's arguments: the global flags, --root,
// then rest.
func (c *Config) runtimeArgs(rest ...string) []string {
	return append(append(append([]string{}, c.RuntimeFlags...), "--root", c.RuntimeRoot), rest...)
}
