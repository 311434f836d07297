package specgen

import (
	"encoding/json"
	"errors"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/pkg/parse"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrNoCommand is returned when neither the user nor the image gives a command.
var ErrNoCommand = errors.New("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")

// ParseEntrypoint reads an --entrypoint value as podman does: a JSON array
// (`["/bin/sh","-c"]`) gives its elements, "" clears the image's entrypoint
// (an empty, non-nil slice), and anything else is a single program path.
func ParseEntrypoint(s string) []string {
	if s == "" {
		return []string{}
	}
	if strings.HasPrefix(s, "[") {
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err == nil {
			return list
		}
	}
	return []string{s}
}

// Command returns the container's argv, with podman's rules: the
// entrypoint is the user's when given (nil means "not given"; an empty list
// or [""] means none), else the image's; the command is the user's when
// given, else the image's CMD, but only if the user did not set an
// entrypoint.
func Command(img *ociv1.ImageConfig, entrypoint, command []string) ([]string, error) {
	ep := entrypoint
	if ep == nil && img != nil {
		ep = img.Entrypoint
	}
	var argv []string
	if !(len(ep) == 1 && ep[0] == "") {
		argv = append(argv, ep...)
	}
	cmd := command
	if len(cmd) == 0 && entrypoint == nil && img != nil {
		cmd = img.Cmd
	}
	argv = append(argv, cmd...)
	if len(argv) == 0 {
		return nil, ErrNoCommand
	}
	return argv, nil
}

// StopSignal returns the signal that stops the container: the user's
// (--stop-signal), else the image's STOPSIGNAL, else SIGTERM.
func StopSignal(user syscall.Signal, img *ociv1.ImageConfig) (syscall.Signal, error) {
	if user != 0 {
		return user, nil
	}
	if img != nil && img.StopSignal != "" {
		return parse.StopSignal(img.StopSignal)
	}
	return syscall.SIGTERM, nil
}

// ImageVolumes returns the image's VOLUME destinations that no mount in
// mounts covers, sorted: the engine gives each an anonymous volume (or a
// tmpfs, or nothing, as --image-volume says) and passes it in Options.Mounts.
func ImageVolumes(img *ociv1.ImageConfig, mounts []specs.Mount) []string {
	if img == nil {
		return nil
	}
	var out []string
	for dst := range img.Volumes {
		if !path.IsAbs(dst) {
			continue
		}
		dst = path.Clean(dst)
		if hasMount(mounts, dst) || contains(out, dst) {
			continue
		}
		out = append(out, dst)
	}
	sort.Strings(out)
	return out
}
