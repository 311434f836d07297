// Package libpod is berth's engine. A Runtime is opened once per invocation;
// storage is opened lazily so that commands which do not need it stay fast.
package libpod

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/berth-containers/berth/libpod/network"
	"github.com/berth-containers/berth/libpod/state"
	"github.com/berth-containers/berth/pkg/config"
	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/oci"
	"github.com/berth-containers/berth/rootless"
	imagetypes "go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/types"
)

// Runtime is the engine state of one invocation.
type Runtime struct {
	opts      config.Options
	storeOpts *types.StoreOptions
	store     storage.Store
	db        *state.DB
	oci       *oci.Runtime
	ociChoice oci.Choice
	ociByName map[string]*oci.Runtime // runtimes of containers created with another one
	ctrsConf  *config.ContainersConf
	// DriverReason says why the storage driver in use was chosen.
	DriverReason string
	images       *image.Runtime
}

// storeOptions reads storage.conf once and applies the global flags; it
// does not open the store, so commands that need only the database stay fast.
func (r *Runtime) storeOptions() (types.StoreOptions, error) {
	if r.storeOpts != nil {
		return *r.storeOpts, nil
	}
	so, err := types.DefaultStoreOptions()
	if err != nil {
		return so, fmt.Errorf("reading storage configuration: %w", err)
	}
	if r.opts.Root != "" {
		so.GraphRoot = r.opts.Root
	}
	if r.opts.RunRoot != "" {
		so.RunRoot = r.opts.RunRoot
	}
	if len(r.opts.StorageOpts) > 0 {
		// podman: --storage-opt replaces storage.conf's options, and
		// --storage-opt "" clears them
		so.GraphDriverOptions = nil
		for _, o := range r.opts.StorageOpts {
			if o != "" {
				so.GraphDriverOptions = append(so.GraphDriverOptions, o)
			}
		}
	}
	r.storeOpts = &so
	return so, nil
}

// DB opens the state database on first use.
func (r *Runtime) DB() (*state.DB, error) {
	if r.db != nil {
		return r.db, nil
	}
	so, err := r.storeOptions()
	if err != nil {
		return nil, err
	}
	db, err := state.Open(r.dbPath(so), state.Options{UpgradeConfig: upgradeContainerConfig})
	if err != nil {
		return nil, err
	}
	driver := ""
	if r.store != nil {
		driver = r.store.GraphDriverName()
	}
	if err := db.ValidateConfig(r.dbConfig(so, driver)); err != nil {
		_ = db.Close()
		return nil, err
	}
	r.db = db
	return db, nil
}

func (r *Runtime) dbPath(so types.StoreOptions) string {
	return filepath.Join(r.staticDir(so), "state.db")
}

// staticDir is where berth keeps its own files in the graph root.
func (r *Runtime) staticDir(so types.StoreOptions) string {
	return filepath.Join(so.GraphRoot, "berth")
}

// dbConfig is what the state database is bound to, as podman records it:
// the locks of the objects it describes live in the run root, so two
// invocations with one graph root and two run roots must not share it.
func (r *Runtime) dbConfig(so types.StoreOptions, driver string) state.RuntimeConfig {
	return state.RuntimeConfig{
		OS:          goruntime.GOOS,
		StaticDir:   filepath.Clean(r.staticDir(so)),
		GraphRoot:   filepath.Clean(so.GraphRoot),
		RunRoot:     filepath.Clean(so.RunRoot),
		GraphDriver: driver,
	}
}

// checkDriverAgainstDB records the graph driver of the store in the state
// database, or refuses one that differs from the recorded one. A store
// without berth state yet gets no database just for this.
func (r *Runtime) checkDriverAgainstDB(so types.StoreOptions, driver string) error {
	if r.db == nil {
		if _, err := os.Stat(r.dbPath(so)); err != nil {
			return nil
		}
		if _, err := r.DB(); err != nil {
			return err
		}
	}
	return r.db.ValidateConfig(r.dbConfig(so, driver))
}

