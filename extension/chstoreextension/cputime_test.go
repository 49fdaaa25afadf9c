package chstoreextension

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far, the engine's
// threads included. On a shared machine it moves far less with other
// processes' load than wall time does, so the codec benchmarks report it
// beside ns/row.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
