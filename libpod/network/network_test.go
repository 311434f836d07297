package network

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"go.podman.io/storage/pkg/stringid"
	"golang.org/x/sys/unix"
)

// These tests create real network namespaces, veths and iptables rules on
// the default network (cni-podman0, 10.88.0.0/16) and use the default
// SharedDir, so that their addresses never collide with containers that
// berth runs on the same host at the same time. They need root.

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network tests need root (they create network namespaces, veths and iptables rules)")
	}
	found := false
	for _, d := range DefaultPluginDirs {
		if fileExists(filepath.Join(d, "bridge")) {
			found = true
		}
	}
	if !found {
		t.Skipf("no CNI plugins in %v: install containernetworking-plugins", DefaultPluginDirs)
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		if !fileExists("/usr/sbin/iptables") {
			t.Skip("iptables is not installed")
		}
	}
}

// testManager returns a manager with its own config and run dirs, as a
// berth store with its own --root/--runroot has.
func testManager(t testing.TB, dir string) *Manager {
	t.Helper()
	m, err := New(Config{ConfigDir: filepath.Join(dir, "networks"), RunDir: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newDir(t testing.TB) string {
	dir := t.TempDir()
	t.Cleanup(func() {
		// The netns directory is a bind mount of itself.
		_ = unix.Unmount(filepath.Join(dir, "run", "netns"), unix.MNT_DETACH)
	})
	return dir
}

func randomID(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func freePort(t testing.TB) uint16 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func iptablesRules(t *testing.T) string {
	var all strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables", "-w", "-t", table, "-S").CombinedOutput()
		if err != nil {
			t.Fatalf("iptables -t %s -S: %v: %s", table, err, out)
		}
		all.Write(out)
	}
	return all.String()
}

func rulesFor(rules, id string) []string {
	var out []string
	for _, l := range strings.Split(rules, "\n") {
		if strings.Contains(l, id) {
			out = append(out, l)
		}
	}
	return out
}

// listenIn starts a TCP server inside the namespace at nsPath that answers
// every connection with tag and the peer's address, then closes.
func listenIn(t *testing.T, nsPath string, port int, tag string) {
	t.Helper()
	var ln net.Listener
	err := withNetNS(nsPath, func() error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		t.Fatalf("listening in %s: %v", nsPath, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s from %s\n", tag, c.RemoteAddr())
			_ = c.Close()
		}
	}()
}

func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && err != io.EOF {
		t.Fatalf("reading from %s: %v", c.RemoteAddr(), err)
	}
	return strings.TrimSpace(line)
}

func dial(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, 5*time.Second)
}

func TestSetupConnectPublishTeardown(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dir := newDir(t)
	m := testManager(t, dir)
	_, subnet, _ := net.ParseCIDR("10.88.0.0/16")

	id1, id2 := randomID(t), randomID(t)
	hostPort := freePort(t)
	st1, err := m.Setup(ctx, id1, "web", []PortMapping{{HostIP: "127.0.0.1", HostPort: hostPort, ContainerPort: 8080, Protocol: "tcp"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Teardown(ctx, id1, st1) })
	st2, err := m.Setup(ctx, id2, "client", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Teardown(ctx, id2, st2) })
	t.Logf("c1: %+v", *st1)
	t.Logf("c2: %+v", *st2)

	// The default network definition was written on first use.
	if !fileExists(filepath.Join(dir, "networks", DefaultConfFile)) {
		t.Errorf("%s was not written", DefaultConfFile)
	}
	for _, st := range []*Status{st1, st2} {
		if !subnet.Contains(st.IP) || st.PrefixLen != 16 || !st.Gateway.Equal(net.ParseIP("10.88.0.1")) {
			t.Errorf("address %s/%d via %s, want one in 10.88.0.0/16 via 10.88.0.1", st.IP, st.PrefixLen, st.Gateway)
		}
		if st.Interface != "eth0" || st.NetNSPath == "" || st.HostVeth == "" || st.MAC == "" {
			t.Errorf("incomplete status %+v", *st)
		}
		if !fileExists(st.NetNSPath) || !fileExists("/sys/class/net/"+st.HostVeth) {
			t.Errorf("netns %s or veth %s missing", st.NetNSPath, st.HostVeth)
		}
	}
	if st1.IP.Equal(st2.IP) {
		t.Fatalf("both containers got %s", st1.IP)
	}
	if st1.NetNSPath != m.NetNSPath(id1) {
		t.Errorf("netns at %s, want %s", st1.NetNSPath, m.NetNSPath(id1))
	}
	if !m.hasReservation(DefaultNetwork, id1) {
		t.Errorf("no IPAM reservation for c1 in %s", m.ipamDir())
	}
	if len(rulesFor(iptablesRules(t), id1)) == 0 {
		t.Errorf("no iptables rules mention c1 after Setup")
	}

	listenIn(t, st1.NetNSPath, 8080, "c1")

	// Container to container over the bridge.
	var got string
	err = withNetNS(st2.NetNSPath, func() error {
		c, err := dial(net.JoinHostPort(st1.IP.String(), "8080"))
		if err != nil {
			return err
		}
		defer c.Close()
		got = readLine(t, c)
		return nil
	})
	if err != nil {
		t.Fatalf("c2 -> c1 %s:8080: %v", st1.IP, err)
	}
	if want := fmt.Sprintf("c1 from %s:", st2.IP); !strings.HasPrefix(got, want) {
		t.Errorf("c2 -> c1: got %q, want %q...", got, want)
	}

	// Loopback is up inside the namespace.
	err = withNetNS(st1.NetNSPath, func() error {
		c, err := dial("127.0.0.1:8080")
		if err != nil {
			return err
		}
		defer c.Close()
		got = readLine(t, c)
		return nil
	})
	if err != nil || !strings.HasPrefix(got, "c1 from 127.0.0.1:") {
		t.Errorf("inside c1 -> 127.0.0.1:8080: %q, %v", got, err)
	}

	// The host reaches the published port on 127.0.0.1 (DNAT from OUTPUT,
	// masqueraded to the gateway address).
	c, err := dial(fmt.Sprintf("127.0.0.1:%d", hostPort))
	if err != nil {
		t.Fatalf("host -> 127.0.0.1:%d: %v", hostPort, err)
	}
	got = readLine(t, c)
	_ = c.Close()
	if !strings.HasPrefix(got, "c1 from ") {
		t.Errorf("host -> 127.0.0.1:%d: got %q", hostPort, got)
	}

	// Tear down c1 from its status as stored in a state DB, by a fresh
	// manager (another berth process); c2 with its status lost, as after
	// a crash between Setup and saving the state.
	raw, err := json.Marshal(st1)
	if err != nil {
		t.Fatal(err)
	}
	var back Status
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !back.IP.Equal(st1.IP) || !back.Gateway.Equal(st1.Gateway) || len(back.Ports) != 1 {
		t.Fatalf("status did not survive JSON: %s", raw)
	}
	if err := testManager(t, dir).Teardown(ctx, id1, &back); err != nil {
		t.Fatalf("teardown c1: %v", err)
	}
	if err := m.Teardown(ctx, id2, nil); err != nil {
		t.Fatalf("teardown c2 without status: %v", err)
	}

	rules := iptablesRules(t)
	for _, x := range []struct {
		id string
		st *Status
	}{{id1, st1}, {id2, st2}} {
		if fileExists(x.st.NetNSPath) {
			t.Errorf("netns file %s remains", x.st.NetNSPath)
		}
		if fileExists("/sys/class/net/" + x.st.HostVeth) {
			t.Errorf("veth %s remains", x.st.HostVeth)
		}
		if m.hasReservation(DefaultNetwork, x.id) {
			t.Errorf("IPAM reservation of %s remains in %s", x.st.IP, m.ipamDir())
		}
		if r := rulesFor(rules, x.id); len(r) > 0 {
			t.Errorf("iptables rules remain: %q", r)
		}
		if r := rulesFor(rules, x.st.IP.String()+"/32"); len(r) > 0 {
			t.Errorf("iptables rules for %s remain: %q", x.st.IP, r)
		}
		if fileExists(filepath.Join(dir, "run", "cni", "results", DefaultNetwork+"-"+x.id+"-eth0")) {
			t.Errorf("CNI cache entry of %s remains", stringid.TruncateID(x.id))
		}
	}
	if r := rulesFor(rules, fmt.Sprintf("--dport %d ", hostPort)); len(r) > 0 {
		t.Errorf("port-forwarding rules remain: %q", r)
	}
	if _, err := dial(fmt.Sprintf("127.0.0.1:%d", hostPort)); err == nil {
		t.Errorf("127.0.0.1:%d still answers", hostPort)
	}
	// Tearing down again does nothing.
	if err := m.Teardown(ctx, id1, st1); err != nil {
		t.Errorf("second teardown: %v", err)
	}
}

func TestTeardownUnknown(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := testManager(t, newDir(t))
	id := randomID(t)
	if err := m.Teardown(ctx, id, nil); err != nil {
		t.Errorf("teardown of an unknown container: %v", err)
	}
	st := &Status{Network: DefaultNetwork, NetNSPath: m.NetNSPath(id), Interface: "eth0",
		IP: net.ParseIP("10.88.255.254"), Ports: []PortMapping{{HostPort: 1, ContainerPort: 1}}}
	if err := m.Teardown(ctx, id, st); err != nil {
		t.Errorf("teardown of a removed container: %v", err)
	}
}

// A namespace made before berth died, with CNI never run: Teardown
// removes it.
func TestTeardownHalfSetUp(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := testManager(t, newDir(t))
	id := randomID(t)
	if err := createNetNS(m.NetNSPath(id)); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(ctx, id, nil); err != nil {
		t.Errorf("teardown: %v", err)
	}
	if fileExists(m.NetNSPath(id)) {
		t.Errorf("netns %s remains", m.NetNSPath(id))
	}
}

// Several berth processes (here: managers of different stores) setting up
// at once get distinct addresses.
func TestConcurrentSetup(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	const n = 4
	var wg sync.WaitGroup
	sts := make([]*Status, n)
	ids := make([]string, n)
	mgrs := make([]*Manager, n)
	errs := make([]error, n)
	for i := range n {
		mgrs[i] = testManager(t, newDir(t))
		ids[i] = randomID(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sts[i], errs[i] = mgrs[i].Setup(ctx, ids[i], fmt.Sprintf("c%d", i), []PortMapping{{HostPort: freePort(t), ContainerPort: 80}})
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("setup %d: %v", i, errs[i])
			continue
		}
		if seen[sts[i].IP.String()] {
			t.Errorf("address %s handed out twice", sts[i].IP)
		}
		seen[sts[i].IP.String()] = true
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := mgrs[i].Teardown(ctx, ids[i], sts[i]); err != nil {
				t.Errorf("teardown %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	rules := iptablesRules(t)
	for i := range n {
		if r := rulesFor(rules, ids[i]); len(r) > 0 {
			t.Errorf("iptables rules remain: %q", r)
		}
	}
}

// BenchmarkSetupTeardown measures one Setup+Teardown cycle of a container
// on the default network (as root, with the CNI plugins and iptables), with
// one published port and without any (as `run --rm IMG true`):
//
//	make unit UNIT_PACKAGES=./libpod/network/ GOTESTFLAGS='-run NONE -bench SetupTeardown'
//
// ns/op is the whole cycle; setup-ns/op and teardown-ns/op are its parts.
func BenchmarkSetupTeardown(b *testing.B) {
	requireRoot(b)
	ctx := context.Background()
	dir := newDir(b)
	m := testManager(b, dir)
	// First use writes the definition and creates the bridge and chains:
	// not what is measured.
	id := randomID(b)
	st, err := m.Setup(ctx, id, "warm", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Teardown(ctx, id, st); err != nil {
		b.Fatal(err)
	}
	for _, published := range []bool{true, false} {
		name := "published"
		if !published {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			var setup, teardown time.Duration
			for range b.N {
				b.StopTimer()
				id := randomID(b)
				var ports []PortMapping
				if published {
					ports = []PortMapping{{HostIP: "127.0.0.1", HostPort: freePort(b), ContainerPort: 80}}
				}
				b.StartTimer()
				t0 := time.Now()
				st, err := m.Setup(ctx, id, "timing", ports)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := m.Teardown(ctx, id, st); err != nil {
					b.Fatal(err)
				}
				setup, teardown = setup+t1.Sub(t0), teardown+time.Since(t1)
			}
			b.ReportMetric(float64(setup.Nanoseconds())/float64(b.N), "setup-ns/op")
			b.ReportMetric(float64(teardown.Nanoseconds())/float64(b.N), "teardown-ns/op")
		})
	}
}

func TestReservePorts(t *testing.T) {
	tcp, udp := freePort(t), freePort(t)
	files, err := ReservePorts([]PortMapping{{HostIP: "127.0.0.1", HostPort: tcp, ContainerPort: 80}, {HostPort: udp, ContainerPort: 53, Protocol: "udp,tcp"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("got %d files, want 3", len(files))
	}
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tcp)); err == nil {
		_ = l.Close()
		t.Errorf("port %d is not reserved", tcp)
	}
	if _, err := ReservePorts([]PortMapping{{HostPort: udp, ContainerPort: 1, Protocol: "udp"}}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("reserving a reserved udp port: %v", err)
	}
	for _, f := range files {
		_ = f.Close()
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tcp))
	if err != nil {
		t.Errorf("port %d still reserved after close: %v", tcp, err)
	} else {
		_ = l.Close()
	}
}

// A plugin failing half-way through ADD (here tuning, last in the chain)
// leaves nothing behind: no address, rules or namespace.
func TestSetupFailureCleansUp(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dir := newDir(t)
	const conf = `{"cniVersion": "0.4.0", "name": "berthtestbroken", "plugins": [
  {"type": "bridge", "bridge": "cni-berthtst0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}], "ranges": [[{"subnet": "10.89.254.0/24", "gateway": "10.89.254.1"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
  {"type": "firewall"},
  {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_sysctl": "1"}}]}`
	if err := os.MkdirAll(filepath.Join(dir, "networks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "networks", "broken.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", "cni-berthtst0").Run() })
	m, err := New(Config{ConfigDir: filepath.Join(dir, "networks"), RunDir: filepath.Join(dir, "run"), Network: "berthtestbroken"})
	if err != nil {
		t.Fatal(err)
	}
	id := randomID(t)
	_, err = m.Setup(ctx, id, "broken", []PortMapping{{HostPort: freePort(t), ContainerPort: 80}})
	if err == nil || !strings.Contains(err.Error(), "tuning") {
		t.Fatalf("Setup with a failing tuning plugin: %v", err)
	}
	t.Log(err)
	if fileExists(m.NetNSPath(id)) {
		t.Errorf("netns remains")
	}
	if m.hasReservation("berthtestbroken", id) {
		t.Errorf("IPAM reservation remains")
	}
	rules := iptablesRules(t)
	if r := append(rulesFor(rules, id), rulesFor(rules, "10.89.254.")...); len(r) > 0 {
		t.Errorf("iptables rules remain: %q", r)
	}
}

// Teardown with neither the status nor libcni's cache (the run root was
// wiped while the namespace stayed mounted) still removes every rule.
func TestTeardownWithoutCache(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dir := newDir(t)
	m := testManager(t, dir)
	id := randomID(t)
	st, err := m.Setup(ctx, id, "nocache", []PortMapping{{HostPort: freePort(t), ContainerPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "run", "cni")); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	rules := iptablesRules(t)
	if r := append(rulesFor(rules, id), rulesFor(rules, st.IP.String()+"/32")...); len(r) > 0 {
		t.Errorf("iptables rules remain: %q", r)
	}
	if m.hasReservation(DefaultNetwork, id) || fileExists(st.NetNSPath) {
		t.Errorf("reservation or netns remains")
	}
}

// Setup of a container whose previous network was never torn down (its
// monitor was killed) replaces it.
func TestSetupAgainAfterCrash(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	m := testManager(t, newDir(t))
	id := randomID(t)
	st1, err := m.Setup(ctx, id, "again", []PortMapping{{HostPort: freePort(t), ContainerPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	st2, err := m.Setup(ctx, id, "again", nil)
	if err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	if fileExists("/sys/class/net/" + st1.HostVeth) {
		t.Errorf("old veth %s remains", st1.HostVeth)
	}
	if err := m.Teardown(ctx, id, st2); err != nil {
		t.Fatal(err)
	}
	if r := rulesFor(iptablesRules(t), id); len(r) > 0 {
		t.Errorf("iptables rules remain: %q", r)
	}
	if m.hasReservation(DefaultNetwork, id) {
		t.Errorf("IPAM reservation remains")
	}
}

func TestMissingPlugins(t *testing.T) {
	requireRoot(t)
	dir := newDir(t)
	m, err := New(Config{ConfigDir: filepath.Join(dir, "networks"), RunDir: filepath.Join(dir, "run"), PluginDirs: []string{filepath.Join(dir, "none")}})
	if err != nil {
		t.Fatal(err)
	}
	id := randomID(t)
	_, err = m.Setup(context.Background(), id, "x", nil)
	if err == nil || !strings.Contains(err.Error(), "containernetworking-plugins") {
		t.Fatalf("Setup without plugins: %v", err)
	}
	if fileExists(m.NetNSPath(id)) {
		t.Errorf("netns remains")
	}
}

// pluginsFor leaves out portmap without mappings and an empty tuning, and
// nothing else; from the cached runtime config (JSON) as from a fresh one.
func TestPluginsFor(t *testing.T) {
	types := func(l *libcni.NetworkConfigList) string {
		var s []string
		for _, p := range l.Plugins {
			s = append(s, p.Network.Type)
		}
		return strings.Join(s, ",")
	}
	def, err := libcni.NetworkConfFromBytes([]byte(defaultConflist))
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{}
	ports := []PortMapping{{HostPort: 8080, ContainerPort: 80}}
	cached := &libcni.RuntimeConf{CapabilityArgs: map[string]interface{}{}}
	if err := json.Unmarshal([]byte(`{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}`), &cached.CapabilityArgs); err != nil {
		t.Fatal(err)
	}
	custom := `{"cniVersion":"0.4.0","name":"x","plugins":[
		{"type":"bridge","bridge":"b0","ipam":{"type":"host-local","subnet":"10.99.0.0/16"}},
		{"type":"portmap","capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[{"hostPort":1,"containerPort":1,"protocol":"tcp"}]}},
		{"type":"tuning","sysctl":{"net.ipv4.conf.IFNAME.arp_filter":"1"}},
		{"type":"tuning","capabilities":{"mac":true}}]}`
	cl, err := libcni.NetworkConfFromBytes([]byte(custom))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		list *libcni.NetworkConfigList
		rt   *libcni.RuntimeConf
		want string
	}{
		{"no ports", def, m.runtimeConf("id", "n", "/ns", nil), "bridge,firewall"},
		{"ports", def, m.runtimeConf("id", "n", "/ns", ports), "bridge,portmap,firewall"},
		{"ports from the cache", def, cached, "bridge,portmap,firewall"},
		{"cache without ports", def, &libcni.RuntimeConf{}, "bridge,firewall"},
		{"MAC in CNI_ARGS", def, &libcni.RuntimeConf{Args: [][2]string{{"MAC", "02:00:00:00:00:01"}}}, "bridge,firewall,tuning"},
		{"static mappings, settings, mac capability unused", cl, &libcni.RuntimeConf{}, "bridge,portmap,tuning"},
		{"mac given", cl, &libcni.RuntimeConf{CapabilityArgs: map[string]interface{}{"mac": "02:00:00:00:00:01"}}, "bridge,portmap,tuning,tuning"},
	} {
		got := pluginsFor(tc.list, tc.rt)
		if types(got) != tc.want {
			t.Errorf("%s: plugins %s, want %s", tc.what, types(got), tc.want)
		}
		if string(got.Bytes) != string(tc.list.Bytes) || got.Name != tc.list.Name || got.CNIVersion != tc.list.CNIVersion {
			t.Errorf("%s: the list's name, version or bytes changed", tc.what)
		}
	}
	if len(def.Plugins) != 4 {
		t.Errorf("pluginsFor changed its argument: %d plugins", len(def.Plugins))
	}
}

// A teardown whose firewall DEL fails (it runs beside the bridge's DEL)
// says so and keeps libcni's cache entry, so that a second teardown still
// finds the address and removes the firewall's rules.
func TestTeardownRetriedAfterFailedDel(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	dir := newDir(t)
	wrap := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(wrap, 0o755); err != nil {
		t.Fatal(err)
	}
	var real string
	for _, d := range DefaultPluginDirs {
		if fileExists(filepath.Join(d, "firewall")) {
			real = filepath.Join(d, "firewall")
			break
		}
	}
	if real == "" {
		t.Skip("no firewall plugin")
	}
	// fails its first DEL, then is the real plugin
	script := fmt.Sprintf(`#!/bin/sh
if [ "$CNI_COMMAND" = DEL ] && [ ! -e %[1]s/failed ]; then
	touch %[1]s/failed
	echo '{"cniVersion": "0.4.0", "code": 999, "msg": "injected DEL failure"}'
	exit 1
fi
exec %[2]s
`, wrap, real)
	if err := os.WriteFile(filepath.Join(wrap, "firewall"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{ConfigDir: filepath.Join(dir, "networks"), RunDir: filepath.Join(dir, "run"),
		PluginDirs: append([]string{wrap}, DefaultPluginDirs...)})
	if err != nil {
		t.Fatal(err)
	}
	id := randomID(t)
	st, err := m.Setup(ctx, id, "retry", []PortMapping{{HostPort: freePort(t), ContainerPort: 80}})
	if err != nil {
		t.Fatal(err)
	}
	fwRules := func() []string {
		return rulesFor(iptablesRules(t), " "+st.IP.String()+"/32 ")
	}
	if len(fwRules()) == 0 {
		t.Fatalf("no firewall rules for %s after Setup", st.IP)
	}
	err = m.Teardown(ctx, id, st)
	if err == nil || !strings.Contains(err.Error(), "injected DEL failure") {
		t.Fatalf("teardown with a failing firewall DEL: %v", err)
	}
	if len(fwRules()) == 0 {
		t.Fatalf("the firewall rules went although its DEL failed")
	}
	if err := m.Teardown(ctx, id, st); err != nil {
		t.Fatalf("second teardown: %v", err)
	}
	rules := iptablesRules(t)
	if r := append(rulesFor(rules, id), fwRules()...); len(r) > 0 {
		t.Errorf("iptables rules remain: %q", r)
	}
	if m.hasReservation(DefaultNetwork, id) || fileExists(st.NetNSPath) || fileExists("/sys/class/net/"+st.HostVeth) {
		t.Errorf("reservation, netns or veth remains")
	}
	if fileExists(filepath.Join(dir, "run", "cni", "results", DefaultNetwork+"-"+id+"-eth0")) {
		t.Errorf("CNI cache entry remains")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "run", "cni", ".del-*")); len(entries) > 0 {
		t.Errorf("temporary cache copies remain: %v", entries)
	}
}