// RunDir is berth's directory under the run root (locks, runtime state).
func (r *Runtime) RunDir() (string, error) {
	so, err := r.storeOptions()
	if err != nil {
		return "", err
	}
	return filepath.Join(so.RunRoot, "berth"), nil
}

// OCIRuntime returns the runtime driver, chosen on first use.
func (r *Runtime) OCIRuntime() (*oci.Runtime, oci.Choice, error) {
	if r.oci != nil {
		return r.oci, r.ociChoice, nil
	}
	conf, err := r.ContainersConf()
	if err != nil {
		return nil, oci.Choice{}, err
	}
	name := r.opts.Runtime
	if name == "" {
		name = conf.Engine.Runtime // containers.conf's choice, else berth's
	}
	lookup := name
	if p := conf.RuntimePath(name); p != "" {
		lookup = p // a name [engine.runtimes] gives paths for
	}
	choice, err := oci.Choose(lookup, rootless.IsRootless())
	if err != nil {
		return nil, choice, err
	}
	if r.opts.Runtime == "" && name != "" {
		choice.Reason = "set in containers.conf ([engine] runtime)"
	}
	dir, err := r.RunDir()
	if err != nil {
		return nil, choice, err
	}
	r.oci = &oci.Runtime{Path: choice.Path, Root: filepath.Join(dir, choice.Name), Flags: r.runtimeFlags()}
	r.ociChoice = choice
	return r.oci, choice, nil
}

// runtimeFlags are --runtime-flag values as the runtime takes them.
func (r *Runtime) runtimeFlags() []string {
	var flags []string
	for _, f := range r.opts.RuntimeFlags {
		flags = append(flags, "--"+f)
	}
	return flags
}

// ociRuntimeName is what a new container records as its OCI runtime: the
// --runtime given (a name or a full path, kept as given), else the name of
// the runtime berth chose.
func (r *Runtime) ociRuntimeName() (string, error) {
	_, choice, err := r.OCIRuntime()
	if err != nil {
		return "", err
	}
	if r.opts.Runtime != "" {
		return r.opts.Runtime, nil
	}
	return choice.Name, nil
}

// ociRuntime is the OCI runtime of the container: the one it was created
// with, whatever --runtime this invocation has (as podman). Containers of
// an older berth recorded none and use the invocation's.
func (c *Container) ociRuntime() (*oci.Runtime, error) {
	def, choice, err := c.rt.OCIRuntime()
	want := c.Config.OCIRuntime
	if want == "" || err == nil && (want == choice.Name && c.rt.opts.Runtime == "" || want == c.rt.opts.Runtime) {
		return def, err
	}
	if rt, ok := c.rt.ociByName[want]; ok {
		return rt, nil
	}
	ch, err := oci.Choose(want, rootless.IsRootless())
	if err != nil {
		return nil, fmt.Errorf("the OCI runtime of container %s: %w", c.Name(), err)
	}
	dir, err := c.rt.RunDir()
	if err != nil {
		return nil, err
	}
	rt := &oci.Runtime{Path: ch.Path, Root: filepath.Join(dir, ch.Name), Flags: c.rt.runtimeFlags()}
	if c.rt.ociByName == nil {
		c.rt.ociByName = map[string]*oci.Runtime{}
	}
	c.rt.ociByName[want] = rt
	return rt, nil
}

// ContainersConf reads containers.conf on first use.
func (r *Runtime) ContainersConf() (*config.ContainersConf, error) {
	if r.ctrsConf == nil {
		c, err := config.LoadContainersConf(rootless.IsRootless())
		if err != nil {
			return nil, err
		}
		r.ctrsConf = c
	}
	return r.ctrsConf, nil
}

// New prepares a Runtime without opening anything.
func New(opts config.Options) *Runtime {
	return &Runtime{opts: opts}
}

