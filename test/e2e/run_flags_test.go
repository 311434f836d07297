package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The flags of create and run, each checked from inside the container
// (or from the host for what only the host sees), as root and rootless.

// runOut runs `berth run --rm ARGS` and returns its trimmed stdout.
func runOut(e *Env, args ...string) string {
	e.T.Helper()
	return e.BerthOK(append([]string{"run", "--rm"}, args...)...).Out()
}

func wantOut(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func wantContains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q does not contain %q", what, got, want)
	}
}

// statusField returns a field of /proc/self/status as the container sees it.
func statusField(t *testing.T, out, field string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in %q", field, out)
	return ""
}

func TestRunFlagsProcess(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		wantOut(t, "--user 1000:1000", runOut(e, "--user", "1000:1000", img, "sh", "-c", "id -u; id -g"), "1000\n1000")
		wantOut(t, "--user nobody", runOut(e, "--user", "nobody", img, "id", "-u"), "65534")
		wantContains(t, "--group-add", runOut(e, "--user", "1000:1000", "--group-add", "1234", img, "id", "-G"), "1234")
		wantOut(t, "--workdir", runOut(e, "--workdir", "/tmp", img, "pwd"), "/tmp")
		wantOut(t, "-w", runOut(e, "-w", "/etc", img, "pwd"), "/etc")
		// podman refuses a --workdir the image lacks, exit 126 (030-run.bats "check workdir")
		r := e.BerthFail(126, "run", "--rm", "--workdir", "/no/such/dir", img, "pwd")
		wantContains(t, "missing --workdir", r.Stderr, `workdir "/no/such/dir" does not exist`)
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Fatalf("run --rm left the container whose start failed: %s", out)
		}
		// the image's WORKDIR is created when missing, owned by the user
		e.BerthOK("import", "--change", "WORKDIR /app/sub", busyboxRootfsTar(t), "localhost/workdir:latest")
		wantOut(t, "image WORKDIR", runOut(e, "--user", "1000:1000", "localhost/workdir:latest", "sh", "-c", "pwd; stat -c %u /app/sub"), "/app/sub\n1000")
		wantOut(t, "--entrypoint", runOut(e, "--entrypoint", "/bin/echo", img, "from", "entrypoint"), "from entrypoint")
		wantOut(t, "--entrypoint JSON", runOut(e, "--entrypoint", `["/bin/sh","-c"]`, img, "echo json"), "json")
		wantOut(t, "--umask", runOut(e, "--umask", "077", img, "sh", "-c", "umask"), "0077")
		wantOut(t, "--oom-score-adj", runOut(e, "--oom-score-adj", "100", img, "cat", "/proc/self/oom_score_adj"), "100")
		wantOut(t, "--hostname", runOut(e, "--hostname", "flagged", img, "hostname"), "flagged")
		wantOut(t, "-h", runOut(e, "-h", "short", img, "sh", "-c", "cat /etc/hostname; echo $HOSTNAME"), "short\nshort")
		wantOut(t, "--ulimit", runOut(e, "--ulimit", "nofile=100:100", img, "sh", "-c", "ulimit -n; ulimit -Hn"), "100\n100")

		// -d -i -t, --cidfile, --name, --stop-signal, --stop-timeout, --restart
		cid := filepath.Join(e.Dir, "cid")
		id := e.BerthOK("run", "-d", "-i", "-t", "--name", "tty", "--cidfile", cid, "--stop-signal", "SIGINT",
			"--stop-timeout", "3", "--restart", "unless-stopped", img, "sleep", "100").Out()
		data, err := os.ReadFile(cid)
		if err != nil || string(data) != id {
			t.Fatalf("--cidfile holds %q (%v), want %q", data, err, id)
		}
		wantOut(t, "inspect", e.BerthOK("inspect", "--format",
			"{{.Config.Tty}} {{.Config.OpenStdin}} {{.Config.StopSignal}} {{.Config.StopTimeout}} {{.HostConfig.RestartPolicy.Name}}", "tty").Out(),
			"true true 2 3 unless-stopped") // podman 4.3 shows the number
		e.BerthOK("rm", "-f", "tty")
		wantContains(t, "-t in the container", runOut(e, "-t", img, "sh", "-c", "test -t 1 && echo is-a-tty"), "is-a-tty")
		r = e.BerthFail(125, "run", "--rm", "--cidfile", cid, img, "true")
		wantContains(t, "--cidfile exists", r.Stderr, "exists")

		// --timeout: killed after N seconds
		start := time.Now()
		r = e.Berth("run", "--rm", "--timeout", "1", img, "sleep", "100")
		if d := time.Since(start); d > 8*time.Second {
			t.Fatalf("--timeout 1 ran %s", d)
		}
		if r.ExitCode != 255 { // podman (030-run.bats): the exit code is -1, so 255
			t.Fatalf("--timeout 1: %s", r.describe())
		}

		// --init: pid 1 is catatonit (bind-mounted at /run/podman-init)
		if _, err := exec.LookPath("catatonit"); err != nil {
			t.Log("catatonit is not installed: --init must say so")
			r := e.BerthFail(125, "run", "--rm", "--init", img, "true")
			wantContains(t, "--init without catatonit", r.Stderr, "install catatonit")
		} else {
			out := runOut(e, "--init", img, "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$")
			lines := strings.Split(out, "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "/run/podman-init -- sh -c") || lines[1] == "1" {
				t.Fatalf("--init: pid 1 is not the init: %q", out)
			}
		}

		// --log-driver passthrough: the output reaches berth's stdout directly
		wantOut(t, "--log-driver passthrough", runOut(e, "--log-driver", "passthrough", img, "echo", "through"), "through")
		e.BerthOK("run", "--name", "nolog", "--log-driver", "none", "--log-opt", "max-size=1m", img, "echo", "x")
		e.BerthOK("run", "--name", "sized", "--log-opt", "max-size=10k", "--log-opt", "max-file=2", img, "echo", "x")
		// --sig-proxy, --detach-keys, --pull are accepted
		e.BerthOK("run", "--rm", "--sig-proxy=false", "--detach-keys", "ctrl-a,x", "--pull", "never", img, "true")
	})
}

