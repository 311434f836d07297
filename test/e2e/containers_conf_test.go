package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// containers.conf's [engine] runtime picks the OCI runtime when --runtime
// is not given: run, build and info use it; --runtime still wins.
func TestContainersConfRuntime(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		conf := e.WriteFile("containers.conf", "[engine]\nruntime = \"idonotexist\"\n")
		e.SetEnv("CONTAINERS_CONF", conf)
		r := e.BerthFail(125, "run", "--rm", "--network", "host", img, "true")
		if !strings.Contains(r.Stderr, `"idonotexist" not found`) {
			t.Errorf("run with containers.conf runtime idonotexist:\n%s", r.describe())
		}
		ctx := e.buildContext("confrt", "FROM "+img+"\nRUN true\n", nil)
		r = e.BerthFail(125, "build", "-t", "localhost/e2e/confrt", ctx)
		if !strings.Contains(r.Stderr, `"idonotexist" not found`) {
			t.Errorf("build with containers.conf runtime idonotexist:\n%s", r.describe())
		}
		if out := e.BerthOK("--runtime", "runc", "run", "--rm", "--network", "host", img, "echo", "ok").Out(); out != "ok" {
			t.Errorf("--runtime over containers.conf: %q", out)
		}
		// a name of its own, resolved through [engine.runtimes], also for
		// the --rm cleanup the monitor starts
		runc, err := exec.LookPath("runc")
		if err != nil {
			t.Fatal(err)
		}
		e.WriteFile("containers.conf", "[engine]\nruntime = \"nonstandard_runtime_name\"\n[engine.runtimes]\nnonstandard_runtime_name = [\"/no/such/runtime\", \""+runc+"\"]\n")
		cid := e.BerthOK("run", "-d", "--rm", "--network", "host", img, "true").Out()
		waitFor(t, func() bool { return e.Berth("container", "exists", cid).ExitCode == 1 })
		e.WriteFile("containers.conf", "[engine]\nruntime = \"runc\"\n")
		if out := e.BerthOK("info", "--format", "{{.Host.OCIRuntime.Name}}").Out(); out != "runc" {
			t.Errorf("info with containers.conf runtime runc: %q", out)
		}
	})
}

// --storage-opt replaces storage.conf's driver options, as podman's does,
// and --storage-opt "" clears them.
func TestStorageOptReplacesConfigured(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		if e.Rootless() {
			t.Skip("podman's case is rootful: rootless overlay may need its configured options")
		}
		conf := e.WriteFile("storage.conf", "[storage]\ndriver = \"overlay\"\n[storage.options.overlay]\nmountopt = \"nodev\"\n")
		e.SetEnv("CONTAINERS_STORAGE_CONF", conf)
		if out := e.BerthOK("info", "--format", "{{.Store.GraphOptions}}").Out(); !strings.Contains(out, "nodev") {
			t.Errorf("info without --storage-opt: graph options %q lack storage.conf's", out)
		}
		if out := e.BerthOK("--storage-opt", "", "info", "--format", "{{.Store.GraphOptions}}").Out(); out != "map[]" {
			t.Errorf("info --storage-opt '': graph options %q, want none", out)
		}
		if out := e.BerthOK("--storage-opt", "", "info").Stdout; !strings.Contains(out, "graphOptions: {}") {
			t.Errorf("info --storage-opt '': no 'graphOptions: {}' in\n%s", out)
		}
	})
}

// infoConfFiles is berth info's list of the containers.conf files read,
// from --format json (which must keep podman's shape: host.logDriver etc.).
func infoConfFiles(t *testing.T, e *Env) (files []string, logDriver string) {
	t.Helper()
	var rep struct {
		Host struct {
			ContainersConfFiles []string `json:"containersConfFiles"`
			LogDriver           string   `json:"logDriver"`
			OCIRuntime          struct {
				Name string `json:"name"`
			} `json:"ociRuntime"`
		} `json:"host"`
		Store struct {
			GraphRoot string `json:"graphRoot"`
		} `json:"store"`
	}
	r := e.BerthOK("info", "--format", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("info --format json: %v\n%s", err, r.describe())
	}
	if rep.Store.GraphRoot != e.Root || rep.Host.OCIRuntime.Name == "" {
		t.Fatalf("info --format json lost podman's keys (store.graphRoot %q, host.ociRuntime.name %q)", rep.Store.GraphRoot, rep.Host.OCIRuntime.Name)
	}
	if rep.Host.ContainersConfFiles == nil {
		t.Fatalf("info --format json: no host.containersConfFiles list:\n%s", r.Stdout)
	}
	return rep.Host.ContainersConfFiles, rep.Host.LogDriver
}

