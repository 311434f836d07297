// Package network sets up rootful container networking the way podman 4 does
// with CNI: a network namespace per container, joined to the default bridge
// network ("podman", bridge cni-podman0, 10.88.0.0/16) through the standard
// CNI plugins (bridge + host-local IPAM, portmap, firewall, tuning).
//
// Typical use by the container lifecycle:
//
//	m, _ := network.New(network.Config{
//		ConfigDir: filepath.Join(graphRoot, "berth", "networks"),
//		RunDir:    filepath.Join(runRoot, "berth"),
//	})
//	st, err := m.Setup(ctx, id, name, ports) // before `runc create`
//	// spec: linux.namespaces += {type: network, path: st.NetNSPath}
//	// state DB: store st (JSON) with the container
//	...
//	err = m.Teardown(ctx, id, st) // on cleanup; st may be nil after a crash
//
// New touches nothing on disk; the default network definition is written on
// first use.
package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-containers/berth/rootless"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage/pkg/stringid"
)

// DefaultNetwork is the name of the network containers join by default.
const DefaultNetwork = "podman"

// containerIfName is the container side of the veth pair.
const containerIfName = "eth0"

// DefaultPluginDirs are searched for CNI plugins, in order (podman's list).
var DefaultPluginDirs = []string{
	"/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni", "/opt/cni/bin",
}

// DefaultSharedDir holds what every berth store on the host shares because
// they share the bridge: host-local IPAM reservations and the lock that
// serialises CNI operations.
const DefaultSharedDir = "/run/berth/network"

// Config says where the network manager keeps its files.
type Config struct {
	// ConfigDir holds the network definitions (*.conflist), normally
	// <graphroot>/berth/networks. The default network's conflist is
	// generated there on first use. Required.
	ConfigDir string
	// RunDir is berth's volatile directory of this store, normally
	// <runroot>/berth. Network namespaces are bind-mounted under
	// RunDir/netns and the CNI result cache lives in RunDir/cni. Required.
	RunDir string
	// SharedDir holds host-local IPAM state and the CNI lock. It must be the
	// same for every store whose containers share a bridge (otherwise two
	// stores hand out the same address), so it is host-wide by default:
	// DefaultSharedDir.
	SharedDir string
	// PluginDirs are searched for CNI plugin binaries; DefaultPluginDirs if empty.
	PluginDirs []string
	// Network is the network Setup attaches containers to; DefaultNetwork if empty.
	Network string
}

// PortMapping publishes a container port on the host.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"` // empty: all host addresses
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"` // tcp (default), udp, sctp, or a comma list
}

// Status is what Setup did; it is JSON-serialisable and is all Teardown
// needs, also in another process after a crash.
type Status struct {
	Network   string        `json:"network"`
	NetNSPath string        `json:"netnsPath"`
	Interface string        `json:"interface"`
	IP        net.IP        `json:"ip,omitempty"`
	PrefixLen int           `json:"prefixLen,omitempty"`
	Gateway   net.IP        `json:"gateway,omitempty"`
	MAC       string        `json:"mac,omitempty"`
	HostVeth  string        `json:"hostVeth,omitempty"` // host end of the veth pair
	Ports     []PortMapping `json:"ports,omitempty"`
}

// Manager runs CNI for one store.
type Manager struct {
	cfg Config
	cni *libcni.CNIConfig
}

// New validates cfg and applies defaults; it touches nothing on disk.
func New(cfg Config) (*Manager, error) {
	if cfg.ConfigDir == "" || cfg.RunDir == "" {
		return nil, errors.New("network: ConfigDir and RunDir are required")
	}
	if cfg.SharedDir == "" {
		cfg.SharedDir = DefaultSharedDir
	}
	if len(cfg.PluginDirs) == 0 {
		cfg.PluginDirs = DefaultPluginDirs
	}
	if cfg.Network == "" {
		cfg.Network = DefaultNetwork
	}
	m := &Manager{cfg: cfg}
	m.cni = libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, filepath.Join(cfg.RunDir, "cni"), newExec())
	return m, nil
}

// NetNSPath is where the network namespace of container id is bind-mounted.
func (m *Manager) NetNSPath(id string) string {
	return filepath.Join(m.cfg.RunDir, "netns", id)
}

