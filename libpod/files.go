package libpod

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/rootless"
	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/stringid"
)

// preparedFiles are the host files bind-mounted into the container.
type preparedFiles struct {
	Hosts, ResolvConf, Hostname, ContainerEnv string
	Localtime                                 string // --tz, "" without
}

// slirp4netns' fixed addresses.
const (
	slirpGuestIP = "10.0.2.100"
	slirpHostIP  = "10.0.2.2"
	slirpDNS     = "10.0.2.3"
)

// prepareFiles writes /etc/hosts, /etc/resolv.conf, /etc/hostname and
// /run/.containerenv for the container into dir.
func (c *Container) prepareFiles(dir, imageName string) (preparedFiles, error) {
	cfg := &c.Config
	f := preparedFiles{
		Hosts:        filepath.Join(dir, "hosts"),
		ResolvConf:   filepath.Join(dir, "resolv.conf"),
		Hostname:     filepath.Join(dir, "hostname"),
		ContainerEnv: filepath.Join(dir, ".containerenv"),
	}
	hostname := c.hostname()
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n")
	hosts.WriteString("::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n")
	hostAddr := c.hostGateway()
	for _, h := range cfg.AddHosts {
		e, err := parse.AddHost(h)
		if err != nil {
			return f, err
		}
		if e.IP == parse.HostGateway {
			if hostAddr == "" {
				return f, fmt.Errorf("--add-host %s: no address reaches the host with --network %s", h, cfg.Network)
			}
			e.IP = hostAddr
		}
		fmt.Fprintf(&hosts, "%s\t%s\n", e.IP, strings.Join(e.Names, " "))
	}
	switch cfg.Network {
	case "slirp4netns":
		fmt.Fprintf(&hosts, "%s\thost.containers.internal host.docker.internal\n", slirpHostIP)
		fmt.Fprintf(&hosts, "%s\t%s %s\n", slirpGuestIP, hostname, cfg.Name)
	case "pasta":
		if hostAddr != "" {
			fmt.Fprintf(&hosts, "%s\thost.containers.internal host.docker.internal\n", hostAddr)
		}
		fmt.Fprintf(&hosts, "127.0.1.1\t%s %s\n", hostname, cfg.Name)
	case "host":
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts.Write(data)
		}
	case "bridge":
		if n := c.State.Network; n != nil {
			fmt.Fprintf(&hosts, "%s\thost.containers.internal host.docker.internal\n", n.Gateway)
			fmt.Fprintf(&hosts, "%s\t%s %s\n", n.IP, hostname, cfg.Name)
		}
	default:
		fmt.Fprintf(&hosts, "127.0.1.1\t%s %s\n", hostname, cfg.Name)
	}
	if err := os.WriteFile(f.Hosts, []byte(hosts.String()), 0o644); err != nil {
		return f, fmt.Errorf("writing hosts file: %w", err)
	}
	if err := os.WriteFile(f.ResolvConf, []byte(c.resolvConf()), 0o644); err != nil {
		return f, fmt.Errorf("writing resolv.conf: %w", err)
	}
	if err := os.WriteFile(f.Hostname, []byte(hostname+"\n"), 0o644); err != nil {
		return f, fmt.Errorf("writing hostname: %w", err)
	}
	if err := os.WriteFile(f.ContainerEnv, []byte(c.containerEnv(imageName)), 0o644); err != nil {
		return f, fmt.Errorf("writing .containerenv: %w", err)
	}
	if cfg.Timezone != "" {
		tz, err := TimezoneFile(cfg.Timezone)
		if err != nil {
			return f, err
		}
		f.Localtime = tz
	}
	return f, nil
}

// hostGateway is the address at which the container reaches the host
// (--add-host NAME:host-gateway): slirp4netns' fixed one; with pasta, the
// host's default gateway, which pasta maps to the host; "" otherwise.
func (c *Container) hostGateway() string {
	switch c.Config.Network {
	case "slirp4netns":
		return slirpHostIP
	case "pasta":
		return defaultGateway()
	case "host":
		return "127.0.0.1"
	case "bridge":
		if c.State.Network != nil {
			return c.State.Network.Gateway.String()
		}
	}
	return ""
}

