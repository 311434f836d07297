package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/spf13/cobra"
)

// ctrSelect is how podman's container commands (start, stop, kill,
// restart, pause, unpause) choose the containers they act on: names or
// IDs as typed, --all, --latest, --cidfile, --filter and --ignore.
type ctrSelect struct {
	all, latest, ignore bool
	cidfiles, filters   []string
	filterArgsOK        bool // start filters the containers named; the others refuse both
}

// ctrTarget is one container chosen, with what is printed for it: the name
// or ID the user typed, the full ID with --all, --latest and --filter.
type ctrTarget struct {
	input string
	c     *libpod.Container
}

// selectFlags names the flags a command takes besides --all and --latest.
type selectFlags struct {
	cidfile, filter, ignore bool
	allShort                bool // -a is --all (start's -a is --attach)
}

func (s *ctrSelect) addFlags(cmd *cobra.Command, allHelp string, sf selectFlags) {
	fl := cmd.Flags()
	if sf.allShort {
		fl.BoolVarP(&s.all, "all", "a", false, allHelp)
	} else {
		fl.BoolVar(&s.all, "all", false, allHelp)
	}
	fl.BoolVarP(&s.latest, "latest", "l", false, "act on the latest container berth is aware of")
	if sf.cidfile {
		fl.StringArrayVar(&s.cidfiles, "cidfile", nil, "read the container ID from the file")
	}
	if sf.filter {
		fl.StringSliceVarP(&s.filters, "filter", "f", nil, "filter output based on conditions given")
	}
	if sf.ignore {
		fl.BoolVarP(&s.ignore, "ignore", "i", false, "ignore errors when a specified container is missing")
	}
}

// resolve checks the combination of arguments and flags as podman does and
// returns the containers. A name that matches nothing fails the whole
// command before anything is done (podman's order), unless --ignore.
func (s *ctrSelect) resolve(args []string) ([]ctrTarget, error) {
	switch {
	case s.all && s.latest:
		return nil, errors.New("--all and --latest cannot be used together")
	case (s.all || s.latest) && len(s.cidfiles) > 0:
		return nil, errors.New("--all, --latest, and --cidfile cannot be used together")
	case len(args) > 0 && s.latest:
		return nil, errors.New("--latest and containers cannot be used together")
	case len(args) > 0 && s.all:
		return nil, errors.New("no arguments are needed with --all")
	case len(args) > 0 && len(s.cidfiles) > 0:
		return nil, errors.New("no arguments are needed with --latest or --cidfile")
	case len(args) > 0 && len(s.filters) > 0 && !s.filterArgsOK:
		return nil, errors.New("--filter takes no arguments")
	case len(args) == 0 && !s.all && !s.latest && len(s.cidfiles) == 0 && len(s.filters) == 0:
		return nil, errors.New("you must provide at least one name or id")
	}
	match, err := s.matcher()
	if err != nil {
		return nil, err
	}
	for _, f := range s.cidfiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading CIDFile: %w", err)
		}
		args = append(args, strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	}
	r := runtime()
	var out []ctrTarget
	if len(args) == 0 {
		cs, err := r.Containers()
		if err != nil {
			return nil, err
		}
		if s.latest {
			latest := latestOf(cs)
			if latest == nil {
				return nil, state.ErrNoSuchContainer
			}
			cs = []*libpod.Container{latest}
		}
		for _, c := range cs {
			if match(c) {
				out = append(out, ctrTarget{c.ID(), c})
			}
		}
		return out, nil
	}
	for _, n := range args {
		c, err := r.LookupContainer(n)
		if err != nil {
			if s.ignore && errors.Is(err, state.ErrNoSuchContainer) {
				continue
			}
			return nil, containerError(n, err)
		}
		if match(c) {
			out = append(out, ctrTarget{n, c})
		}
	}
	return out, nil
}

// matcher compiles --filter: ps's filters and restart-policy.
func (s *ctrSelect) matcher() (func(*libpod.Container) bool, error) {
	var psFilters, policies []string
	for _, f := range s.filters {
		k, v, _ := strings.Cut(f, "=")
		if k != "restart-policy" {
			psFilters = append(psFilters, f)
			continue
		}
		switch v {
		case "none", "no", "always", "on-failure", "unless-stopped":
		default:
			return nil, fmt.Errorf("%s invalid restart policy", v)
		}
		policies = append(policies, v)
	}
	ps, err := parsePsFilters(psFilters)
	if err != nil {
		return nil, err
	}
	return func(c *libpod.Container) bool {
		if len(policies) > 0 {
			ok := false
			for _, p := range policies {
				got := c.Config.RestartPolicy
				if p == "none" && got == "" || p == got {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return ps(c)
	}, nil
}

// errSkip tells run that a container was passed over (not in the state
// the command acts on, with --all): nothing is printed for it.
var errSkip = errors.New("skipped")

// run calls fn on every target, printing each target's input when fn
// succeeds, and each failure but the last on stderr; it returns the last.
func runOnTargets(targets []ctrTarget, fn func(*libpod.Container) error) error {
	var lastErr error
	for _, t := range targets {
		err := fn(t.c)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			if lastErr != nil {
				fmt.Fprintln(os.Stderr, "Error:", lastErr)
			}
			lastErr = err
			continue
		}
		fmt.Println(t.input)
	}
	return lastErr
}

// latestOf is --latest: the container created last, or nil.
func latestOf(cs []*libpod.Container) *libpod.Container {
	var latest *libpod.Container
	for _, c := range cs {
		if latest == nil || c.Config.Created.After(latest.Config.Created) {
			latest = c
		}
	}
	return latest
}
