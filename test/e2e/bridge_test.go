package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The rootful default network (CNI bridge): what a container gets while it
// runs (masquerade, FORWARD acceptance, published ports from the host and
// from other containers, container to container) and that nothing of it is
// left once `run --rm` has returned or `rm -f` has removed it: no iptables
// rule, no veth, no namespace, no address reservation.
func TestBridgeRulesAndTeardown(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		if e.Rootless() {
			t.Skip("rootless containers use slirp4netns or pasta, not the CNI bridge")
		}
		img := containerEnv(t, e)

		// run --rm: nothing left when it returns.
		out := runOut(e, img, "sh", "-c", "hostname; ip -o -4 addr show eth0; cat /sys/class/net/eth0/iflink")
		id, ip, iflink := bridgeIdentity(t, out)
		assertNoBridgeLeftovers(t, e, "run --rm", id, ip, iflink, 0)

		// A detached container publishing a port, and a second one.
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		e.BerthOK("run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", port), img,
			"sh", "-c", "mkdir -p /www && echo bridge-web > /www/index.html && exec httpd -f -p 80 -h /www")
		out = e.BerthOK("exec", "web", "sh", "-c", "hostname; ip -o -4 addr show eth0; cat /sys/class/net/eth0/iflink").Out()
		wid, wip, wlink := bridgeIdentity(t, out)
		waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "bridge-web")

		rules := iptablesAll(t)
		for what, re := range map[string]string{
			"masquerade chain of the container": `(?m)^-A CNI-\S+ ! -d 224\.0\.0\.0/4 .*id: \\?"` + wid,
			"POSTROUTING jump":                  `(?m)^-A POSTROUTING -s ` + regexp.QuoteMeta(wip) + `(/32)? .*id: \\?"` + wid,
			"FORWARD acceptance to it":          `(?m)^-A CNI-FORWARD -d ` + regexp.QuoteMeta(wip) + `/32 .*RELATED,ESTABLISHED -j ACCEPT`,
			"FORWARD acceptance from it":        `(?m)^-A CNI-FORWARD -s ` + regexp.QuoteMeta(wip) + `/32 -j ACCEPT`,
			"DNAT of the published port":        fmt.Sprintf(`(?m)^-A CNI-DN-\S+ -p tcp .*--dport %d -j DNAT --to-destination %s:80`, port, regexp.QuoteMeta(wip)),
		} {
			if !regexp.MustCompile(re).MatchString(rules) {
				t.Errorf("while web runs, no %s (%s) in:\n%s", what, re, rulesMentioning(rules, wid, wip))
			}
		}
		// From another container: straight over the bridge, and through the
		// published port on the host's bridge address.
		for _, addr := range []string{wip + " 80", fmt.Sprintf("10.88.0.1 %d", port)} {
			got := runOut(e, img, "sh", "-c", `printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 `+addr+` | tail -n 1`)
			if got != "bridge-web" {
				t.Errorf("from another container, %s: %q", addr, got)
			}
		}
		e.BerthOK("rm", "-f", "-t", "0", "web")
		assertNoBridgeLeftovers(t, e, "rm -f", wid, wip, wlink, port)
	})
}

// bridgeIdentity reads a container's short ID, address and host-side veth
// index from `hostname; ip -o -4 addr show eth0; cat .../iflink`.
func bridgeIdentity(t *testing.T, out string) (id, ip, iflink string) {
	t.Helper()
	m := regexp.MustCompile(`^([0-9a-f]{12})\n.* inet (10\.88\.\d+\.\d+)/16 .*\n(\d+)$`).FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		t.Fatalf("container on the bridge: unexpected identity %q", out)
	}
	return m[1], m[2], m[3]
}

func iptablesAll(t *testing.T) string {
	t.Helper()
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

func rulesMentioning(rules string, words ...string) string {
	var out []string
	for _, l := range strings.Split(rules, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

func assertNoBridgeLeftovers(t *testing.T, e *Env, after, id, ip, iflink string, port int) {
	t.Helper()
	rules := iptablesAll(t)
	for _, l := range strings.Split(rules, "\n") {
		if strings.Contains(l, id) || strings.Contains(l, " "+ip+"/32 ") || strings.Contains(l, " "+ip+" ") ||
			strings.Contains(l, "--to-destination "+ip+":") || (port != 0 && strings.Contains(l, fmt.Sprintf("--dport %d ", port))) {
			t.Errorf("after %s: iptables rule of container %s (%s) left: %s", after, id, ip, l)
		}
	}
	links, _ := filepath.Glob("/sys/class/net/*/ifindex")
	for _, l := range links {
		if b, err := os.ReadFile(l); err == nil && strings.TrimSpace(string(b)) == iflink {
			t.Errorf("after %s: the host end of %s's veth is left: %s", after, id, filepath.Base(filepath.Dir(l)))
		}
	}
	if m := mountsUnder(t, e.RunRoot); strings.Contains(m, "/netns/") {
		t.Errorf("after %s: network namespaces left mounted:\n%s", after, m)
	}
	if entries, _ := filepath.Glob(filepath.Join(e.RunRoot, "berth", "netns", "*")); len(entries) > 0 {
		t.Errorf("after %s: network namespace files left: %v", after, entries)
	}
	if _, err := os.Stat(filepath.Join("/run/berth/network/ipam/podman", ip)); err == nil {
		if b, _ := os.ReadFile(filepath.Join("/run/berth/network/ipam/podman", ip)); strings.HasPrefix(string(b), id) {
			t.Errorf("after %s: address %s is still reserved for %s", after, ip, id)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(e.RunRoot, "berth", "cni", "results", "*")); len(entries) > 0 {
		t.Errorf("after %s: CNI cache entries left: %v", after, entries)
	}
}
