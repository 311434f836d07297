package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-containers/berth/buildah"
	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/image"
	"github.com/docker/go-units"
	"github.com/spf13/cobra"
	"go.podman.io/storage/pkg/stringid"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// imageSubcommands are the `berth image` subcommands beyond the basics.
func imageSubcommands() []*cobra.Command {
	return []*cobra.Command{newImageInspectCommand(), newHistoryCommand(), newImagePruneCommand(),
		newSaveCommand(), newLoadCommand(), newImportCommand(), newImageMountCommand(), newImageUnmountCommand("unmount")}
}

// topLevelImageCommands are their top-level spellings.
func topLevelImageCommands() []*cobra.Command {
	return []*cobra.Command{newHistoryCommand(), newSaveCommand(), newLoadCommand(),
		newImportCommand(), newInspectCommand()}
}

func newImageInspectCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [options] IMAGE [IMAGE...]",
		Short: "Display the configuration of an image",
		Args:  requireArgs(1, "no names or ids specified"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return inspectImages(args, format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "json", "format the output using the given Go template or json")
	return cmd
}

// newInspectCommand is the top-level `inspect`: containers and images.
func newInspectCommand() *cobra.Command {
	var format, typ string
	var size, latest bool
	cmd := &cobra.Command{
		Use:   "inspect [options] {CONTAINER|IMAGE} [...]",
		Short: "Display the configuration of object denoted by ID",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !latest {
				return errors.New("no names or ids specified")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if latest && typ != "container" && typ != "all" {
				return fmt.Errorf("--latest is only supported for containers, not %s", typ)
			}
			switch typ {
			case "image":
				return inspectImages(args, format)
			case "container":
				return printContainerInspect(args, format, latest, size)
			case "all":
				if latest {
					return printContainerInspect(args, format, latest, size)
				}
				return inspectAll(args, format, size)
			case "pod", "volume", "network":
				return fmt.Errorf("inspecting objects of type %q is not supported yet", typ)
			}
			return fmt.Errorf(`invalid type %q: the only recognized types are "container", "image", "volume", "network", "pod", and "all"`, typ)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "json", "format the output using the given Go template or json")
	cmd.Flags().StringVarP(&typ, "type", "t", "all", "specify inspect-object type (\"image\", \"container\" or \"all\")")
	cmd.Flags().BoolVarP(&size, "size", "s", false, "display total file size (containers only)")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container berth is aware of")
	return cmd
}

// inspectImages prints the images found as podman does (a JSON array, or
// the template once per image), then fails for any that were not.
func inspectImages(names []string, format string) error {
	ir, err := imageRuntime()
	if err != nil {
		return err
	}
	var found []*image.InspectData
	var errs []error
	for _, name := range names {
		img, err := ir.Lookup(name)
		if err != nil {
			if errors.Is(err, image.ErrNotFound) {
				err = fmt.Errorf("no such image %s", name)
			}
			errs = append(errs, err)
			continue
		}
		data, err := ir.Inspect(img)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, data)
	}
	// podman's image inspect takes docker's .Config.Healthcheck for its own .HealthCheck
	if err := printInspected(strings.ReplaceAll(format, ".Config.Healthcheck", ".HealthCheck"), found); err != nil {
		return err
	}
	return lastError(errs)
}

// printEach renders the template once per object.
func printEach[T any](format string, objects []T) error {
	for _, o := range objects {
		if err := printTemplate(format, o); err != nil {
			return err
		}
	}
	return nil
}

// lastError prints all but the last error and returns the last, as podman
// reports several failed names.
func lastError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintln(os.Stderr, "Error:", e)
	}
	return errs[len(errs)-1]
}

// printInspectJSON indents as podman's inspect does (five spaces).
func printInspectJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "     ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// historyRow is one line of `berth history`; its fields and methods are
// the --format names.
type historyRow struct {
	e       image.HistoryEntry
	noTrunc bool
	human   bool
}

func (h historyRow) ID() string {
	if !h.noTrunc && h.e.ID != "<missing>" {
		return stringid.TruncateID(h.e.ID)
	}
	return h.e.ID
}

func (h historyRow) Created() string {
	if h.e.Created == nil {
		return ""
	}
	if h.human {
		return units.HumanDuration(time.Since(*h.e.Created)) + " ago"
	}
	return h.e.Created.Format(time.RFC3339)
}

func (h historyRow) CreatedSince() string { return h.Created() }

func (h historyRow) CreatedAt() string {
	if h.e.Created == nil {
		return ""
	}
	return time.Unix(h.e.Created.Unix(), 0).UTC().String()
}

func (h historyRow) CreatedBy() string {
	if !h.noTrunc && len(h.e.CreatedBy) > 45 {
		return h.e.CreatedBy[:42] + "..."
	}
	return h.e.CreatedBy
}

