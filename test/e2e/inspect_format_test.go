package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The keys of podman 4.3's `container inspect`, object by object.
var (
	inspectTopKeys = []string{"Id", "Created", "Path", "Args", "State", "Image", "ImageDigest", "ImageName",
		"Rootfs", "Pod", "ResolvConfPath", "HostnamePath", "HostsPath", "StaticDir", "OCIRuntime", "ConmonPidFile",
		"PidFile", "Name", "RestartCount", "Driver", "MountLabel", "ProcessLabel", "AppArmorProfile",
		"EffectiveCaps", "BoundingCaps", "ExecIDs", "GraphDriver", "Mounts", "Dependencies", "NetworkSettings",
		"Namespace", "IsInfra", "IsService", "Config", "HostConfig"}
	inspectStateKeys = []string{"OciVersion", "Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead",
		"Pid", "ExitCode", "Error", "StartedAt", "FinishedAt", "Health", "CheckpointedAt", "RestoredAt"}
	inspectConfigKeys = []string{"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr",
		"Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Image", "Volumes", "WorkingDir", "Entrypoint", "OnBuild",
		"Labels", "Annotations", "StopSignal", "CreateCommand", "Umask", "Timeout", "StopTimeout"}
	inspectHostConfigKeys = []string{"Binds", "CgroupManager", "CgroupMode", "ContainerIDFile", "LogConfig",
		"NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove", "VolumeDriver", "VolumesFrom", "CapAdd",
		"CapDrop", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd", "IpcMode", "Cgroup", "Cgroups",
		"Links", "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt",
		"Tmpfs", "UTSMode", "UsernsMode", "ShmSize", "Runtime", "ConsoleSize", "Isolation", "CpuShares", "Memory",
		"NanoCpus", "CgroupParent", "BlkioWeight", "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "Devices",
		"MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable", "PidsLimit", "Ulimits"}
	inspectNetworkKeys = []string{"EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
		"GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress", "Bridge", "SandboxID", "HairpinMode",
		"LinkLocalIPv6Address", "LinkLocalIPv6PrefixLen", "Ports", "SandboxKey"}
)

// inspectJSON runs `container inspect NAME` and returns its one document.
func inspectJSON(t *testing.T, e *Env, name string) map[string]any {
	t.Helper()
	raw := e.BerthOK("container", "inspect", name).Stdout
	if !strings.HasPrefix(raw, "[\n     {") {
		t.Fatalf("container inspect is not podman's array indented by five spaces:\n%.80s", raw)
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(raw), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("container inspect output (%v):\n%s", err, raw)
	}
	return docs[0]
}

func wantKeys(t *testing.T, what string, obj any, keys []string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, obj)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no key %q", what, k)
		}
	}
}

// render prints a JSON value as Go's template prints the field it came from.
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i := range x {
			parts[i] = render(x[i])
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}

