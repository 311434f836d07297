package buildah

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/pkg/parse"
	"github.com/berth-containers/berth/pkg/specgen"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/stringid"
)

// defaultShell runs shell forms of RUN, CMD and ENTRYPOINT.
var defaultShell = []string{"/bin/sh", "-c"}

// stage is one stage of the Containerfile being built.
type stage struct {
	b     *builder
	index int
	// lex expands variables; the stage's own (a Lex is not safe for
	// concurrent use, and stages may run in parallel).
	lex *shell.Lex
	st  *instructions.Stage
	// target: this stage's image is the build's result.
	target bool
	prefix string // "[2/3] " when several stages are built

	cfg *dockerspec.DockerOCIImage
	// imageID is the image the next step starts from ("" for scratch);
	// topLayer is its top layer.
	imageID, topLayer string
	args              *argList
	shell             []string
	cmdSet            bool
	ws                *workspace
	step, steps       int
	// baseHistory is the length of the history of imageID (the image
	// the next commit starts from).
	baseHistory int
	// committed: the final image was committed (COMMIT reported).
	committed bool
}

func (b *builder) buildStage(i, n int, target bool) (string, error) {
	st := &b.df.stages[i]
	s := &stage{b: b, index: i, st: st, target: target, args: newArgList(), steps: len(st.Commands) + 1,
		lex: shell.NewLex(b.df.escape)}
	if b.stageTotal > 1 {
		s.prefix = fmt.Sprintf("[%d/%d] ", n+1, b.stageTotal)
	}
	defer s.dropWorkspace()
	s.step = 1
	s.report("STEP %d/%d: %s", s.step, s.steps, st.SourceCode)
	if err := s.from(); err != nil {
		var ce *createError
		if errors.As(err, &ce) {
			return "", err // podman names no step for it
		}
		return "", &StepError{Step: st.SourceCode, Err: err}
	}
	if err := s.onbuildTriggers(); err != nil {
		return "", err
	}
	for k, cmd := range st.Commands {
		s.step = k + 2
		s.report("STEP %d/%d: %s", s.step, s.steps, commandText(cmd))
		last := k == len(st.Commands)-1
		if err := s.run(cmd, last); err != nil {
			var se *StepError
			if errors.As(err, &se) {
				return "", err
			}
			return "", &StepError{Step: commandText(cmd), Err: err}
		}
	}
	if len(st.Commands) == 0 || !b.o.Layers {
		if err := s.finish(); err != nil {
			return "", err
		}
	}
	return s.imageID, nil
}

func (s *stage) report(format string, args ...any) {
	fmt.Fprintf(s.b.out, s.prefix+format+"\n", args...)
}

// from sets the stage's starting point: a stage built before, scratch, or
// an image (pulled if needed).
func (s *stage) from() error {
	b := s.b
	base, _, err := s.lex.ProcessWord(s.st.BaseName, envGetter{args: b.global})
	if err != nil {
		return b.df.errorAtStage(s.st, "%v", err)
	}
	if base == "" {
		return b.df.errorAtStage(s.st, "FROM names no image (%q expands to nothing)", s.st.BaseName)
	}
	if s.st.Platform != "" {
		plat, _, err := s.lex.ProcessWord(s.st.Platform, envGetter{args: b.global})
		if err != nil {
			return b.df.errorAtStage(s.st, "%v", err)
		}
		if want := platformArgs()["TARGETPLATFORM"]; plat != want && plat != "linux/amd64/v1" {
			return b.df.errorAtStage(s.st, "FROM --platform=%s is not supported yet (this machine builds %s)", plat, want)
		}
	}
	if dir, ok := b.namedDir(base); ok {
		return s.fromDir(base, dir)
	}
	if id, ok, err := b.namedImage(base); ok {
		if err != nil {
			return err
		}
		img, err := b.store.Image(id)
		if err != nil {
			return err
		}
		return s.fromImage(img)
	}
	if j, ok := b.df.stageByName(base, s.index); ok {
		id, built := b.result(j)
		if !built {
			return b.df.errorAtStage(s.st, "stage %q was not built", base)
		}
		img, err := b.store.Image(id)
		if err != nil {
			return err
		}
		return s.fromImage(img)
	}
	if strings.EqualFold(base, "scratch") {
		s.fromScratch()
		return nil
	}
	img, err := b.o.Pull(b.ctx, base)
	if err != nil {
		return &createError{err}
	}
	return s.fromImage(img)
}

