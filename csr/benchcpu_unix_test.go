//go:build unix

package csr

import (
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports the process CPU time per operation ("cpu-ns/op") next to the wall-clock ns/op: on a shared,
// loaded machine the wall clock also counts the time other processes held the CPU, the CPU time does not. Call
// it after the set-up, just before the b.Loop loop; the returned function goes in a defer.
func cpuTimer(b *testing.B) func() {
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
