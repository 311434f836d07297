// Package image is berth's image service over containers storage and
// containers/image: resolving names, pulling, pushing, listing, removing,
// tagging, saving and loading images.
package image

import (
	"errors"
	"fmt"
	"os"

	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Runtime holds what every image operation needs.
type Runtime struct {
	store storage.Store
	sys   *types.SystemContext
}

// NewRuntime wraps an open store.
func NewRuntime(store storage.Store, sys *types.SystemContext) *Runtime {
	return &Runtime{store: store, sys: sys}
}

// Store is the underlying containers storage.
func (r *Runtime) Store() storage.Store { return r.store }

// SystemContext is the containers/image context of this invocation.
func (r *Runtime) SystemContext() *types.SystemContext { return r.sys }

// PolicyContext loads policy.json (--signature-policy, the user's, then the
// system's; never a built-in fallback); a rejecting policy makes copies fail.
func PolicyContext(sys *types.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("loading signature policy: %w (install containers-common's /etc/containers/policy.json or pass --signature-policy)", err)
		}
		return nil, fmt.Errorf("loading signature policy: %w", err)
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		return nil, fmt.Errorf("creating signature policy context: %w", err)
	}
	return pc, nil
}
