package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/berth-containers/berth/buildah"
	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/berth-containers/berth/rootless"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/spf13/cobra"
	"go.podman.io/storage"
)

// buildFlags are podman build's flags that berth has.
type buildFlags struct {
	files, tags, buildArgs, labels, annotations []string
	buildArgFiles, secrets, buildContexts       []string
	target, format, iidfile, network, pull      string
	ignoreFile, platform, arch, os, variant     string
	layers, noCache, quiet, rm, forceRm         bool
	jobs                                        int
	compress, disableCompression                bool
	pullAlways, pullNever                       bool
	ulimits, securityOpts                       []string
	logfile                                     string
	rf                                          registryFlags
	// flags podman has and berth refuses for now
	unsupported      map[string]*[]string
	squash           bool
	squashAll        bool
	timestamp        int64
	sourceDateEpoch  string
	rewriteTimestamp bool
	output           string
}

// unsupportedBuildFlags are refused with "not supported yet" rather than
// "unknown flag", so that scripts learn what is missing.
var unsupportedBuildFlags = []string{"ssh", "volume", "cache-from", "cache-to", "env", "unsetenv",
	"add-host", "dns", "cap-add", "cap-drop", "device", "isolation",
	"userns", "manifest", "sign-by", "cpp-flag", "from"}

func newBuildCommand() *cobra.Command {
	return buildCommand("build")
}

// newBuildxCommand is `berth buildx build`, as podman has it for docker
// scripts.
func newBuildxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "buildx",
		Aliases: []string{"builder"},
		Short:   "Build images (docker buildx compatibility)",
		Args:    cobra.ArbitraryArgs,
		RunE:    subCommandExists,
	}
	build := buildCommand("build")
	// docker buildx flags: the image always lands in local storage
	build.Flags().Bool("load", false, "load the image into local storage (always done)")
	build.Flags().Bool("push", false, "push the image after the build (not supported yet)")
	cmd.AddCommand(build, newImagePruneCommand())
	return cmd
}