// Setup creates a network namespace for the container and attaches it to the
// default network, publishing ports. On error nothing is left behind. A
// namespace left over by an earlier run of the same container is torn
// down first.
func (m *Manager) Setup(ctx context.Context, containerID, name string, ports []PortMapping) (*Status, error) {
	if rootless.IsRootless() {
		return nil, errors.New("bridge networking (CNI) needs root: rootless containers use --network slirp4netns or pasta")
	}
	list, err := m.loadNetwork(m.cfg.Network)
	if err != nil {
		return nil, err
	}
	nsPath := m.NetNSPath(containerID)
	if fileExists(nsPath) {
		// Left over from a run whose cleanup never happened (killed
		// monitor, crash): tear that down first.
		if err := m.Teardown(ctx, containerID, nil); err != nil {
			return nil, fmt.Errorf("cleaning up the previous network of container %s: %w", stringid.TruncateID(containerID), err)
		}
	}
	if err := createNetNS(nsPath); err != nil {
		return nil, fmt.Errorf("creating network namespace for container %s: %w", stringid.TruncateID(containerID), err)
	}
	rt := m.runtimeConf(containerID, name, nsPath, ports)

	unlock, err := m.lock()
	if err != nil {
		_ = removeNetNS(nsPath)
		return nil, err
	}
	res, err := m.cni.AddNetworkList(ctx, pluginsFor(list, rt), rt)
	if err != nil {
		// Undo whatever the plugins that ran did (IPAM, iptables).
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_ = m.del(dctx, list, rt)
		cancel()
		unlock()
		_ = removeNetNS(nsPath)
		if strings.Contains(err.Error(), "failed to find plugin") {
			err = fmt.Errorf("%w (install the CNI plugins: Debian's containernetworking-plugins)", err)
		}
		return nil, fmt.Errorf("setting up network %q for container %s: %w", list.Name, stringid.TruncateID(containerID), err)
	}
	unlock()

	st := &Status{Network: list.Name, NetNSPath: nsPath, Interface: containerIfName, Ports: ports}
	if err := fillStatus(st, res); err != nil {
		_ = m.Teardown(context.WithoutCancel(ctx), containerID, st)
		return nil, fmt.Errorf("setting up network %q for container %s: %w", list.Name, stringid.TruncateID(containerID), err)
	}
	return st, nil
}

// Teardown detaches the container from its network (CNI DEL: address,
// veth, port-forwarding rules) and removes its network namespace. status
// may be nil (for instance after a crash during Setup); then what is
// needed is found from the CNI cache and the namespace path. Tearing down
// an unknown or already torn down container does nothing.
func (m *Manager) Teardown(ctx context.Context, containerID string, status *Status) error {
	st := Status{}
	if status != nil {
		st = *status
	}
	if st.Network == "" {
		st.Network = m.cfg.Network
	}
	if st.NetNSPath == "" {
		st.NetNSPath = m.NetNSPath(containerID)
	}
	nsExists := fileExists(st.NetNSPath)

	// Prefer the configuration the container was set up with (cached by
	// libcni) over the current definition, and its port mappings.
	probe := &libcni.RuntimeConf{ContainerID: containerID, IfName: containerIfName}
	var list *libcni.NetworkConfigList
	var rt *libcni.RuntimeConf
	if b, cachedRt, err := m.cni.GetNetworkListCachedConfig(&libcni.NetworkConfigList{Name: st.Network}, probe); err == nil && b != nil {
		if l, err := libcni.NetworkConfFromBytes(b); err == nil {
			list, rt = l, cachedRt
		}
	}
	if list == nil {
		l, err := m.loadNetwork(st.Network)
		if err != nil {
			if !nsExists {
				return nil // network definition gone and nothing of ours left
			}
			return errors.Join(err, removeNetNS(st.NetNSPath))
		}
		if !nsExists && reservedIP(l, containerID) == nil {
			return nil // nothing left of this container's network
		}
		list = l
		ports := st.Ports
		if status == nil {
			// Mappings unknown: portmap skips DEL without any, but it
			// finds its chains by container ID, so any mapping will do.
			ports = []PortMapping{{HostPort: 1, ContainerPort: 1, Protocol: "tcp"}}
		}
		rt = m.runtimeConf(containerID, "", "", ports)
	}
	rt.NetNS = ""
	if nsExists {
		rt.NetNS = st.NetNSPath
	}

	var errs []error
	unlock, err := m.lock()
	if err != nil {
		errs = append(errs, err)
	} else {
		if err := m.del(ctx, list, rt); err != nil {
			errs = append(errs, fmt.Errorf("tearing down network %q of container %s: %w", list.Name, stringid.TruncateID(containerID), err))
		}
		unlock()
	}
	if nsExists {
		if err := removeNetNS(st.NetNSPath); err != nil {
			errs = append(errs, fmt.Errorf("removing network namespace of container %s: %w", stringid.TruncateID(containerID), err))
		}
	}
	return errors.Join(errs...)
}

