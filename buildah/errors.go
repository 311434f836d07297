package buildah

import (
	"errors"
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// StepError is a step that failed; podman's wording:
// `building at STEP "RUN false": while running runtime: exit status 1`.
type StepError struct {
	// Step is the instruction as written.
	Step string
	// ExitCode is what berth build exits with: RUN's exit status, or 125.
	ExitCode int
	Err      error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("building at STEP \"%s\": %v", e.Step, e.Err) //nolint:gocritic // podman's message, verbatim: %q would escape the step's quotes
}

func (e *StepError) Unwrap() error { return e.Err }

// createError is a base image that could not be found or pulled; podman's
// wording: "creating build container: NAME: image not known".
type createError struct{ err error }

func (e *createError) Error() string { return "creating build container: " + e.err.Error() }

func (e *createError) Unwrap() error { return e.err }

// ExitCode is the exit code berth build should exit with for err.
func ExitCode(err error) int {
	var se *StepError
	if errors.As(err, &se) && se.ExitCode != 0 {
		return se.ExitCode
	}
	return 125
}

// lineOf returns the first line of a command in the Dockerfile.
func lineOf(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// notSupported is the error for a feature berth build does not have yet.
func (d *dockerfile) notSupported(cmd instructions.Command, what string) error {
	return fmt.Errorf("%s:%d: %s is not supported yet (in %q)", d.name, lineOf(cmd.Location()), what, commandText(cmd))
}

// errorAt names the Dockerfile line of cmd.
func (d *dockerfile) errorAt(cmd instructions.Command, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", d.name, lineOf(cmd.Location()), fmt.Sprintf(format, args...))
}

// commandText is the instruction as written (continuation lines joined).
func commandText(cmd instructions.Command) string {
	if s, ok := cmd.(fmt.Stringer); ok {
		return s.String()
	}
	return cmd.Name()
}
