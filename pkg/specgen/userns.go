package specgen

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// IDMappings are the UID and GID mappings of a user namespace, with IDs of
// the namespace the engine runs in as host IDs.
type IDMappings struct {
	UIDMap, GIDMap []specs.LinuxIDMapping
}

// NamespaceSize returns how many IDs are mapped in the user namespace
// described by an ID map file such as /proc/self/uid_map. For rootless
// berth, running inside its user namespace, that is 1 (the user) plus the
// size of the user's subordinate range.
func NamespaceSize(mapFile string) (uint32, error) {
	f, err := os.Open(mapFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		n, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%s: bad line %q", mapFile, sc.Text())
		}
		total += n
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if total > 1<<32-1 {
		total = 1<<32 - 1
	}
	return uint32(total), nil
}

// KeepIDMapping returns podman's --userns=keep-id mapping of one ID kind
// for a user namespace created inside the rootless namespace of nsSize IDs,
// in which the user running berth is ID 0: container ID id is the user (0),
// container IDs below id are namespace IDs 1..id, and container IDs above id
// map to themselves, up to nsSize-1.
func KeepIDMapping(id, nsSize uint32) ([]specs.LinuxIDMapping, error) {
	if nsSize < 2 {
		return nil, fmt.Errorf("--userns=keep-id needs subordinate IDs: the user namespace has %d ID(s); add a range for the user to /etc/subuid and /etc/subgid", nsSize)
	}
	if id >= nsSize {
		return nil, fmt.Errorf("--userns=keep-id: ID %d is outside the %d IDs of the user namespace", id, nsSize)
	}
	var m []specs.LinuxIDMapping
	if id > 0 {
		m = append(m, specs.LinuxIDMapping{ContainerID: 0, HostID: 1, Size: id})
	}
	m = append(m, specs.LinuxIDMapping{ContainerID: id, HostID: 0, Size: 1})
	if rest := nsSize - 1 - id; rest > 0 {
		m = append(m, specs.LinuxIDMapping{ContainerID: id + 1, HostID: id + 1, Size: rest})
	}
	return m, nil
}

// KeepIDMappings returns the keep-id UID and GID mappings: uid and gid are
// the container IDs the user is mapped to (by default the user's own IDs
// outside the namespace), uidNS and gidNS the sizes of the current
// namespaces (see NamespaceSize).
func KeepIDMappings(uid, gid, uidNS, gidNS uint32) (*IDMappings, error) {
	u, err := KeepIDMapping(uid, uidNS)
	if err != nil {
		return nil, err
	}
	g, err := KeepIDMapping(gid, gidNS)
	if err != nil {
		return nil, err
	}
	return &IDMappings{UIDMap: u, GIDMap: g}, nil
}

// NoMapMappings returns podman's --userns=nomap mappings: the subordinate
// IDs (namespace IDs 1..size-1) from container ID 0, without the user.
func NoMapMappings(uidNS, gidNS uint32) (*IDMappings, error) {
	if uidNS < 2 || gidNS < 2 {
		return nil, fmt.Errorf("--userns=nomap needs subordinate IDs; add a range for the user to /etc/subuid and /etc/subgid")
	}
	return &IDMappings{
		UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: uidNS - 1}},
		GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: gidNS - 1}},
	}, nil
}

// mapped tells whether container ID id is in m (a nil m maps everything).
func mapped(m []specs.LinuxIDMapping, id uint32) bool {
	if m == nil {
		return true
	}
	for _, e := range m {
		if id >= e.ContainerID && uint64(id) < uint64(e.ContainerID)+uint64(e.Size) {
			return true
		}
	}
	return false
}
