//go:build unix

package inflate_test

import (
	"syscall"
	"time"
)

// processCPU is user+system time of the whole process (GC included), the
// benchmark metric that stays meaningful on a shared, loaded machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