func (h historyRow) Size() string    { return humanSize(h.e.Size) }
func (h historyRow) Comment() string { return h.e.Comment }
func (h historyRow) Tags() []string  { return h.e.Tags }

var historyHeaders = map[string]string{
	"ID": "ID", "Created": "CREATED", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
	"CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT", "Tags": "TAGS",
}

// historyJSON is podman's `history --format json` element (with its
// second, RFC 3339 "Created").
type historyJSON struct {
	ID         string     `json:"id"`
	Created    *time.Time `json:"created,omitempty"`
	CreatedBy  string     `json:"CreatedBy,omitempty"`
	Tags       []string   `json:"tags,omitempty"`
	Size       int64      `json:"size"`
	Comment    string     `json:"comment,omitempty"`
	CreatedStr string     `json:"Created"`
}

func newHistoryCommand() *cobra.Command {
	var human, noTrunc, quiet bool
	var format string
	cmd := &cobra.Command{
		Use:   "history [options] IMAGE",
		Short: "Show history of a specified image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, img, err := lookupImage(args[0])
			if err != nil {
				return err
			}
			entries, err := ir.History(img)
			if err != nil {
				return err
			}
			if format == "json" {
				out := make([]historyJSON, 0, len(entries))
				for _, e := range entries {
					j := historyJSON{ID: e.ID, Created: e.Created, CreatedBy: e.CreatedBy,
						Size: e.Size, Comment: e.Comment, Tags: e.Tags}
					if e.Created != nil {
						j.CreatedStr = e.Created.Format(time.RFC3339)
					}
					out = append(out, j)
				}
				return json.NewEncoder(os.Stdout).Encode(out)
			}
			rows := make([]historyRow, 0, len(entries))
			for _, e := range entries {
				rows = append(rows, historyRow{e: e, noTrunc: noTrunc, human: human})
			}
			if quiet {
				for _, r := range rows {
					fmt.Println(r.ID())
				}
				return nil
			}
			if format == "" {
				format = "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
			}
			return printRows(os.Stdout, format, rows, historyHeaders)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&human, "human", "H", true, "display sizes and dates in human readable format")
	fl.BoolVar(&noTrunc, "no-trunc", false, "do not truncate the output")
	fl.BoolVar(&noTrunc, "notruncate", false, "do not truncate the output")
	_ = fl.MarkHidden("notruncate")
	fl.BoolVarP(&quiet, "quiet", "q", false, "display the numeric IDs only")
	fl.StringVar(&format, "format", "", "change the output to JSON or a Go template")
	return cmd
}

func newImagePruneCommand() *cobra.Command {
	var all, force, buildCache bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove unused images",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			match, err := parseImageFilters(ir, filters)
			if err != nil {
				return err
			}
			if !force {
				what := "all dangling images"
				if all {
					what = "all images without at least one container associated with them"
				}
				ok, err := askYesNo(fmt.Sprintf("WARNING! This command removes %s.\nAre you sure you want to continue? [y/N] ", what))
				if err != nil || !ok {
					return err
				}
			}
			removed, err := ir.Prune(image.PruneOptions{All: all, Filter: match})
			for _, id := range removed {
				fmt.Println(id)
			}
			if err != nil || !buildCache {
				return err
			}
			_, err = buildah.PruneCaches(ir.Store().GraphRoot())
			return err
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "remove all images not in use by containers, not just dangling ones")
	fl.BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	fl.StringArrayVar(&filters, "filter", nil, "provide filter values (e.g. 'label=<key>=<value>')")
	fl.BoolVar(&buildCache, "build-cache", false, "remove persistent volume caches created by --mount=type=cache")
	return cmd
}

// askYesNo asks on stdout and reads a y/N answer from stdin, as podman's
// prune commands: an answer that starts with y or Y is yes; stdin closed
// before a whole line was read is an error ("EOF", exit 125).
func askYesNo(prompt string) (bool, error) {
	fmt.Print(prompt)
	answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return false, err
	}
	return strings.HasPrefix(strings.ToLower(answer), "y"), nil
}