// fromScratch starts the stage from nothing.
func (s *stage) fromScratch() {
	os, arch, variant := hostPlatform()
	now := s.b.createdTime()
	s.cfg = &dockerspec.DockerOCIImage{}
	s.cfg.Created = &now
	s.cfg.Platform = ociv1.Platform{OS: os, Architecture: arch, Variant: variant}
	s.cfg.RootFS.Type = "layers"
	s.cfg.RootFS.DiffIDs = []digest.Digest{}
	s.cfg.Config.Env = defaultPath(nil)
	s.shell = defaultShell
}

// fromDir starts the stage from a --build-context directory: its files
// are the first layer, committed as an image of its own so that the next
// steps' cache keys know which files they started from.
func (s *stage) fromDir(name, dir string) error {
	s.fromScratch()
	layer, err := s.b.images.PutTree(dir, s.b.layerTimes())
	if err != nil {
		return fmt.Errorf("the build context %s: %w", name, err)
	}
	s.topLayer = layer.ID
	s.cfg.RootFS.DiffIDs = append(s.cfg.RootFS.DiffIDs, layer.UncompressedDigest)
	s.cfg.History = append(s.cfg.History, ociv1.History{Created: s.cfg.Created, CreatedBy: "/bin/sh -c #(nop) FROM " + name})
	img, err := s.commitImage(s.b.cacheKey("dir:"+layer.ID, "FROM "+name, s.args), false)
	if err != nil {
		return err
	}
	s.imageID = img.ID
	return nil
}

func (s *stage) fromImage(img *storage.Image) error {
	cfg, err := s.b.images.DockerConfig(img)
	if err != nil {
		return err
	}
	s.cfg = cfg
	s.imageID, s.topLayer = img.ID, img.TopLayer
	s.baseHistory = len(cfg.History)
	if cfg.RootFS.Type == "" {
		cfg.RootFS.Type = "layers"
	}
	cfg.Config.Env = defaultPath(cfg.Config.Env)
	s.shell = defaultShell
	if len(cfg.Config.Shell) > 0 {
		s.shell = cfg.Config.Shell
	}
	return nil
}

// onbuildTriggers runs the base image's ONBUILD instructions (docker
// format images only have them), then clears them.
func (s *stage) onbuildTriggers() error {
	triggers := s.cfg.Config.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	s.cfg.Config.OnBuild = nil
	for _, t := range triggers {
		res, err := parser.Parse(strings.NewReader(t))
		if err != nil || len(res.AST.Children) != 1 {
			return &StepError{Step: s.st.SourceCode, Err: fmt.Errorf("the base image's ONBUILD trigger %q: %v", t, err)}
		}
		cmd, err := instructions.ParseCommand(res.AST.Children[0])
		if err != nil {
			return &StepError{Step: s.st.SourceCode, Err: fmt.Errorf("the base image's ONBUILD trigger %q: %w", t, err)}
		}
		if err := s.b.df.checkCommand(cmd, true); err != nil {
			return &StepError{Step: s.st.SourceCode, Err: err}
		}
		s.report("%s", "ONBUILD "+t)
		if err := s.run(cmd, false); err != nil {
			return &StepError{Step: "ONBUILD " + t, Err: err, ExitCode: ExitCode(err)}
		}
	}
	return nil
}

// expander expands variables in a word as docker does: ENV first, then ARG.
func (s *stage) expander() instructions.SingleWordExpander {
	return func(word string) (string, error) {
		res, _, err := s.lex.ProcessWord(word, envGetter{env: s.cfg.Config.Env, args: s.args})
		return res, err
	}
}

