package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// ContainersConf is what berth reads of containers.conf. Keys it does not
// know are left alone (the file is shared with podman and buildah).
type ContainersConf struct {
	Containers struct {
		// Env is added to every new container's default environment
		// (podman: [containers] env).
		Env []string `toml:"env"`
	} `toml:"containers"`
	Engine struct {
		// Runtime is the OCI runtime used when --runtime is not given
		// (podman: [engine] runtime, a name or a path).
		Runtime string `toml:"runtime"`
		// Runtimes maps runtime names to the paths to try, in order
		// ([engine.runtimes]).
		Runtimes map[string][]string `toml:"runtimes"`
	} `toml:"engine"`
}

// RuntimePath resolves a runtime name through [engine.runtimes]: the first
// of its paths that exists, or "" when the name is not listed there.
func (c *ContainersConf) RuntimePath(name string) string {
	for _, p := range c.Engine.Runtimes[name] {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// Where podman 4.3 looks for containers.conf.
const (
	defaultContainersConf  = "/usr/share/containers/containers.conf"
	overrideContainersConf = "/etc/containers/containers.conf"
)

// ContainersConfFiles lists the containers.conf files to read, in order
// (a later one's keys win), as podman 4.3 does: $CONTAINERS_CONF alone when
// set; else /usr/share/containers/containers.conf, /etc/containers/
// containers.conf and its .d directory, then, rootless, the user's
// ($XDG_CONFIG_HOME or ~/.config)/containers/containers.conf and its .d.
func ContainersConfFiles(rootless bool) ([]string, error) {
	if p := os.Getenv("CONTAINERS_CONF"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("CONTAINERS_CONF file: %w", err)
		}
		return []string{p}, nil
	}
	var files []string
	add := func(p string) {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			files = append(files, p)
		}
	}
	addDir := func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		var names []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".conf") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			add(filepath.Join(dir, n))
		}
	}
	add(defaultContainersConf)
	add(overrideContainersConf)
	addDir(overrideContainersConf + ".d")
	if rootless {
		dir := os.Getenv("XDG_CONFIG_HOME")
		if dir == "" {
			if home, err := os.UserHomeDir(); err == nil {
				dir = filepath.Join(home, ".config")
			}
		}
		if dir != "" {
			user := filepath.Join(dir, "containers", "containers.conf")
			add(user)
			addDir(user + ".d")
		}
	}
	return files, nil
}

// LoadContainersConf reads the containers.conf files in order.
func LoadContainersConf(rootless bool) (*ContainersConf, error) {
	files, err := ContainersConfFiles(rootless)
	if err != nil {
		return nil, err
	}
	c := &ContainersConf{}
	for _, f := range files {
		if _, err := toml.DecodeFile(f, c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
	}
	return c, nil
}
