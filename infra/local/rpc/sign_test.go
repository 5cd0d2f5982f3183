package rpc

import (
	"testing"
	"time"
)

func TestNonceCache(t *testing.T) {
	n := newNonceCache()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		nonce string
		at    time.Duration
		fresh bool
	}{
		{"a", 0, true},
		{"a", time.Second, false},
		{"b", time.Minute, true},
		{"a", nonceTTL, false},               // rotated into the previous generation, still remembered
		{"b", nonceTTL + time.Minute, false}, // same
		{"a", 2 * nonceTTL, true},            // older than two generations: forgotten
	}
	for i, s := range steps {
		if got := n.use(s.nonce, t0.Add(s.at)); got != s.fresh {
			t.Fatalf("step %d (%s at %v): fresh=%v, want %v", i, s.nonce, s.at, got, s.fresh)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(2)
	t0 := time.Unix(1_800_000_000, 0)
	want := []bool{true, true, false}
	for i, w := range want {
		if got := l.allow("k", t0.Add(time.Duration(i)*time.Millisecond)); got != w {
			t.Fatalf("call %d: %v", i, got)
		}
	}
	if !l.allow("other", t0) || !l.allow("k", t0.Add(time.Second)) {
		t.Fatal("budget is per key and per second")
	}
	l.setRate(0)
	for i := 0; i < 10; i++ {
		if !l.allow("k", t0) {
			t.Fatal("rate 0 disables the guard")
		}
	}
}
