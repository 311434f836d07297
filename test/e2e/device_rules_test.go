package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --device-cgroup-rule adds to the device cgroup (rootful; rootless there
// is no cgroup to add to); bad rules get podman's messages, exit 125.
func TestDeviceCgroupRule(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		for _, rule := range []string{"b 7:* rmw", "c 7:* rmw", "a 7:1 rmw", "a 7 rmw"} {
			e.BerthOK("run", "--rm", "--network", "host", "--device-cgroup-rule", rule, img, "true")
		}
		if !e.Rootless() {
			id := e.BerthOK("run", "-d", "--network", "host", "--device-cgroup-rule", "b 7:* rmw", img, "sleep", "1000").Out()
			list := filepath.Join("/sys/fs/cgroup/devices/berth", id, "devices.list")
			if _, err := os.Stat("/sys/fs/cgroup/devices"); err == nil { // cgroup v1
				if b, err := os.ReadFile(list); err != nil || !strings.Contains(string(b), "b 7:* rwm") {
					t.Errorf("%s lacks the rule: %v\n%s", list, err, b)
				}
			}
		}
		for rule, msg := range map[string]string{
			"b 7:* rmX": "Error: invalid device access in device-access-add: X",
			"b 7:2":     `Error: invalid device cgroup rule requires type, major:Minor, and access rules: "b 7:2"`,
			"x 7:* rmw": "Error: invalid device type in device-access-add: x",
			"a a:* rmw": `Error: strconv.ParseUint: parsing "a": invalid syntax`,
		} {
			r := e.BerthFail(125, "run", "--rm", "--device-cgroup-rule", rule, img, "true")
			if strings.TrimSpace(r.Stderr) != msg {
				t.Errorf("--device-cgroup-rule %q: %q, want %q", rule, strings.TrimSpace(r.Stderr), msg)
			}
		}
	})
}
