package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// DefaultConfFile is the file the default network is written to, named as
// podman 4 names it in /etc/cni/net.d.
const DefaultConfFile = "87-podman-bridge.conflist"

// defaultConflist is podman 4's 87-podman-bridge.conflist; only portmap's
// "snat" (true is the plugin's default anyway) is spelled out: it makes
// portmap masquerade hairpin and 127.0.0.1 connections and set
// route_localnet on the bridge, which publishing on 127.0.0.1 needs.
// host-local's dataDir is not written here: it is added when the file is
// loaded (Config.SharedDir).
const defaultConflist = `{
  "cniVersion": "0.4.0",
  "name": "podman",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni-podman0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "routes": [{ "dst": "0.0.0.0/0" }],
        "ranges": [
          [
            {
              "subnet": "10.88.0.0/16",
              "gateway": "10.88.0.1"
            }
          ]
        ]
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      },
      "snat": true
    },
    {
      "type": "firewall"
    },
    {
      "type": "tuning"
    }
  ]
}
`

// loadNetwork finds the conflist named name in ConfigDir, writing the
// default network's file first if it is the one asked for and missing.
func (m *Manager) loadNetwork(name string) (*libcni.NetworkConfigList, error) {
	raw, err := m.findConflist(name)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		if name != DefaultNetwork {
			return nil, fmt.Errorf("network %q not found in %s", name, m.cfg.ConfigDir)
		}
		if err := writeFileAtomic(filepath.Join(m.cfg.ConfigDir, DefaultConfFile), []byte(defaultConflist)); err != nil {
			return nil, fmt.Errorf("writing the default network definition: %w", err)
		}
		raw = []byte(defaultConflist)
	}
	raw, err = m.injectIPAMDir(raw)
	if err != nil {
		return nil, err
	}
	list, err := libcni.NetworkConfFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("network %q: %w", name, err)
	}
	return list, nil
}

// findConflist returns the bytes of the *.conflist in ConfigDir whose name
// is name, or nil.
func (m *Manager) findConflist(name string) ([]byte, error) {
	entries, err := os.ReadDir(m.cfg.ConfigDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading network definitions: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".conflist") {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	for _, f := range files {
		p := filepath.Join(m.cfg.ConfigDir, f)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading network definition: %w", err)
		}
		var hdr struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(b, &hdr); err != nil {
			return nil, fmt.Errorf("network definition %s is not valid JSON: %w", p, err)
		}
		if hdr.Name == name {
			return b, nil
		}
	}
	return nil, nil
}

// injectIPAMDir points host-local IPAM at SharedDir unless the definition
// chose a dataDir itself.
func (m *Manager) injectIPAMDir(raw []byte) ([]byte, error) {
	var list map[string]interface{}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("parsing network definition: %w", err)
	}
	plugins, _ := list["plugins"].([]interface{})
	changed := false
	for _, p := range plugins {
		pm, _ := p.(map[string]interface{})
		ipam, _ := pm["ipam"].(map[string]interface{})
		if ipam == nil || ipam["type"] != "host-local" {
			continue
		}
		if _, ok := ipam["dataDir"]; !ok {
			ipam["dataDir"] = m.ipamDir()
			changed = true
		}
	}
	if !changed {
		return raw, nil
	}
	return json.Marshal(list)
}

func (m *Manager) ipamDir() string { return filepath.Join(m.cfg.SharedDir, "ipam") }

// reservedIP returns the address host-local holds for the container in
// list (files named by address, holding the container ID then the
// interface name), or nil.
func reservedIP(list *libcni.NetworkConfigList, id string) net.IP {
	for _, p := range list.Plugins {
		var conf struct {
			IPAM struct {
				Type    string `json:"type"`
				DataDir string `json:"dataDir"`
			} `json:"ipam"`
		}
		if json.Unmarshal(p.Bytes, &conf) != nil || conf.IPAM.Type != "host-local" {
			continue
		}
		dataDir := conf.IPAM.DataDir
		if dataDir == "" {
			dataDir = "/var/lib/cni/networks" // host-local's default
		}
		if ip := reservationIn(filepath.Join(dataDir, list.Name), id); ip != nil {
			return ip
		}
	}
	return nil
}

