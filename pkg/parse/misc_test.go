package parse

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestAddHost(t *testing.T) {
	tests := []struct {
		in   string
		want HostEntry
		err  string
	}{
		{in: "db:10.0.0.5", want: HostEntry{Names: []string{"db"}, IP: "10.0.0.5"}},
		{in: "db:::1", want: HostEntry{Names: []string{"db"}, IP: "::1"}},
		{in: "db:[fe80::1]", want: HostEntry{Names: []string{"db"}, IP: "fe80::1"}},
		{in: "db;db.local:1.2.3.4", want: HostEntry{Names: []string{"db", "db.local"}, IP: "1.2.3.4"}},
		{in: "gw:host-gateway", want: HostEntry{Names: []string{"gw"}, IP: HostGateway}},
		{in: "foo", err: "expected NAME:IP"},
		{in: ":1.2.3.4", err: "expected NAME:IP"},
		{in: "foo=1.2.3.4", err: "expected NAME:IP"},
		{in: "foo:bar", err: `"bar" is not an IP address`},
		{in: "a;;b:1.2.3.4", err: `"" is not a host name`},
	}
	for _, tt := range tests {
		got, err := AddHost(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("AddHost(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("AddHost(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestSecurityOpts(t *testing.T) {
	got, err := SecurityOpts([]string{
		"seccomp=/etc/prof.json", "no-new-privileges", "label=disable", "label=type:spc_t",
		"apparmor=unconfined", "unmask=/proc/kcore:/sys/firmware", "mask=/proc/foo", "proc-opts=hidepid=2",
	})
	want := SecurityOptions{
		SeccompProfile: "/etc/prof.json", NoNewPrivileges: true, LabelDisable: true, Labels: []string{"type:spc_t"},
		AppArmorProfile: "unconfined", Unmask: []string{"/proc/kcore", "/sys/firmware"}, Mask: []string{"/proc/foo"},
		ProcOpts: []string{"hidepid=2"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("SecurityOpts =\n %+v, %v\nwant\n %+v", got, err, want)
	}
	got, err = SecurityOpts([]string{"seccomp:unconfined", "no-new-privileges=true", "no-new-privileges=false", "unmask=ALL", "systempaths=unconfined"})
	want = SecurityOptions{SeccompProfile: "unconfined", Unmask: []string{"ALL", "ALL"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("SecurityOpts = %+v, %v; want %+v", got, err, want)
	}
	for in, msg := range map[string]string{
		"foo":                     `invalid --security-opt "foo"`,
		"foo=bar":                 `invalid --security-opt "foo=bar"`,
		"no-new-privileges=maybe": "must be true or false",
		"label=foo":               "label must be disable, nested",
		"label=type:":             "label must be",
		"mask=rel":                `"rel" is not an absolute path`,
		"unmask=/a:rel":           `"rel" is not an absolute path`,
		"seccomp=":                "give a profile path",
		"systempaths=x":           "systempaths can only be unconfined",
	} {
		if _, err := SecurityOpts([]string{in}); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("SecurityOpts(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestRestartPolicy(t *testing.T) {
	tests := []struct {
		in   string
		name string
		n    int
		err  string
	}{
		{in: "", name: ""}, {in: "no", name: "no"}, {in: "always", name: "always"},
		{in: "unless-stopped", name: "unless-stopped"}, {in: "on-failure", name: "on-failure"},
		{in: "on-failure:3", name: "on-failure", n: 3}, {in: "on-failure:0", name: "on-failure"},
		{in: "foo", err: `invalid --restart "foo": use no, on-failure[:max-retries], always or unless-stopped`},
		{in: "on-failure:x", err: "the retry count must be a number"},
		{in: "on-failure:-1", err: "the retry count must be a number"},
		{in: "always:3", err: "a retry count is only allowed with on-failure"},
		{in: "unless-stopped:2", err: "a retry count is only allowed with on-failure"},
	}
	for _, tt := range tests {
		name, n, err := RestartPolicy(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("RestartPolicy(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || name != tt.name || n != tt.n {
			t.Errorf("RestartPolicy(%q) = %q, %d, %v", tt.in, name, n, err)
		}
	}
}

func TestStopSignal(t *testing.T) {
	good := map[string]syscall.Signal{
		"SIGTERM": syscall.SIGTERM, "TERM": syscall.SIGTERM, "term": syscall.SIGTERM, "sigkill": syscall.SIGKILL,
		"9": syscall.SIGKILL, "15": syscall.SIGTERM, "64": 64, "SIGWINCH": syscall.SIGWINCH, "IOT": syscall.SIGABRT,
		"SIGRTMIN": 34, "SIGRTMIN+3": 37, "-1": syscall.SIGHUP, "-INT": syscall.SIGINT, "RTMAX": 64, "RTMAX-2": 62, "SIGUSR1": syscall.SIGUSR1, "SIGCHLD": syscall.SIGCHLD,
	}
	for in, want := range good {
		if got, err := StopSignal(in); err != nil || got != want {
			t.Errorf("StopSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"FOO": "invalid signal: FOO", "-SIGBAD": "invalid signal: SIGBAD", "0": "invalid signal: 0", "-0": "invalid signal: 0",
		"99": "valid signals are 1 through 64", "-65": "valid signals are 1 through 64",
		"SIGRTMIN+40": `invalid signal`, "RTMAX+1": "invalid signal", "": "invalid signal",
	} {
		if _, err := StopSignal(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("StopSignal(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestPullPolicy(t *testing.T) {
	good := map[string]string{"always": PullAlways, "Always": PullAlways, "true": PullAlways, "missing": PullMissing,
		"IfMissing": PullMissing, "ifnotpresent": PullMissing, "": PullMissing, "false": PullMissing,
		"never": PullNever, "Never": PullNever, "newer": PullNewer, "ifnewer": PullNewer}
	for in, want := range good {
		if got, err := PullPolicy(in); err != nil || got != want {
			t.Errorf("PullPolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := PullPolicy("foo"); err == nil || !strings.Contains(err.Error(), `invalid --pull "foo"`) {
		t.Errorf("PullPolicy(foo) error = %v", err)
	}
}

func TestLogOpts(t *testing.T) {
	got, err := LogOpts([]string{"max-size=10m", "tag={{.Name}}", "path=/tmp/log", "labels=a,b"})
	want := LogOptions{Path: "/tmp/log", MaxSize: 10_000_000, Tag: "{{.Name}}", Other: map[string]string{"labels": "a,b"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LogOpts = %+v, %v; want %+v", got, err, want)
	}
	for in, msg := range map[string]string{"foo": `invalid --log-opt "foo"`, "max-size=abc": "use a size", "tag=": "expected key=value"} {
		if _, err := LogOpts([]string{in}); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("LogOpts(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestDetachKeys(t *testing.T) {
	good := map[string][]byte{
		"ctrl-p,ctrl-q": {16, 17}, "ctrl-a": {1}, "ctrl-z": {26}, "a,b": {'a', 'b'}, "ctrl-[": {27},
		"ctrl-@": {0}, `ctrl-\`: {28}, "ctrl-]": {29}, "ctrl-^": {30}, "ctrl-_": {31}, "DEL": {127},
		"": nil,
	}
	for in, want := range good {
		if got, err := DetachKeys(in); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DetachKeys(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, key := range map[string]string{"foo": "foo", "ctrl-": "ctrl-", "ctrl-x,": "", "ctrl-ab": "ctrl-ab", "ctrl-A": "ctrl-A", "ctrl-a,,b": ""} {
		_, err := DetachKeys(in)
		if err == nil || !strings.Contains(err.Error(), `unknown key "`+key+`"`) {
			t.Errorf("DetachKeys(%q) error = %v, want unknown key %q", in, err, key)
		}
	}
}

func u32(n uint32) *uint32 { return &n }

func TestParseUserNS(t *testing.T) {
	tests := []struct {
		in   string
		want UserNS
		err  string
	}{
		{in: "", want: UserNS{Mode: UserNSHost}},
		{in: "host", want: UserNS{Mode: UserNSHost}},
		{in: "keep-id", want: UserNS{Mode: UserNSKeepID}},
		{in: "keep-id:uid=200,gid=210", want: UserNS{Mode: UserNSKeepID, UID: u32(200), GID: u32(210)}},
		{in: "keep-id:size=1000", want: UserNS{Mode: UserNSKeepID, Size: u32(1000)}},
		{in: "nomap", want: UserNS{Mode: UserNSNoMap}},
		{in: "private", want: UserNS{Mode: UserNSPrivate}},
		{in: "ns:/proc/1/ns/user", want: UserNS{Mode: UserNSPath, Path: "/proc/1/ns/user"}},
		{in: "container:web", want: UserNS{Mode: UserNSContainer, Container: "web"}},
		{in: "foo", err: `invalid --userns "foo"`},
		{in: "keep-id:foo=1", err: `unknown keep-id option "foo=1"`},
		{in: "keep-id:uid=x", err: `uid must be a number, not "x"`},
		{in: "nomap:x", err: "nomap takes no options"},
		{in: "ns:rel", err: "absolute path"},
		{in: "auto", err: "--userns=auto is not supported"},
		{in: "auto:size=100", err: "--userns=auto is not supported"},
	}
	for _, tt := range tests {
		got, err := ParseUserNS(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseUserNS(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseUserNS(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
