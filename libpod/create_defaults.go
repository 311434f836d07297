package libpod

import (
	"fmt"
	"os"

	"github.com/berth-containers/berth/pkg/config"
	"github.com/berth-containers/berth/pkg/parse"
)

// applyContainersConf fills what the spec leaves to containers.conf
// ([containers]), as podman does at create time.
func applyContainersConf(s *ContainerSpec, conf *config.ContainersConf, isRootless bool) error {
	env, err := parse.Env(conf.Containers.Env, os.Environ())
	if err != nil {
		return fmt.Errorf("containers.conf [containers] env: %w", err)
	}
	s.DefaultEnv = env
	if s.LogDriver == "" {
		s.LogDriver = LogDriverK8sFile
	}
	return nil
}
