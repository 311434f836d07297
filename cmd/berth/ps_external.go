package main

import (
	"time"

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
	id := e.ID
	if !noTrunc && len(id) > 12 {
		id = id[:12]
	}
	return psRow{
		ID: id, Image: e.ImageName, ImageID: e.ImageID, Command: externalCommand(e), Status: "Storage", State: "storage",
		Names: e.Name(), Created: humanDuration(time.Since(e.Created)) + " ago", CreatedAt: e.Created,
	}
}

func externalPsJSON(e *libpod.ExternalContainer) psJSON {
	return psJSON{
		Command: []string{externalCommand(e)}, Created: e.Created.Unix(), CreatedAt: e.Created.Format(time.RFC3339Nano),
		ID: e.ID, Image: e.ImageName, ImageID: e.ImageID, Names: []string{e.Name()}, State: "storage", Status: "Storage",
	}
}
