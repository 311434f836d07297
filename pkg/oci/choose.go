// Package oci drives the OCI runtime (runc or crun) directly.
package oci

import (
	"fmt"
	"os/exec"

	"golang.org/x/sys/unix"
)

// Choice is the OCI runtime berth uses, and why.
type Choice struct {
	Name   string
	Path   string
	Reason string
}

// CgroupsUnified reports whether /sys/fs/cgroup is a pure cgroup v2 mount.
func CgroupsUnified() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// Choose picks the runtime: the one asked for, else crun, except on cgroup
// v1 or hybrid hosts, where crun 1.8 refuses to create containers ("cgroups
// in hybrid mode not supported", measured rootless and rootful) and runc works.
func Choose(requested string, rootless bool) (Choice, error) {
	if requested != "" {
		path, err := exec.LookPath(requested)
		if err != nil {
			return Choice{}, fmt.Errorf("OCI runtime %q not found: %w", requested, err)
		}
		return Choice{Name: baseName(requested), Path: path, Reason: "chosen with --runtime"}, nil
	}
	unified := CgroupsUnified()
	order := []string{"crun", "runc"}
	reason := "crun is preferred (faster start, smaller footprint)"
	if !unified {
		order = []string{"runc", "crun"}
		reason = "cgroups are v1/hybrid here and crun refuses to create containers on them (\"cgroups in hybrid mode not supported\")"
	}
	for i, name := range order {
		if path, err := exec.LookPath(name); err == nil {
			if i > 0 {
				reason = order[0] + " is not installed"
			}
			return Choice{Name: name, Path: path, Reason: reason}, nil
		}
	}
	return Choice{}, fmt.Errorf("no OCI runtime found: install runc or crun")
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
