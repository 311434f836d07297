package main

import (
	"github.com/berth-containers/berth/libpod"
)

// ps --external shows the storage containers of other tools (podman,
// buildah) as podman 4.3 does: status "Storage", command "buildah" for a
// buildah working container and "storage" for any other. Filters and
// --last do not apply to them (podman).

func externalCommand(e *libpod.ExternalContainer) string {
	if e.Buildah {
		return "buildah"
	}
	return "storage"
}

func externalPsRow(e *libpod.ExternalContainer, noTrunc bool) psRow {
	f := psFields{
		Command: []string{externalCommand(e)}, Created: e.Created, Id: e.ID, Image: e.ImageName,
		ImageID: e.ImageID, Names: []string{e.Name()}, Networks: []string{}, Ports: []libpod.PortMapping{},
		Mounts: []string{}, State: "storage",
	}
	return psRow{psFields: f, noTrunc: noTrunc}
}
