package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/rootless"
	"github.com/spf13/cobra"
)

// createFlags are the flags of `create` and `run`.
type createFlags struct {
	name, hostname, workdir, user, entrypoint, network, restart, stopSignal string
	logDriver, pull, cidFile                                                string
	env, labels, publish, addHosts, dns, dnsSearch, dnsOptions, logOpts     []string
	interactive, tty, rm, detach                                            bool
	stopTimeout                                                             uint
}

func (f *createFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.Bool("help", false, "help for "+cmd.Name()) // -h is --hostname, as in podman
	fl.StringVar(&f.name, "name", "", "assign a name to the container")
	fl.StringVarP(&f.hostname, "hostname", "h", "", "set container hostname")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "overwrite the default ENTRYPOINT of the image")
	fl.StringVar(&f.network, "network", "", "connect a container to a network (host, none, slirp4netns)")
	fl.StringVar(&f.network, "net", "", "connect a container to a network")
	_ = fl.MarkHidden("net")
	fl.StringVar(&f.restart, "restart", "", "restart policy to apply when a container exits (no, on-failure[:N], always, unless-stopped)")
	fl.StringVar(&f.stopSignal, "stop-signal", "", "signal to stop a container (default SIGTERM)")
	fl.UintVar(&f.stopTimeout, "stop-timeout", 10, "timeout (in seconds) that containers stopped by user command have to exit; then they are killed")
	fl.StringVar(&f.logDriver, "log-driver", "k8s-file", "logging driver for the container (k8s-file, none, passthrough)")
	fl.StringArrayVar(&f.logOpts, "log-opt", nil, "logging driver options (max-size=, max-file=)")
	fl.StringVar(&f.pull, "pull", "missing", "pull image policy (always, missing, never, newer)")
	fl.StringVar(&f.cidFile, "cidfile", "", "write the container ID to the file")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set environment variables in container")
	fl.StringArrayVarP(&f.labels, "label", "l", nil, "set metadata on container")
	fl.StringArrayVarP(&f.publish, "publish", "p", nil, "publish a container's port, or a range of ports, to the host")
	fl.StringArrayVar(&f.addHosts, "add-host", nil, "add a custom host-to-IP mapping (host:ip)")
	fl.StringArrayVar(&f.dns, "dns", nil, "set custom DNS servers")
	fl.StringArrayVar(&f.dnsSearch, "dns-search", nil, "set custom DNS search domains")
	fl.StringArrayVar(&f.dnsOptions, "dns-option", nil, "set custom DNS options")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "keep STDIN open even if not attached")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-TTY for container")
	fl.BoolVar(&f.rm, "rm", false, "remove container and any anonymous unnamed volume associated with the container after exit")
}