// run executes one instruction: its effect on the configuration and the
// builder's state, then (on a cache miss) its effect on files, and, with
// layers, the commit of an image for it.
func (s *stage) run(cmd instructions.Command, last bool) error {
	b := s.b
	text := commandText(cmd)
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := ex.Expand(s.expander()); err != nil {
			return b.df.errorAt(cmd, "%v", err)
		}
	}
	var (
		fs      bool // the step changes files
		extra   []string
		history string // created_by
		copyOp  *copyPlan
		runOp   *runPlan
	)
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		fs = true
		p, err := s.planRun(c)
		if err != nil {
			return err
		}
		runOp = p
		extra = append(extra, p.key...)
		history = s.runHistory(c)
	case *instructions.CopyCommand, *instructions.AddCommand:
		fs = true
		p, err := s.planCopy(cmd)
		if err != nil {
			return err
		}
		defer p.cleanup() // the step's downloads and here-documents
		copyOp = p
		extra = append(extra, p.cacheDigest())
		history = p.history()
	default:
		h, err := s.apply(cmd)
		if err != nil {
			return err
		}
		history = "/bin/sh -c #(nop) " + h
	}
	final := last && s.target
	if final {
		labels, err := s.finalLabels()
		if err != nil {
			return err
		}
		extra = append(extra, labels...)
		extra = append(extra, b.o.Annotations...)
		if b.o.SquashAll {
			extra = append(extra, "squash-all")
		}
	}
	key := b.cacheKey(s.imageID, text, s.args, extra...)
	if img, ok := b.cached(key); ok {
		s.report("--> Using cache %s", img.ID)
		if err := s.adopt(img); err != nil {
			return err
		}
		return s.stepDone(img, final)
	}
	now := b.createdTime()
	start := time.Now()
	defer func() { logrus.Debugf("build: step %d/%d took %s", s.step, s.steps, time.Since(start)) }()
	// without layers, the stage's last entry gets its one layer (finish)
	entry := ociv1.History{Created: &now, CreatedBy: history, EmptyLayer: !fs || !b.o.Layers}
	if fs {
		ws, err := s.workspace()
		if err != nil {
			return err
		}
		if err := s.ensureWorkdir(ws); err != nil {
			return err
		}
		switch c := cmd.(type) {
		case *instructions.RunCommand:
			if err := s.execRun(c, runOp, ws); err != nil {
				return err
			}
		default:
			if err := s.execCopy(copyOp, ws); err != nil {
				return err
			}
		}
	}
	s.cfg.Created = &now
	s.cfg.History = append(s.cfg.History, entry)
	if !b.o.Layers {
		return nil
	}
	switch {
	case final && b.o.SquashAll:
		if err := s.squashAll(); err != nil {
			return err
		}
		fs = true // the squashed layer is this step's
	case fs:
		logrus.Debugf("build: step %d ran in %s", s.step, time.Since(start))
		if err := s.commitLayer(); err != nil {
			return err
		}
		logrus.Debugf("build: step %d layer committed at %s", s.step, time.Since(start))
	}
	if final {
		if err := s.applyFinalLabels(); err != nil {
			return err
		}
		s.reportCommit()
	}
	img, err := s.commitImage(key, final)
	if err != nil {
		if fs {
			// the step's layer belongs to no image
			_ = b.store.DeleteLayer(s.topLayer)
		}
		return err
	}
	return s.stepDone(img, final)
}

// stepDone records the step's image and reports it.
func (s *stage) stepDone(img *storage.Image, final bool) error {
	s.imageID, s.topLayer = img.ID, img.TopLayer
	s.baseHistory = len(s.cfg.History)
	if final {
		return s.tag(img)
	}
	s.report("--> %s", buildahShortID(img.ID))
	return nil
}

