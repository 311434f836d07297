package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/berth-containers/berth/libpod"
	"github.com/docker/go-units"
	"github.com/spf13/cobra"
)

func humanDuration(d time.Duration) string { return units.HumanDuration(d) }

// psRow is one line of `berth ps`; its fields are the --format names.
type psRow struct {
	ID, Image, ImageID, Command, Status, State, Names, Ports, Size string
	Created                                                        string
	CreatedAt                                                      time.Time
	ExitCode                                                       int32
	Pid                                                            int
	Labels                                                         map[string]string
	c                                                              *libpod.Container
}

func (r psRow) RunningFor() string { return humanDuration(time.Since(r.CreatedAt)) + " ago" }

var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "Created": "CREATED", "RunningFor": "CREATED",
	"Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "Size": "SIZE", "State": "STATE", "ExitCode": "EXIT CODE",
	"CreatedAt": "CREATED AT", "Pid": "PID", "ImageID": "IMAGE ID", "Labels": "LABELS",
}

// psJSON is podman's `ps --format json` element.
type psJSON struct {
	AutoRemove bool                 `json:"AutoRemove"`
	Command    []string             `json:"Command"`
	Created    int64                `json:"Created"`
	CreatedAt  string               `json:"CreatedAt"`
	Exited     bool                 `json:"Exited"`
	ExitedAt   int64                `json:"ExitedAt"`
	ExitCode   int32                `json:"ExitCode"`
	ID         string               `json:"Id"`
	Image      string               `json:"Image"`
	ImageID    string               `json:"ImageID"`
	Labels     map[string]string    `json:"Labels"`
	Names      []string             `json:"Names"`
	Pid        int                  `json:"Pid"`
	Ports      []libpod.PortMapping `json:"Ports"`
	StartedAt  int64                `json:"StartedAt"`
	State      string               `json:"State"`
	Status     string               `json:"Status"`
}

func newPsCommand(use string) *cobra.Command {
	var all, quiet, noTrunc, latest, size, noHeading bool
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
				if !all && len(filters) == 0 && c.State.Status != libpod.StatusRunning && c.State.Status != libpod.StatusPaused {
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
			if format == "json" {
				out := make([]psJSON, 0, len(kept))
				for _, c := range kept {
					out = append(out, toPsJSON(c))
				}
				return printJSON(out)
			}
			rows := make([]psRow, 0, len(kept))
			for _, c := range kept {
				row := toPsRow(c, noTrunc)
				if size {
					if rw, rootfs, err := c.Sizes(); err == nil {
						row.Size = fmt.Sprintf("%s (virtual %s)", units.HumanSizeWithPrecision(float64(rw), 3), units.HumanSizeWithPrecision(float64(rootfs), 3))
					}
				}
				rows = append(rows, row)
			}
			if err := sortPsRows(rows, sortBy); err != nil {
				return err
			}
			if quiet {
				for _, r := range rows {
					fmt.Println(r.ID)
				}
				return nil
			}
			if format == "" {
				format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
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
	fl.StringArrayVarP(&filters, "filter", "f", nil, "filter output based on conditions given")
	fl.StringVar(&format, "format", "", "pretty-print containers to JSON or using a Go template")
	fl.StringVar(&sortBy, "sort", "created", "sort output by: command, created, id, image, names, runningfor, size, status")
	return cmd
}

func toPsRow(c *libpod.Container, noTrunc bool) psRow {
	id := c.ID()
	if !noTrunc {
		id = id[:12]
	}
	command := strings.Join(c.Config.Command, " ")
	if !noTrunc && len(command) > 17 {
		command = command[:17] + "..."
	}
	return psRow{
		ID: id, Image: c.Config.ImageName, ImageID: c.Config.ImageID, Command: command,
		Status: statusText(c), State: c.State.Status, Names: c.Name(), Ports: portsText(c.Config.Ports),
		Created: humanDuration(time.Since(c.Config.Created)) + " ago", CreatedAt: c.Config.Created,
		ExitCode: c.State.ExitCode, Pid: c.State.Pid, Labels: c.Config.Labels, c: c,
	}
}

func toPsJSON(c *libpod.Container) psJSON {
	j := psJSON{
		AutoRemove: c.Config.AutoRemove, Command: c.Config.Command, Created: c.Config.Created.Unix(),
		CreatedAt: c.Config.Created.Format(time.RFC3339Nano), Exited: c.State.Status == libpod.StatusExited,
		ExitCode: c.State.ExitCode, ID: c.ID(), Image: c.Config.ImageName, ImageID: c.Config.ImageID,
		Labels: c.Config.Labels, Names: []string{c.Name()}, Pid: c.State.Pid, Ports: c.Config.Ports,
		State: c.State.Status, Status: statusText(c),
	}
	if !c.State.FinishedAt.IsZero() {
		j.ExitedAt = c.State.FinishedAt.Unix()
	}
	if !c.State.StartedAt.IsZero() {
		j.StartedAt = c.State.StartedAt.Unix()
	}
	if j.Ports == nil {
		j.Ports = []libpod.PortMapping{}
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
		less = func(a, b *psRow) bool { return a.CreatedAt.After(b.CreatedAt) }
	case "id":
		less = func(a, b *psRow) bool { return a.ID < b.ID }
	case "image":
		less = func(a, b *psRow) bool { return a.Image < b.Image }
	case "names":
		less = func(a, b *psRow) bool { return a.Names < b.Names }
	case "status":
		less = func(a, b *psRow) bool { return a.Status < b.Status }
	case "command":
		less = func(a, b *psRow) bool { return a.Command < b.Command }
	default:
		return fmt.Errorf("invalid option for --sort, options are: command, created, id, image, names, runningfor, status")
	}
	sort.SliceStable(rows, func(i, j int) bool { return less(&rows[i], &rows[j]) })
	return nil
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
		case "name", "label", "ancestor", "id", "exited":
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

func psFilterMatches(c *libpod.Container, key, value string) bool {
	switch key {
	case "status":
		return c.State.Status == value || value == "stopped" && c.State.Status == libpod.StatusExited
	case "name":
		return strings.Contains(c.Name(), value) || c.Name() == value
	case "id":
		return strings.HasPrefix(c.ID(), value)
	case "label":
		k, v, hasValue := strings.Cut(value, "=")
		got, ok := c.Config.Labels[k]
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
