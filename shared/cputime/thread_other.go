//go:build !linux

package cputime

import "time"

// Thread is 0 outside Linux, which alone reports a thread's CPU time.
func Thread() time.Duration { return 0 }
