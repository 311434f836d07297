package libpod

import (
	"encoding/json"
	"testing"
)

// TestContainerStatusJSONUnchanged: the state rows that berth wrote while
// the status was a bare string (these were copied from a state DB made by
// the previous release: a created, an exited and a running container)
// decode into the typed status and are written back byte for byte.
func TestContainerStatusJSONUnchanged(t *testing.T) {
	rows := []struct {
		state string
		want  ContainerStatus
	}{
		{`{"status":"created","exitCode":0,"startedAt":"0001-01-01T00:00:00Z","finishedAt":"0001-01-01T00:00:00Z"}`, StatusCreated},
		{`{"status":"exited","exitCode":3,"startedAt":"2026-12-07T22:16:17.967240684Z","finishedAt":"2026-12-07T22:16:18.196940724Z"}`, StatusExited},
		{`{"status":"running","pid":9440,"monitorPid":9426,"monitorStart":1123657,"exitCode":0,"startedAt":"2026-12-07T22:16:18.833972508Z","finishedAt":"0001-01-01T00:00:00Z","mountpoint":"/tmp/h-eng/root/overlay/8352fbd37089653e0fa12f2d6fd1d3917cef1614fc6aaf80fdf3f86b4523ca52/merged","network":{"network":"podman","netnsPath":"/tmp/h-eng/run/berth/netns/b08a777376b961f989db9a6ec92785a3caedced6720c06d0681918a7afc6fc39","interface":"eth0","ip":"10.88.5.197","prefixLen":16,"gateway":"10.88.0.1","mac":"9e:33:0a:5a:c1:50","hostVeth":"veth710a5b5f"}}`, StatusRunning},
	}
	for _, r := range rows {
		var st ContainerState
		if err := json.Unmarshal([]byte(r.state), &st); err != nil {
			t.Fatalf("decoding %s: %v", r.state, err)
		}
		if st.Status != r.want {
			t.Errorf("decoding %s: status %q, want %q", r.state, st.Status, r.want)
		}
		b, err := json.Marshal(&st)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != r.state {
			t.Errorf("state written back changed:\n got %s\nwant %s", b, r.state)
		}
	}
}

// TestContainerStatusNames: every status is stored and printed under
// podman's name for it.
func TestContainerStatusNames(t *testing.T) {
	for s, want := range map[ContainerStatus]string{
		StatusCreated: "created", StatusRunning: "running", StatusPaused: "paused",
		StatusStopped: "stopped", StatusStopping: "stopping", StatusExited: "exited",
	} {
		if s.String() != want {
			t.Errorf("String() = %q, want %q", s.String(), want)
		}
		b, err := json.Marshal(ContainerState{Status: s})
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["status"] != want {
			t.Errorf("%s is stored as %v, want %q", want, raw["status"], want)
		}
	}
}