func buildCommand(use string) *cobra.Command {
	f := &buildFlags{unsupported: map[string]*[]string{}}
	cmd := &cobra.Command{
		Use:   use + " [options] [CONTEXT]",
		Short: "Build an image using instructions from Containerfiles",
		Long: "Builds an image from a Containerfile (or Dockerfile) and a context directory.\n\n" +
			"RUN steps use the host's network unless --network none is given.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(true)
	fl.StringArrayVarP(&f.files, "file", "f", nil, "`pathname or URL` of a Containerfile (- for stdin)")
	fl.StringArrayVarP(&f.tags, "tag", "t", nil, "`name` to apply to the built image")
	fl.StringArrayVar(&f.buildArgs, "build-arg", nil, "`argument=value` to supply to the builder")
	fl.StringArrayVar(&f.buildArgFiles, "build-arg-file", nil, "`argfile.conf` containing lines of argument=value to supply to the builder")
	fl.StringArrayVar(&f.buildContexts, "build-context", nil, "add the build context `name=value`, where value is a directory, an http(s) URL of a tar archive, a git repository or docker-image://IMAGE")
	fl.StringArrayVar(&f.labels, "label", nil, "set metadata for an image (default [])")
	fl.StringArrayVar(&f.annotations, "annotation", nil, "set metadata for an image (default [])")
	fl.StringArrayVar(&f.secrets, "secret", nil, "secret file to expose to the build (id=ID,src=PATH or id=ID,env=VAR)")
	fl.StringVar(&f.target, "target", "", "set the target build stage to build")
	fl.StringVar(&f.format, "format", envOr("BUILDAH_FORMAT", "oci"), "`format` of the built image's manifest and metadata (oci or docker)")
	fl.StringVar(&f.iidfile, "iidfile", "", "`file` to write the image ID to")
	fl.StringVar(&f.network, "network", "host", "network for RUN steps: host or none")
	fl.StringVar(&f.pull, "pull", "missing", "pull base images: always, missing, never, newer (true = always, false = missing)")
	fl.Lookup("pull").NoOptDefVal = "always"
	// buildah's older spellings of --pull, hidden in podman too
	fl.BoolVar(&f.pullAlways, "pull-always", false, "pull the image even if the named image is present in storage")
	fl.BoolVar(&f.pullNever, "pull-never", false, "do not pull the image, use the image present in store if available")
	_ = fl.MarkHidden("pull-always")
	_ = fl.MarkHidden("pull-never")
	fl.StringSliceVar(&f.ulimits, "ulimit", nil, "ulimit options of RUN steps (name=soft[:hard], or host)")
	fl.StringArrayVar(&f.securityOpts, "security-opt", nil, "security options of RUN steps (seccomp=, no-new-privileges, apparmor=, mask=, unmask=, proc-opts=, label=)")
	fl.StringVar(&f.logfile, "logfile", "", "log to `file` instead of stdout/stderr")
	fl.StringVar(&f.ignoreFile, "ignorefile", "", "path to an alternate .containerignore file")
	fl.StringVar(&f.platform, "platform", "", "set the OS/ARCH[/VARIANT] of the image (only this machine's)")
	fl.StringVar(&f.arch, "arch", "", "set the ARCH of the image (only this machine's)")
	fl.StringVar(&f.os, "os", "", "set the OS of the image (only this machine's)")
	fl.StringVar(&f.variant, "variant", "", "set the architecture variant of the image (only this machine's)")
	fl.IntVar(&f.jobs, "jobs", 1, "how many stages to run in parallel (0: no limit)")
	fl.BoolVar(&f.layers, "layers", envBool("BUILDAH_LAYERS", true), "use intermediate layers during build (the cache)")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not use existing cached images for the container build")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "refrain from announcing build instructions and image read/write progress")
	fl.BoolVar(&f.rm, "rm", true, "remove intermediate containers after a successful build (berth keeps none)")
	fl.BoolVar(&f.forceRm, "force-rm", true, "always remove intermediate containers after a build, even if the build is unsuccessful (berth keeps none)")
	// podman 4.3's --compress is a legacy option without effect: compressing
	// what would be sent to a daemon means nothing to a daemonless engine.
	fl.BoolVar(&f.compress, "compress", false, "this is a legacy option, which has no effect on the image")
	fl.BoolVarP(&f.disableCompression, "disable-compression", "D", true, "don't compress layers by default")
	fl.BoolVar(&f.squash, "squash", false, "squash newly built layers into a single new layer")
	fl.BoolVar(&f.squashAll, "squash-all", false, "squash all layers into a single layer")
	fl.Int64Var(&f.timestamp, "timestamp", 0, "set created timestamp to the specified epoch seconds to allow for deterministic builds, defaults to current time")
	fl.StringVar(&f.sourceDateEpoch, "source-date-epoch", "", "set the created timestamps of the image and its new history entries to these epoch `seconds` (default $SOURCE_DATE_EPOCH)")
	fl.BoolVar(&f.rewriteTimestamp, "rewrite-timestamp", false, "clamp the times of files in new layers to --source-date-epoch")
	fl.StringVarP(&f.output, "output", "o", "", "output destination (format: type=local,dest=path)")
	f.rf.add(cmd)
	for _, name := range unsupportedBuildFlags {
		v := new([]string)
		f.unsupported[name] = v
		fl.StringArrayVar(v, name, nil, "not supported yet")
		_ = fl.MarkHidden(name)
	}
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes":
		return true
	case "0", "false", "no":
		return false
	}
	return def
}