func TestRunFlagsEnvAndMetadata(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		envFile := e.WriteFile("env.list", "# comment\nFROM_FILE=file\nBOTH=file\n\nHOSTVAR\n")
		e.SetEnv("HOSTVAR", "from-host")
		out := runOut(e, "--env-file", envFile, "-e", "BOTH=flag", "-e", "HOSTVAR", img, "sh", "-c", "echo $FROM_FILE $BOTH $HOSTVAR")
		wantOut(t, "--env-file and -e", out, "file flag from-host")
		wantOut(t, "--env-host", runOut(e, "--env-host", img, "sh", "-c", "echo $HOSTVAR"), "from-host")
		if runOut(e, img, "sh", "-c", "echo ${HOSTVAR:-unset}") != "unset" {
			t.Fatal("the host environment leaks without --env-host")
		}
		wantOut(t, "--env-merge", runOut(e, "--env-merge", "PATH=/opt/bin:${PATH}", img, "sh", "-c", "echo $PATH"),
			"/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		wantOut(t, "defaults", runOut(e, img, "sh", "-c", "echo $container $HOME"), "podman /root")

		labelFile := e.WriteFile("labels", "# labels\nfrom=file\nboth=file\n")
		e.BerthOK("create", "--name", "meta", "--label", "a=1", "-l", "both=flag", "--label-file", labelFile,
			"--annotation", "org.example.note=hello", img, "true")
		wantOut(t, "labels", e.BerthOK("inspect", "--format",
			`{{index .Config.Labels "a"}} {{index .Config.Labels "from"}} {{index .Config.Labels "both"}} {{index .Config.Annotations "org.example.note"}}`, "meta").Out(),
			"1 file flag hello")
		wantOut(t, "ps --filter label", e.BerthOK("ps", "-a", "--filter", "label=from=file", "--format", "{{.Names}}").Out(), "meta")

		// --tz: the zone's file is the container's /etc/localtime
		zone := "/usr/share/zoneinfo/Europe/Paris"
		if data, err := os.ReadFile(zone); err == nil {
			sum := sha256.Sum256(data)
			wantOut(t, "--tz", strings.Fields(runOut(e, "--tz", "Europe/Paris", img, "sha256sum", "/etc/localtime"))[0], hex.EncodeToString(sum[:]))
		} else {
			t.Logf("no %s: --tz with a zone not checked", zone)
		}
		if _, err := os.Stat("/etc/localtime"); err == nil {
			e.BerthOK("run", "--rm", "--tz", "local", img, "test", "-f", "/etc/localtime")
		}
	})
}

