package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $BERTH_CPUPROFILE, for test/bench.
func startProfile() func() {
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
