package main

import (
	"errors"
	"fmt"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/berth-containers/berth/rootless"
	"github.com/spf13/cobra"
	"go.podman.io/storage/pkg/stringid"
)

func newImageMountCommand() *cobra.Command {
	var all bool
	var format string
	cmd := &cobra.Command{
		Use:   "mount [options] [IMAGE...]",
		Short: "Mount an image's root filesystem",
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootless.IsRootless() && !inUnshare() {
				return errors.New("cannot run command \"berth image mount\" in rootless mode, must execute `berth unshare` first")
			}
			if format != "" && format != "json" {
				return errors.New("only supported value for '--format' is 'json'")
			}
			if len(args) > 0 && all {
				return errors.New("when using the --all switch, you may not pass any image names or IDs")
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			if all {
				list, err := ir.List()
				if err != nil {
					return err
				}
				for _, s := range list {
					args = append(args, s.ID)
				}
			}
			for _, name := range args {
				img, err := ir.Lookup(name)
				if err != nil {
					return err
				}
				p, err := ir.Mount(img)
				if err != nil {
					return err
				}
				if !all && format == "" {
					fmt.Println(p)
				}
			}
			if len(args) > 0 && !all && format == "" {
				return nil
			}
			// no image named (or --all): what is mounted, as podman lists it
			mounted, err := ir.Mounted()
			if err != nil {
				return err
			}
			if format == "json" {
				type entry struct {
					ID           string   `json:"id"`
					Names        []string `json:"Names"`
					Repositories []string `json:"Repositories"`
					Mountpoint   string   `json:"mountpoint"`
				}
				out := []entry{}
				for _, m := range mounted {
					out = append(out, entry{ID: m.ID, Names: []string{m.Name}, Repositories: []string{m.Name}, Mountpoint: m.Path})
				}
				return printJSON(out)
			}
			for _, m := range mounted {
				name := m.Name
				if name == "" {
					name = stringid.TruncateID(m.ID)
				}
				fmt.Printf("%s %s\n", name, m.Path)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "mount all images")
	cmd.Flags().StringVar(&format, "format", "", "print the mounted images in specified format (json)")
	return cmd
}

func newImageUnmountCommand(use string) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:     use + " [options] IMAGE [IMAGE...]",
		Aliases: []string{"umount"},
		Short:   "Unmount an image's root filesystem",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return errors.New("image name or ID must be specified")
			}
			if len(args) > 0 && all {
				return errors.New("when using the --all switch, you may not pass any image names or IDs")
			}
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			if all {
				mounted, err := ir.Mounted()
				if err != nil {
					return err
				}
				for _, m := range mounted {
					args = append(args, m.ID)
				}
				force = true
			}
			for _, name := range args {
				img, err := ir.Lookup(name)
				if err != nil {
					if errors.Is(err, image.ErrNotFound) {
						return fmt.Errorf("%s: image not known", name)
					}
					return err
				}
				done, err := ir.Unmount(img, force)
				if err != nil {
					return err
				}
				if done {
					fmt.Println(img.ID)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "unmount all of the currently mounted images")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "force the complete unmount of the specified mounted images")
	return cmd
}