func TestRunFlagsSecurity(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		status := func(args ...string) string {
			return runOut(e, append(args, img, "cat", "/proc/self/status")...)
		}
		def := status()
		if statusField(t, def, "CapEff") != "00000000800405fb" {
			t.Fatalf("default capabilities: CapEff %s, want podman's 00000000800405fb", statusField(t, def, "CapEff"))
		}
		wantOut(t, "default seccomp", statusField(t, def, "Seccomp"), "2")
		wantOut(t, "default NoNewPrivs", statusField(t, def, "NoNewPrivs"), "0")
		wantOut(t, "--cap-drop ALL", statusField(t, status("--cap-drop", "ALL"), "CapEff"), "0000000000000000")
		capAdd := statusField(t, status("--cap-add", "NET_ADMIN", "--cap-drop", "chown"), "CapEff")
		wantOut(t, "--cap-add NET_ADMIN --cap-drop chown", capAdd, fmt.Sprintf("%016x", (0x800405fb|1<<12)&^1))
		// a non-root user gets only the added capabilities
		wantOut(t, "--user 1000 --cap-add", statusField(t, status("--user", "1000", "--cap-add", "NET_RAW"), "CapEff"), fmt.Sprintf("%016x", 1<<13))
		wantOut(t, "no-new-privileges", statusField(t, status("--security-opt", "no-new-privileges"), "NoNewPrivs"), "1")
		wantOut(t, "seccomp=unconfined", statusField(t, status("--security-opt", "seccomp=unconfined"), "Seccomp"), "0")
		priv := status("--privileged")
		if eff := statusField(t, priv, "CapEff"); eff != statusField(t, priv, "CapBnd") || eff == "00000000800405fb" {
			t.Fatalf("--privileged: CapEff %s, CapBnd %s", eff, statusField(t, priv, "CapBnd"))
		}
		wantOut(t, "--privileged seccomp", statusField(t, priv, "Seccomp"), "0")
		e.BerthOK("run", "--rm", "--security-opt", "label=disable", img, "true")
		// masked paths: /proc/keys is /dev/null unless unmasked
		wantOut(t, "masked /proc/keys", runOut(e, img, "sh", "-c", "test -c /proc/keys && echo masked"), "masked")
		wantOut(t, "unmask=/proc/keys", runOut(e, "--security-opt", "unmask=/proc/keys", img, "sh", "-c", "test -c /proc/keys || echo unmasked"), "unmasked")
		// --read-only: the root filesystem cannot be written, /tmp can
		r := e.BerthFail(1, "run", "--rm", "--read-only", img, "touch", "/x")
		wantContains(t, "--read-only", r.Stderr, "Read-only file system")
		e.BerthOK("run", "--rm", "--read-only", img, "touch", "/tmp/x", "/run/x", "/var/tmp/x")
		e.BerthFail(1, "run", "--rm", "--read-only", "--read-only-tmpfs=false", img, "touch", "/tmp/x")
		// --device: rootless gets a bind mount of the node
		wantOut(t, "--device", runOut(e, "--device", "/dev/null:/dev/mynull:rw", img, "sh", "-c", "test -c /dev/mynull && echo -n x > /dev/mynull && echo ok"), "ok")
		// --sysctl with the container's own network namespace
		wantOut(t, "--sysctl", runOut(e, "--sysctl", "net.ipv4.ip_forward=1", img, "cat", "/proc/sys/net/ipv4/ip_forward"), "1")
		// --shm-size
		wantContains(t, "--shm-size", runOut(e, "--shm-size", "16m", img, "grep", " /dev/shm ", "/proc/mounts"), "size=16384k")
	})
}

