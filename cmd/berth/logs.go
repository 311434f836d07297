package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/spf13/cobra"
	"go.podman.io/storage/pkg/stringid"
)

func newLogsCommand() *cobra.Command {
	var follow, timestamps, names, latest bool
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [options] CONTAINER [CONTAINER...]",
		Short: "Fetch the logs of one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !latest {
				return errors.New("specify at least one container name or ID to log")
			}
			opts := libpod.LogOptions{Follow: follow, Tail: -1}
			if tail != "" && tail != "all" {
				n, err := strconv.Atoi(tail)
				if err != nil {
					return fmt.Errorf("invalid --tail %q: must be a number", tail)
				}
				if n >= 0 {
					opts.Tail = n
				}
			}
			var err error
			if opts.Since, err = parseTimeFlag("since", since); err != nil {
				return err
			}
			if opts.Until, err = parseTimeFlag("until", until); err != nil {
				return err
			}
			r := runtime()
			var cs []*libpod.Container
			if latest {
				all, err := r.Containers()
				if err != nil {
					return err
				}
				if len(all) == 0 {
					return errors.New("no containers to show logs of")
				}
				cs = append(cs, all[len(all)-1])
			}
			for _, n := range args {
				c, err := r.LookupContainer(n)
				if err != nil {
					return containerError(n, err)
				}
				cs = append(cs, c)
			}
			w := &logWriter{out: bufio.NewWriter(os.Stdout), errOut: bufio.NewWriter(os.Stderr), flush: follow, timestamps: timestamps}
			defer w.Flush()
			read := func(c *libpod.Container) error {
				prefix := ""
				if len(cs) > 1 {
					prefix = stringid.TruncateID(c.ID()) + " "
					if names {
						prefix = c.Name() + " "
					}
				}
				atLineStart := true
				return c.ReadLog(opts, func(l libpod.LogLine) {
					w.write(prefix, l, atLineStart)
					atLineStart = !l.Partial
				})
			}
			if !follow || len(cs) == 1 {
				for _, c := range cs {
					if err := read(c); err != nil {
						return err
					}
				}
				return nil
			}
			// Following several containers: each is read at once, as its
			// lines come (a --rm container may be gone by the time an
			// earlier one ends), as podman does.
			errs := make(chan error, len(cs))
			for _, c := range cs {
				go func() { errs <- read(c) }()
			}
			var first error
			for range cs {
				if err := <-errs; err != nil && first == nil {
					first = err
				}
			}
			return first
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&follow, "follow", "f", false, "follow log output")
	fl.BoolVarP(&timestamps, "timestamps", "t", false, "output the timestamps in the log")
	fl.BoolVarP(&names, "names", "n", false, "output the container name in the log")
	fl.BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	fl.StringVar(&tail, "tail", "", "output the specified number of lines at the end of the logs")
	fl.StringVar(&since, "since", "", "show logs since TIMESTAMP (RFC3339, unix seconds or a duration like 10m)")
	fl.StringVar(&until, "until", "", "show logs until TIMESTAMP (RFC3339, unix seconds or a duration like 10m)")
	return cmd
}

// parseTimeFlag accepts RFC3339 times, unix seconds and durations before now.
func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(secs*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("invalid --%s %q: use an RFC3339 time, unix seconds or a duration such as 10m", name, strings.TrimSpace(v))
}

// logWriter prints log lines of one or more containers; lines of
// containers followed at once are written whole, one at a time.
type logWriter struct {
	mu          sync.Mutex
	out, errOut *bufio.Writer
	flush       bool
	timestamps  bool
}

func (w *logWriter) write(prefix string, l libpod.LogLine, atLineStart bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.out
	if l.Stream == "stderr" {
		b = w.errOut
	}
	if atLineStart {
		_, _ = b.WriteString(prefix)
		if w.timestamps {
			_, _ = b.WriteString(l.Time.Format(time.RFC3339Nano) + " ")
		}
	}
	_, _ = b.WriteString(l.Text)
	if !l.Partial {
		_ = b.WriteByte('\n')
	}
	if w.flush {
		_ = w.out.Flush()
		_ = w.errOut.Flush()
	}
}

// Flush writes what is buffered.
func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.out.Flush()
	_ = w.errOut.Flush()
}