// del runs CNI DEL. Plugins such as firewall find what to remove only in
// the previous result, which libcni caches after a successful ADD; when
// there is none (ADD failed half-way, or the cache was lost) a result is
// rebuilt from the address host-local reserved for the container.
func (m *Manager) del(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	if res, err := m.cni.GetNetworkListCachedResult(list, rt); err != nil || res == nil {
		if ip := reservedIP(list, rt.ContainerID); ip != nil {
			if err := m.writeCache(list, rt, ip); err != nil {
				logrus.Debugf("network: caching a rebuilt CNI result for %s: %v", stringid.TruncateID(rt.ContainerID), err)
			}
		}
	}
	return m.delPlugins(ctx, pluginsFor(list, rt), rt)
}

// delPlugins runs DEL of list's plugins: those that only remove iptables
// rules they find from the previous result or the container ID (firewall,
// portmap) each at the same time as the others, which keep their reverse
// order. Every group reads the previous result from its own copy of the
// cache entry, and the entry itself is removed only once all succeeded, so
// that a failed DEL can be retried with it as libcni's own DelNetworkList
// allows. The caller holds the CNI lock: no other berth process can be
// handed the container's address until all are done.
func (m *Manager) delPlugins(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	var seq, par []*libcni.PluginConfig
	for i, p := range list.Plugins {
		if i > 0 && p.Network != nil && (p.Network.Type == "firewall" || p.Network.Type == "portmap") {
			par = append(par, p)
		} else {
			seq = append(seq, p)
		}
	}
	if len(par) == 0 {
		return m.cni.DelNetworkList(ctx, list, rt)
	}
	entry := filepath.Join(m.cfg.RunDir, "cni", "results", list.Name+"-"+rt.ContainerID+"-"+rt.IfName)
	cached, err := os.ReadFile(entry)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading the CNI cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(m.cfg.RunDir, "cni"), 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Join(m.cfg.RunDir, "cni"), ".del-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	groups := [][]*libcni.PluginConfig{seq}
	for _, p := range par {
		groups = append(groups, []*libcni.PluginConfig{p})
	}
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		if len(g) == 0 {
			continue
		}
		dir := filepath.Join(tmp, strconv.Itoa(i))
		if cached != nil {
			if err := os.MkdirAll(filepath.Join(dir, "results"), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "results", filepath.Base(entry)), cached, 0o600); err != nil {
				return err
			}
		}
		sub := *list
		sub.Plugins = g
		cni := libcni.NewCNIConfigWithCacheDir(m.cfg.PluginDirs, dir, newExec())
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cni.DelNetworkList(ctx, &sub, rt)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.Remove(entry); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the CNI cache entry: %w", err)
	}
	return nil
}

// pluginsFor returns list without the plugins that do nothing for this
// container, which would only cost an exec each (a Go binary: about as much
// as one of the iptables runs that the bridge and firewall plugins make):
// portmap when the container publishes no port (it then returns its
// prevResult on ADD and nothing on DEL), and a tuning plugin without any
// setting (podman's default: it enters the namespace and changes nothing on
// ADD, and on DEL restores a backup that only settings make). The list's
// Bytes stay the whole definition: libcni caches them, and a teardown from
// the cache filters the same way with the cached runtime config.
func pluginsFor(list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) *libcni.NetworkConfigList {
	var keep []*libcni.PluginConfig
	for _, p := range list.Plugins {
		if !noOpPlugin(p, rt) {
			keep = append(keep, p)
		}
	}
	if len(keep) == len(list.Plugins) {
		return list
	}
	out := *list
	out.Plugins = keep
	return &out
}