func TestRunFlagsUserNS(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		if !e.Rootless() {
			r := e.BerthFail(125, "run", "--rm", "--userns", "keep-id", img, "true")
			wantContains(t, "keep-id as root", r.Stderr, "rootless")
			wantOut(t, "--userns host", runOut(e, "--userns", "host", img, "id", "-u"), "0")
			return
		}
		uid := strconv.Itoa(e.UID())
		wantOut(t, "--userns keep-id", runOut(e, "--userns", "keep-id", img, "id", "-u"), uid)
		wantOut(t, "--userns keep-id --user 0", runOut(e, "--userns", "keep-id", "--user", "0", img, "id", "-u"), "0")
		// the image's files keep their owners inside the new namespace
		wantOut(t, "--userns keep-id ownership", runOut(e, "--userns", "keep-id", img, "stat", "-c", "%u:%g", "/bin/busybox", "/etc/passwd"), "0:0\n0:0")
		// nomap needs ID-mapped storage, which berth does not create yet
		r := e.BerthFail(125, "run", "--rm", "--userns", "nomap", img, "true")
		wantContains(t, "--userns nomap", r.Stderr, "not supported yet")
	})
}

func TestRunFlagsMounts(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.WriteFile("data/hello", "hello from the host\n")
		dir := filepath.Join(e.Dir, "data")
		wantOut(t, "-v ro read", runOut(e, "-v", dir+":/data:ro", img, "cat", "/data/hello"), "hello from the host")
		r := e.BerthFail(1, "run", "--rm", "-v", dir+":/data:ro", img, "touch", "/data/new")
		wantContains(t, "-v ro write", r.Stderr, "Read-only file system")
		e.BerthOK("run", "--rm", "-v", dir+":/data:rw,z", img, "touch", "/data/new")
		if _, err := os.Stat(filepath.Join(dir, "new")); err != nil {
			t.Fatalf("-v rw: the file written in the container is not on the host: %v", err)
		}
		wantOut(t, "-v ./relative", runOut(e, "-v", "./data:/data", img, "cat", "/data/hello"), "hello from the host")
		// :U gives the source to the container's user
		e.WriteFile("owned/f", "x")
		wantOut(t, "-v :U", runOut(e, "--user", "1000:1000", "-v", filepath.Join(e.Dir, "owned")+":/owned:U", img,
			"sh", "-c", "stat -c %u:%g /owned /owned/f; touch /owned/g && echo written"), "1000:1000\n1000:1000\nwritten")
		// --mount
		r = e.BerthFail(1, "run", "--rm", "--mount", "type=bind,src="+dir+",dst=/m,ro", img, "sh", "-c", "cat /m/hello && touch /m/x")
		wantContains(t, "--mount bind ro", r.Stdout, "hello from the host")
		wantContains(t, "--mount tmpfs", runOut(e, "--mount", "type=tmpfs,dst=/tm,tmpfs-size=1m", img, "grep", " /tm ", "/proc/mounts"), "size=1024k")
		// --tmpfs
		out := runOut(e, "--tmpfs", "/t:size=2m,mode=1777", img, "sh", "-c", "grep ' /t ' /proc/mounts; stat -c %a /t")
		if !strings.HasPrefix(out, "tmpfs /t tmpfs") || !strings.Contains(out, "size=2048k") || !strings.HasSuffix(out, "1777") {
			t.Fatalf("--tmpfs: %q", out)
		}
	})
}

