package libpod

import (
	"fmt"
	"os"
	"strings"

	"github.com/berth-containers/berth/pkg/config"
	"github.com/berth-containers/berth/pkg/parse"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// applyContainersConf fills what the spec leaves to containers.conf
// ([containers]), as podman does at create time. Resource defaults apply
// only where they can be enforced: rootless, there is no cgroup for
// pids_limit (and podman does not warn about a default).
func applyContainersConf(s *ContainerSpec, conf *config.ContainersConf, isRootless bool) error {
	c := &conf.Containers
	env, err := parse.Env(c.Env, os.Environ())
	if err != nil {
		return fmt.Errorf("containers.conf [containers] env: %w", err)
	}
	s.DefaultEnv = env
	if c.EnvHost {
		s.EnvHost = true
	}
	if s.HTTPProxy == nil {
		v := c.HTTPProxy
		s.HTTPProxy = &v
	}
	if s.Capabilities == nil && len(c.DefaultCapabilities) > 0 {
		s.Capabilities = c.DefaultCapabilities
	}
	if s.DefaultSysctls == nil && len(c.DefaultSysctls) > 0 {
		if s.DefaultSysctls, err = conf.Sysctls(); err != nil {
			return err
		}
	}
	// default_ulimits go under the user's --ulimit values (podman's own
	// nproc and nofile defaults are the spec generator's).
	defaults, err := conf.Ulimits()
	if err != nil {
		return err
	}
	for _, rl := range defaults {
		if !hasUlimit(s.Ulimits, rl.Type) {
			s.Ulimits = append(s.Ulimits, rl)
		}
	}
	if s.PidsLimit == nil && !isRootless {
		v := c.PidsLimit
		s.PidsLimit = &v
	}
	if s.Timezone == "" {
		s.Timezone = c.TZ
	}
	if s.Umask == nil && c.Umask != "" {
		m, err := conf.UmaskValue()
		if err != nil {
			return err
		}
		s.Umask = &m
	}
	if s.ShmSize == 0 && c.ShmSize != "" {
		// podman's units: the default 65536k is 65,536,000 bytes
		if s.ShmSize, err = conf.ShmSizeBytes(); err != nil {
			return err
		}
	}
	if s.LogDriver == "" {
		s.LogDriver = c.LogDriver
	}
	if s.LogDriver == "" {
		s.LogDriver = LogDriverK8sFile
	}
	if s.LogMaxSize == 0 && c.LogSizeMax > 0 {
		s.LogMaxSize = c.LogSizeMax
	}
	if s.SeccompProfile == "" {
		s.SeccompProfile = c.SeccompProfile
	}
	if s.Init && s.InitPath == "" {
		s.InitPath = c.InitPath
	}
	return nil
}

func hasUlimit(limits []specs.POSIXRlimit, name string) bool {
	for _, l := range limits {
		if strings.EqualFold(l.Type, name) {
			return true
		}
	}
	return false
}