func TestContainerInspectLayout(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		shared := filepath.Join(e.Dir, "shared")
		if err := os.MkdirAll(shared, 0o755); err != nil {
			t.Fatal(err)
		}
		id := e.BerthOK("run", "-d", "--name", "insp", "-e", "INSPECT_E2E=from-flag", "--label", "k=v",
			"--restart", "on-failure:3", "--log-opt", "max-size=10mb", "-w", "/tmp", "--hostname", "insphost",
			"-v", shared+":/mnt:ro", "--tmpfs", "/scratch", "--cap-add", "SYS_ADMIN", "--dns", "192.0.2.1",
			"--add-host", "peer:192.0.2.2", img, "sleep", "1000").Out()

		d := inspectJSON(t, e, "insp")
		wantKeys(t, "inspect", d, inspectTopKeys)
		wantKeys(t, "State", d["State"], inspectStateKeys)
		wantKeys(t, "Config", d["Config"], inspectConfigKeys)
		wantKeys(t, "HostConfig", d["HostConfig"], inspectHostConfigKeys)
		wantKeys(t, "HostConfig.LogConfig", d["HostConfig"].(map[string]any)["LogConfig"], []string{"Type", "Config", "Path", "Tag", "Size"})
		wantKeys(t, "HostConfig.RestartPolicy", d["HostConfig"].(map[string]any)["RestartPolicy"], []string{"Name", "MaximumRetryCount"})
		wantKeys(t, "NetworkSettings", d["NetworkSettings"], inspectNetworkKeys)
		wantKeys(t, "GraphDriver", d["GraphDriver"], []string{"Name", "Data"})

		// Every key of these objects renders through --format by its own
		// name, with the value the JSON holds.
		check := func(prefix string, obj map[string]any, keys []string) {
			t.Helper()
			var tmpl []string
			for _, k := range keys {
				tmpl = append(tmpl, "{{"+prefix+"."+k+"}}")
			}
			got := strings.Split(e.BerthOK("inspect", "--format", strings.Join(tmpl, "\x1f"), "insp").Out(), "\x1f")
			if len(got) != len(keys) {
				t.Fatalf("--format with %d fields printed %d", len(keys), len(got))
			}
			for i, k := range keys {
				if arr, ok := obj[k].([]any); obj[k] == nil || ok && len(arr) > 0 && fmt.Sprintf("%T", arr[0]) == "map[string]interface {}" {
					continue // Go prints nil and structs its own way
				}
				switch obj[k].(type) {
				case map[string]any, string:
					if s, ok := obj[k].(string); ok && got[i] != s && !strings.HasSuffix(k, "At") && k != "Created" {
						t.Errorf("{{%s.%s}} = %q, JSON has %q", prefix, k, got[i], s)
					}
				default:
					if want := render(obj[k]); got[i] != want {
						t.Errorf("{{%s.%s}} = %q, JSON has %q", prefix, k, got[i], want)
					}
				}
			}
		}
		check("", d, inspectTopKeys)
		check(".State", d["State"].(map[string]any), inspectStateKeys)
		check(".Config", d["Config"].(map[string]any), inspectConfigKeys)
		check(".HostConfig", d["HostConfig"].(map[string]any), inspectHostConfigKeys)
		check(".NetworkSettings", d["NetworkSettings"].(map[string]any), inspectNetworkKeys)

		// The values are the container's.
		wantOut(t, "{{.Id}} {{.ID}}", e.BerthOK("inspect", "--format", "{{.Id}} {{.ID}}", "insp").Out(), id+" "+id)
		pid, err := strconv.Atoi(e.BerthOK("inspect", "--format", "{{.State.Pid}}", "insp").Out())
		if err != nil || pid <= 0 {
			t.Fatalf("{{.State.Pid}}: %d %v", pid, err)
		}
		if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(cmdline) != "sleep\x001000\x00" {
			t.Errorf("{{.State.Pid}} %d is not the container's process: cmdline %q", pid, cmdline)
		}
		monitor, _ := strconv.Atoi(e.BerthOK("inspect", "--format", "{{.State.ConmonPid}}", "insp").Out())
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", monitor)); !strings.HasPrefix(string(comm), "berth-monitor") {
			t.Errorf("{{.State.ConmonPid}} %d is not the container's monitor: %q", monitor, comm)
		}
		wantContains(t, "{{.Config.Env}}", e.BerthOK("inspect", "--format", "{{.Config.Env}}", "insp").Out(), "INSPECT_E2E=from-flag")
		digest := e.BerthOK("image", "inspect", "--format", "{{.Digest}}", img).Out()
		wantOut(t, "container values", e.BerthOK("inspect", "--format",
			"{{.ImageDigest}}|{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}|"+
				"{{.HostConfig.LogConfig.Size}}|{{.HostConfig.LogConfig.Type}}|{{.Config.WorkingDir}}|{{.Path}} {{.Args}}|"+
				"{{.Config.Cmd}}|{{.Config.Hostname}}|{{.Config.Labels.k}}|{{.State.Status}} {{.State.Running}}|"+
				"{{.HostConfig.Dns}} {{.HostConfig.ExtraHosts}}|{{.HostConfig.CapAdd}}|{{.Name}}|{{.Config.StopSignal}}", "insp").Out(),
			digest+"|on-failure:3|10MB|k8s-file|/tmp|sleep [1000]|[sleep 1000]|insphost|v|running true|"+
				"[192.0.2.1] [peer:192.0.2.2]|[CAP_SYS_ADMIN]|insp|15")
		wantOut(t, "mounts", e.BerthOK("inspect", "--format",
			"{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}} {{.Propagation}}{{end}}|{{.HostConfig.Tmpfs}}", "insp").Out(),
			"bind "+shared+" /mnt false rprivate|map[/scratch:rw,rprivate,nosuid,nodev,tmpcopyup]")
		wantContains(t, "EffectiveCaps", e.BerthOK("inspect", "--format", "{{.EffectiveCaps}}", "insp").Out(), "CAP_SYS_ADMIN")
		for _, path := range []string{"{{.OCIConfigPath}}", "{{.HostsPath}}", "{{.ResolvConfPath}}", "{{.HostConfig.LogConfig.Path}}", "{{.GraphDriver.Data.UpperDir}}"} {
			p := e.BerthOK("inspect", "--format", path, "insp").Out()
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s = %q does not exist: %v", path, p, err)
			}
		}
		// the hosts file inspect names is the container's
		hostsPath := e.BerthOK("inspect", "--format", "{{.HostsPath}}", "insp").Out()
		if b, _ := os.ReadFile(hostsPath); !strings.Contains(string(b), "peer") {
			t.Errorf("{{.HostsPath}} %s lacks the --add-host entry:\n%s", hostsPath, b)
		}

		// {{json .}}, --size, -l, --type
		var doc map[string]any
		if err := json.Unmarshal([]byte(e.BerthOK("inspect", "--format", "{{json .}}", "insp").Out()), &doc); err != nil || doc["Id"] != id {
			t.Errorf("{{json .}}: %v %v", err, doc["Id"])
		}
		e.BerthOK("exec", "insp", "sh", "-c", "head -c 300000 /dev/zero > /tmp/blob")
		size := e.BerthOK("inspect", "--size", "--format", "{{.SizeRw}} {{.SizeRootFs}}", "insp").Out()
		var rw, rootfs int64
		if _, err := fmt.Sscan(size, &rw, &rootfs); err != nil || rw < 300000 || rootfs <= rw {
			t.Errorf("inspect --size: %q (%v)", size, err)
		}
		if strings.Contains(e.BerthOK("container", "inspect", "insp").Stdout, "SizeRw") {
			t.Error("inspect without --size shows SizeRw")
		}
		// four significant digits, as podman
		e.BerthOK("create", "--name", "logsize", "--log-opt", "max-size=5.083m", img, "true")
		wantOut(t, "LogConfig.Size", e.BerthOK("inspect", "--format", "{{.HostConfig.LogConfig.Size}}", "logsize").Out(), "5.083MB")
		e.BerthOK("create", "--name", "newest", img, "true")
		wantOut(t, "inspect -l", e.BerthOK("container", "inspect", "-l", "--format", "{{.Name}}").Out(), "newest")
		wantOut(t, "inspect --latest", e.BerthOK("inspect", "--latest", "--format", "{{.Name}}").Out(), "newest")
		wantOut(t, "inspect --type container", e.BerthOK("inspect", "--type", "container", "--format", "{{.Name}}", "insp").Out(), "insp")
		e.BerthFail(125, "inspect", "--type", "image", "insp")
		r := e.BerthFail(125, "container", "inspect", "--format", "{{.Name}}", "insp", "no-such-ctr")
		wantOut(t, "inspect of a missing container prints the others", r.Out(), "insp")
		wantContains(t, "missing container", r.Stderr, "no such container no-such-ctr")

		// a container never started: its spec is generated, nothing runs
		d = inspectJSON(t, e, "newest")
		wantKeys(t, "created container", d, inspectTopKeys)
		wantOut(t, "created container", e.BerthOK("inspect", "--format",
			"{{.State.Status}} {{.State.Pid}} {{.Path}} {{.Config.Cmd}} {{.HostConfig.LogConfig.Size}}", "newest").Out(),
			"created 0 true [true] 0B")

		// a user namespace of its own: podman's UsernsMode and IDMappings
		wantOut(t, "no user namespace", e.BerthOK("inspect", "--format", "{{.HostConfig.UsernsMode}}|{{.HostConfig.IDMappings}}", "insp").Out(), "|<nil>")
		if e.Rootless() {
			e.BerthOK("create", "--name", "keepid", "--userns", "keep-id", img, "true")
			got := e.BerthOK("inspect", "--format", "{{.HostConfig.UsernsMode}} {{.HostConfig.IDMappings.UidMap}}", "keepid").Out()
			if want := fmt.Sprintf("private [0:1:%d %d:0:1 ", e.UID(), e.UID()); !strings.HasPrefix(got, want) {
				t.Errorf("keep-id mappings: %q, want prefix %q", got, want)
			}
		}

		// exited: the code, and no pid
		e.BerthOK("stop", "-t", "0", "insp")
		wantOut(t, "stopped container", e.BerthOK("inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}", "insp").Out(),
			"exited false 0 137")
	})
}