func (s *stage) reportCommit() {
	if s.b.o.CommitName != "" {
		s.report("COMMIT %s", s.b.o.CommitName)
	} else {
		s.report("COMMIT")
	}
}

// tag names the final image and reports it.
func (s *stage) tag(img *storage.Image) error {
	if len(s.b.o.Tags) > 0 {
		if err := s.b.store.AddNames(img.ID, s.b.o.Tags); err != nil {
			return fmt.Errorf("tagging image %s: %w", stringid.TruncateID(img.ID), err)
		}
	}
	// a cached final step reports its COMMIT after "Using cache"
	if !s.committed {
		s.reportCommit()
	}
	s.report("--> %s", buildahShortID(img.ID))
	for _, t := range s.b.o.Tags {
		fmt.Fprintf(s.b.out, "Successfully tagged %s\n", t)
	}
	return nil
}

// adopt continues from a cached step's image.
func (s *stage) adopt(img *storage.Image) error {
	cfg, err := s.b.images.DockerConfig(img)
	if err != nil {
		return err
	}
	// what OCI images cannot carry stays as the build set it
	cfg.Config.Shell, cfg.Config.OnBuild, cfg.Config.Healthcheck = s.cfg.Config.Shell, s.cfg.Config.OnBuild, s.cfg.Config.Healthcheck
	s.cfg = cfg
	s.dropWorkspace()
	return nil
}

// finish commits a stage built without layers (or with no instruction).
func (s *stage) finish() error {
	b := s.b
	squash := s.target && b.o.SquashAll
	if len(s.st.Commands) == 0 && b.o.Layers {
		// FROM alone: the base image is the result, unless labels change it
		labels, err := s.finalLabels()
		if err != nil {
			return err
		}
		if !s.target || len(labels) == 0 && len(b.o.Annotations) == 0 && !squash {
			if s.imageID == "" {
				return s.finishScratch()
			}
			img, err := b.store.Image(s.imageID)
			if err != nil {
				return err
			}
			if s.target {
				return s.tag(img)
			}
			return nil
		}
		extra := append(append([]string{}, labels...), b.o.Annotations...)
		if squash {
			extra = append(extra, "squash-all")
		}
		key := b.cacheKey(s.imageID, "commit", s.args, extra...)
		if img, ok := b.cached(key); ok {
			s.report("--> Using cache %s", img.ID)
			return s.stepDone(img, true)
		}
		if err := s.applyFinalLabels(); err != nil {
			return err
		}
		now := b.createdTime()
		s.cfg.Created = &now
		if squash {
			if err := s.squashAll(); err != nil {
				return err
			}
		}
		s.reportCommit()
		img, err := s.commitImage(key, true)
		if err != nil {
			return err
		}
		return s.stepDone(img, true)
	}
	// without layers: one layer for everything the stage changed, which
	// podman makes (even empty) for every stage that ran instructions (its
	// own or ONBUILD triggers) and gives to the stage's last history entry
	switch {
	case squash:
		if err := s.squashAll(); err != nil {
			return err
		}
	case len(s.cfg.History) > s.baseHistory:
		if _, err := s.workspace(); err != nil {
			return err
		}
		s.cfg.History[len(s.cfg.History)-1].EmptyLayer = false
		if err := s.commitLayer(); err != nil {
			return err
		}
	}
	if s.target {
		if err := s.applyFinalLabels(); err != nil {
			return err
		}
		s.reportCommit()
	}
	if s.imageID == "" && s.topLayer == "" && len(s.cfg.History) == 0 {
		return s.finishScratch()
	}
	img, err := s.commitImage("", s.target)
	if err != nil {
		return err
	}
	return s.stepDone(img, s.target)
}

// finishScratch makes the image of an empty stage FROM scratch.
func (s *stage) finishScratch() error {
	if s.target {
		s.applyFinalLabels() //nolint:errcheck // checked by finalLabels before
		s.reportCommit()
	}
	img, err := s.commitImage(s.b.cacheKey("scratch", "commit", s.args), s.target)
	if err != nil {
		return err
	}
	return s.stepDone(img, s.target)
}

