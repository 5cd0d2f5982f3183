package cputime_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/cputime"
)

// Busy work must show up in both clocks where they exist, and neither may
// run backwards.
func TestClocksAdvance(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU time is Linux-only")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, t0 := cputime.Process(), cputime.Thread()
	x := uint64(1)
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		for i := range 1000 {
			x = x*6364136223846793005 + uint64(i)
		}
	}
	if x == 0 {
		t.Log("unlikely")
	}
	p1, t1 := cputime.Process(), cputime.Thread()
	if p1-p0 < 10*time.Millisecond || t1-t0 < 10*time.Millisecond {
		t.Fatalf("50 ms of work: process +%v, thread +%v", p1-p0, t1-t0)
	}
	if t1-t0 > p1-p0+time.Millisecond {
		t.Errorf("thread time %v exceeds process time %v", t1-t0, p1-p0)
	}
}