// imageRowFields are the --format names of `images` in podman 4.3.
var imageRowFields = []string{"ID", "Id", "Repository", "Tag", "Digest", "Created", "CreatedAt", "CreatedSince",
	"CreatedTime", "Size", "VirtualSize", "SharedSize", "Labels", "History", "Containers", "Dangling", "ReadOnly",
	"Names", "RepoTags", "RepoDigests", "ParentId"}

func TestImagesFormatFields(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		base := e.BerthOK("image", "inspect", "--format", "{{.Id}}", img).Out()
		wantOut(t, "after= with nothing newer", e.BerthOK("images", "--noheading", "--filter", "after="+base).Out(), "")
		e.BerthOK("run", "--name", "tocommit", img, "true")
		child := e.BerthOK("commit", "-q", "-c", "LABEL e2e.label=labelled", "tocommit", "e2e/child").Out()
		child = strings.TrimPrefix(child, "sha256:")
		e.BerthOK("rm", "tocommit")

		var tmpl []string
		for _, f := range imageRowFields {
			tmpl = append(tmpl, "{{."+f+"}}")
		}
		got := strings.Split(e.BerthOK("images", "--format", strings.Join(tmpl, "|"), "e2e/child").Out(), "|")
		if len(got) != len(imageRowFields) {
			t.Fatalf("images --format printed %d fields, want %d: %q", len(got), len(imageRowFields), got)
		}
		field := map[string]string{}
		for i, f := range imageRowFields {
			field[f] = got[i]
		}
		for name, want := range map[string]string{
			"ID": child[:12], "Id": child, "Repository": "localhost/e2e/child", "Tag": "latest",
			"Labels": "map[e2e.label:labelled]", "History": "localhost/e2e/child:latest", "Containers": "0",
			"Dangling": "false", "ReadOnly": "false", "Names": "[localhost/e2e/child:latest]",
			"RepoTags": "[localhost/e2e/child:latest]", "ParentId": base, "SharedSize": "0",
		} {
			if field[name] != want {
				t.Errorf("images {{.%s}} = %q, want %q", name, field[name], want)
			}
		}
		if !regexp.MustCompile(`^[0-9.]+ [kMG]?B$`).MatchString(field["Size"]) {
			t.Errorf("images {{.Size}} = %q, want podman's \"1.23 MB\"", field["Size"])
		}
		if !regexp.MustCompile(`^[0-9]+$`).MatchString(field["VirtualSize"]) {
			t.Errorf("images {{.VirtualSize}} = %q, want bytes", field["VirtualSize"])
		}
		if !strings.HasSuffix(field["Created"], " ago") || field["CreatedSince"] != field["Created"] ||
			!strings.HasSuffix(field["CreatedAt"], " UTC") && !strings.Contains(field["CreatedAt"], " +") {
			t.Errorf("images created fields: %q %q %q", field["Created"], field["CreatedSince"], field["CreatedAt"])
		}
		wantOut(t, "{{.Labels.key}}", e.BerthOK("images", "--format", "{{index .Labels \"e2e.label\"}}", "e2e/child").Out(), "labelled")
		wantOut(t, "{{.ID | upper}}", e.BerthOK("images", "--format", "{{.ID | upper}}", "e2e/child").Out(), strings.ToUpper(child[:12]))
		wantOut(t, "--no-trunc", e.BerthOK("images", "--no-trunc", "--format", "{{.ID}}", "e2e/child").Out(), "sha256:"+child)

		// filters by creation
		opts := []string{"--noheading", "--no-trunc", "--format", "{{.ID}}--{{.Repository}}:{{.Tag}}"}
		wantOut(t, "after=", e.BerthOK(append([]string{"images", "--filter", "after=" + base}, opts...)...).Out(),
			"sha256:"+child+"--localhost/e2e/child:latest")
		wantOut(t, "since=", e.BerthOK(append([]string{"images", "--filter", "since=" + base}, opts...)...).Out(),
			"sha256:"+child+"--localhost/e2e/child:latest")
		wantOut(t, "before=", e.BerthOK(append([]string{"images", "--filter", "before=e2e/child"}, opts...)...).Out(),
			"sha256:"+base+"--"+img[:strings.LastIndex(img, ":")]+":latest")
		e.BerthOK("create", "--name", "user", "e2e/child", "true")
		wantOut(t, "containers=true", e.BerthOK("images", "--filter", "containers=true", "--format", "{{.Repository}}").Out(), "localhost/e2e/child")

		// names history: a removed tag stays in .History
		e.BerthOK("tag", "e2e/child", "e2e/other")
		e.BerthOK("rmi", "e2e/other")
		wantOut(t, "{{.History}} after a tag", e.BerthOK("images", "--format", "{{.History}}", "e2e/child").Out(),
			"localhost/e2e/child:latest, localhost/e2e/other:latest")

		// tables: spaces separate columns, cells at least 12 wide
		lines := e.BerthOK("images", "--format", "table {{.Tag}} {{.ID}}", "e2e/child").Lines()
		if len(lines) != 2 || lines[0] != "TAG         IMAGE ID" || lines[1] != "latest      "+child[:12] {
			t.Errorf("images table format:\n%s", strings.Join(lines, "\n"))
		}
		lines = e.BerthOK("images", "--noheading", "--format", "table {{.Tag}} {{.ID}}", "e2e/child").Lines()
		if len(lines) != 1 || lines[0] != "latest      "+child[:12] {
			t.Errorf("images --noheading table format: %q", lines)
		}
		if out := e.BerthOK("images", "--format", "{{.Tag}}\\t{{.ID}}", "e2e/child").Out(); out != "latest\t"+child[:12] {
			t.Errorf("plain format with \\t: %q", out)
		}

		var list []map[string]any
		if err := json.Unmarshal([]byte(e.BerthOK("images", "--format", "json", "e2e/child").Stdout), &list); err != nil || len(list) != 1 {
			t.Fatalf("images --format json: %v", err)
		}
		wantKeys(t, "images json", list[0], []string{"Id", "ParentId", "RepoTags", "RepoDigests", "Size", "SharedSize",
			"VirtualSize", "Labels", "Containers", "Names", "Digest", "History", "Created", "CreatedAt"})
	})
}