func reservationIn(dir, id string) net.IP {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		ip := net.ParseIP(e.Name())
		if e.IsDir() || ip == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if line, _, _ := strings.Cut(string(b), "\n"); strings.TrimSpace(line) == id {
			return ip
		}
	}
	return nil
}

// hasReservation: reservedIP for the manager's own IPAM directory.
func (m *Manager) hasReservation(netName, id string) bool {
	return reservationIn(filepath.Join(m.ipamDir(), netName), id) != nil
}

// writeCache writes a libcni cache entry (format cniCacheV1) holding a
// result with just the container's address, so that DelNetworkList hands
// it to the plugins as prevResult.
func (m *Manager) writeCache(list *libcni.NetworkConfigList, rt *libcni.RuntimeConf, ip net.IP) error {
	bits := 128
	if ip4 := ip.To4(); ip4 != nil {
		ip, bits = ip4, 32
	}
	res := &types100.Result{CNIVersion: types100.ImplementedSpecVersion, IPs: []*types100.IPConfig{{
		Address: net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)},
	}}}
	conv, err := res.GetAsVersion(list.CNIVersion)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(conv)
	if err != nil {
		return err
	}
	entry := struct {
		Kind           string                 `json:"kind"`
		ContainerID    string                 `json:"containerId"`
		Config         []byte                 `json:"config"`
		IfName         string                 `json:"ifName"`
		NetworkName    string                 `json:"networkName"`
		NetNS          string                 `json:"netns,omitempty"`
		CniArgs        [][2]string            `json:"cniArgs,omitempty"`
		CapabilityArgs map[string]interface{} `json:"capabilityArgs,omitempty"`
		Result         json.RawMessage        `json:"result"`
	}{libcni.CNICacheV1, rt.ContainerID, list.Bytes, rt.IfName, list.Name, rt.NetNS, rt.Args, rt.CapabilityArgs, raw}
	b, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	dir := filepath.Join(m.cfg.RunDir, "cni", "results")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, list.Name+"-"+rt.ContainerID+"-"+rt.IfName), b, 0o600)
}

// lock serialises CNI operations of all berth processes on the host (the
// plugins' iptables chain creation races otherwise).
func (m *Manager) lock() (func(), error) {
	if err := os.MkdirAll(m.cfg.SharedDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", m.cfg.SharedDir, err)
	}
	p := filepath.Join(m.cfg.SharedDir, "cni.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening network lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", p, err)
	}
	return func() { _ = f.Close() }, nil
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// pluginExec runs CNI plugins with sbin directories in PATH: the plugins
// exec iptables, which a caller's PATH (a monitor, a systemd unit) may lack.
type pluginExec struct {
	invoke.RawExec
	version.PluginDecoder
}

func newExec() *pluginExec {
	return &pluginExec{RawExec: invoke.RawExec{}}
}

var sbinDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

func (e *pluginExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	t0 := time.Now()
	out, err := e.RawExec.ExecPlugin(ctx, pluginPath, stdinData, withSbinPath(environ))
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		cmd := ""
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
				cmd = v
			}
		}
		logrus.Debugf("CNI %s %s: %v (err: %v)", cmd, filepath.Base(pluginPath), time.Since(t0).Round(time.Microsecond), err)
	}
	return out, err
}

func withSbinPath(environ []string) []string {
	out := make([]string, 0, len(environ)+1)
	path := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
			continue
		}
		out = append(out, kv)
	}
	have := map[string]bool{}
	for _, d := range filepath.SplitList(path) {
		have[d] = true
	}
	var b bytes.Buffer
	b.WriteString(path)
	for _, d := range sbinDirs {
		if !have[d] {
			if b.Len() > 0 {
				b.WriteByte(':')
			}
			b.WriteString(d)
		}
	}
	return append(out, "PATH="+b.String())
}
