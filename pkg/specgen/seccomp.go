package specgen

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultSeccompProfile is podman's default seccomp profile, in the
// containers/common format: /usr/share/containers/seccomp.json as shipped by
// Debian's golang-github-containers-common 0.50.1 (Apache-2.0), the profile
// podman 4.3 applies. It is only parsed when a spec is generated.
//
//go:embed seccomp.json
var defaultSeccompProfile []byte

// SeccompUnconfined disables seccomp (--security-opt seccomp=unconfined).
const SeccompUnconfined = "unconfined"

// seccompProfile is the containers/common (and moby) profile format: OCI's
// plus per-rule conditions on capabilities, architectures and kernel.
type seccompProfile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet,omitempty"`
	Architectures    []specs.Arch             `json:"architectures,omitempty"`
	ArchMap          []seccompArchMap         `json:"archMap,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	Syscalls         []seccompRule            `json:"syscalls"`
}

type seccompArchMap struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

type seccompRule struct {
	Name     string                   `json:"name,omitempty"`
	Names    []string                 `json:"names,omitempty"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
	Args     []specs.LinuxSeccompArg  `json:"args"`
	Includes seccompFilter            `json:"includes"`
	Excludes seccompFilter            `json:"excludes"`
}

type seccompFilter struct {
	Arches    []string `json:"arches,omitempty"`
	Caps      []string `json:"caps,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// libseccomp's name for the native architecture, by GOARCH
var seccompNativeArch = map[string]string{
	"386": "x86", "amd64": "amd64", "arm": "arm", "arm64": "arm64", "ppc64le": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64", "mips64le": "mipsel64", "loong64": "loong64",
}

var seccompArchName = map[string]specs.Arch{
	"x86": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
	"ppc64le": specs.ArchPPC64LE, "s390x": specs.ArchS390X, "riscv64": specs.ArchRISCV64,
	"mipsel64": specs.ArchMIPSEL64, "loong64": "SCMP_ARCH_LOONGARCH64",
}

// SeccompProfile returns the OCI seccomp configuration for a container
// whose bounding set is caps: profile is "" for podman's default profile,
// or the path of a JSON profile (containers/common, moby or OCI format).
func SeccompProfile(profile string, caps []string) (*specs.LinuxSeccomp, error) {
	return loadSeccomp(profile, caps, kernelRelease())
}

func loadSeccomp(profile string, caps []string, kernel string) (*specs.LinuxSeccomp, error) {
	data := defaultSeccompProfile
	if profile != "" {
		var err error
		if data, err = os.ReadFile(profile); err != nil {
			return nil, fmt.Errorf("reading the seccomp profile: %w", err)
		}
	}
	var p seccompProfile
	if err := json.Unmarshal(data, &p); err != nil {
		if profile == "" {
			profile = "(built-in)"
		}
		return nil, fmt.Errorf("decoding the seccomp profile %s: %w", profile, err)
	}
	return seccompFor(&p, runtime.GOARCH, kernel, caps)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// kernelAtLeast compares "6.1.0-13-amd64" with "4.8".
func kernelAtLeast(release, min string) bool {
	parse := func(s string) [3]int {
		var v [3]int
		s, _, _ = strings.Cut(s, "-")
		for i, part := range strings.SplitN(s, ".", 3) {
			n := 0
			for _, c := range part {
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int(c-'0')
			}
			v[i] = n
		}
		return v
	}
	r, m := parse(release), parse(min)
	for i := range r {
		if r[i] != m[i] {
			return r[i] > m[i]
		}
	}
	return true
}

func seccompFor(p *seccompProfile, goarch, kernel string, caps []string) (*specs.LinuxSeccomp, error) {
	if p.DefaultAction == "" && len(p.Syscalls) == 0 {
		return nil, nil
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return nil, errors.New("the seccomp profile has both 'architectures' and 'archMap': use one")
	}
	arch := seccompNativeArch[goarch]
	out := &specs.LinuxSeccomp{
		DefaultAction:    p.DefaultAction,
		DefaultErrnoRet:  p.DefaultErrnoRet,
		Architectures:    p.Architectures,
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
		Flags:            p.Flags,
	}
	for _, a := range p.ArchMap {
		if a.Arch == seccompArchName[arch] {
			out.Architectures = append(append(out.Architectures, a.Arch), a.SubArches...)
			break
		}
	}
rules:
	for _, r := range p.Syscalls {
		if contains(r.Excludes.Arches, arch) {
			continue
		}
		for _, c := range r.Excludes.Caps {
			if contains(caps, c) {
				continue rules
			}
		}
		if r.Excludes.MinKernel != "" && kernelAtLeast(kernel, r.Excludes.MinKernel) {
			continue
		}
		if len(r.Includes.Arches) > 0 && !contains(r.Includes.Arches, arch) {
			continue
		}
		for _, c := range r.Includes.Caps {
			if !contains(caps, c) {
				continue rules
			}
		}
		if r.Includes.MinKernel != "" && !kernelAtLeast(kernel, r.Includes.MinKernel) {
			continue
		}
		names := r.Names
		if r.Name != "" {
			if len(r.Names) > 0 {
				return nil, fmt.Errorf("a seccomp rule has both 'name' (%s) and 'names': use one", r.Name)
			}
			names = []string{r.Name}
		}
		out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{
			Names: names, Action: r.Action, ErrnoRet: r.ErrnoRet, Args: r.Args,
		})
	}
	return out, nil
}
