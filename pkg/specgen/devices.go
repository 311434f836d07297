package specgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Device is a --device value: HostPath (a device, or a directory of devices)
// appears at ContainerPath with Permissions (r, w, m) in the device cgroup.
type Device struct {
	HostPath      string `json:"hostPath"`
	ContainerPath string `json:"containerPath"`
	Permissions   string `json:"permissions,omitempty"`
}

var errNotDevice = errors.New("not a device node")

// deviceFromPath describes the device node at path (following symlinks).
func deviceFromPath(path string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return specs.LinuxDevice{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, errNotDevice
	}
	mode := os.FileMode(st.Mode)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: path, Type: typ, Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, nil
}

// expandDevice returns the device nodes of a --device: the node itself, or
// every node under a directory, with their container paths.
func expandDevice(d Device) ([]specs.LinuxDevice, error) {
	st, err := os.Stat(d.HostPath)
	if err != nil {
		return nil, fmt.Errorf("--device %s: %w", d.HostPath, err)
	}
	if !st.IsDir() {
		dev, err := deviceFromPath(d.HostPath)
		if err != nil {
			return nil, fmt.Errorf("--device %s: %w", d.HostPath, err)
		}
		dev.Path = d.ContainerPath
		return []specs.LinuxDevice{dev}, nil
	}
	var out []specs.LinuxDevice
	err = filepath.WalkDir(d.HostPath, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		dev, err := deviceFromPath(p)
		if errors.Is(err, errNotDevice) || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.HostPath, p)
		dev.Path = filepath.Join(d.ContainerPath, rel)
		out = append(out, dev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--device %s: %w", d.HostPath, err)
	}
	return out, nil
}

// HostDevices lists the device nodes under dir (normally /dev), as podman
// does for --privileged: it skips pts, shm, fd, mqueue, console and
// symlinks.
func HostDevices(dir string) ([]specs.LinuxDevice, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []specs.LinuxDevice
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			switch e.Name() {
			case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts":
				continue
			}
			sub, err := HostDevices(p)
			if err != nil && !errors.Is(err, os.ErrPermission) {
				return nil, err
			}
			out = append(out, sub...)
			continue
		case e.Name() == "console", e.Type()&os.ModeSymlink != 0:
			continue
		}
		dev, err := deviceFromPath(p)
		if errors.Is(err, errNotDevice) || errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, dev)
	}
	return out, nil
}

var virtualConsoleRE = regexp.MustCompile(`^/dev/tty[0-9]+$`)

// deviceBindMount is how a rootless container gets a device: a bind mount
// of the node (a user namespace cannot create device nodes).
func deviceBindMount(host, ctr, perms string) specs.Mount {
	rw := "rw"
	if !strings.Contains(perms, "w") {
		rw = "ro"
	}
	return specs.Mount{Destination: ctr, Type: "bind", Source: host, Options: []string{"slave", "nosuid", "noexec", rw, "rbind"}}
}

// addDevices puts --device and --privileged devices into the spec.
func addDevices(s *specs.Spec, o *Options, h *hostFacts, useCgroups bool) error {
	if o.Privileged {
		devs, err := HostDevices(h.devDir)
		if err != nil {
			return fmt.Errorf("listing host devices for --privileged: %w", err)
		}
		for _, d := range devs {
			if o.Rootless {
				// not the host's consoles, nor its ptmx: the runtime makes /dev/ptmx
				if d.Path == "/dev/ptmx" || d.Path == "/dev/tty" || virtualConsoleRE.MatchString(d.Path) {
					continue
				}
				s.Mounts = append(s.Mounts, deviceBindMount(d.Path, d.Path, "rwm"))
				continue
			}
			s.Linux.Devices = append(s.Linux.Devices, d)
		}
		if useCgroups && !o.Rootless {
			s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		}
	}
	for _, d := range o.Devices {
		if d.Permissions == "" {
			d.Permissions = "rwm"
		}
		if d.ContainerPath == "" {
			d.ContainerPath = d.HostPath
		}
		devs, err := expandDevice(d)
		if err != nil {
			return err
		}
		for _, dev := range devs {
			if o.Rootless {
				hostPath := d.HostPath
				if dev.Path != d.ContainerPath {
					rel, _ := filepath.Rel(d.ContainerPath, dev.Path)
					hostPath = filepath.Join(d.HostPath, rel)
				}
				s.Mounts = append(s.Mounts, deviceBindMount(hostPath, dev.Path, d.Permissions))
				continue
			}
			s.Linux.Devices = append(s.Linux.Devices, dev)
			if useCgroups && !o.Privileged {
				major, minor := dev.Major, dev.Minor
				s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
					Allow: true, Type: dev.Type, Major: &major, Minor: &minor, Access: d.Permissions,
				})
			}
		}
	}
	return nil
}
