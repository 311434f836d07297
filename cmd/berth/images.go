package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/berth-containers/berth/libpod"
	"github.com/berth-containers/berth/pkg/image"
	"github.com/spf13/cobra"
	"go.podman.io/image/v5/types"
)

// newImageCommand is `berth image` with its subcommands.
func newImageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cobra.ArbitraryArgs,
		RunE:  subCommandExists,
	}
	ls := newImagesCommand("ls")
	ls.Aliases = []string{"list"}
	cmd.AddCommand(ls, newPullCommand(), newPushCommand(), newRmiCommand("rm"),
		newTagCommand(), newUntagCommand(), newImageExistsCommand())
	cmd.AddCommand(imageSubcommands()...)
	return cmd
}

// imageAliases are the top-level spellings podman offers.
func imageAliases() []*cobra.Command {
	return append([]*cobra.Command{newImagesCommand("images"), newPullCommand(), newPushCommand(),
		newRmiCommand("rmi"), newTagCommand(), newUntagCommand()}, topLevelImageCommands()...)
}

// signalContext is cancelled on SIGINT/SIGTERM so copies clean up.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func imageRuntime() (*image.Runtime, error) {
	return runtime().Images()
}

// lookupImage finds a local image by name or ID.
func lookupImage(name string) (*image.Runtime, *storageImage, error) {
	ir, err := imageRuntime()
	if err != nil {
		return nil, nil, err
	}
	img, err := ir.Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	return ir, img, nil
}

// registryFlags are the flags pull, push and login share.
type registryFlags struct {
	tlsVerify       bool
	authFile        string
	creds           string
	certDir         string
	signaturePolicy string
}

func (f *registryFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when contacting registries")
	fl.StringVar(&f.authFile, "authfile", os.Getenv("REGISTRY_AUTH_FILE"), "path of the authentication file")
	fl.StringVar(&f.creds, "creds", "", "use `[username[:password]]` for accessing the registry")
	fl.StringVar(&f.certDir, "cert-dir", "", "`pathname` of a directory containing TLS certificates and keys")
	fl.StringVar(&f.signaturePolicy, "signature-policy", "", "`pathname` of signature policy file (not usually used)")
	_ = fl.MarkHidden("signature-policy")
}

func (f *registryFlags) options(cmd *cobra.Command) image.CopyOptions {
	o := image.CopyOptions{AuthFile: f.authFile, Creds: f.creds, CertDir: f.certDir, SignaturePolicy: f.signaturePolicy}
	if cmd.Flags().Changed("tls-verify") {
		o.TLSVerify = types.NewOptionalBool(f.tlsVerify)
	}
	return o
}