// newContainerConfig validates the flags and builds the container's config.
func newContainerConfig(cmd *cobra.Command, f *createFlags, imageName string, args []string) (*libpod.ContainerConfig, error) {
	ir, err := imageRuntime()
	if err != nil {
		return nil, err
	}
	img, err := lookupOrPull(cmd, ir, imageName, f.pull)
	if err != nil {
		return nil, err
	}
	icfg, err := ir.Config(img)
	if err != nil {
		return nil, err
	}
	cfg := &libpod.ContainerConfig{
		Name: f.name, ImageID: img.ID, ImageName: imageName, Terminal: f.tty, Stdin: f.interactive,
		Hostname: f.hostname, AutoRemove: f.rm, LogDriver: f.logDriver, StopTimeout: f.stopTimeout,
		AddHosts: f.addHosts, DNSServers: f.dns, DNSSearch: f.dnsSearch, DNSOptions: f.dnsOptions,
		CreateCommand: os.Args,
	}
	if len(img.Names) > 0 {
		cfg.ImageName = img.Names[0]
	}
	if cfg.Labels, err = keyValues(f.labels, "label"); err != nil {
		return nil, err
	}
	switch f.logDriver {
	case "k8s-file", "none", "passthrough":
	case "journald":
		return nil, errors.New("--log-driver journald is not supported yet: use k8s-file")
	default:
		return nil, fmt.Errorf("invalid --log-driver %q: must be k8s-file, none or passthrough", f.logDriver)
	}
	for _, o := range f.logOpts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "max-size":
			n, err := parseBytes(v)
			if err != nil {
				return nil, fmt.Errorf("invalid --log-opt max-size %q: %w", v, err)
			}
			cfg.LogMaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid --log-opt max-file %q: must be a positive number", v)
			}
			cfg.LogMaxFiles = n
		case "path":
			cfg.LogPath = v
		case "tag":
		default:
			return nil, fmt.Errorf("unknown --log-opt %q", o)
		}
	}
	if cfg.RestartPolicy, cfg.RestartMax, err = parseRestart(f.restart); err != nil {
		return nil, err
	}
	if cfg.RestartPolicy != "" && cfg.RestartPolicy != "no" && f.rm {
		return nil, errors.New("the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\"")
	}
	stop := f.stopSignal
	if stop == "" {
		stop = icfg.Config.StopSignal
	}
	sig := syscall.SIGTERM
	if stop != "" {
		if sig, err = parseSignal(stop); err != nil {
			return nil, err
		}
	}
	cfg.StopSignal = int(sig)
	switch f.network {
	case "":
		cfg.Network = "slirp4netns"
	case "host", "none", "slirp4netns":
		cfg.Network = f.network
	case "private", "bridge":
		cfg.Network = "slirp4netns"
	default:
		return nil, fmt.Errorf("network %q is not supported yet: use host, none or slirp4netns", f.network)
	}
	if len(f.publish) > 0 && cfg.Network != "slirp4netns" {
		return nil, fmt.Errorf("cannot publish ports with --network %s", cfg.Network)
	}
	for _, p := range f.publish {
		pm, err := parsePublish(p)
		if err != nil {
			return nil, err
		}
		cfg.Ports = append(cfg.Ports, pm...)
	}
	argv := icfg.Config.Entrypoint
	command := icfg.Config.Cmd
	if cmd.Flags().Changed("entrypoint") {
		argv = nil
		if f.entrypoint != "" {
			var list []string
			if json.Unmarshal([]byte(f.entrypoint), &list) == nil {
				argv = list
			} else {
				argv = []string{f.entrypoint}
			}
		}
		command = nil
	}
	if len(args) > 0 {
		command = args
	}
	argv = append(append([]string{}, argv...), command...)
	if len(argv) == 0 {
		return nil, errors.New("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
	}
	cfg.Command = argv
	env := append([]string{}, icfg.Config.Env...)
	if !hasEnv(env, "PATH") {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if f.tty {
		env = append(env, "TERM=xterm")
	}
	env = append(env, "container=podman")
	for _, e := range f.env {
		if !strings.Contains(e, "=") {
			if v, ok := os.LookupEnv(e); ok {
				e = e + "=" + v
			} else {
				continue
			}
		}
		env = append(env, e)
	}
	wd := f.workdir
	if wd == "" {
		wd = icfg.Config.WorkingDir
	}
	spec, err := json.Marshal(libpod.SpecOptions{Args: argv, Env: env, Cwd: wd})
	if err != nil {
		return nil, err
	}
	cfg.Spec = spec
	_ = rootless.IsRootless()
	return cfg, nil
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

func keyValues(values []string, what string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid %s %q: the key must not be empty", what, v)
		}
		m[k] = val
	}
	return m, nil
}

// lookupOrPull applies the --pull policy.
func lookupOrPull(cmd *cobra.Command, ir *image.Runtime, name, policy string) (*storageImage, error) {
	switch policy {
	case "missing", "always", "never", "newer":
	default:
		return nil, fmt.Errorf("invalid --pull policy %q: must be always, missing, never or newer", policy)
	}
	if policy != "always" {
		img, err := ir.Lookup(name)
		if err == nil {
			return img, nil
		}
		if !errors.Is(err, image.ErrNotFound) {
			return nil, err
		}
		if policy == "never" {
			return nil, fmt.Errorf("%s: image not known", name)
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	return ir.Pull(ctx, name, image.CopyOptions{Progress: os.Stderr})
}
