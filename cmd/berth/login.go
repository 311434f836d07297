package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/types"
	"golang.org/x/term"
)

func loginSystemContext(cmd *cobra.Command, rf *registryFlags) *types.SystemContext {
	sys := globalOpts.SystemContext()
	if rf.authFile != "" {
		sys.AuthFilePath = rf.authFile
	}
	if rf.certDir != "" {
		sys.DockerCertPath = rf.certDir
	}
	if cmd.Flags().Changed("tls-verify") {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!rf.tlsVerify)
	}
	return sys
}

// registryArg is the registry named, or as podman the first of the
// unqualified-search registries of registries.conf when none is.
func registryArg(sys *types.SystemContext, args []string) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	regs, err := sysregistriesv2.UnqualifiedSearchRegistries(sys)
	if err != nil {
		return "", err
	}
	if len(regs) == 0 {
		return "", errors.New("no registries found in registries.conf, a registry must be provided")
	}
	return regs[0], nil
}

// registryKey accepts "host", "host/repo" and "https://host/..." as podman does.
func registryKey(arg string) string {
	arg = strings.TrimPrefix(strings.TrimPrefix(arg, "https://"), "http://")
	return strings.TrimSuffix(arg, "/")
}

func newLoginCommand() *cobra.Command {
	var rf registryFlags
	var username, password string
	var passwordStdin, getLogin bool
	cmd := &cobra.Command{
		Use:         "login [options] [REGISTRY]",
		Short:       "Log in to a container registry",
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{noStorage: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			sys := loginSystemContext(cmd, &rf)
			reg, err := registryArg(sys, args)
			if err != nil {
				return err
			}
			key := registryKey(reg)
			if getLogin {
				auth, err := config.GetCredentials(sys, key)
				if err != nil || auth.Username == "" {
					return fmt.Errorf("not logged into %s", key)
				}
				fmt.Println(auth.Username)
				return nil
			}
			if passwordStdin {
				if password != "" {
					return errors.New("--password and --password-stdin are mutually exclusive")
				}
				data, err := io.ReadAll(os.Stdin)
				if err != nil {
					return fmt.Errorf("reading password from stdin: %w", err)
				}
				password = strings.TrimRight(string(data), "\r\n")
			}
			if username == "" {
				if !term.IsTerminal(int(os.Stdin.Fd())) || passwordStdin {
					return errors.New("username is required: pass --username")
				}
				fmt.Fprint(os.Stderr, "Username: ")
				line, err := bufio.NewReader(os.Stdin).ReadString('\n')
				if err != nil {
					return fmt.Errorf("reading username: %w", err)
				}
				username = strings.TrimSpace(line)
			}
			if password == "" {
				if !term.IsTerminal(int(os.Stdin.Fd())) {
					return errors.New("password is required: pass --password or --password-stdin")
				}
				fmt.Fprint(os.Stderr, "Password: ")
				b, err := term.ReadPassword(int(os.Stdin.Fd()))
				fmt.Fprintln(os.Stderr)
				if err != nil {
					return fmt.Errorf("reading password: %w", err)
				}
				password = string(b)
			}
			ctx, cancel := signalContext()
			defer cancel()
			host, _, _ := strings.Cut(key, "/")
			if err := docker.CheckAuth(ctx, sys, username, password, host); err != nil {
				var unauthorized docker.ErrUnauthorizedForCredentials
				if errors.As(err, &unauthorized) {
					return fmt.Errorf("logging into %q: invalid username/password", key)
				}
				return fmt.Errorf("authenticating creds for %q: %w", key, err)
			}
			if _, err := config.SetCredentials(sys, key, username, password); err != nil {
				return fmt.Errorf("storing credentials for %q: %w", key, err)
			}
			fmt.Println("Login Succeeded!")
			return nil
		},
	}
	rf.add(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&username, "username", "u", "", "username for registry")
	fl.StringVarP(&password, "password", "p", "", "password for registry")
	fl.BoolVar(&passwordStdin, "password-stdin", false, "take the password from stdin")
	fl.BoolVar(&getLogin, "get-login", false, "return the current login user for the registry")
	return cmd
}

func newLogoutCommand() *cobra.Command {
	var rf registryFlags
	var all bool
	cmd := &cobra.Command{
		Use:         "logout [options] [REGISTRY]",
		Short:       "Log out of a container registry",
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{noStorage: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			sys := loginSystemContext(cmd, &rf)
			if all {
				if err := config.RemoveAllAuthentication(sys); err != nil {
					return fmt.Errorf("removing all credentials: %w", err)
				}
				fmt.Println("Removed login credentials for all registries")
				return nil
			}
			reg, err := registryArg(sys, args)
			if err != nil {
				return err
			}
			key := registryKey(reg)
			if err := config.RemoveAuthentication(sys, key); err != nil {
				if errors.Is(err, config.ErrNotLoggedIn) {
					return fmt.Errorf("not logged into %s", key)
				}
				return fmt.Errorf("logging out of %q: %w", key, err)
			}
			fmt.Printf("Removed login credentials for %s\n", key)
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove the cached credentials for all registries in the auth file")
	return cmd
}