func TestPsFormatFields(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		shared := filepath.Join(e.Dir, "psmnt")
		if err := os.MkdirAll(shared, 0o755); err != nil {
			t.Fatal(err)
		}
		id := e.BerthOK("run", "-d", "--name", "pslist", "--label", "who=e2e", "-v", shared+":/data",
			img, "sleep", "1000").Out()
		fields := []string{"ID", "Image", "ImageID", "Command", "CreatedAt", "CreatedHuman", "RunningFor", "Status",
			"State", "Ports", "Names", "Labels", "Mounts", "Pod", "PodName", "Networks", "ExitCode", "Exited",
			"ExitedAt", "StartedAt", "Pid", "IsInfra", "AutoRemove"}
		var tmpl []string
		for _, f := range fields {
			tmpl = append(tmpl, "{{."+f+"}}")
		}
		got := strings.Split(e.BerthOK("ps", "--format", strings.Join(tmpl, "|")).Out(), "|")
		if len(got) != len(fields) {
			t.Fatalf("ps --format printed %d fields, want %d: %q", len(got), len(fields), got)
		}
		field := map[string]string{}
		for i, f := range fields {
			field[f] = got[i]
		}
		imageID := e.BerthOK("image", "inspect", "--format", "{{.Id}}", img).Out()
		pid := e.BerthOK("inspect", "--format", "{{.State.Pid}}", "pslist").Out()
		for name, want := range map[string]string{
			"ID": id[:12], "Image": img, "ImageID": imageID[:12], "Command": "sleep 1000", "Names": "pslist",
			"Labels": "map[who:e2e]", "Mounts": "/data", "Pod": "", "PodName": "", "ExitCode": "0",
			"Exited": "false", "Pid": pid, "IsInfra": "false", "AutoRemove": "false",
		} {
			if field[name] != want {
				t.Errorf("ps {{.%s}} = %q, want %q", name, field[name], want)
			}
		}
		if !strings.HasPrefix(field["State"], "Up ") || !strings.HasSuffix(field["State"], " ago") || field["Status"] != field["State"] {
			t.Errorf("ps {{.State}} {{.Status}} = %q %q, want podman 4.3's \"Up ... ago\"", field["State"], field["Status"])
		}
		if !strings.HasSuffix(field["CreatedHuman"], " ago") || field["RunningFor"] != field["CreatedHuman"] {
			t.Errorf("ps created fields: %q %q", field["CreatedHuman"], field["RunningFor"])
		}
		if n, err := strconv.ParseInt(field["StartedAt"], 10, 64); err != nil || n <= 0 {
			t.Errorf("ps {{.StartedAt}} = %q", field["StartedAt"])
		}
		if out := e.BerthOK("ps", "--no-trunc", "--format", "{{.ID}} {{.ImageID}}").Out(); out != id+" "+imageID {
			t.Errorf("ps --no-trunc IDs: %q", out)
		}
		size := e.BerthOK("ps", "--size", "--format", "{{.Size}}").Out()
		if !regexp.MustCompile(`^[0-9.]+[kMG]?B \(virtual [0-9.]+[kMG]?B\)$`).MatchString(size) {
			t.Errorf("ps --size {{.Size}} = %q", size)
		}
		r := e.BerthOK("ps", "--format", "{{.Names}}:{{.Size}}")
		wantOut(t, "{{.Size}} without --size", r.Out(), "pslist:")
		wantContains(t, "{{.Size}} without --size", r.Stderr, "Size format requires --size option")

		var list []map[string]any
		if err := json.Unmarshal([]byte(e.BerthOK("ps", "--format", "json").Stdout), &list); err != nil || len(list) != 1 {
			t.Fatalf("ps --format json: %v", err)
		}
		wantKeys(t, "ps json", list[0], []string{"AutoRemove", "Command", "CreatedAt", "Exited", "ExitedAt", "ExitCode",
			"Id", "Image", "ImageID", "IsInfra", "Labels", "Mounts", "Names", "Namespaces", "Networks", "Pid", "Pod",
			"PodName", "Ports", "Size", "StartedAt", "State", "Status", "Created"})
		if list[0]["State"] != "running" || list[0]["Id"] != id {
			t.Errorf("ps json State %v Id %v", list[0]["State"], list[0]["Id"])
		}

		// a status filter lists stopped containers without -a; others do not
		e.BerthOK("run", "--name", "done", img, "true")
		wantOut(t, "name= without -a", e.BerthOK("ps", "--filter", "name=done", "--format", "{{.Names}}").Out(), "")
		wantOut(t, "status=exited without -a", e.BerthOK("ps", "--filter", "status=exited", "--format", "{{.Names}} {{.State}}").Out()[:len("done Exited (0)")], "done Exited (0)")
		wantOut(t, "since=", e.BerthOK("ps", "-a", "--filter", "since=pslist", "--format", "{{.Names}}").Out(), "done")
		wantOut(t, "before=", e.BerthOK("ps", "-a", "--filter", "before=done", "--format", "{{.Names}}").Out(), "pslist")
		wantOut(t, "volume=", e.BerthOK("ps", "-a", "--filter", "volume=/data", "--format", "{{.Names}}").Out(), "pslist")
		wantOut(t, "until= an hour ago", e.BerthOK("ps", "-a", "--filter", "until=1h", "--format", "{{.Names}}").Out(), "")
		e.BerthFail(125, "ps", "--filter", "before=no-such-ctr")
		// podman lists the oldest first
		wantOut(t, "ps -a order", e.BerthOK("ps", "-a", "--format", "{{.Names}}").Out(), "pslist\ndone")
		wantOut(t, "ps --sort created", e.BerthOK("ps", "-a", "--sort", "created", "--format", "{{.Names}}").Out(), "pslist\ndone")
		lines := e.BerthOK("ps", "-a", "--format", "table {{.Names}} {{.ExitCode}}", "--sort", "names").Lines()
		if len(lines) != 3 || lines[0] != "NAMES       EXIT CODE" || lines[1] != "done        0" {
			t.Errorf("ps table format:\n%s", strings.Join(lines, "\n"))
		}
	})
}

