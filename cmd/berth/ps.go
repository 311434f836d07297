package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/libpod/network"
	"github.com/docker/go-units"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"go.podman.io/storage/pkg/stringid"
)

func humanDuration(d time.Duration) string { return units.HumanDuration(d) }

// psNamespaces is podman's ListContainerNamespaces (filled by --ns,
// which berth does not have yet: empty, as podman's without it).
type psNamespaces struct {
	MNT, Cgroup, IPC, NET, PIDNS, UTS, User string
}

// psFields holds podman's ListContainer fields, addressed by their names
// in --format templates; the methods of psRow shadow the ones podman
// prints for people (ID, State, Status, Command, Names, Ports, ...).
type psFields struct {
	AutoRemove bool
	Command    []string
	Created    time.Time
	Exited     bool
	ExitedAt   int64
	ExitCode   int32
	Id         string // podman's template name
	Image      string
	ImageID    string
	IsInfra    bool
	Labels     map[string]string
	Mounts     []string
	Names      []string
	Namespaces psNamespaces
	Networks   []string
	Pid        int
	Pod        string
	PodName    string
	Ports      []libpod.PortMapping
	StartedAt  int64
	State      string
	rw, rootfs *int64 // with --size
}

// psRow is one line of `berth ps`.
type psRow struct {
	psFields
	noTrunc bool
	c       *libpod.Container
}

func (r psRow) ID() string {
	if r.noTrunc {
		return r.Id
	}
	return stringid.TruncateID(r.Id)
}

func (r psRow) ImageID() string {
	if r.noTrunc || len(r.psFields.ImageID) < 12 {
		return r.psFields.ImageID
	}
	return stringid.TruncateID(r.psFields.ImageID)
}

func (r psRow) Pod() string {
	if r.noTrunc || len(r.psFields.Pod) < 12 {
		return r.psFields.Pod
	}
	return stringid.TruncateID(r.psFields.Pod)
}

// State is podman 4.3's: the state for people ("Up 3 minutes ago").
func (r psRow) State() string {
	switch libpod.ContainerStatus(r.psFields.State) {
	case libpod.StatusRunning:
		return "Up " + humanDuration(time.Since(time.Unix(r.StartedAt, 0))) + " ago"
	case libpod.StatusExited, libpod.StatusStopped:
		return fmt.Sprintf("Exited (%d) %s ago", r.ExitCode, humanDuration(time.Since(time.Unix(r.ExitedAt, 0))))
	}
	return strings.Title(r.psFields.State) //nolint:staticcheck // podman's
}

func (r psRow) Status() string       { return r.State() }
func (r psRow) RunningFor() string   { return r.CreatedHuman() }
func (r psRow) CreatedHuman() string { return humanDuration(time.Since(r.Created)) + " ago" }
func (r psRow) CreatedAt() string    { return r.Created.String() }
func (r psRow) Names() string        { return r.psFields.Names[0] }
func (r psRow) Networks() string     { return strings.Join(r.psFields.Networks, ",") }
func (r psRow) Ports() string        { return portsText(r.psFields.Ports) }
func (r psRow) Mounts() string       { return strings.Join(r.psFields.Mounts, ",") }
func (r psRow) Cgroup() string       { return r.Namespaces.Cgroup }
func (r psRow) IPC() string          { return r.Namespaces.IPC }
func (r psRow) MNT() string          { return r.Namespaces.MNT }
func (r psRow) NET() string          { return r.Namespaces.NET }
func (r psRow) PIDNS() string        { return r.Namespaces.PIDNS }
func (r psRow) User() string         { return r.Namespaces.User }
func (r psRow) UTS() string          { return r.Namespaces.UTS }

func (r psRow) Command() string {
	command := strings.Join(r.psFields.Command, " ")
	if !r.noTrunc && len(command) > 17 {
		return command[:17] + "..."
	}
	return command
}

// Size is "RW (virtual ROOTFS)"; it needs --size, as podman's.
func (r psRow) Size() string {
	if r.rw == nil {
		logrus.Error("Size format requires --size option")
		return ""
	}
	return fmt.Sprintf("%s (virtual %s)", units.HumanSizeWithPrecision(float64(*r.rw), 3),
		units.HumanSizeWithPrecision(float64(*r.rootfs), 3))
}

