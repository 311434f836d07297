package libpod

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TopDescriptors are the `top` columns berth knows, with their headers.
var TopDescriptors = map[string]string{
	"args": "COMMAND", "comm": "COMMAND", "etime": "ELAPSED", "group": "GROUP", "gid": "GID",
	"nice": "NI", "pcpu": "%CPU", "pgid": "PGID", "pid": "PID", "ppid": "PPID", "rss": "RSS",
	"state": "STATE", "time": "TIME", "tty": "TTY", "uid": "UID", "user": "USER", "vsz": "VSZ",
	"hpid": "HPID", "huser": "HUSER",
}

// DefaultTopDescriptors are podman's default columns.
var DefaultTopDescriptors = []string{"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"}

type procInfo struct {
	hostPid, pid, ppid, pgid int
	uid, gid, huid           int
	state                    string
	comm                     string
	args                     []string
	utime, stime, start      uint64
	nice                     int
	vszKB, rssKB             uint64
	ttyNr                    int
}

// Top lists the container's processes with the given descriptors; the
// first row is the header.
func (c *Container) Top(descriptors []string) ([][]string, error) {
	if err := c.refresh(); err != nil {
		return nil, err
	}
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		return nil, fmt.Errorf("top can only be used on running containers: %w", ErrNotRunning)
	}
	for _, d := range descriptors {
		if _, ok := TopDescriptors[d]; !ok {
			return nil, fmt.Errorf("unknown descriptor: %s", d)
		}
	}
	initNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.State.Pid))
	if err != nil {
		return nil, fmt.Errorf("reading the container's pid namespace: %w", err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	users, groups := c.idNames()
	var rows [][]string
	header := make([]string, len(descriptors))
	for i, d := range descriptors {
		header[i] = TopDescriptors[d]
	}
	rows = append(rows, header)
	bootTime := bootTime()
	for _, e := range entries {
		hostPid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", hostPid)); err != nil || ns != initNS {
			continue
		}
		p, err := readProc(hostPid)
		if err != nil {
			continue
		}
		row := make([]string, len(descriptors))
		for i, d := range descriptors {
			row[i] = p.field(d, users, groups, bootTime)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

const clockTicks = 100 // USER_HZ on Linux

func (p *procInfo) field(d string, users, groups map[int]string, boot time.Time) string {
	name := func(m map[int]string, id int) string {
		if n, ok := m[id]; ok {
			return n
		}
		return strconv.Itoa(id)
	}
	started := boot.Add(time.Duration(p.start) * time.Second / clockTicks)
	cpu := time.Duration(p.utime+p.stime) * time.Second / clockTicks
	switch d {
	case "args":
		if len(p.args) == 0 {
			return "[" + p.comm + "]"
		}
		return strings.Join(p.args, " ")
	case "comm":
		return p.comm
	case "etime":
		return time.Since(started).Round(time.Millisecond).String()
	case "group":
		return name(groups, p.gid)
	case "gid":
		return strconv.Itoa(p.gid)
	case "nice":
		return strconv.Itoa(p.nice)
	case "pcpu":
		elapsed := time.Since(started).Seconds()
		if elapsed <= 0 {
			return "0.000"
		}
		return fmt.Sprintf("%.3f", 100*cpu.Seconds()/elapsed)
	case "pgid":
		return strconv.Itoa(p.pgid)
	case "pid":
		return strconv.Itoa(p.pid)
	case "ppid":
		return strconv.Itoa(p.ppid)
	case "rss":
		return strconv.FormatUint(p.rssKB, 10)
	case "state":
		return p.state
	case "time":
		return cpu.Round(time.Second).String()
	case "tty":
		if p.ttyNr == 0 {
			return "?"
		}
		return fmt.Sprintf("pts/%d", unix.Minor(uint64(p.ttyNr)))
	case "uid":
		return strconv.Itoa(p.uid)
	case "user":
		return name(users, p.uid)
	case "vsz":
		return strconv.FormatUint(p.vszKB, 10)
	case "hpid":
		return strconv.Itoa(p.hostPid)
	case "huser":
		return strconv.Itoa(p.huid)
	}
	return ""
}

func readProc(pid int) (*procInfo, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(stat)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return nil, fmt.Errorf("bad stat for %d", pid)
	}
	p := &procInfo{hostPid: pid, comm: s[open+1 : close]}
	f := strings.Fields(s[close+2:])
	if len(f) < 22 {
		return nil, fmt.Errorf("bad stat for %d", pid)
	}
	p.state = f[0]
	p.pgid, _ = strconv.Atoi(f[2])
	p.ttyNr, _ = strconv.Atoi(f[4])
	p.utime, _ = strconv.ParseUint(f[11], 10, 64)
	p.stime, _ = strconv.ParseUint(f[12], 10, 64)
	p.nice, _ = strconv.Atoi(f[16])
	p.start, _ = strconv.ParseUint(f[19], 10, 64)
	vsz, _ := strconv.ParseUint(f[20], 10, 64)
	rss, _ := strconv.ParseUint(f[21], 10, 64)
	p.vszKB, p.rssKB = vsz/1024, rss*uint64(os.Getpagesize())/1024
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		last := fields[len(fields)-1]
		switch k {
		case "Uid":
			p.uid, _ = strconv.Atoi(fields[1])
			p.huid = p.uid
		case "Gid":
			p.gid, _ = strconv.Atoi(fields[1])
		case "NSpid":
			p.pid, _ = strconv.Atoi(last)
		case "NSpgid":
			p.pgid, _ = strconv.Atoi(last)
		case "PPid":
			p.ppid, _ = strconv.Atoi(fields[0])
		}
	}
	if p.ppid != 0 {
		// show the parent as the container sees it
		if pp, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.ppid)); err == nil {
			for _, line := range strings.Split(string(pp), "\n") {
				if strings.HasPrefix(line, "NSpid:") {
					fields := strings.Fields(line)
					if len(fields) > 2 {
						p.ppid, _ = strconv.Atoi(fields[len(fields)-1])
					} else {
						p.ppid = 0
					}
				}
			}
		}
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(cmdline) > 0 {
		p.args = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	return p, nil
}

// idNames reads user and group names from the container's /etc files.
func (c *Container) idNames() (users, groups map[int]string) {
	users, groups = map[int]string{}, map[int]string{}
	root := c.State.Mountpoint
	if root == "" {
		return
	}
	read := func(file string, m map[int]string) {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 2 {
				if id, err := strconv.Atoi(f[2]); err == nil {
					m[id] = f[0]
				}
			}
		}
	}
	read("etc/passwd", users)
	read("etc/group", groups)
	return
}

func bootTime() time.Time {
	data, err := os.ReadFile("/proc/stat")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "btime ") {
				if secs, err := strconv.ParseInt(strings.TrimSpace(line[6:]), 10, 64); err == nil {
					return time.Unix(secs, 0)
				}
			}
		}
	}
	return time.Now()
}
