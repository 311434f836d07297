package monitor

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"
)

// logWriter writes the k8s-file format podman and CRI use:
// "<RFC3339Nano time> <stream> <F|P> <text>\n", P marking a partial line.
type logWriter struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxSize  int64
	maxFiles int
}

const logTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func openLog(path string, maxSize int64, maxFiles int) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening log %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &logWriter{path: path, f: f, size: st.Size(), maxSize: maxSize, maxFiles: maxFiles}, nil
}

// write logs one chunk read from a stream, a line per record; rotation
// happens between records, so no file grows much past max-size.
func (l *logWriter) write(stream string, data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().Format(logTimeFormat)
	var rec, batch bytes.Buffer
	flush := func() {
		n, _ := l.f.Write(batch.Bytes())
		l.size += int64(n)
		batch.Reset()
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		tag, line := "P", data
		if i >= 0 {
			tag, line, data = "F", data[:i], data[i+1:]
		} else {
			data = nil
		}
		rec.Reset()
		rec.WriteString(now)
		rec.WriteByte(' ')
		rec.WriteString(stream)
		rec.WriteByte(' ')
		rec.WriteString(tag)
		rec.WriteByte(' ')
		rec.Write(line)
		rec.WriteByte('\n')
		if l.maxSize > 0 && l.size+int64(batch.Len()+rec.Len()) > l.maxSize && l.size+int64(batch.Len()) > 0 {
			flush()
			l.rotate()
		}
		batch.Write(rec.Bytes())
	}
	flush()
}

// rotate keeps maxFiles-1 old logs (path.1 newest); with maxFiles <= 1 the
// log is truncated, as conmon does.
func (l *logWriter) rotate() {
	_ = l.f.Close()
	if l.maxFiles > 1 {
		for i := l.maxFiles - 1; i > 1; i-- {
			_ = os.Rename(fmt.Sprintf("%s.%d", l.path, i-1), fmt.Sprintf("%s.%d", l.path, i))
		}
		_ = os.Rename(l.path, l.path+".1")
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		f, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	l.f, l.size = f, 0
}

func (l *logWriter) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.f.Close()
}