func runBuild(cmd *cobra.Command, f *buildFlags, args []string) error {
	for name := range f.unsupported {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("build --%s is not supported yet", name)
		}
	}
	// berth writes the layers of the image it builds uncompressed, as
	// podman's default -D (--disable-compression=true) does; podman's
	// --disable-compression=false gives the new layers gzip media types,
	// which berth cannot do.
	if !f.disableCompression {
		return errors.New("build --disable-compression=false is not supported: berth stores built layers uncompressed (podman's default)")
	}
	if push := cmd.Flags().Lookup("push"); push != nil && push.Changed {
		return errors.New("buildx build --push is not supported yet: build, then berth push")
	}
	layers, squashAll, err := squashFlags(cmd, f)
	if err != nil {
		return err
	}
	if err := checkBuildPlatform(f); err != nil {
		return err
	}
	format := strings.ToLower(f.format)
	if format != image.FormatOCI && format != image.FormatDocker {
		return fmt.Errorf("unrecognized image type %q: use oci or docker", f.format)
	}
	if f.jobs < 0 {
		return fmt.Errorf("invalid --jobs %d: it must be a positive integer, or 0 for no limit", f.jobs)
	}
	pull, err := buildPullPolicy(cmd, f)
	if err != nil {
		return err
	}
	// podman checks the flag only (not $REGISTRY_AUTH_FILE)
	if cmd.Flags().Changed("authfile") {
		if _, err := os.Stat(f.rf.authFile); err != nil {
			return fmt.Errorf("checking authfile: %w", err)
		}
	}
	runSec, err := buildRunSecurity(f)
	if err != nil {
		return err
	}
	contextArg := "."
	if len(args) == 1 {
		contextArg = args[0]
	}
	if contextArg == "-" {
		for _, p := range f.files {
			if p == "-" {
				return errors.New("the context and the Containerfile cannot both come from stdin")
			}
		}
	}
	// --logfile takes what build prints on both streams (podman's final
	// "Error:" line still goes to stderr)
	var stdout, stderr io.Writer = os.Stdout, os.Stderr
	if f.logfile != "" {
		lf, err := os.OpenFile(f.logfile, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("opening --logfile: %w", err)
		}
		defer lf.Close()
		stdout, stderr = lf, lf
	}
	ctx, cancel := signalContext()
	defer cancel()
	bc, err := openBuildContext(ctx, contextArg)
	if err != nil {
		return err
	}
	defer bc.cleanup()
	contextDir := bc.dir
	name, content, err := readContainerfiles(ctx, f.files, bc)
	if err != nil {
		return err
	}
	if syntax, _, _, ok := parser.DetectSyntax(content); ok {
		fmt.Fprintf(stderr, "note: ignoring the syntax directive %q: berth builds with its own Dockerfile frontend\n", syntax)
	}
	named, err := openNamedContexts(ctx, f.buildContexts)
	for _, bc := range named {
		defer bc.cleanup() //nolint:gocritic // each context lives until the build returns
	}
	if err != nil {
		return err
	}
	buildArgList := f.buildArgs
	for _, p := range f.buildArgFiles {
		lines, err := readBuildArgFile(p)
		if err != nil {
			return err
		}
		// --build-arg wins over the file, as in buildah
		buildArgList = append(lines, buildArgList...)
	}
	buildArgs := map[string]string{}
	for _, a := range buildArgList {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			// KEY alone takes the value from the environment, if set
			val, set := os.LookupEnv(k)
			if !set {
				continue
			}
			v = val
		}
		buildArgs[k] = v
	}
	secrets, err := buildah.ParseSecrets(f.secrets)
	if err != nil {
		return err
	}
	timestamp, sde, err := buildTimes(cmd, f, buildArgs)
	if err != nil {
		return err
	}
	var output *buildah.Output
	if cmd.Flags().Changed("output") {
		if output, err = buildOutput(f.output); err != nil {
			return err
		}
	}
	var tags []string
	commitName := ""
	if len(f.tags) > 0 {
		commitName = f.tags[0]
	}
	for _, t := range f.tags {
		n, err := image.NormalizeName(t)
		if err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
		tags = append(tags, n.String())
	}

	eng := runtime()
	ir, err := imageRuntime()
	if err != nil {
		return err
	}
	ociRT, _, err := eng.OCIRuntime()
	if err != nil {
		return err
	}
	runDir, err := eng.RunDir()
	if err != nil {
		return err
	}
	runDir = filepath.Join(runDir, "build")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", runDir, err)
	}
	copyOpts := f.rf.options(cmd)
	if !f.quiet {
		copyOpts.Progress = stderr
	}
	out := stdout
	if output != nil && output.Stdout {
		// the tar alone goes to standard output
		out = stderr
	}
	opts := &buildah.Options{
		ContextDir: contextDir, Dockerfile: content, DockerfileName: name,
		Tags: tags, CommitName: commitName, BuildArgs: buildArgs, Labels: f.labels, Annotations: f.annotations,
		Target: f.target, Format: format, Layers: layers, NoCache: f.noCache, Quiet: f.quiet,
		Network: f.network, IgnoreFile: f.ignoreFile, Jobs: f.jobs, Secrets: secrets,
		BuildContexts: namedContexts(named),
		SquashAll:     squashAll, Timestamp: timestamp, SourceDateEpoch: sde, RewriteTimestamp: f.rewriteTimestamp,
		Output: output, RunSecurity: runSec,
		Out: out, Err: stderr,
		Images: ir, Runtime: ociRT, RunDir: runDir, Rootless: rootless.IsRootless(),
		Pull: func(ctx context.Context, name string) (*storage.Image, error) {
			return ir.LookupOrPull(ctx, name, pull, copyOpts)
		},
	}
	res, err := buildah.Build(ctx, opts)
	if err != nil {
		return &exitError{code: buildah.ExitCode(err), err: err}
	}
	if f.iidfile != "" {
		if err := os.WriteFile(f.iidfile, []byte("sha256:"+res.ImageID), 0o644); err != nil {
			return fmt.Errorf("writing --iidfile: %w", err)
		}
	}
	fmt.Fprintln(out, res.ImageID)
	return nil
}