func newSaveCommand() *cobra.Command {
	var output, format string
	var quiet, multi, compress, uncompressed bool
	cmd := &cobra.Command{
		Use:   "save [options] IMAGE [IMAGE...]",
		Short: "Save image(s) to an archive",
		Args:  requireArgs(1, "need at least 1 argument"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dirFormat := format == image.FormatOCIDir || format == image.FormatDockerDir
			if compress && format != image.FormatDockerDir {
				return errors.New("--compress can only be set when --format is docker-dir")
			}
			if output == "" {
				if dirFormat {
					return fmt.Errorf("--format %s writes a directory: pass it with --output", format)
				}
				if term.IsTerminal(int(os.Stdout.Fd())) {
					return errors.New("refusing to save to terminal. Use -o flag or redirect")
				}
				quiet = true
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			opts := image.SaveOptions{Format: format, MultiImage: multi, Compress: compress,
				OCIAcceptUncompressedLayers: uncompressed}
			if !quiet {
				opts.Progress = os.Stderr
			}
			save := func(path string) error { return ir.Save(ctx, args, path, opts) }
			if output == "" {
				return saveToStdout(save)
			}
			return save(output)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "", "write to a specified file (default: stdout, which must be redirected)")
	fl.StringVar(&format, "format", image.FormatDockerArchive, "save image to docker-archive, oci-archive (OCI layout in a tar), oci-dir (OCI layout directory) or docker-dir (directory with v2s2 manifest)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "suppress the output")
	fl.BoolVarP(&multi, "multi-image-archive", "m", false, "interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)")
	fl.BoolVar(&compress, "compress", false, "compress tarball image layers when saving to a directory using the 'dir' transport")
	fl.BoolVar(&uncompressed, "uncompressed", false, "accept uncompressed layers when copying OCI images")
	return cmd
}

// saveToStdout lets save write into a fifo whose contents go to stdout, so
// that the archive streams instead of landing in a temporary file first.
func saveToStdout(save func(path string) error) error {
	dir, err := os.MkdirTemp("", "berth-save-")
	if err != nil {
		return fmt.Errorf("creating temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	fifo := filepath.Join(dir, "archive")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return fmt.Errorf("creating pipe %s: %w", fifo, err)
	}
	// Both ends are open before save starts: the read end first (not
	// blocking, as nothing writes yet), then a write end held until save
	// returns, so that the reader sees the end of the archive only then,
	// whether or not save opened the pipe (it does not on an early error).
	rfd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening pipe %s: %w", fifo, err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err == nil {
		err = unix.SetNonblock(rfd, false)
	}
	r := os.NewFile(uintptr(rfd), fifo) // a blocking fd: read by a plain read(2)
	defer r.Close()
	if err != nil {
		if w != nil {
			_ = w.Close()
		}
		return fmt.Errorf("opening pipe %s: %w", fifo, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(os.Stdout, r)
		done <- err
	}()
	err = save(fifo)
	_ = w.Close()
	if cerr := <-done; cerr != nil && err == nil {
		err = fmt.Errorf("writing to stdout: %w", cerr)
	}
	return err
}

func newLoadCommand() *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [options]",
		Short: "Load image(s) from a tar archive",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := image.LoadOptions{}
			if input == "" {
				if term.IsTerminal(int(os.Stdin.Fd())) {
					return errors.New("cannot read from terminal, use command-line redirection or the --input flag")
				}
				opts.Stdin = os.Stdin
			}
			if !quiet {
				opts.Progress = os.Stderr
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			names, err := ir.Load(ctx, input, opts)
			for _, n := range names {
				fmt.Println("Loaded image: " + n)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&input, "input", "i", "", "read from specified archive file (default: stdin)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "suppress the output")
	return cmd
}

func newImportCommand() *cobra.Command {
	var opts image.ImportOptions
	var quiet bool
	cmd := &cobra.Command{
		Use:   "import [options] PATH [REFERENCE]",
		Short: "Import a tarball to create a filesystem image",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			if args[0] == "-" {
				opts.Stdin = os.Stdin
			}
			if !quiet {
				opts.Progress = os.Stderr
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			img, err := ir.Import(ctx, args[0], name, opts)
			if err != nil {
				return err
			}
			fmt.Println("sha256:" + img.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&opts.Changes, "change", "c", nil, "apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR")
	fl.StringVarP(&opts.Message, "message", "m", "", "set commit message for imported image")
	fl.BoolVarP(&quiet, "quiet", "q", false, "suppress output")
	fl.StringVar(&opts.OS, "os", "", "set the OS of the imported image")
	fl.StringVar(&opts.Arch, "arch", "", "set the architecture of the imported image")
	fl.StringVar(&opts.Variant, "variant", "", "set the variant of the imported image")
	return cmd
}

// inspectAll looks each name up as a container, then as an image, as podman does.
func inspectAll(names []string, format string, size bool) error {
	var found []any
	var errs []error
	for _, name := range names {
		if c, err := runtime().LookupContainer(name); err == nil {
			d, err := c.Inspect(libpod.InspectOptions{Size: size})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			found = append(found, d)
			continue
		}
		ir, err := imageRuntime()
		if err != nil {
			return err
		}
		img, err := ir.Lookup(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("no such object: %q", name))
			continue
		}
		data, err := ir.Inspect(img)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, data)
	}
	if err := printInspected(format, found); err != nil {
		return err
	}
	return lastError(errs)
}