// berth info lists the containers.conf files read, in order: the user's
// only rootless (as podman 4.3), CONTAINERS_CONF alone,
// CONTAINERS_CONF_OVERRIDE on top; host.logDriver is the files' log_driver.
func TestContainersConfFilesInInfo(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		user := e.WriteFile("xdgconfig/containers/containers.conf", "[containers]\nlog_driver = \"journald\"\n")
		dropin := e.WriteFile("xdgconfig/containers/containers.conf.d/10-a.conf", "[containers]\nlog_size_max = -1\n")
		e.SetEnv("XDG_CONFIG_HOME", filepath.Join(e.Dir, "xdgconfig"))
		files, driver := infoConfFiles(t, e)
		n := len(files)
		if e.Rootless() {
			if n < 2 || files[n-2] != user || files[n-1] != dropin || driver != "journald" {
				t.Errorf("rootless: files %q (want ending with %s, %s), logDriver %q (want the user's journald)", files, user, dropin, driver)
			}
		} else {
			for _, f := range files {
				if strings.HasPrefix(f, filepath.Join(e.Dir, "xdgconfig")) {
					t.Errorf("root read the user's containers.conf: %q", files)
				}
			}
			if driver != "k8s-file" {
				t.Errorf("root: logDriver %q, want k8s-file (the user's file is not read)", driver)
			}
		}
		for _, f := range files {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("info lists %s: %v", f, err)
			}
		}

		conf := e.WriteFile("containers.conf", "[containers]\nlog_driver = \"k8s-file\"\n")
		e.SetEnv("CONTAINERS_CONF", conf)
		if files, driver := infoConfFiles(t, e); !reflect.DeepEqual(files, []string{conf}) || driver != "k8s-file" {
			t.Errorf("CONTAINERS_CONF: files %q logDriver %q, want only %s and k8s-file", files, driver, conf)
		}
		over := e.WriteFile("override.conf", "[containers]\nlog_driver = \"journald\"\n")
		e.SetEnv("CONTAINERS_CONF_OVERRIDE", over)
		if files, driver := infoConfFiles(t, e); !reflect.DeepEqual(files, []string{conf, over}) || driver != "journald" {
			t.Errorf("CONTAINERS_CONF_OVERRIDE: files %q logDriver %q, want %s, %s and journald", files, driver, conf, over)
		}
		if out := e.BerthOK("info").Stdout; !strings.Contains(out, "  containersConfFiles:\n    - "+conf+"\n    - "+over+"\n") ||
			!strings.Contains(out, "  logDriver: journald\n") {
			t.Errorf("info (YAML) lacks the files or the log driver:\n%s", out)
		}
		if out := e.BerthOK("info", "--format", "{{range .Host.ContainersConfFiles}}{{.}} {{end}}").Out(); out != conf+" "+over {
			t.Errorf("info --format template: %q", out)
		}

		// a bad file is an error naming it, a bad value one naming the key
		e.WriteFile("override.conf", "[containers\n")
		if r := e.BerthFail(125, "info"); !strings.Contains(r.Stderr, `reading system config "`+over+`"`) {
			t.Errorf("a broken CONTAINERS_CONF_OVERRIDE:\n%s", r.describe())
		}
		e.WriteFile("override.conf", "[containers]\numask = \"999\"\n")
		if r := e.BerthFail(125, "info"); !strings.Contains(r.Stderr, over+": [containers] umask: not a valid umask 999") {
			t.Errorf("a bad umask:\n%s", r.describe())
		}
		// version and help do not read it
		e.BerthOK("version")
		e.BerthOK("--help")
		e.BerthOK("run", "--help")
	})
}