func TestHistoryFormatFields(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.BerthOK("run", "--name", "hist", img, "true")
		id := strings.TrimPrefix(e.BerthOK("commit", "-q", "-m", "e2e comment", "hist", "e2e/hist").Out(), "sha256:")
		fields := []string{"ID", "Created", "CreatedBy", "Size", "Comment", "Tags", "CreatedSince", "CreatedAt"}
		var tmpl []string
		for _, f := range fields {
			tmpl = append(tmpl, "{{."+f+"}}")
		}
		lines := e.BerthOK("history", "--format", strings.Join(tmpl, "|"), "e2e/hist").Lines()
		if len(lines) < 2 {
			t.Fatalf("history of a committed image: %q", lines)
		}
		got := strings.Split(lines[0], "|")
		if len(got) != len(fields) {
			t.Fatalf("history --format printed %d fields: %q", len(got), got)
		}
		if got[0] != id[:12] || got[4] != "e2e comment" || !strings.HasSuffix(got[1], " ago") || got[6] != got[1] ||
			!strings.HasSuffix(got[7], " +0000 UTC") || !regexp.MustCompile(`^[0-9.]+ [kMG]?B$`).MatchString(got[3]) {
			t.Errorf("history fields: %q", got)
		}
		if out := e.BerthOK("history", "-H=false", "--format", "{{.Created}}", "e2e/hist").Lines()[0]; !regexp.MustCompile(`^[0-9-]+T[0-9:]+Z$`).MatchString(out) {
			t.Errorf("history -H=false {{.Created}} = %q", out)
		}
		for _, l := range e.BerthOK("history", "--format", "{{.ID}}\\t{{.ID}}", "e2e/hist").Lines() {
			if !strings.Contains(l, "\t") {
				t.Errorf("history --format with \\t printed no tab: %q", l)
			}
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(e.BerthOK("history", "--format", "json", "e2e/hist").Stdout), &list); err != nil || len(list) < 2 {
			t.Fatalf("history --format json: %v", err)
		}
		wantKeys(t, "history json", list[0], []string{"id", "created", "size", "comment", "Created"})
	})
}
