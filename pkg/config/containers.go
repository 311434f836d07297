package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-containers/berth/pkg/parse"
)

// ContainersConf is what berth reads of containers.conf, holding effective
// values: podman 4.3's built-in default for every key no file sets. Keys
// berth does not know are left alone (the file is shared with podman and
// buildah). Load it with LoadContainersConf.
type ContainersConf struct {
	Containers ContainersTable `toml:"containers"`
	Engine     EngineTable     `toml:"engine"`
	// Files are the containers.conf files read, in the order read (a
	// later one's keys win); empty when none exists.
	Files []string `toml:"-"`
	// setIn maps "table.key" to the last file that set it, for errors.
	setIn map[string]string
}

// ContainersTable is the [containers] table.
type ContainersTable struct {
	// Env is added to every new container's environment (env); default
	// PATH and TERM, as podman's. "NAME" alone takes the host's value.
	Env []string `toml:"env"`
	// EnvHost passes the whole host environment to new containers
	// (env_host, --env-host); default false.
	EnvHost bool `toml:"env_host"`
	// HTTPProxy passes the host's proxy variables (http_proxy,
	// https_proxy, ftp_proxy, no_proxy and their upper case) to new
	// containers (http_proxy, --http-proxy); default true.
	HTTPProxy bool `toml:"http_proxy"`
	// DefaultUlimits are "name=soft[:hard]" limits for new containers
	// (default_ulimits); see Ulimits. Default none: podman's built-in
	// nproc (pid_max) and nofile defaults are pkg/specgen's, not listed here.
	DefaultUlimits []string `toml:"default_ulimits"`
	// DefaultCapabilities is the capability set of new containers
	// (default_capabilities), each "CAP_" prefixed and upper case as podman
	// normalizes them; default podman's 11 (pkg/specgen DefaultCapabilities).
	DefaultCapabilities []string `toml:"default_capabilities"`
	// DefaultSysctls are "key=value" sysctls for new containers
	// (default_sysctls); see Sysctls. Default none.
	DefaultSysctls []string `toml:"default_sysctls"`
	// PidsLimit is the default --pids-limit (pids_limit); default 2048,
	// 0 or -1 meaning unlimited.
	PidsLimit int64 `toml:"pids_limit"`
	// TZ is the default --tz (tz): "" (the image's), "local" or a zone
	// name found under /usr/share/zoneinfo.
	TZ string `toml:"tz"`
	// Umask is the default --umask (umask), octal; default "0022"; see
	// UmaskValue.
	Umask string `toml:"umask"`
	// ShmSize is the default --shm-size (shm_size); default "65536k"; see
	// ShmSizeBytes.
	ShmSize string `toml:"shm_size"`
	// LogDriver is the default --log-driver (log_driver); default
	// "k8s-file" (Debian's podman 4.3).
	LogDriver string `toml:"log_driver"`
	// LogSizeMax is the default --log-opt max-size in bytes
	// (log_size_max); default -1, no limit.
	LogSizeMax int64 `toml:"log_size_max"`
	// SeccompProfile is the default seccomp profile path
	// (seccomp_profile); "" is the built-in default profile.
	SeccompProfile string `toml:"seccomp_profile"`
	// InitPath is the init binary --init runs (init_path); "" lets the
	// engine look for catatonit.
	InitPath string `toml:"init_path"`
}

// EngineTable is the [engine] table.
type EngineTable struct {
	// Runtime is the OCI runtime used when --runtime is not given
	// (runtime, a name or a path); "" lets berth choose.
	Runtime string `toml:"runtime"`
	// Runtimes maps runtime names to the paths to try, in order
	// ([engine.runtimes]); see RuntimePath.
	Runtimes map[string][]string `toml:"runtimes"`
	// ImageCopyTmpDir is where image copies put big temporary files
	// (image_copy_tmp_dir): an absolute path, or "storage" for the graph
	// root's tmp directory; default "/var/tmp". $TMPDIR wins over it; see
	// BigFilesTemporaryDir.
	ImageCopyTmpDir string `toml:"image_copy_tmp_dir"`
}

// defaultCapabilities is podman 4.3's default_capabilities (the same list
// as pkg/specgen's DefaultCapabilities).
var defaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

