package main

import (
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// startProfile writes a CPU profile to $BERTH_CPUPROFILE, for test/bench.
func startProfile() func() {
	if path := os.Getenv("BERTH_TRACE"); path != "" {
		return startTrace(path)
	}
	path := os.Getenv("BERTH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

// startTrace writes a runtime execution trace (BERTH_TRACE=FILE): where the
// wall clock goes while berth waits (syscalls, child processes, locks),
// which a CPU profile does not show. `go tool trace -pprof=syscall FILE`
// and `-pprof=sync` summarise it.
func startTrace(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := trace.Start(f); err != nil {
		_ = f.Close()
		return func() {}
	}
	return func() {
		trace.Stop()
		_ = f.Close()
	}
}