func TestRunFlagsNetwork(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		hosts := runOut(e, "--add-host", "db:10.1.2.3", "--add-host", "a;b:::1", "--add-host", "gw:host-gateway", img, "cat", "/etc/hosts")
		gateway := "10.88.0.1" // the CNI bridge's, rootful
		if e.Rootless() {
			gateway = "10.0.2.2" // slirp4netns' host address
		}
		for _, want := range []string{"10.1.2.3\tdb", "::1\ta b", gateway + "\tgw"} {
			wantContains(t, "--add-host", hosts, want)
		}
		if !e.Rootless() {
			// rootful containers are on the bridge, with an address of their own
			addr := runOut(e, img, "ip", "-o", "-4", "addr", "show", "eth0")
			if !strings.Contains(addr, "inet 10.88.") {
				t.Fatalf("rootful default network: eth0 has %q, want a 10.88.0.0/16 address", addr)
			}
		}
		resolv := runOut(e, "--dns", "192.0.2.53", "--dns-search", "example.com", "--dns-option", "ndots:3", img, "cat", "/etc/resolv.conf")
		wantOut(t, "--dns*", resolv, "search example.com\nnameserver 192.0.2.53\noptions ndots:3")
		links := runOut(e, "--network", "none", img, "ls", "/sys/class/net")
		wantOut(t, "--network none", links, "lo")
		host, _ := os.Hostname()
		wantOut(t, "--network host hostname", runOut(e, "--network", "host", img, "hostname"), host)
		r := e.BerthFail(125, "run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", img, "true")
		wantContains(t, "--sysctl net.* with the host's network", r.Stderr, "network namespace")
		r = e.BerthOK("run", "--rm", "--network", "host", "-p", "8080:80", img, "true")
		wantContains(t, "-p with --network host", r.Stderr, "Port mappings have been discarded")

		// -P publishes the exposed ports (--expose here) to random host ports
		e.BerthOK("run", "-d", "--name", "web", "--expose", "80", "-P", img,
			"sh", "-c", "mkdir -p /www && echo published-all > /www/index.html && exec httpd -f -p 80 -h /www")
		ports := e.BerthOK("ps", "--format", "{{.Ports}}", "--filter", "name=web").Out()
		m := regexp.MustCompile(`^0\.0\.0\.0:(\d+)->80/tcp$`).FindStringSubmatch(ports)
		if m == nil {
			t.Fatalf("-P: ps shows ports %q", ports)
		}
		waitHTTP(t, "http://127.0.0.1:"+m[1]+"/", "published-all")
		e.BerthOK("rm", "-f", "web")
		// -P with the image's EXPOSE
		e.BerthOK("import", "--change", "EXPOSE 8080/udp", busyboxRootfsTar(t), "localhost/exposed:latest")
		e.BerthOK("create", "--name", "exposed", "-P", "localhost/exposed:latest", "true")
		ports = e.BerthOK("ps", "-a", "--format", "{{.Ports}}", "--filter", "name=exposed").Out()
		if !regexp.MustCompile(`^0\.0\.0\.0:\d+->8080/udp$`).MatchString(ports) {
			t.Fatalf("-P with the image's EXPOSE 8080/udp: ports %q", ports)
		}

		if !e.Rootless() {
			r := e.BerthFail(125, "run", "--rm", "--network", "pasta", img, "true")
			wantContains(t, "pasta as root", r.Stderr, "rootless")
			return
		}
		// pasta: the container has the host's address, and -p works
		addrs := runOut(e, "--network", "pasta", img, "ip", "-o", "addr", "show")
		if !regexp.MustCompile(`inet (\d+\.){3}\d+`).MatchString(strings.ReplaceAll(addrs, "inet 127.0.0.1", "")) {
			t.Fatalf("--network pasta: no address besides loopback: %q", addrs)
		}
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		e.BerthOK("run", "-d", "--name", "pweb", "--network", "pasta", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), img,
			"sh", "-c", "mkdir -p /www && echo via-pasta > /www/index.html && exec httpd -f -p 80 -h /www")
		waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), "via-pasta")
		e.BerthOK("rm", "-f", "pweb")
	})
}

func waitHTTP(t *testing.T, url, want string) {
	t.Helper()
	var body string
	waitFor(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	})
	if strings.TrimSpace(body) != want {
		t.Fatalf("%s: %q, want %q", url, body, want)
	}
}

// cgroupFile is the host path of a container process' cgroup file (cgroup v1
// controller, or v2), from /proc/PID/cgroup.
func cgroupFile(t *testing.T, pid int, controller, file string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == controller {
				return filepath.Join("/sys/fs/cgroup", controller, f[2], file)
			}
		}
		if f[1] == "" && f[0] == "0" && strings.HasPrefix(string(data), "0::") {
			return filepath.Join("/sys/fs/cgroup", f[2], file)
		}
	}
	t.Fatalf("no %s cgroup in %s", controller, data)
	return ""
}