// DefaultContainersConf returns podman 4.3's built-in values, those of a
// system without any containers.conf.
func DefaultContainersConf() *ContainersConf {
	c := &ContainersConf{}
	c.Containers = ContainersTable{
		Env:                 []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
		HTTPProxy:           true,
		DefaultUlimits:      []string{},
		DefaultCapabilities: append([]string(nil), defaultCapabilities...),
		DefaultSysctls:      []string{},
		PidsLimit:           2048,
		Umask:               "0022",
		ShmSize:             "65536k",
		LogDriver:           "k8s-file",
		LogSizeMax:          -1,
	}
	c.Engine.Runtimes = map[string][]string{}
	c.Engine.ImageCopyTmpDir = "/var/tmp"
	return c
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

// Where podman looks for containers.conf, and its environment variables.
const (
	defaultContainersConf  = "/usr/share/containers/containers.conf"
	overrideContainersConf = "/etc/containers/containers.conf"
	containersConfEnv      = "CONTAINERS_CONF"
	containersConfOverEnv  = "CONTAINERS_CONF_OVERRIDE"
)

// ContainersConfFiles lists the containers.conf files to read, in order (a
// later one's keys win), as podman does: $CONTAINERS_CONF alone when set;
// else /usr/share/containers/containers.conf, /etc/containers/
// containers.conf and the *.conf of its .d directory in name order, then,
// rootless only, the user's ($XDG_CONFIG_HOME or ~/.config)/containers/
// containers.conf and its .d. $CONTAINERS_CONF_OVERRIDE comes last, on top
// of either (podman 4.4's addition; 4.3 ignores it). A file named by one
// of the variables must exist; the others are skipped when missing.
func ContainersConfFiles(rootless bool) ([]string, error) {
	files, err := containersConfFiles(rootless)
	if err != nil {
		return nil, err
	}
	if p := os.Getenv(containersConfOverEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("finding config on system: %s file: %w", containersConfOverEnv, err)
		}
		files = append(files, p)
	}
	return files, nil
}

func containersConfFiles(rootless bool) ([]string, error) {
	if p := os.Getenv(containersConfEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("finding config on system: %s file: %w", containersConfEnv, err)
		}
		return []string{p}, nil
	}
	var files []string
	add := func(p string) {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			files = append(files, p)
		}
	}
	addDir := func(dir string) error {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("finding config on system: %w", err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
				names = append(names, filepath.Join(dir, e.Name()))
			}
		}
		sort.Strings(names)
		files = append(files, names...)
		return nil
	}
	add(defaultContainersConf)
	add(overrideContainersConf)
	if err := addDir(overrideContainersConf + ".d"); err != nil {
		return nil, err
	}
	if rootless {
		user, err := userContainersConf()
		if err != nil {
			return nil, fmt.Errorf("finding config on system: %w", err)
		}
		add(user)
		if err := addDir(user + ".d"); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// userContainersConf is the rootless user's containers.conf path.
func userContainersConf() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "containers", "containers.conf"), nil
}

// LoadContainersConf reads the containers.conf files in order over the
// built-in defaults and validates the result as podman does when it loads
// it (default_ulimits, tz, umask, log_size_max, shm_size): a bad value is
// an error naming the file and key, a TOML error one naming the file.
func LoadContainersConf(rootless bool) (*ContainersConf, error) {
	files, err := ContainersConfFiles(rootless)
	if err != nil {
		return nil, err
	}
	c := DefaultContainersConf()
	c.setIn = map[string]string{}
	for _, f := range files {
		if err := c.readFile(f); err != nil {
			return nil, err
		}
		c.Files = append(c.Files, f)
	}
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// readFile merges one file's keys into c: a key a file sets replaces the
// earlier value (a list is replaced, not appended to; [engine.runtimes]
// names are added).
func (c *ContainersConf) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading system config %q: %w", path, err)
	}
	md, err := toml.Decode(string(data), c)
	if err != nil {
		return fmt.Errorf("reading system config %q: decode configuration %s: %w", path, path, err)
	}
	for _, k := range md.Keys() {
		if len(k) == 2 {
			c.setIn[k.String()] = path
		}
	}
	return nil
}

// normalize gives values podman's form: capabilities "CAP_" prefixed.
func (c *ContainersConf) normalize() {
	for i, name := range c.Containers.DefaultCapabilities {
		if !strings.HasPrefix(strings.ToLower(name), "cap_") {
			c.Containers.DefaultCapabilities[i] = "CAP_" + strings.ToUpper(name)
		}
	}
}

// KeyError is a bad containers.conf value. Its message is podman's, with
// the file that set the key and the key.
type KeyError struct {
	File  string // the last file that set the key; "" for a built-in default
	Table string // "containers", "engine"
	Key   string // "umask"
	Err   error  // podman's message
}