// noOpPlugin says whether plugin p would neither change anything nor its
// prevResult for rt. Only plugins whose whole configuration is known are:
// anything else in their definition keeps them.
func noOpPlugin(p *libcni.PluginConfig, rt *libcni.RuntimeConf) bool {
	if p.Network == nil {
		return false
	}
	var conf map[string]json.RawMessage
	if err := json.Unmarshal(p.Bytes, &conf); err != nil {
		return false
	}
	// The runtime config libcni would inject: capabilities the plugin
	// declares and rt provides.
	injected := func(capability string) bool {
		if !p.Network.Capabilities[capability] {
			return false
		}
		v, ok := rt.CapabilityArgs[capability]
		if !ok || v == nil {
			return false
		}
		switch l := v.(type) {
		case []portMapEntry: // set up by this process
			return len(l) > 0
		case []interface{}: // read back from libcni's cache
			return len(l) > 0
		}
		return true
	}
	only := func(allowed ...string) bool {
		for k := range conf {
			ok := false
			for _, a := range allowed {
				ok = ok || k == a
			}
			if !ok {
				return false
			}
		}
		return true
	}
	switch p.Network.Type {
	case "portmap":
		// Its mappings come from the runtime config only: none injected
		// and none written in the definition.
		_, static := conf["runtimeConfig"]
		return !static && !injected("portMappings")
	case "tuning":
		for capability := range p.Network.Capabilities {
			if injected(capability) {
				return false
			}
		}
		for _, a := range rt.Args {
			if strings.EqualFold(a[0], "MAC") {
				return false
			}
		}
		return only("type", "name", "cniVersion", "capabilities")
	}
	return false
}

// portMapEntry is the CNI portMappings capability argument.
type portMapEntry struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

func (m *Manager) runtimeConf(id, name, nsPath string, ports []PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: id,
		NetNS:       nsPath,
		IfName:      containerIfName,
		Args:        [][2]string{{"IgnoreUnknown", "1"}},
	}
	if name != "" {
		// As podman: only K8S_POD_NAME (used by dnsname).
		rt.Args = append(rt.Args, [2]string{"K8S_POD_NAME", name})
	}
	var pm []portMapEntry
	for _, p := range ports {
		protos := strings.Split(strings.ToLower(p.Protocol), ",")
		for _, proto := range protos {
			proto = strings.TrimSpace(proto)
			if proto == "" {
				proto = "tcp"
			}
			pm = append(pm, portMapEntry{HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: proto, HostIP: p.HostIP})
		}
	}
	if len(pm) > 0 {
		rt.CapabilityArgs = map[string]interface{}{"portMappings": pm}
	}
	return rt
}

// fillStatus copies the container's address from a CNI result.
func fillStatus(st *Status, res types.Result) error {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return fmt.Errorf("reading CNI result: %w", err)
	}
	idx := -1
	for i, iface := range r.Interfaces {
		if iface.Sandbox != "" && iface.Name == st.Interface && idx < 0 {
			idx = i
			st.MAC = iface.Mac
		}
	}
	for _, iface := range r.Interfaces {
		// The bridge plugin reports the bridge, the host veth, then eth0.
		if iface.Sandbox == "" && iface.Mac != "" && strings.HasPrefix(iface.Name, "veth") {
			st.HostVeth = iface.Name
		}
	}
	for _, ipc := range r.IPs {
		if ipc.Interface != nil && idx >= 0 && *ipc.Interface != idx {
			continue
		}
		if ip4 := ipc.Address.IP.To4(); ip4 != nil || st.IP == nil {
			st.IP = ipc.Address.IP
			st.PrefixLen, _ = ipc.Address.Mask.Size()
			st.Gateway = ipc.Gateway
			if ip4 != nil {
				st.IP = ip4
				if g := ipc.Gateway.To4(); g != nil {
					st.Gateway = g
				}
				break
			}
		}
	}
	if st.IP == nil {
		return errors.New("the network plugins returned no IP address for the container")
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