// Options returns the global options the runtime was created with.
func (r *Runtime) Options() config.Options { return r.opts }

// Store opens containers storage on first use.
func (r *Runtime) Store() (storage.Store, error) {
	if r.store != nil {
		return r.store, nil
	}
	so, err := r.storeOptions()
	if err != nil {
		return nil, err
	}
	// The run root, and a driver given by flag or storage.conf, are
	// checked against the state database before storage creates anything.
	d := r.opts.StorageDriver
	if d == "" {
		d = so.GraphDriverName
	}
	if err := r.checkDriverAgainstDB(so, d); err != nil {
		return nil, err
	}
	switch {
	case r.opts.StorageDriver != "":
		so.GraphDriverName = r.opts.StorageDriver
		r.DriverReason = "chosen with --storage-driver"
		r.store, err = storage.GetStore(so)
	case so.GraphDriverName != "":
		r.DriverReason = "configured in storage.conf"
		r.store, err = storage.GetStore(so)
	default:
		r.store, err = r.openWithFallback(so)
	}
	if err != nil {
		return nil, fmt.Errorf("opening storage at %s: %w", so.GraphRoot, err)
	}
	if err := r.checkDriverAgainstDB(so, r.store.GraphDriverName()); err != nil {
		return nil, err
	}
	return r.store, nil
}

// openWithFallback tries native overlay, then fuse-overlayfs, then vfs. A
// graph root that already holds layers of one driver keeps using it.
func (r *Runtime) openWithFallback(so types.StoreOptions) (storage.Store, error) {
	for _, d := range []string{"overlay", "vfs"} {
		if st, err := os.Stat(so.GraphRoot + "/" + d + "-layers"); err == nil && st.IsDir() {
			so.GraphDriverName = d
			r.DriverReason = "the store at " + so.GraphRoot + " already uses it"
			switch {
			case d == "overlay" && hasMountProgram(so.GraphRoot):
				so.GraphDriverOptions = append(so.GraphDriverOptions, "overlay.mount_program="+fuseOverlayfs())
				r.DriverReason += " through fuse-overlayfs (native overlay failed when the store was created)"
			case d == "overlay" && rootless.IsRootless():
				r.DriverReason += " natively (the kernel supports overlay mounts in user namespaces)"
			case d == "overlay":
				r.DriverReason += " natively"
			default:
				r.DriverReason += " (overlay was not usable when the store was created)"
			}
			return storage.GetStore(so)
		}
	}
	var errs []string
	so.GraphDriverName = "overlay"
	st, err := storage.GetStore(so)
	if err == nil {
		if rootless.IsRootless() {
			r.DriverReason = "native overlay works in the user namespace (kernel >= 5.11)"
		} else {
			r.DriverReason = "native overlay is supported by the kernel"
		}
		return st, nil
	}
	errs = append(errs, "overlay: "+err.Error())
	if prog := fuseOverlayfs(); prog != "" {
		fo := so
		fo.GraphDriverOptions = append(append([]string{}, so.GraphDriverOptions...), "overlay.mount_program="+prog)
		if st, err := storage.GetStore(fo); err == nil {
			r.DriverReason = "native overlay failed (" + errs[0] + "); using fuse-overlayfs"
			_ = os.WriteFile(so.GraphRoot+"/overlay/.berth-mount-program", []byte(prog), 0o644)
			return st, nil
		} else {
			errs = append(errs, "fuse-overlayfs: "+err.Error())
		}
	}
	so.GraphDriverName = "vfs"
	st, err = storage.GetStore(so)
	if err != nil {
		errs = append(errs, "vfs: "+err.Error())
		return nil, errors.New(strings.Join(errs, "; "))
	}
	r.DriverReason = "overlay unavailable (" + strings.Join(errs, "; ") + "); using vfs"
	return st, nil
}

func hasMountProgram(graphRoot string) bool {
	_, err := os.Stat(graphRoot + "/overlay/.berth-mount-program")
	return err == nil
}