func readTrim(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func TestRunFlagsResources(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		if e.Rootless() {
			// no cgroup a rootless berth could use: warned and ignored, as podman on cgroup v1
			r := e.BerthOK("run", "--rm", "--memory", "64m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "100", img, "true")
			wantContains(t, "rootless limits", r.Stderr, "Resource limits are not supported and ignored")
			return
		}
		if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
			t.Skip("cgroup v1 memory controller not mounted; the checks below read v1 files")
		}
		e.BerthOK("run", "-d", "--name", "limited", "--memory", "64m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "100", img, "sleep", "100")
		pid, _ := strconv.Atoi(e.BerthOK("inspect", "--format", "{{.State.Pid}}", "limited").Out())
		mem := cgroupFile(t, pid, "memory", "memory.limit_in_bytes")
		wantOut(t, "--memory", readTrim(t, mem), "67108864")
		wantOut(t, "--cpus", readTrim(t, cgroupFile(t, pid, "cpu", "cpu.cfs_quota_us")), "50000")
		wantOut(t, "--cpu-shares", readTrim(t, cgroupFile(t, pid, "cpu", "cpu.shares")), "512")
		wantOut(t, "--pids-limit", readTrim(t, cgroupFile(t, pid, "pids", "pids.max")), "100")
		e.BerthOK("rm", "-f", "limited")
		if _, err := os.Stat(filepath.Dir(mem)); err == nil {
			t.Fatalf("the container's cgroup %s is still there after rm", filepath.Dir(mem))
		}
		// a container that exits by itself leaves no cgroup behind either
		for _, l := range strings.Split(runOut(e, "--memory", "64m", img, "cat", "/proc/self/cgroup"), "\n") {
			if f := strings.SplitN(l, ":", 3); len(f) == 3 && f[1] == "memory" {
				if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", f[2])); err == nil {
					t.Fatalf("the cgroup %s of an exited container is still there", f[2])
				}
			}
		}
		// the default pids limit where cgroups are used
		e.BerthOK("run", "-d", "--name", "dflt", img, "sleep", "100")
		pid, _ = strconv.Atoi(e.BerthOK("inspect", "--format", "{{.State.Pid}}", "dflt").Out())
		wantOut(t, "default --pids-limit", readTrim(t, cgroupFile(t, pid, "pids", "pids.max")), "2048")
		e.BerthOK("rm", "-f", "dflt")
		// the memory limit is enforced: a process above it is killed
		r := e.Berth("run", "--rm", "--memory", "16m", "--memory-swap", "16m", img, "sh", "-c", "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo survived")
		if r.ExitCode == 0 && strings.Contains(r.Stdout, "survived") {
			t.Fatalf("--memory 16m did not stop a 64 MB allocation: %s", r.describe())
		}
	})
}

func canRaiseRlimits(t *testing.T, e *Env) bool {
	if e.Rootless() {
		return false
	}
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n&(1<<24) != 0
		}
	}
	return false
}