var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Id": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "Created": "CREATED",
	"CreatedHuman": "CREATED", "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES",
	"Size": "SIZE", "State": "STATE", "ExitCode": "EXIT CODE", "CreatedAt": "CREATED AT", "Pid": "PID",
	"ImageID": "IMAGE ID", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "Pod": "POD ID",
	"PodName": "POD NAME", "IsInfra": "IS INFRA", "AutoRemove": "AUTO REMOVE", "StartedAt": "STARTED AT",
	"ExitedAt": "EXITED AT", "Exited": "EXITED", "Namespaces": "NAMESPACES",
}

// psPort is podman's PortMapping in `ps --format json`.
type psPort struct {
	HostIP        string `json:"host_ip"`
	ContainerPort uint16 `json:"container_port"`
	HostPort      uint16 `json:"host_port"`
	Range         uint16 `json:"range"`
	Protocol      string `json:"protocol"`
}

// psJSON is podman's `ps --format json` element.
type psJSON struct {
	AutoRemove bool              `json:"AutoRemove"`
	Command    []string          `json:"Command"`
	CreatedAt  string            `json:"CreatedAt"`
	Exited     bool              `json:"Exited"`
	ExitedAt   int64             `json:"ExitedAt"`
	ExitCode   int32             `json:"ExitCode"`
	ID         string            `json:"Id"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	IsInfra    bool              `json:"IsInfra"`
	Labels     map[string]string `json:"Labels"`
	Mounts     []string          `json:"Mounts"`
	Names      []string          `json:"Names"`
	Namespaces struct{}          `json:"Namespaces"`
	Networks   []string          `json:"Networks"`
	Pid        int               `json:"Pid"`
	Pod        string            `json:"Pod"`
	PodName    string            `json:"PodName"`
	Ports      []psPort          `json:"Ports"`
	Size       *psSize           `json:"Size"`
	StartedAt  int64             `json:"StartedAt"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	Created    int64             `json:"Created"`
}

type psSize struct {
	RwSize     int64 `json:"rwSize"`
	RootFsSize int64 `json:"rootFsSize"`
}

func newPsCommand(use string) *cobra.Command {
	var all, quiet, noTrunc, latest, size, noHeading, external bool
	var last int
	var filters []string
	var format, sortBy string
	cmd := &cobra.Command{
		Use:   use + " [options]",
		Short: "List containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r := runtime()
			cs, err := r.ListContainers()
			if err != nil {
				return err
			}
			match, err := parsePsFilters(filters)
			if err != nil {
				return err
			}
			var kept []*libpod.Container
			for _, c := range cs {
				if !all && !hasStatusFilter(filters) && c.State.Status != libpod.StatusRunning && c.State.Status != libpod.StatusPaused {
					continue
				}
				if match(c) {
					kept = append(kept, c)
				}
			}
			sort.SliceStable(kept, func(i, j int) bool { return kept[i].Config.Created.After(kept[j].Config.Created) })
			if latest {
				last = 1
			}
			if last > 0 && len(kept) > last {
				kept = kept[:last]
			}
			var externals []*libpod.ExternalContainer
			if external {
				if externals, err = r.ExternalContainers(); err != nil {
					return err
				}
			}
			rows := make([]psRow, 0, len(kept))
			for _, c := range kept {
				rows = append(rows, toPsRow(c, noTrunc, size))
			}
			for _, e := range externals {
				rows = append(rows, externalPsRow(e, noTrunc))
			}
			if err := sortPsRows(rows, sortBy); err != nil {
				return err
			}
			if format == "json" {
				out := make([]psJSON, 0, len(rows))
				for _, r := range rows {
					out = append(out, toPsJSON(r))
				}
				return printJSONIndent(out, "  ")
			}
			if quiet {
				w := bufio.NewWriter(os.Stdout)
				for _, r := range rows {
					fmt.Fprintln(w, r.ID())
				}
				return w.Flush()
			}
			if format == "" {
				format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
				if size {
					format += "\t{{.Size}}"
				}
			}
			headers := psHeaders
			if noHeading {
				headers = nil
			}
			return printRows(os.Stdout, format, rows, headers)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "show all the containers, default is only running containers")
	fl.BoolVarP(&quiet, "quiet", "q", false, "print the numeric IDs of the containers only")
	fl.BoolVar(&noTrunc, "no-trunc", false, "display the extended information")
	fl.BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	fl.IntVarP(&last, "last", "n", -1, "print the n last created containers (all states)")
	fl.BoolVarP(&size, "size", "s", false, "display the total file sizes")
	fl.BoolVar(&noHeading, "noheading", false, "do not print headers")
	fl.BoolVar(&external, "external", false, "show containers in storage not controlled by berth")
	fl.StringArrayVarP(&filters, "filter", "f", nil, "filter output based on conditions given")
	fl.StringVar(&format, "format", "", "pretty-print containers to JSON or using a Go template")
	fl.StringVar(&sortBy, "sort", "created", "sort output by: command, created, id, image, names, runningfor, size, status")
	return cmd
}