func newPullCommand() *cobra.Command {
	var rf registryFlags
	var quiet, allTags bool
	cmd := &cobra.Command{
		Use:   "pull [options] IMAGE [IMAGE...]",
		Short: "Pull an image from a registry",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if allTags {
				return errors.New("--all-tags is not supported yet")
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			opts := rf.options(cmd)
			if !quiet {
				opts.Progress = os.Stderr
			}
			for _, name := range args {
				img, err := ir.Pull(ctx, name, opts)
				if err != nil {
					return err
				}
				fmt.Println(img.ID)
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress output information when pulling images")
	cmd.Flags().BoolVarP(&allTags, "all-tags", "a", false, "all tagged images in the repository will be pulled")
	return cmd
}

func newPushCommand() *cobra.Command {
	var rf registryFlags
	var quiet, removeSignatures bool
	var format string
	cmd := &cobra.Command{
		Use:   "push [options] IMAGE [DESTINATION]",
		Short: "Push an image to a specified destination",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			opts := image.PushOptions{CopyOptions: rf.options(cmd), Format: format}
			opts.RemoveSignatures = removeSignatures
			if !quiet {
				opts.Progress = os.Stderr
			}
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			return ir.Push(ctx, args[0], dest, opts)
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress output information when pushing images")
	cmd.Flags().BoolVar(&removeSignatures, "remove-signatures", false, "discard any pre-existing signatures in the image")
	cmd.Flags().StringVarP(&format, "format", "f", "", "manifest type (oci, v2s2) to use in the destination")
	return cmd
}

func newRmiCommand(use string) *cobra.Command {
	var force, all, ignore bool
	cmd := &cobra.Command{
		Use:   use + " [options] IMAGE [IMAGE...]",
		Short: "Remove one or more images from local storage",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return errors.New("image name or ID must be specified")
			}
			if len(args) > 0 && all {
				return errors.New("when using the --all switch, you may not pass any images names or IDs")
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			// rmi -a removes every image whatever its names; it is not
			// rmi -a -f: an image a container uses is refused (exit 2).
			remove := ir.Remove
			if all {
				list, err := ir.List()
				if err != nil {
					return err
				}
				for _, s := range list {
					args = append(args, s.ID)
				}
				remove = ir.RemoveAll
			}
			// podman: 1 when an image is not known, 2 when one is in use;
			// --force ignores unknown images too. What was untagged and
			// deleted is printed at the end, as podman's report is.
			var errs []error
			var untagged, deleted []string
			code := 0
			for _, name := range args {
				if force {
					// berth's own containers go through the engine, so that
					// their state, monitors and networks go too; other
					// tools' go with the image, from storage.
					if err := removeContainersOf(ir, name); err != nil {
						return err
					}
				}
				rep, err := remove(name, force)
				if err != nil {
					switch {
					case errors.Is(err, image.ErrNotFound):
						if ignore || force {
							continue
						}
						code = max(code, 1)
					case errors.Is(err, image.ErrInUse):
						code = max(code, 2)
					default:
						code = 125
					}
					errs = append(errs, err)
					continue
				}
				untagged = append(untagged, rep.Untagged...)
				deleted = append(deleted, rep.Deleted...)
			}
			for _, n := range untagged {
				fmt.Println("Untagged: " + n)
			}
			for _, id := range deleted {
				fmt.Println("Deleted: " + id)
			}
			if len(errs) == 0 {
				return nil
			}
			return &exitError{code: code, err: joinErrors(errs)}
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove the image and any containers using it")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove all images")
	cmd.Flags().BoolVarP(&ignore, "ignore", "i", false, "ignore errors if a specified image does not exist")
	return cmd
}

func newTagCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tag IMAGE TARGET_NAME [TARGET_NAME...]",
		Short: "Add an additional name to a local image",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, img, err := lookupImage(args[0])
			if err != nil {
				return err
			}
			for _, name := range args[1:] {
				if err := ir.Tag(img, name); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func newUntagCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "untag IMAGE [NAME...]",
		Short: "Remove a name from a local image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, img, err := lookupImage(args[0])
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return ir.Untag(img, "")
			}
			for _, name := range args[1:] {
				if err := ir.Untag(img, name); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func newImageExistsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "exists IMAGE",
		Short: "Check if an image exists in local storage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			if _, err := ir.Lookup(args[0]); err != nil {
				if errors.Is(err, image.ErrNotFound) {
					return &exitError{code: 1, err: errors.New("")}
				}
				return err
			}
			return nil
		},
	}
}

// removeContainersOf force-removes berth's containers that use the image.
func removeContainersOf(ir *image.Runtime, name string) error {
	img, err := ir.Lookup(name)
	if err != nil {
		return nil // reported by Remove
	}
	cs, err := runtime().Containers()
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Config.ImageID == img.ID {
			if err := runtime().RemoveContainer(c, libpod.RemoveOptions{Force: true}); err != nil {
				return fmt.Errorf("removing container %s that uses image %s: %w", c.Name(), name, err)
			}
		}
	}
	return nil
}

// joinErrors is podman's errorhandling.JoinErrors: one error as it is,
// several as "N errors occurred:" and a list.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = "* " + e.Error()
	}
	return fmt.Errorf("%d errors occurred:\n\t%s", len(errs), strings.Join(lines, "\n\t"))
}