// defaultGateway reads the IPv4 default route's gateway from /proc/net/route.
func defaultGateway() string {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		gw, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil || gw == 0 {
			continue
		}
		return fmt.Sprintf("%d.%d.%d.%d", gw&0xff, gw>>8&0xff, gw>>16&0xff, gw>>24&0xff)
	}
	return ""
}

func (c *Container) hostname() string {
	if c.Config.Hostname != "" {
		return c.Config.Hostname
	}
	if c.Config.Network == "host" {
		h, _ := os.Hostname()
		return h
	}
	return stringid.TruncateID(c.ID())
}

// resolvConf builds the container's resolv.conf: --dns* flags, otherwise
// the host's, with loopback name servers (unreachable from a container)
// replaced by slirp4netns' forwarder.
func (c *Container) resolvConf() string {
	cfg := &c.Config
	var servers, search, options []string
	if f, err := os.Open("/etc/resolv.conf"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 {
				continue
			}
			switch fields[0] {
			case "nameserver":
				servers = append(servers, fields[1])
			case "search":
				search = fields[1:]
			case "options":
				options = append(options, fields[1:]...)
			}
		}
		_ = f.Close()
	}
	if cfg.Network != "host" {
		var usable []string
		for _, s := range servers {
			if !strings.HasPrefix(s, "127.") && s != "::1" {
				usable = append(usable, s)
			}
		}
		servers = usable
		if cfg.Network == "slirp4netns" {
			servers = append([]string{slirpDNS}, servers...)
		}
	}
	if len(cfg.DNSServers) > 0 {
		servers = cfg.DNSServers
	}
	if len(cfg.DNSSearch) > 0 {
		search = cfg.DNSSearch
		if len(search) == 1 && search[0] == "." {
			search = nil
		}
	}
	if len(cfg.DNSOptions) > 0 {
		options = cfg.DNSOptions
	}
	var b strings.Builder
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String()
}

// containerEnv is the content of /run/.containerenv. As with podman, its
// presence tells a process that it runs in a container, and only a
// --privileged container learns more (the container may then reach the
// host anyway): the engine, its name and ID, the image and whether the
// engine is rootless. The engine starts with "podman-" as podman's does,
// for the scripts that test it (as they test $container=podman).
func (c *Container) containerEnv(imageName string) string {
	if !c.Config.Privileged {
		return ""
	}
	rootlessFlag := 0
	if rootless.IsRootless() {
		rootlessFlag = 1
	}
	return fmt.Sprintf("engine=\"podman-berth-%s\"\nname=%q\nid=%q\nimage=%q\nimageid=%q\nrootless=%d\n",
		Version, c.Config.Name, c.Config.ID, imageName, c.Config.ImageID, rootlessFlag)
}

// ensureEtcMtab makes /etc/mtab a symlink to /proc/mounts in a root
// filesystem that has /etc but no /etc/mtab, as podman does: mount, df and
// friends read it. The path is resolved inside the root filesystem.
func ensureEtcMtab(rootfs string) error {
	etc, err := securejoin.SecureJoin(rootfs, "/etc")
	if err != nil {
		return fmt.Errorf("resolving /etc in the container: %w", err)
	}
	if st, err := os.Stat(etc); err != nil || !st.IsDir() {
		return nil // no /etc: nothing reads /etc/mtab
	}
	mtab := filepath.Join(etc, "mtab")
	if _, err := os.Lstat(mtab); !errors.Is(err, fs.ErrNotExist) {
		return nil // present (even a dangling symlink), or unreadable: leave it
	}
	if err := os.Symlink("/proc/mounts", mtab); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating /etc/mtab in the container: %w", err)
	}
	return nil
}