// toPsRow gathers what podman's ListContainer holds about c.
func toPsRow(c *libpod.Container, noTrunc, size bool) psRow {
	f := psFields{
		AutoRemove: c.Config.AutoRemove, Command: c.UserCommand(), Created: c.Config.Created,
		Exited:   c.State.Status == libpod.StatusExited || c.State.Status == libpod.StatusStopped,
		ExitedAt: c.State.FinishedAt.Unix(), ExitCode: c.State.ExitCode, Id: c.ID(), Image: c.Config.ImageName,
		ImageID: c.Config.ImageID, Labels: c.Labels(), Mounts: c.MountDestinations(), Names: []string{c.Name()},
		Networks: []string{}, Ports: c.Config.Ports, StartedAt: c.State.StartedAt.Unix(), State: c.State.Status.String(),
	}
	if c.State.Status == libpod.StatusStopped {
		f.State = libpod.StatusExited.String()
	}
	if f.State != libpod.StatusExited.String() {
		f.Pid = c.State.Pid // running, paused, or created by init
	}
	if c.Config.Network == "bridge" {
		name := network.DefaultNetwork
		if c.State.Network != nil && c.State.Network.Network != "" {
			name = c.State.Network.Network
		}
		f.Networks = []string{name}
	}
	if f.Ports == nil {
		f.Ports = []libpod.PortMapping{}
	}
	if size {
		if rw, rootfs, err := c.Sizes(); err == nil {
			f.rw, f.rootfs = &rw, &rootfs
		}
	}
	return psRow{psFields: f, noTrunc: noTrunc, c: c}
}

func toPsJSON(r psRow) psJSON {
	j := psJSON{
		AutoRemove: r.AutoRemove, Command: r.psFields.Command, CreatedAt: r.CreatedHuman(), Exited: r.Exited,
		ExitedAt: r.ExitedAt, ExitCode: r.ExitCode, ID: r.Id, Image: r.Image, ImageID: r.psFields.ImageID,
		IsInfra: r.IsInfra, Labels: r.Labels, Mounts: r.psFields.Mounts, Names: r.psFields.Names,
		Networks: r.psFields.Networks, Pid: r.Pid, Pod: r.psFields.Pod, PodName: r.PodName, Ports: []psPort{},
		StartedAt: r.StartedAt, State: r.psFields.State, Status: r.Status(), Created: r.Created.Unix(),
	}
	for _, p := range r.psFields.Ports {
		j.Ports = append(j.Ports, psPort{HostIP: p.HostIP, ContainerPort: p.ContainerPort, HostPort: p.HostPort,
			Range: 1, Protocol: p.Protocol})
	}
	if r.rw != nil {
		j.Size = &psSize{RwSize: *r.rw, RootFsSize: *r.rootfs}
	}
	return j
}

func portsText(ports []libpod.PortMapping) string {
	var parts []string
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Protocol))
	}
	return strings.Join(parts, ", ")
}