// commitImage stores the current configuration as an image on the
// current top layer; final images get the build's names (later, in tag)
// and annotations.
func (s *stage) commitImage(key string, final bool) (*storage.Image, error) {
	li := image.LayeredImage{TopLayer: s.topLayer, Config: s.cfg, Format: s.b.o.Format}
	if key != "" {
		li.Metadata = cacheMetadata(key)
	}
	if final {
		ann, err := keyValues(s.b.o.Annotations, "--annotation")
		if err != nil {
			return nil, err
		}
		if len(ann) > 0 {
			if s.b.o.Format != image.FormatOCI {
				logrus.Warn("annotations are not supported for docker format images and will be ignored")
			} else {
				li.Annotations = ann
			}
		}
		s.committed = true
	}
	img, err := s.b.images.CreateLayeredImage(li)
	if err != nil {
		return nil, err
	}
	if img.TopLayer != s.topLayer && s.topLayer != "" {
		// an image with this ID existed (a reproducible build made it
		// before): the layer this build made for it is a duplicate
		if err := s.b.images.DeleteLayerIfUnused(s.topLayer); err != nil {
			logrus.Debugf("build: removing duplicate layer %s: %v", s.topLayer, err)
		}
	}
	s.b.remember(key, img.ID)
	return img, nil
}

// finalLabels are the --label values, checked.
func (s *stage) finalLabels() ([]string, error) {
	if _, err := keyValues(s.b.o.Labels, "--label"); err != nil {
		return nil, err
	}
	return s.b.o.Labels, nil
}

func (s *stage) applyFinalLabels() error {
	m, err := keyValues(s.b.o.Labels, "--label")
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return nil
	}
	if s.cfg.Config.Labels == nil {
		s.cfg.Config.Labels = map[string]string{}
	}
	for k, v := range m {
		s.cfg.Config.Labels[k] = v
	}
	return nil
}

func keyValues(list []string, flag string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid %s %q: want key=value", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// apply carries out an instruction that only changes the configuration
// or the builder's state, and returns its history text.
func (s *stage) apply(cmd instructions.Command) (string, error) {
	b := s.b
	cfg := &s.cfg.Config
	text := commandText(cmd)
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.MaintainerCommand:
		s.cfg.Author = c.Maintainer
	case *instructions.ExposeCommand:
		for _, p := range c.Ports {
			ports, err := exposedPorts(p)
			if err != nil {
				return "", b.df.errorAt(cmd, "%v", err)
			}
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, port := range ports {
				cfg.ExposedPorts[port] = struct{}{}
			}
		}
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			if strings.TrimSpace(v) == "" {
				return "", b.df.errorAt(cmd, "VOLUME specified can not be an empty string")
			}
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.WorkdirCommand:
		p := c.Path
		if !path.IsAbs(p) {
			cur := cfg.WorkingDir
			if cur == "" {
				cur = "/"
			}
			p = path.Join(cur, p)
		}
		cfg.WorkingDir = path.Clean(p)
	case *instructions.StopSignalCommand:
		if _, err := parse.StopSignal(c.Signal); err != nil {
			return "", b.df.errorAt(cmd, "STOPSIGNAL: %v", err)
		}
		cfg.StopSignal = c.Signal
	case *instructions.HealthCheckCommand:
		s.dockerOnly(cmd, "HEALTHCHECK is not supported for OCI image format and will be ignored. Must use `docker` format")
		cfg.Healthcheck = c.Health
	case *instructions.OnbuildCommand:
		s.dockerOnly(cmd, fmt.Sprintf("ONBUILD is not supported for OCI image format, %s will be ignored. Must use `docker` format", c.Expression))
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
	case *instructions.ShellCommand:
		s.dockerOnly(cmd, fmt.Sprintf("SHELL is not supported for OCI image format, %v will be ignored. Must use `docker` format", c.Shell))
		s.shell = c.Shell
		cfg.Shell = c.Shell
	case *instructions.CmdCommand:
		cfg.Cmd = s.commandLine(c.ShellDependantCmdLine)
		s.cmdSet = true
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = s.commandLine(c.ShellDependantCmdLine)
		if !s.cmdSet {
			cfg.Cmd = nil
		}
	case *instructions.ArgCommand:
		var keys []string
		for _, kv := range c.Args {
			value := kv.Value
			if value == nil {
				if v, ok := b.global.get(kv.Key); ok {
					value = &v
				}
			}
			if v, ok := b.o.BuildArgs[kv.Key]; ok {
				v := v
				value = &v
				b.consume(kv.Key)
			}
			s.args.set(kv.Key, value)
			keys = append(keys, kv.Key)
		}
		text = "ARG " + strings.Join(keys, " ")
	default:
		return "", b.df.notSupported(cmd, strings.ToUpper(cmd.Name()))
	}
	return text, nil
}

