package buildah

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/berth-containers/berth/pkg/image"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
)

// Output is where build --output exports the final image's files (the
// image is built and stored as usual too).
type Output struct {
	// Local: the files go into the directory Dest; else a tar of them
	// goes to the file Dest, or to Writer with Stdout.
	Local  bool
	Dest   string
	Stdout bool
	// Writer receives the tar with Stdout (the command's standard output).
	Writer io.Writer
}

// ParseOutput reads an --output value as podman 4.3 (buildah) does:
// "type=local,dest=DIR", "type=tar,dest=FILE" (dest=- is standard
// output), "-" (a tar on standard output) or a bare directory. "" asks for
// no output (nil).
func ParseOutput(spec string) (*Output, error) {
	o, err := parseOutput(spec)
	if err != nil {
		return nil, fmt.Errorf("failed to parse build output: %w", err)
	}
	return o, nil
}

func parseOutput(spec string) (*Output, error) {
	switch {
	case spec == "":
		return nil, nil
	case spec == "-":
		return &Output{Stdout: true}, nil
	case !strings.Contains(spec, ","):
		return &Output{Local: true, Dest: spec}, nil
	}
	var typ, dest string
	var haveType, haveDest bool
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("invalid build output options %q, expected format key=value", spec)
		}
		switch k {
		case "type":
			if haveType {
				return nil, fmt.Errorf("duplicate %q not supported", k)
			}
			if v != "local" && v != "tar" {
				return nil, fmt.Errorf("invalid type %q selected for build output options %q", v, spec)
			}
			typ, haveType = v, true
		case "dest":
			if haveDest {
				return nil, fmt.Errorf("duplicate %q not supported", k)
			}
			dest, haveDest = v, true
		default:
			return nil, fmt.Errorf("unrecognized key %q in build output option: %q", k, spec)
		}
	}
	if !haveType || !haveDest {
		return nil, fmt.Errorf("invalid build output option %q, accepted keys are type and dest must be present", spec)
	}
	if dest == "-" {
		if typ == "local" {
			return nil, fmt.Errorf("invalid build output option %q, type=local and dest=- is not supported", spec)
		}
		return &Output{Stdout: true}, nil
	}
	return &Output{Local: typ == "local", Dest: dest}, nil
}

// export writes the files of image id where out says. Without root, a
// local export belongs to the calling user, as podman's does (the owners
// in the image are not kept); a tar keeps them.
func (b *builder) export(id string, out *Output) error {
	root, err := b.mountImage(id)
	if err != nil {
		return err
	}
	rc, err := image.TarTree(root, b.outputTimes())
	if err != nil {
		return err
	}
	defer rc.Close()
	switch {
	case out.Stdout:
		if out.Writer == nil {
			return errors.New("--output to standard output: no writer")
		}
		if _, err := io.Copy(out.Writer, rc); err != nil {
			return fmt.Errorf("writing the build output: %w", err)
		}
	case out.Local:
		if err := os.MkdirAll(out.Dest, 0o700); err != nil {
			return fmt.Errorf("creating the build output directory: %w", err)
		}
		opts := &archive.TarOptions{NoLchown: b.o.Rootless, InUserNS: b.o.Rootless}
		if err := chrootarchive.UntarWithRoot(rc, out.Dest, opts, out.Dest); err != nil {
			return fmt.Errorf("writing the build output to %s: %w", out.Dest, err)
		}
	default:
		if err := writeFile(out.Dest, rc); err != nil {
			return fmt.Errorf("writing the build output to %s: %w", out.Dest, err)
		}
	}
	return nil
}

func writeFile(name string, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