func TestRunFlagsBadValues(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.WriteFile("file", "x")
		cases := []struct {
			args []string
			want string // in the message
		}{
			{[]string{"--ulimit", "nofile=abc"}, "nofile=abc"},
			{[]string{"--ulimit", "bogus=1"}, "bogus"},
			{[]string{"--memory", "lots"}, "--memory"},
			{[]string{"--memory", "1k"}, "6MB"},
			{[]string{"--cpus", "many"}, "--cpus"},
			{[]string{"--cpu-shares", "x"}, "cpu-shares"},
			{[]string{"--pids-limit", "-5"}, "--pids-limit"},
			{[]string{"--cap-add", "NOPE"}, "NOPE"},
			{[]string{"--cap-drop", "nope"}, "nope"},
			{[]string{"--cap-add", "chown", "--cap-drop", "chown"}, "CAP_CHOWN"},
			{[]string{"--security-opt", "bogus=1"}, "bogus"},
			{[]string{"--security-opt", "seccomp=/no/such/profile.json"}, "profile.json"},
			{[]string{"--security-opt", "unmask=relative"}, "relative"},
			{[]string{"--restart", "sometimes"}, "sometimes"},
			{[]string{"--restart", "always", "--rm"}, "--rm"},
			{[]string{"--stop-signal", "SIGNOPE"}, "SIGNOPE"},
			{[]string{"--log-driver", "syslog"}, "invalid log driver"}, // podman's words, verbatim
			{[]string{"--log-opt", "max-size=big"}, "max-size"},
			{[]string{"--log-opt", "max-file=0"}, "max-file"},
			{[]string{"--pull", "sometimes"}, "sometimes"},
			{[]string{"--network", "mynet"}, "mynet"},
			{[]string{"-p", "99999:80"}, "99999"},
			{[]string{"-p", "80/icmp"}, "icmp"},
			{[]string{"--expose", "http"}, "http"},
			{[]string{"--dns", "not-an-ip"}, "not-an-ip"},
			{[]string{"--add-host", "nocolon"}, "nocolon"},
			{[]string{"--add-host", "db:999.1.1.1"}, "999.1.1.1"},
			{[]string{"--env-file", "/no/such/env-file"}, "env-file"},
			{[]string{"--env-merge", "NOVALUE"}, "NOVALUE"},
			{[]string{"-e", "=x"}, "=x"},
			{[]string{"--label-file", "/no/such/labels"}, "label-file"},
			{[]string{"--annotation", "novalue"}, "novalue"},
			{[]string{"-v", "rel/dir:/x"}, "rel/dir"},
			{[]string{"-v", "/no/such/src:/x"}, "/no/such/src"},
			{[]string{"-v", "named:/x"}, "named volumes are not supported yet"},
			{[]string{"-v", "/anon"}, "named volumes are not supported yet"},
			{[]string{"-v", e.Dir + ":relative"}, "relative"},
			{[]string{"-v", e.Dir + ":/x:bogus"}, "bogus"},
			{[]string{"-v", e.Dir + ":/x:ro,rw"}, "ro"},
			{[]string{"-v", e.Dir + ":/x:O"}, "not supported yet"},
			{[]string{"-v", e.Dir + ":/x", "-v", e.Dir + ":/x"}, "duplicate mount destination"},
			{[]string{"--mount", "type=volume,src=v,dst=/x"}, "named volumes are not supported yet"},
			{[]string{"--mount", "type=bogus,dst=/x"}, "bogus"},
			{[]string{"--mount", "type=bind,dst=/x"}, "source"},
			{[]string{"--tmpfs", "relative"}, "relative"},
			{[]string{"--tmpfs", "/t:size=huge"}, "huge"},
			{[]string{"--device", "/dev/no-such-device"}, "no-such-device"},
			{[]string{"--device", filepath.Join(e.Dir, "file")}, "not a device"},
			{[]string{"--sysctl", "kernel.panic=1"}, "kernel.panic"},
			{[]string{"--sysctl", "novalue"}, "novalue"},
			{[]string{"--userns", "auto"}, "auto"},
			{[]string{"--userns", "bogus"}, "bogus"},
			{[]string{"--tz", "Nowhere/Atlantis"}, "Nowhere/Atlantis"},
			{[]string{"--shm-size", "huge"}, "--shm-size"},
			{[]string{"--umask", "999"}, "999"},
			{[]string{"--oom-score-adj", "5000"}, "5000"},
			{[]string{"--name", "bad name"}, "bad name"},
			{[]string{"--workdir", "relative"}, "relative"},
			{[]string{"--user", "1000:"}, "1000:"},
			{[]string{"--group-add", "keep-groups"}, "keep-groups"},
			{[]string{"--group-add", "keep-groups", "--group-add", "457"}, "the '--group-add keep-groups' option is not allowed with any other --group-add options"},
			{[]string{"--init-path", "/no/such/init"}, "/no/such/init"},
			{[]string{"--timeout", "soon"}, "timeout"},
			{[]string{"--read-only=maybe"}, "maybe"},
			{[]string{"--security-opt", "apparmor=some-profile"}, "AppArmor"},
		}
		if !canRaiseRlimits(t, e) {
			cases = append(cases, struct {
				args []string
				want string
			}{[]string{"--ulimit", "nofile=100000000:100000000"}, "hard limit"})
		}
		if e.Rootless() {
			cases = append(cases, struct {
				args []string
				want string
			}{[]string{"--network", "pasta:--bogus"}, "not supported yet"})
		}
		for _, c := range cases {
			for _, verb := range []string{"create", "run"} {
				args := append(append([]string{verb}, c.args...), img, "true")
				r := e.BerthFail(125, args...)
				if !strings.Contains(r.Stderr, c.want) || !strings.HasPrefix(r.Stderr, "Error: ") {
					t.Errorf("berth %s: the message does not name %q:\n%s", strings.Join(c.args, " "), c.want, r.Stderr)
				}
			}
		}
		e.BerthFail(125, "run", "--rm", "--detach-keys", "ctrl-1", img, "true")
		e.BerthFail(125, "run", "--pull", "never", "localhost/no-such-image", "true")
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Fatalf("bad values left containers:\n%s", e.BerthOK("ps", "-a").Stdout)
		}
	})
}