// [engine] image_copy_tmp_dir is where image copies put big temporary
// files (podman's messages when it is missing or relative; "storage" is
// the graph root's tmp); $TMPDIR wins over it.
func TestContainersConfImageCopyTmpDir(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		e.UseXDGRuntimeDir()
		e.UnsetEnv("TMPDIR")
		archive := e.TarFile("tiny.tar", map[string]string{"t.txt": "t\n"})
		missing := filepath.Join(e.Dir, "no-such-dir")
		conf := e.WriteFile("containers.conf", "[engine]\nimage_copy_tmp_dir = \""+missing+"\"\n")
		e.SetEnv("CONTAINERS_CONF", conf)
		want := "creating a temporary directory: stat " + missing + ": no such file or directory"
		if r := e.BerthFail(125, "import", archive, "e2e/copytmp"); !strings.Contains(r.Stderr, want) {
			t.Errorf("import with a missing image_copy_tmp_dir: want %q in\n%s", want, r.describe())
		}
		if r := e.BerthFail(125, "save", "-o", filepath.Join(e.Dir, "x.tar"), "e2e/copytmp"); r.ExitCode != 125 {
			t.Errorf("save: %s", r.describe())
		}
		// an existing directory
		e.WriteFile("copytmp/.keep", "")
		e.WriteFile("containers.conf", "[engine]\nimage_copy_tmp_dir = \""+filepath.Join(e.Dir, "copytmp")+"\"\n")
		id := e.BerthOK("import", archive, "e2e/copytmp").Out()
		e.WriteFile("containers.conf", "[engine]\nimage_copy_tmp_dir = \""+missing+"\"\n")
		if r := e.BerthFail(125, "save", "-o", filepath.Join(e.Dir, "x.tar"), "e2e/copytmp"); !strings.Contains(r.Stderr, missing) {
			t.Errorf("save with a missing image_copy_tmp_dir:\n%s", r.describe())
		}
		// $TMPDIR wins
		e.SetEnv("TMPDIR", e.Dir)
		e.BerthOK("save", "-o", filepath.Join(e.Dir, "x.tar"), "e2e/copytmp")
		e.UnsetEnv("TMPDIR")
		// "storage": the graph root's tmp, created when missing
		e.WriteFile("containers.conf", "[engine]\nimage_copy_tmp_dir = \"storage\"\n")
		_ = os.RemoveAll(filepath.Join(e.Root, "tmp"))
		e.BerthOK("load", "-i", filepath.Join(e.Dir, "x.tar"))
		if st, err := os.Stat(filepath.Join(e.Root, "tmp")); err != nil || !st.IsDir() {
			t.Errorf("image_copy_tmp_dir storage: %s/tmp: %v", e.Root, err)
		}
		// relative
		e.WriteFile("containers.conf", "[engine]\nimage_copy_tmp_dir = \"relative\"\n")
		if r := e.BerthFail(125, "load", "-i", filepath.Join(e.Dir, "x.tar")); !strings.Contains(r.Stderr, `invalid image_copy_tmp_dir value "relative" (relative paths are not accepted)`) {
			t.Errorf("a relative image_copy_tmp_dir:\n%s", r.describe())
		}
		e.WriteFile("containers.conf", "[engine]\nimage_copy_tmp_dir = \"/var/tmp\"\n")
		e.BerthOK("rmi", id)
	})
}