// buildPullPolicy reads --pull and buildah's older --pull-always and
// --pull-never (one of them at most, as podman).
func buildPullPolicy(cmd *cobra.Command, f *buildFlags) (string, error) {
	fl := cmd.Flags()
	n := 0
	for _, name := range []string{"pull", "pull-always", "pull-never"} {
		if fl.Changed(name) {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("can only set one of 'pull' or 'pull-always' or 'pull-never'")
	}
	switch {
	case fl.Changed("pull-always") && f.pullAlways:
		return parse.PullAlways, nil
	case fl.Changed("pull-never") && f.pullNever:
		return parse.PullNever, nil
	}
	return parse.PullPolicy(f.pull)
}

// buildRunSecurity reads --security-opt and --ulimit, which apply to the
// containers of RUN steps as they do to run's.
func buildRunSecurity(f *buildFlags) (buildah.RunSecurity, error) {
	var rs buildah.RunSecurity
	so, err := parse.SecurityOpts(f.securityOpts)
	if err != nil {
		return rs, err
	}
	rs.NoNewPrivileges, rs.Unmask, rs.Mask, rs.ProcOpts = so.NoNewPrivileges, so.Unmask, so.Mask, so.ProcOpts
	rs.SeccompProfile = so.SeccompProfile
	if so.SeccompProfile != "" && so.SeccompProfile != specgen.SeccompUnconfined {
		if rs.SeccompProfile, err = filepath.Abs(so.SeccompProfile); err != nil {
			return rs, err
		}
	}
	// SELinux labels mean nothing on a host without SELinux: accepted and
	// ignored, as run does
	if so.AppArmorProfile != "" && so.AppArmorProfile != "unconfined" {
		if data, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); strings.TrimSpace(string(data)) != "Y" {
			return rs, fmt.Errorf("--security-opt apparmor=%s: AppArmor is not enabled on this host", so.AppArmorProfile)
		}
		rs.AppArmorProfile = so.AppArmorProfile
	}
	for _, u := range f.ulimits {
		if u == "host" {
			rs.UlimitHost = true
			continue
		}
		rl, err := parse.Ulimit(u)
		if err != nil {
			return rs, err
		}
		rs.Ulimits = append(rs.Ulimits, rl)
	}
	return rs, nil
}