func (s *stage) dockerOnly(cmd instructions.Command, msg string) {
	if s.b.o.Format == image.FormatOCI {
		logrus.Warn(msg)
	}
}

// commandLine is the argv of CMD or ENTRYPOINT (RUN too): the shell form
// runs through SHELL.
func (s *stage) commandLine(c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return append([]string{}, c.CmdLine...)
	}
	return append(append([]string{}, s.shell...), strings.Join(c.CmdLine, " "))
}

// runHistory is RUN's created_by as podman writes it: the ARG values in
// scope, then "/bin/sh -c" and the command as written (with its flags,
// and the here-documents on the lines after it).
func (s *stage) runHistory(c *instructions.RunCommand) string {
	cmdline := strings.Join(c.CmdLine, " ")
	if !c.PrependShell {
		cmdline = execFormText(c.CmdLine)
	}
	if len(c.FlagsUsed) > 0 || len(c.Files) > 0 {
		text := commandText(c)
		cmdline = strings.TrimLeft(text[min(len(text), len("RUN")):], " \t")
		for _, f := range c.Files {
			cmdline += "\n" + strings.TrimSpace(f.Data)
		}
	}
	args := s.args.withValues()
	if len(args) == 0 {
		return "/bin/sh -c " + cmdline
	}
	return fmt.Sprintf("|%d %s /bin/sh -c %s", len(args), strings.Join(args, " "), cmdline)
}

func execFormText(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// defaultPath puts the default PATH first in env when it has none (as
// podman's build does).
func defaultPath(env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			return env
		}
	}
	return append([]string{"PATH=" + specgen.DefaultPath}, env...)
}

// setEnv sets key in an environment list, replacing an earlier value.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		} else {
			out = append(out, key+"="+value)
			key = "" // replaced in place
		}
	}
	if key != "" {
		out = append(out, key+"="+value)
	}
	return out
}

// exposedPorts reads an EXPOSE word: 80, 80/udp, 8000-8002/tcp.
func exposedPorts(spec string) ([]string, error) {
	portPart, proto, _ := strings.Cut(spec, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("invalid proto: %s", proto)
	}
	lo, hi, isRange := strings.Cut(portPart, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid containerPort: %s", portPart)
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(hi, 10, 16); err != nil || end < start {
			return nil, fmt.Errorf("invalid range specified for port: %s", portPart)
		}
	}
	var out []string
	for p := start; p <= end; p++ {
		out = append(out, fmt.Sprintf("%d/%s", p, proto))
	}
	sort.Strings(out)
	return out, nil
}

// errorAtStage names the FROM line of a stage.
func (d *dockerfile) errorAtStage(st *instructions.Stage, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", d.name, lineOf(st.Location), fmt.Sprintf(format, args...))
}

// buildahShortID is the image ID as buildah 1.28 (podman 4.3's build) prints
// it after "--> ": 11 characters, one fewer than podman's short IDs.
func buildahShortID(id string) string {
	if len(id) > 11 {
		return id[:11]
	}
	return id
}