func sortPsRows(rows []psRow, by string) error {
	var less func(a, b *psRow) bool
	switch by {
	case "created", "runningfor":
		less = func(a, b *psRow) bool { return a.Created.Before(b.Created) } // oldest first, as podman
	case "id":
		less = func(a, b *psRow) bool { return a.Id < b.Id }
	case "image":
		less = func(a, b *psRow) bool { return a.Image < b.Image }
	case "names":
		less = func(a, b *psRow) bool { return a.Names() < b.Names() }
	case "status":
		less = func(a, b *psRow) bool { return a.Status() < b.Status() }
	case "command":
		less = func(a, b *psRow) bool { return a.Command() < b.Command() }
	default:
		return fmt.Errorf("invalid option for --sort, options are: command, created, id, image, names, runningfor, status")
	}
	sort.SliceStable(rows, func(i, j int) bool { return less(&rows[i], &rows[j]) })
	return nil
}

// hasStatusFilter tells whether a status filter replaces ps' default of
// listing only running containers (as podman's).
func hasStatusFilter(filters []string) bool {
	for _, f := range filters {
		if strings.HasPrefix(f, "status=") {
			return true
		}
	}
	return false
}

// parsePsFilters compiles ps --filter: several values of one key match if
// any does; different keys must all match.
func parsePsFilters(filters []string) (func(*libpod.Container) bool, error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("invalid filter %q: must be in the format \"filter=value\"", f)
		}
		switch k {
		case "status":
			switch v {
			case "created", "running", "paused", "exited", "stopped", "restarting", "removing", "dead", "configured", "unknown":
			default:
				return nil, fmt.Errorf("%q is not a valid status", v)
			}
		case "name", "label", "ancestor", "id", "exited", "network", "volume":
		case "before", "since":
			// by the named container's creation time
			ref, err := runtime().LookupContainer(v)
			if err != nil {
				return nil, fmt.Errorf("%s filter: no such container %s", k, v)
			}
			v = ref.Config.Created.Format(time.RFC3339Nano)
		case "until":
			t, err := parseUntil(v)
			if err != nil {
				return nil, err
			}
			v = t.Format(time.RFC3339Nano)
		default:
			return nil, fmt.Errorf("%q is an invalid filter", k)
		}
		byKey[k] = append(byKey[k], v)
	}
	return func(c *libpod.Container) bool {
		for k, values := range byKey {
			ok := false
			for _, v := range values {
				if psFilterMatches(c, k, v) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}, nil
}

// parseUntil reads an until= value: a duration before now (10m), a Unix
// time, or an RFC 3339 time.
func parseUntil(v string) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid until filter %q: use a duration (10m), a Unix time or an RFC 3339 time", v)
}

func psFilterMatches(c *libpod.Container, key, value string) bool {
	switch key {
	case "before", "since", "until":
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return false
		}
		if key == "since" {
			return c.Config.Created.After(t)
		}
		return c.Config.Created.Before(t)
	case "network":
		if c.Config.Network == "bridge" {
			name := network.DefaultNetwork
			if c.State.Network != nil && c.State.Network.Network != "" {
				name = c.State.Network.Network
			}
			return value == name
		}
		return value == c.Config.Network
	case "volume":
		for _, d := range c.MountDestinations() {
			if d == value {
				return true
			}
		}
		return false
	case "status":
		want := libpod.ContainerStatus(value)
		return c.State.Status == want || want == libpod.StatusStopped && c.State.Status == libpod.StatusExited
	case "name":
		return strings.Contains(c.Name(), value) || c.Name() == value
	case "id":
		return strings.HasPrefix(c.ID(), value)
	case "label":
		k, v, hasValue := strings.Cut(value, "=")
		got, ok := c.Labels()[k]
		return ok && (!hasValue || got == v)
	case "ancestor":
		return strings.HasPrefix(c.Config.ImageID, value) || c.Config.ImageName == value ||
			strings.HasSuffix(c.Config.ImageName, "/"+value) || strings.HasSuffix(c.Config.ImageName, "/"+value+":latest") ||
			strings.TrimSuffix(c.Config.ImageName, ":latest") == value
	case "exited":
		return c.State.Status == libpod.StatusExited && fmt.Sprint(c.State.ExitCode) == value
	}
	return false
}
