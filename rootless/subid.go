package rootless

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// IDRange is one line of /etc/subuid or /etc/subgid.
type IDRange struct {
	Start, Count int
}

// SubIDRanges returns the ranges of file that belong to the user with the given id.
func SubIDRanges(file string, id int) ([]IDRange, error) {
	name := strconv.Itoa(id)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	defer f.Close()
	var ranges []IDRange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || (fields[0] != name && fields[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.Atoi(fields[1])
		count, err2 := strconv.Atoi(fields[2])
		if err1 != nil || err2 != nil || count <= 0 {
			continue
		}
		ranges = append(ranges, IDRange{start, count})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("no ranges for user %q in %s: add one, e.g. `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s`, then run `berth system migrate`", name, file, name)
	}
	return ranges, nil
}

// subIDMapping builds newuidmap/newgidmap arguments: the user becomes root
// and the subordinate ranges follow it contiguously.
func subIDMapping(file string, id int) ([]string, error) {
	ranges, err := SubIDRanges(file, id)
	if err != nil {
		return nil, err
	}
	args := []string{"0", strconv.Itoa(id), "1"}
	next := 1
	for _, r := range ranges {
		args = append(args, strconv.Itoa(next), strconv.Itoa(r.Start), strconv.Itoa(r.Count))
		next += r.Count
	}
	return args, nil
}