func (e *KeyError) Error() string {
	file := e.File
	if file == "" {
		file = "built-in default"
	}
	return fmt.Sprintf("validating containers config: %s: [%s] %s: %v", file, e.Table, e.Key, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

func (c *ContainersConf) keyError(table, key string, err error) error {
	return &KeyError{File: c.setIn[table+"."+key], Table: table, Key: key, Err: err}
}

// SetIn returns the last file that set a key ("containers", "umask"), or
// "" when the value is the built-in default.
func (c *ContainersConf) SetIn(table, key string) string { return c.setIn[table+"."+key] }

// ociBufSize is the smallest log_size_max podman accepts (but -1).
const ociBufSize = 8192

var (
	validUmask = regexp.MustCompile(`^[0-7]{1,4}$`)
	zoneDirs   = []string{"/usr/share/zoneinfo", "/etc/zoneinfo"}
)

// Validate checks what podman checks when it loads containers.conf.
func (c *ContainersConf) Validate() error {
	for _, u := range c.Containers.DefaultUlimits {
		if _, err := units.ParseUlimit(u); err != nil {
			return c.keyError("containers", "default_ulimits", fmt.Errorf("unrecognized ulimit %s: %v", u, err))
		}
	}
	if tz := c.Containers.TZ; tz != "" && tz != "local" {
		found := false
		for _, d := range zoneDirs {
			if _, err := os.Stat(filepath.Join(d, tz)); err == nil {
				found = true
				break
			}
		}
		if !found {
			return c.keyError("containers", "tz", fmt.Errorf("find timezone %s in paths: %s", tz, strings.Join(zoneDirs, ", ")))
		}
	}
	if _, err := c.UmaskValue(); err != nil {
		return err
	}
	if n := c.Containers.LogSizeMax; n >= 0 && n < ociBufSize {
		return c.keyError("containers", "log_size_max", fmt.Errorf("log size max should be negative or >= %d", ociBufSize))
	}
	if _, err := c.ShmSizeBytes(); err != nil {
		return err
	}
	return nil
}

// UmaskValue parses [containers] umask: 1 to 4 octal digits, as podman
// accepts them.
func (c *ContainersConf) UmaskValue() (uint32, error) {
	s := c.Containers.Umask
	if !validUmask.MatchString(s) {
		return 0, c.keyError("containers", "umask", fmt.Errorf("not a valid umask %s", s))
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, c.keyError("containers", "umask", fmt.Errorf("not a valid umask %s", s))
	}
	return uint32(n), nil
}

// ShmSizeBytes parses [containers] shm_size as podman does, with decimal
// units ("65536k" is 65536000 bytes), unlike --shm-size's binary ones.
func (c *ContainersConf) ShmSizeBytes() (int64, error) {
	n, err := units.FromHumanSize(c.Containers.ShmSize)
	if err != nil {
		return 0, c.keyError("containers", "shm_size", fmt.Errorf("invalid --shm-size %s, %q", c.Containers.ShmSize, err))
	}
	return n, nil
}

// Ulimits parses [containers] default_ulimits as --ulimit values (-1 is
// unlimited); Type is the RLIMIT_ name.
func (c *ContainersConf) Ulimits() ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	for _, u := range c.Containers.DefaultUlimits {
		if _, err := units.ParseUlimit(u); err != nil {
			return nil, c.keyError("containers", "default_ulimits", fmt.Errorf("unrecognized ulimit %s: %v", u, err))
		}
		rl, err := parse.Ulimit(u)
		if err != nil {
			return nil, c.keyError("containers", "default_ulimits", fmt.Errorf("unrecognized ulimit %s: %w", u, err))
		}
		out = append(out, rl)
	}
	return out, nil
}

// Sysctls parses [containers] default_sysctls ("key=value").
func (c *ContainersConf) Sysctls() (map[string]string, error) {
	out := map[string]string{}
	for _, s := range c.Containers.DefaultSysctls {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, c.keyError("containers", "default_sysctls", fmt.Errorf("%s is invalid, sysctl values must be in the form of KEY=VALUE", s))
		}
		out[k] = v
	}
	return out, nil
}

// BigFilesTemporaryDir is where image copies (pull, load, import, save,
// commit, build) put big temporary files, as podman's ImageCopyTmpDir:
// $TMPDIR when set (even empty), else [engine] image_copy_tmp_dir:
// "storage" is graphRoot/tmp, an absolute path is used as is, "" leaves
// the choice to containers/image; a relative path is an error.
func (c *ContainersConf) BigFilesTemporaryDir(graphRoot string) (string, error) {
	if d, ok := os.LookupEnv("TMPDIR"); ok {
		return d, nil
	}
	switch d := c.Engine.ImageCopyTmpDir; {
	case d == "":
		return "", nil
	case d == "storage":
		return filepath.Join(graphRoot, "tmp"), nil
	case filepath.IsAbs(d):
		return d, nil
	}
	return "", c.keyError("engine", "image_copy_tmp_dir", fmt.Errorf("invalid image_copy_tmp_dir value %q (relative paths are not accepted)", c.Engine.ImageCopyTmpDir))
}
