// Command berth-monitor is started by berth, detached, for every container:
// see package monitor. It links only the standard library and x/sys to keep
// its resident memory small.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/berth-containers/berth/libpod/monitor"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: berth-monitor CONFIG.json (started by berth, not by hand)")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth-monitor:", err)
		os.Exit(1)
	}
	var cfg monitor.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "berth-monitor: parsing config:", err)
		os.Exit(1)
	}
	// fd 3 is the sync pipe to the berth process that started us, after
	// the fds it passes on to the container (--preserve-fds).
	sync := os.NewFile(uintptr(3+cfg.PreserveFDs), "sync")
	os.Exit(monitor.Run(&cfg, sync))
}