// squashFlags turns --squash and --squash-all into the layers setting and
// the squash of the final image, as podman does: --squash is a build
// without layers (the new layers in one), --squash-all also puts the base
// image's files in that one layer and builds without layers unless
// --layers is given.
func squashFlags(cmd *cobra.Command, f *buildFlags) (layers, squashAll bool, err error) {
	fl := cmd.Flags()
	if fl.Changed("squash") && (fl.Changed("layers") || fl.Changed("squash-all")) {
		return false, false, errors.New("cannot specify --squash with --layers and --squash-all with --squash")
	}
	layers = f.layers
	if f.squash {
		layers = false
	}
	if fl.Changed("squash-all") && f.squashAll {
		squashAll = true
		if !fl.Changed("layers") {
			layers = false
		}
	}
	return layers, squashAll, nil
}

// buildTimes reads --timestamp and the source date epoch: the
// --source-date-epoch flag, else the SOURCE_DATE_EPOCH build arg, else
// the SOURCE_DATE_EPOCH environment variable.
func buildTimes(cmd *cobra.Command, f *buildFlags, buildArgs map[string]string) (timestamp, sde *time.Time, err error) {
	fl := cmd.Flags()
	if fl.Changed("timestamp") {
		t := time.Unix(f.timestamp, 0).UTC()
		timestamp = &t
	}
	value, set := f.sourceDateEpoch, fl.Changed("source-date-epoch")
	if set && timestamp != nil {
		return nil, nil, errors.New("--timestamp and --source-date-epoch cannot be used together")
	}
	if !set {
		if v, ok := buildArgs["SOURCE_DATE_EPOCH"]; ok {
			value, set = v, true
		} else if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
			value, set = v, true
		}
	}
	if set {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("error parsing source-date-epoch offset %q: %w", value, err)
		}
		t := time.Unix(n, 0).UTC()
		sde = &t
	}
	return timestamp, sde, nil
}

// buildOutput parses --output; a relative file or directory is relative
// to the working directory (podman's: dest= alone is the directory itself).
func buildOutput(spec string) (*buildah.Output, error) {
	out, err := buildah.ParseOutput(spec)
	if err != nil || out == nil {
		return out, err
	}
	if out.Stdout {
		out.Writer = os.Stdout
		return out, nil
	}
	if out.Dest, err = filepath.Abs(out.Dest); err != nil {
		return nil, err
	}
	return out, nil
}

// checkBuildPlatform refuses --platform, --os, --arch and --variant
// values other than this machine's: berth does not emulate other
// architectures.
func checkBuildPlatform(f *buildFlags) error {
	host := "linux/" + goruntime.GOARCH
	if f.platform != "" {
		if p := strings.TrimSuffix(f.platform, "/"); p != host && !strings.HasPrefix(p, host+"/") {
			return fmt.Errorf("build --platform %s is not supported yet (this machine builds %s)", f.platform, host)
		}
	}
	if f.os != "" && f.os != "linux" {
		return fmt.Errorf("build --os %s is not supported yet (this machine builds linux)", f.os)
	}
	if f.arch != "" && f.arch != goruntime.GOARCH {
		return fmt.Errorf("build --arch %s is not supported yet (this machine builds %s)", f.arch, goruntime.GOARCH)
	}
	if f.variant != "" && goruntime.GOARCH != "arm" && goruntime.GOARCH != "arm64" {
		return fmt.Errorf("build --variant %s: %s has no variants", f.variant, goruntime.GOARCH)
	}
	return nil
}
