// Package config holds the settings of one berth invocation: the global,
// podman-compatible flags (Options, and the containers/image SystemContext
// they give), and containers.conf read as podman reads it
// (LoadContainersConf). storage.conf, registries.conf, policy.json and
// auth.json are read by the storage and image libraries themselves.
package config

import (
	"go.podman.io/image/v5/types"
)

// Options are the global, podman-compatible flags.
type Options struct {
	Root           string
	RunRoot        string
	StorageDriver  string
	StorageOpts    []string
	Runtime        string
	RuntimeFlags   []string // --runtime-flag, without the leading "--"
	LogLevel       string
	RegistriesConf string // --registries-conf, a test hook as in podman
	// EngineBinary is the berth binary a container's monitor runs for its
	// cleanup (`berth container cleanup`); "" is the running executable,
	// which is right for the CLI. A program that uses libpod as a library
	// sets it.
	EngineBinary string
}

// SystemContext returns the containers/image context for this invocation.
func (o *Options) SystemContext() *types.SystemContext {
	sys := &types.SystemContext{}
	if o.RegistriesConf != "" {
		sys.SystemRegistriesConfPath = o.RegistriesConf
	}
	return sys
}
