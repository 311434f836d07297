package e2e

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// run's odds and ends, as podman behaves: the OCI runtime (--runtime,
// --runtime-flag), log drivers and --log-opt, the files berth puts in the
// container (/run/.containerenv, /etc/mtab), warnings and exit codes.

func TestRunRuntimeFlagAndPath(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)

		// --runtime-flag reaches the runtime: one it refuses fails the run
		// with 126, says which flag, and --rm leaves nothing behind.
		r := e.BerthFail(126, "--runtime-flag", "invalidflag", "run", "--rm", img, "true")
		wantContains(t, "--runtime-flag invalidflag", r.Stderr, "invalidflag")
		if out := e.BerthOK("ps", "-aq").Out(); out != "" {
			t.Fatalf("a failed run --rm left containers: %q", out)
		}
		wantOut(t, "--runtime-flag debug", e.BerthOK("--runtime-flag", "debug", "run", "--rm", img, "echo", "ok").Out(), "ok")

		// A container records its runtime: the default one by name...
		name := e.BerthOK("info", "--format", "{{.Host.OCIRuntime.Name}}").Out()
		path := e.BerthOK("info", "--format", "{{.Host.OCIRuntime.Path}}").Out()
		e.BerthOK("create", "--name", "dflt", img, "true")
		wantOut(t, "default runtime", e.BerthOK("inspect", "--format", "{{.OCIRuntime}}", "dflt").Out(), name)

		// ...and one given by path keeps its full path, and the later
		// commands (without --runtime) use that runtime.
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mine := filepath.Join(e.Dir, "myruntime")
		if err := os.WriteFile(mine, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cid := e.BerthOK("run", "-d", "--runtime", mine, img, "sleep", "60").Out()
		wantOut(t, "--runtime PATH", e.BerthOK("inspect", "--format", "{{.OCIRuntime}}", cid).Out(), mine)
		e.BerthOK("kill", cid)
		wantOut(t, "wait after kill", e.BerthOK("wait", cid).Out(), "137")
		e.BerthOK("rm", cid)
	})
}

func TestRunLogDrivers(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)

		// json-file is podman's alias of k8s-file: same file, name kept
		e.BerthOK("run", "--name", "json", "--log-driver", "json-file", img, "echo", "json-logged")
		wantOut(t, "json-file type", e.BerthOK("inspect", "--format", "{{.HostConfig.LogConfig.Type}}", "json").Out(), "json-file")
		logPath := e.BerthOK("inspect", "--format", "{{.HostConfig.LogConfig.Path}}", "json").Out()
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatalf("json-file log %q: %v", logPath, err)
		}
		if !regexp.MustCompile(`^[0-9T:.+-]+Z? stdout F json-logged\n$`).Match(data) {
			t.Fatalf("json-file log holds %q, want one k8s-file line", data)
		}
		wantOut(t, "logs of json-file", e.BerthOK("logs", "json").Out(), "json-logged")

		// none keeps nothing, and logs says so in podman's words
		wantOut(t, "none output", e.BerthOK("run", "--name", "quiet", "--log-driver", "none", img, "echo", "shown").Out(), "shown")
		wantOut(t, "none path", e.BerthOK("inspect", "--format", "{{.HostConfig.LogConfig.Path}}", "quiet").Out(), "")
		r := e.BerthFail(125, "logs", "quiet")
		wantContains(t, "logs of none", r.Stderr, "this container is using the 'none' log driver, cannot read logs")

		// an unknown driver is refused before anything is created
		r = e.BerthFail(125, "run", "--name", "bad", "--log-driver=InvalidDriver", img, "true")
		wantOut(t, "invalid driver", strings.TrimSpace(r.Stderr), "Error: running container create option: invalid log driver: invalid argument")
		e.BerthFail(1, "container", "exists", "bad")

		// --log-opt max-size (decimal units, as podman) and tag in inspect
		cid := e.BerthOK("create", "--log-opt", "max-size=3.073m", "--log-opt", "tag=mytag", img, "true").Out()
		wantOut(t, "--log-opt max-size/tag", e.BerthOK("inspect", "--format", "{{.HostConfig.LogConfig.Size}} {{.HostConfig.LogConfig.Tag}}", cid).Out(), "3.073MB mytag")
	})
}

func TestRunContainerFiles(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)

		// /run/.containerenv exists and is empty, unless --privileged
		wantOut(t, ".containerenv size", runOut(e, img, "stat", "-c", "%s", "/run/.containerenv"), "0")
		iid := e.BerthOK("image", "inspect", "--format", "{{.ID}}", img).Out()
		out := runOut(e, "--privileged", "--name", "privctr", img, "sh", "-c",
			". /run/.containerenv; echo $engine; echo $name; echo $image; echo $id; echo $imageid; echo $rootless")
		lines := strings.Split(out, "\n")
		if len(lines) != 6 {
			t.Fatalf("privileged .containerenv: %q", out)
		}
		rootlessFlag := "0"
		if e.Rootless() {
			rootlessFlag = "1"
		}
		if !strings.HasPrefix(lines[0], "podman-") || lines[1] != "privctr" || lines[2] != img ||
			!regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(lines[3]) || lines[4] != iid || lines[5] != rootlessFlag {
			t.Fatalf("privileged .containerenv: engine, name, image, id, imageid, rootless = %q", lines)
		}

		// an image without /etc/mtab gets the usual symlink to /proc/mounts
		e.BerthOK("run", "--name", "mtab", img, "rm", "-f", "/etc/mtab")
		e.BerthOK("commit", "-q", "mtab", "localhost/nomtab")
		e.BerthOK("rm", "mtab")
		wantOut(t, "/etc/mtab", runOut(e, "localhost/nomtab", "readlink", "/etc/mtab"), "/proc/mounts")
	})
}