func fuseOverlayfs() string {
	p, err := exec.LookPath("fuse-overlayfs")
	if err != nil {
		return ""
	}
	return p
}

// Network returns the CNI manager of this store (rootful bridge networking).
func (r *Runtime) Network() (*network.Manager, error) {
	so, err := r.storeOptions()
	if err != nil {
		return nil, err
	}
	dir, err := r.RunDir()
	if err != nil {
		return nil, err
	}
	return network.New(network.Config{ConfigDir: filepath.Join(so.GraphRoot, "berth", "networks"), RunDir: dir})
}

// Images returns the image service, opening storage if needed.
func (r *Runtime) Images() (*image.Runtime, error) {
	if r.images != nil {
		return r.images, nil
	}
	st, err := r.Store()
	if err != nil {
		return nil, err
	}
	sys, err := r.imageSystemContext(st.GraphRoot())
	if err != nil {
		return nil, err
	}
	r.images = image.NewRuntime(st, sys)
	return r.images, nil
}

// imageSystemContext is the invocation's containers/image context, whose
// big temporary files (image copies: pull, load, import, save, commit,
// build) go where podman puts them: $TMPDIR, else containers.conf's
// [engine] image_copy_tmp_dir ("storage" is the graph root's tmp).
func (r *Runtime) imageSystemContext(graphRoot string) (*imagetypes.SystemContext, error) {
	sys := r.opts.SystemContext()
	conf, err := r.ContainersConf()
	if err != nil {
		return nil, err
	}
	dir, err := conf.BigFilesTemporaryDir(graphRoot)
	if err != nil {
		return nil, err
	}
	if _, tmpdir := os.LookupEnv("TMPDIR"); !tmpdir && conf.Engine.ImageCopyTmpDir == "storage" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	sys.BigFilesTemporaryDir = dir
	return sys, nil
}

// Shutdown releases the database and storage.
func (r *Runtime) Shutdown() {
	if r.db != nil {
		_ = r.db.Close()
	}
	if r.store != nil {
		_, _ = r.store.Shutdown(false)
	}
}

// Migrate is `system migrate`: it stops every running (or paused)
// container of this store, calling stopping with each one's ID first as
// podman does, and then, rootless, the pause process, so that the next
// invocation creates a user namespace from the current /etc/subuid and
// /etc/subgid. Stopping the containers first keeps them from running on in
// a namespace that no later berth could enter.
func (r *Runtime) Migrate(stopping func(id string)) error {
	so, err := r.storeOptions()
	if err != nil {
		return err
	}
	var cs []*Container
	// A store without berth state has no container to stop: it is not
	// created just to find that out.
	if _, err := os.Stat(r.dbPath(so)); err == nil {
		if cs, err = r.ListContainers(); err != nil {
			return err
		}
	}
	for _, c := range cs {
		if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
			continue
		}
		stopping(c.ID())
		if err := c.Stop(c.Config.stopTimeout()); err != nil {
			return fmt.Errorf("cannot stop container %s: %w", c.ID(), err)
		}
	}
	if !rootless.IsRootless() {
		return nil
	}
	if err := rootless.StopPause(); err != nil {
		return fmt.Errorf("stopping the rootless pause process: %w", err)
	}
	return nil
}

// DefaultLogDriver is the log driver of a container created without
// --log-driver.
const DefaultLogDriver = "k8s-file"

// MonitorPath is the berth-monitor binary containers are started with.
func MonitorPath() (string, error) { return monitorPath() }

// ContainerCounts counts this store's containers by state, as podman's info
// reports them.
func (r *Runtime) ContainerCounts() (total, running, paused, stopped int, err error) {
	cs, err := r.ListContainers()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	for _, c := range cs {
		switch c.State.Status {
		case StatusRunning:
			running++
		case StatusPaused:
			paused++
		default:
			stopped++
		}
	}
	return len(cs), running, paused, stopped, nil
}
