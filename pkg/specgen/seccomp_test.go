package specgen

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ruleFor returns the action of the first argument-less rule naming syscall.
func ruleFor(sc *specs.LinuxSeccomp, syscall string) specs.LinuxSeccompAction {
	for _, r := range sc.Syscalls {
		if len(r.Args) == 0 && contains(r.Names, syscall) {
			return r.Action
		}
	}
	return ""
}

// The default profile, for the default capabilities on amd64, must be what
// podman 4.3 put in config.json on the development machine.
func TestSeccompMatchesPodman(t *testing.T) {
	if os.Getenv("GOARCH") != "" && os.Getenv("GOARCH") != "amd64" {
		t.Skip("the reference is for amd64")
	}
	data, err := os.ReadFile("testdata/podman-4.3-seccomp-amd64-default-caps.json")
	if err != nil {
		t.Fatal(err)
	}
	var want specs.LinuxSeccomp
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	var p seccompProfile
	if err := json.Unmarshal(defaultSeccompProfile, &p); err != nil {
		t.Fatal(err)
	}
	got, err := seccompFor(&p, "amd64", "6.1.0", DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	// compare as JSON, as the runtime reads it
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(&want)
	if string(g) != string(w) {
		t.Errorf("default seccomp profile differs from podman's:\n got %.400s\nwant %.400s", g, w)
	}
}

func TestSeccompConditions(t *testing.T) {
	var p seccompProfile
	if err := json.Unmarshal(defaultSeccompProfile, &p); err != nil {
		t.Fatal(err)
	}
	sc, err := seccompFor(&p, "amd64", "6.1.0", DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	if ruleFor(sc, "bpf") != specs.ActErrno || ruleFor(sc, "arch_prctl") != specs.ActAllow || ruleFor(sc, "ioperm") != specs.ActErrno {
		t.Errorf("default caps: bpf %q arch_prctl %q ioperm %q", ruleFor(sc, "bpf"), ruleFor(sc, "arch_prctl"), ruleFor(sc, "ioperm"))
	}
	if !reflect.DeepEqual(sc.Architectures, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
		t.Errorf("amd64 architectures = %v", sc.Architectures)
	}
	// CAP_SYS_ADMIN allows bpf & co; CAP_SYS_RAWIO allows ioperm
	sc, _ = seccompFor(&p, "amd64", "6.1.0", append([]string{"CAP_SYS_ADMIN", "CAP_SYS_RAWIO"}, DefaultCapabilities...))
	if ruleFor(sc, "bpf") != specs.ActAllow || ruleFor(sc, "ioperm") != specs.ActAllow {
		t.Errorf("with SYS_ADMIN, SYS_RAWIO: bpf %q ioperm %q", ruleFor(sc, "bpf"), ruleFor(sc, "ioperm"))
	}
	// arm64: no arch_prctl, its own architectures
	sc, _ = seccompFor(&p, "arm64", "6.1.0", DefaultCapabilities)
	if ruleFor(sc, "arch_prctl") != "" || ruleFor(sc, "arm_fadvise64_64") != specs.ActAllow ||
		!reflect.DeepEqual(sc.Architectures, []specs.Arch{specs.ArchAARCH64, specs.ArchARM}) {
		t.Errorf("arm64: arch_prctl %q arm_fadvise64_64 %q arches %v", ruleFor(sc, "arch_prctl"), ruleFor(sc, "arm_fadvise64_64"), sc.Architectures)
	}

	// minKernel, single name, errors
	custom := seccompProfile{DefaultAction: specs.ActAllow, Syscalls: []seccompRule{
		{Name: "new_call", Action: specs.ActErrno, Includes: seccompFilter{MinKernel: "5.10"}},
		{Names: []string{"old_call"}, Action: specs.ActErrno, Excludes: seccompFilter{MinKernel: "5.10"}},
	}}
	sc, _ = seccompFor(&custom, "amd64", "6.1.0-13-amd64", nil)
	if ruleFor(sc, "new_call") != specs.ActErrno || ruleFor(sc, "old_call") != "" {
		t.Errorf("kernel 6.1: %+v", sc.Syscalls)
	}
	sc, _ = seccompFor(&custom, "amd64", "4.19.0", nil)
	if ruleFor(sc, "new_call") != "" || ruleFor(sc, "old_call") != specs.ActErrno {
		t.Errorf("kernel 4.19: %+v", sc.Syscalls)
	}
	bad := seccompProfile{DefaultAction: specs.ActAllow, Syscalls: []seccompRule{{Name: "a", Names: []string{"b"}, Action: specs.ActAllow}}}
	if _, err := seccompFor(&bad, "amd64", "6.1", nil); err == nil || !strings.Contains(err.Error(), "both 'name'") {
		t.Errorf("name and names: err = %v", err)
	}
	bad = seccompProfile{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86}, ArchMap: p.ArchMap}
	if _, err := seccompFor(&bad, "amd64", "6.1", nil); err == nil {
		t.Error("architectures and archMap together accepted")
	}
	if sc, err := seccompFor(&seccompProfile{}, "amd64", "6.1", nil); sc != nil || err != nil {
		t.Errorf("empty profile = %+v, %v; want none", sc, err)
	}
}

func TestKernelAtLeast(t *testing.T) {
	for _, tt := range []struct {
		rel, min string
		want     bool
	}{{"6.1.0-13-amd64", "5.10", true}, {"5.10.0", "5.10", true}, {"5.9.16", "5.10", false}, {"4.19", "4.8", true}, {"6.18.44-fc-v669", "6.18.45", false}} {
		if got := kernelAtLeast(tt.rel, tt.min); got != tt.want {
			t.Errorf("kernelAtLeast(%q, %q) = %v", tt.rel, tt.min, got)
		}
	}
}