func TestRunWarningsAndStartFailures(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)

		// warnings podman prints bare, before the container's output
		r := e.BerthOK("run", "--rm", "--memory=0", img, "echo", "hello")
		wantOut(t, "--memory=0 output", r.Out(), "hello")
		if e.Rootless() && !cgroupsV2() {
			wantOut(t, "--memory=0 warning", strings.TrimSpace(r.Stderr), "Resource limits are not supported and ignored on cgroups V1 rootless systems")
		}
		r = e.BerthOK("run", "--rm", "-p", "8080", "--net=host", img, "echo", "hostnet")
		wantOut(t, "-p with --net=host", strings.TrimSpace(r.Stderr), "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use")
		r = e.BerthFail(1, "run", "--rm", "--kernel-memory", "100", img, "false")
		wantContains(t, "--kernel-memory", r.Stderr, "The --kernel-memory flag is no longer supported. This flag is a noop.")

		// --pull=never names the image as podman does
		r = e.BerthFail(125, "run", "--pull=never", "localhost/not-here:1", "true")
		wantOut(t, "--pull=never, no image", strings.TrimSpace(r.Stderr), "Error: localhost/not-here:1: image not known")

		// a run whose start fails exits 126; with --rm the container goes
		e.BerthFail(126, "run", "-d", "--name", "fail_keep", "--workdir", "/no/such/dir", img, "true")
		e.BerthFail(126, "run", "-d", "--rm", "--name", "fail_rm", "--workdir", "/no/such/dir", img, "true")
		e.BerthFail(126, "run", "--rm", "--name", "fail_rm_fg", "--workdir", "/no/such/dir", img, "true")
		wantOut(t, "ps -a after failed runs", e.BerthOK("ps", "-a", "--format", "{{.Names}}").Out(), "fail_keep")
		e.BerthOK("rm", "fail_keep")

		if e.Rootless() {
			// a published port that is taken: slirp4netns cannot forward it
			l, err := net.Listen("tcp", "0.0.0.0:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			e.BerthFail(126, "run", "-d", "-p", port+":80", "--name", "port_keep", img, "top")
			e.BerthFail(126, "run", "-d", "--rm", "-p", port+":80", "--name", "port_rm", img, "top")
			wantOut(t, "ps -a after port conflicts", e.BerthOK("ps", "-a", "--format", "{{.Names}}").Out(), "port_keep")
		}
	})
}

func TestCommitKeepsEntrypointAndDockerArchiveRun(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		wantOut(t, "--entrypoint JSON", e.BerthOK("run", "--name", "myc", `--entrypoint=["/bin/echo","magic-word"]`, img).Out(), "magic-word")
		e.BerthOK("commit", "-q", "myc", "localhost/myi")
		archive := filepath.Join(e.Dir, "myi.tar")
		e.BerthOK("save", "--quiet", "-o", archive, "localhost/myi")
		e.BerthOK("rm", "myc")
		e.BerthOK("rmi", "localhost/myi")

		r := e.BerthOK("run", "--rm", "docker-archive:"+archive)
		wantOut(t, "run docker-archive", lastLine(r.Out()), "magic-word")
		cid := lastLine(e.BerthOK("create", "docker-archive:"+archive).Out())
		wantOut(t, "start --attach of a docker-archive container", e.BerthOK("start", "--attach", cid).Out(), "magic-word")
	})
}

// cgroupsV2 reports whether the host has the unified cgroup hierarchy.
func cgroupsV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

func TestRunContainersConfEnv(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		// podman's defaults without containers.conf
		env := runOut(e, img, "env")
		for _, want := range []string{"TERM=xterm", "container=podman", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
			wantContains(t, "default environment", env, want)
		}
		// [containers] env is added to them, under -e
		conf := e.WriteFile("containers.conf", "[containers]\nenv = [\"FROM_CONF=yes\", \"TERM=dumb\"]\n")
		e.SetEnv("CONTAINERS_CONF", conf)
		env = runOut(e, img, "env")
		for _, want := range []string{"FROM_CONF=yes", "TERM=dumb", "container=podman"} {
			wantContains(t, "containers.conf env", env, want)
		}
		wantOut(t, "-e over containers.conf", runOut(e, "-e", "FROM_CONF=cli", img, "sh", "-c", "echo $FROM_CONF"), "cli")
		// a broken file is an error, not ignored
		e.WriteFile("containers.conf", "[containers\n")
		r := e.BerthFail(125, "run", "--rm", img, "true")
		wantContains(t, "broken containers.conf", r.Stderr, conf)
	})
}

func TestRunBigOutputNotTruncated(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		// 700000 one-byte writes: the attached run gets all of stdout and
		// then stderr, and the k8s-file log holds every byte too.
		const n = 700000
		r := e.BerthOK("run", "--name", "big", "--log-driver", "k8s-file", img, "dd", "if=/dev/zero", "count="+strconv.Itoa(n), "bs=1")
		if got := strings.Count(r.Stdout, "\x00"); got != n {
			t.Fatalf("attached stdout has %d NUL bytes, want %d", got, n)
		}
		wantContains(t, "dd's stderr after the output", r.Stderr, strconv.Itoa(n)+"+0 records out")
		logPath := e.BerthOK("inspect", "--format", "{{.HostConfig.LogConfig.Path}}", "big").Out()
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(data), "\x00"); got != n {
			t.Fatalf("the log has %d NUL bytes, want %d", got, n)
		}
	})
}
