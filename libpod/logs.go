package libpod

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// LogLine is one record of a k8s-file log.
type LogLine struct {
	Time    time.Time
	Stream  string // stdout or stderr
	Partial bool   // no newline at the end
	Text    string
}

// LogOptions select what ReadLog returns.
type LogOptions struct {
	Follow bool
	Tail   int // -1: all
	Since  time.Time
	Until  time.Time
}

// ErrNoLog is returned for containers whose log driver keeps no log.
var ErrNoLog = errors.New("this container is not logging output")

// Log drivers. json-file is accepted as podman does: an alias that writes
// the k8s-file format (and keeps its name, for inspect).
const (
	LogDriverK8sFile     = "k8s-file"
	LogDriverJSONFile    = "json-file"
	LogDriverNone        = "none"
	LogDriverPassthrough = "passthrough"
	LogDriverJournald    = "journald"
)

// ErrInvalidLogDriver is podman's error for an unknown --log-driver.
var ErrInvalidLogDriver = errors.New("running container create option: invalid log driver: invalid argument")

// CheckLogDriver refuses a log driver berth cannot use.
func CheckLogDriver(driver string) error {
	switch driver {
	case LogDriverK8sFile, LogDriverJSONFile, LogDriverNone, LogDriverPassthrough:
		return nil
	case LogDriverJournald:
		return errors.New("--log-driver journald is not supported yet: use k8s-file, json-file, none or passthrough")
	}
	return ErrInvalidLogDriver
}

// logsToFile reports whether a log driver writes the k8s-file log.
func logsToFile(driver string) bool {
	return driver == LogDriverK8sFile || driver == LogDriverJSONFile || driver == ""
}

// ReadLog calls fn for each log line. With Follow it keeps reading until
// the container is no longer running.
func (c *Container) ReadLog(opts LogOptions, fn func(LogLine)) error {
	if !logsToFile(c.Config.LogDriver) || c.Config.LogPath == "" {
		return fmt.Errorf("this container is using the '%s' log driver, cannot read logs: %w", c.Config.LogDriver, ErrNoLog)
	}
	f, err := os.Open(c.Config.LogPath)
	if errors.Is(err, os.ErrNotExist) {
		if !opts.Follow {
			return nil
		}
		for i := 0; i < 100 && errors.Is(err, os.ErrNotExist); i++ {
			time.Sleep(20 * time.Millisecond)
			f, err = os.Open(c.Config.LogPath)
		}
	}
	if err != nil {
		return fmt.Errorf("reading log of %s: %w", c.Name(), err)
	}
	defer f.Close()
	rd := &logReader{rd: bufio.NewReader(f)}
	emit := func(l LogLine) {
		if !opts.Since.IsZero() && l.Time.Before(opts.Since) {
			return
		}
		if !opts.Until.IsZero() && l.Time.After(opts.Until) {
			return
		}
		fn(l)
	}
	if opts.Tail >= 0 {
		var all []LogLine
		if err := rd.readLines(func(l LogLine) { all = append(all, l) }); err != nil {
			return err
		}
		// Tail counts whole lines: partial records join the next one.
		start, n := len(all), 0
		for start > 0 && n < opts.Tail {
			start--
			if !all[start].Partial {
				n++
			}
			for start > 0 && all[start-1].Partial {
				start--
			}
		}
		for _, l := range all[start:] {
			emit(l)
		}
	} else if err := rd.readLines(emit); err != nil {
		return err
	}
	if !opts.Follow {
		return nil
	}
	for {
		if err := rd.readLines(emit); err != nil {
			return err
		}
		if err := c.refresh(); err != nil {
			return rd.readLines(emit) // removed (--rm): what it wrote last
		}
		if !c.State.active() && !(c.State.Status == StatusCreated && c.State.MonitorPid != 0) {
			return rd.readLines(emit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logReader reads records from a log that may still be written to.
type logReader struct {
	rd      *bufio.Reader
	pending string // an incomplete last record, completed by a later read
}

// readLines parses complete records until EOF.
func (r *logReader) readLines(fn func(LogLine)) error {
	for {
		line, err := r.rd.ReadString('\n')
		r.pending += line
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		line, r.pending = r.pending, ""
		if l, ok := parseLogLine(strings.TrimSuffix(line, "\n")); ok {
			fn(l)
		}
	}
}

func parseLogLine(s string) (LogLine, bool) {
	parts := strings.SplitN(s, " ", 4)
	if len(parts) < 3 {
		return LogLine{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return LogLine{}, false
	}
	l := LogLine{Time: t, Stream: parts[1], Partial: parts[2] == "P"}
	if len(parts) == 4 {
		l.Text = parts[3]
	}
	return l, true
}

// monitorLogDriver is the driver the monitor implements for a container's.
func monitorLogDriver(driver string) string {
	if logsToFile(driver) {
		return LogDriverK8sFile
	}
	return driver
}