// containers.conf's [containers] defaults reach every new container, under
// the container's own flags, as podman applies them at create time.
func TestContainersConfContainerDefaults(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		profile := e.WriteFile("seccomp.json", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`)
		conf := e.WriteFile("containers.conf", `[containers]
default_ulimits = ["nofile=512:1024"]
default_capabilities = ["CHOWN", "KILL"]
default_sysctls = ["net.ipv4.ping_group_range=0 1"]
pids_limit = 321
tz = "Asia/Tokyo"
umask = "0027"
shm_size = "32m"
log_driver = "json-file"
log_size_max = 2097152
seccomp_profile = "`+profile+`"
init_path = "/nonexistent/berth-init"
`)
		e.SetEnv("CONTAINERS_CONF", conf)

		wantOut(t, "default_ulimits", runOut(e, img, "sh", "-c", "ulimit -n; ulimit -Hn"), "512\n1024")
		wantOut(t, "--ulimit over default_ulimits", runOut(e, "--ulimit", "nofile=100:200", img, "sh", "-c", "ulimit -n"), "100")
		// CHOWN is bit 0, KILL bit 5, NET_RAW bit 13
		wantContains(t, "default_capabilities", runOut(e, img, "grep", "CapEff", "/proc/self/status"), "0000000000000021")
		wantContains(t, "--cap-add over default_capabilities", runOut(e, "--cap-add", "NET_RAW", img, "grep", "CapEff", "/proc/self/status"), "0000000000002021")
		wantOut(t, "default_sysctls", strings.Join(strings.Fields(runOut(e, img, "cat", "/proc/sys/net/ipv4/ping_group_range")), " "), "0 1")
		wantOut(t, "umask", runOut(e, img, "sh", "-c", "umask"), "0027")
		wantOut(t, "--umask over umask", runOut(e, "--umask", "0077", img, "sh", "-c", "umask"), "0077")
		if _, err := os.Stat("/usr/share/zoneinfo/Asia/Tokyo"); err == nil {
			wantOut(t, "tz", runOut(e, img, "date", "+%Z"), "JST")
		}
		r := e.BerthFail(1, "run", "--rm", img, "mkdir", "/tmp/blocked")
		wantContains(t, "seccomp_profile", r.Stderr, "Operation not permitted")
		r = e.BerthFail(125, "run", "--rm", "--init", img, "true")
		wantContains(t, "init_path", r.Stderr, "/nonexistent/berth-init")

		r = e.BerthOK("create", "--name", "defaults", img, "true")
		if r.Stderr != "" {
			t.Errorf("create with containers.conf defaults warned:\n%s", r.describe())
		}
		out := e.BerthOK("inspect", "--format", "{{.HostConfig.ShmSize}} {{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Size}} {{.HostConfig.PidsLimit}}", "defaults").Out()
		want := "32000000 json-file 2.097MB 321"
		if e.Rootless() {
			want = "32000000 json-file 2.097MB 0" // no cgroup to enforce it: not applied, and no warning
		}
		wantOut(t, "inspect of containers.conf defaults", out, want)
	})
}

// Proxy variables of the engine's environment reach the container unless
// --http-proxy=false or containers.conf's http_proxy = false; env_host
// passes the whole environment.
func TestContainersConfHTTPProxyAndEnvHost(t *testing.T) {
	forEachMode(t, func(t *testing.T, e *Env) {
		img := containerEnv(t, e)
		e.SetEnv("http_proxy", "http://proxy.example:3128")
		e.SetEnv("BERTH_E2E_HOSTVAR", "from-host")
		env := func(args ...string) string {
			return runOut(e, append(append(args, img), "env")...)
		}
		wantContains(t, "http_proxy", env(), "http_proxy=http://proxy.example:3128")
		wantContains(t, "-e over http_proxy", env("-e", "http_proxy=mine"), "http_proxy=mine")
		if out := env("--http-proxy=false"); strings.Contains(out, "http_proxy") || strings.Contains(out, "BERTH_E2E_HOSTVAR") {
			t.Errorf("--http-proxy=false: %q", out)
		}
		conf := e.WriteFile("containers.conf", "[containers]\nhttp_proxy = false\nenv_host = true\n")
		e.SetEnv("CONTAINERS_CONF", conf)
		out := env()
		if strings.Contains(out, "http_proxy=http://proxy") != true || !strings.Contains(out, "BERTH_E2E_HOSTVAR=from-host") {
			t.Errorf("env_host = true: %q lacks the host's variables", out)
		}
		e.WriteFile("containers.conf", "[containers]\nhttp_proxy = false\n")
		if out := env(); strings.Contains(out, "http_proxy") {
			t.Errorf("http_proxy = false: %q", out)
		}
	})
}
