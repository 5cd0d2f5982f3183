package fc

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkAsyncStartLatency measures how long an accepted async
// invocation waits before a warm instance picks it up (p50/p99), plus the
// whole accept → completion cycle per op.
func BenchmarkAsyncStartLatency(b *testing.B) {
	env := newEnv(b, b.TempDir())
	s := startServer(b, env, Options{}, echoFn("bench"))
	ctx := context.Background()
	if _, err := s.Invoke(ctx, "bench", []byte(`{}`), false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Invoke(ctx, "bench", []byte(`{"op":"echo"}`), true); err != nil {
			b.Fatal(err)
		}
		waitIdle(b, s)
	}
	b.StopTimer()
	var lat []time.Duration
	for _, in := range s.Invocations("bench") {
		if in.Async {
			lat = append(lat, in.Queued)
		}
	}
	if len(lat) != b.N {
		b.Fatalf("%d async invocations recorded, want %d", len(lat), b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-start-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-start-µs")
}

// BenchmarkSyncInvoke is the warm synchronous round trip through the
// runtime API.
func BenchmarkSyncInvoke(b *testing.B) {
	env := newEnv(b, "")
	s := startServer(b, env, Options{}, echoFn("bench"))
	ctx := context.Background()
	payload := []byte(`{"op":"echo"}`)
	if _, err := s.Invoke(ctx, "bench", payload, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Invoke(ctx, "bench", payload, false); err != nil {
			b.Fatal(err)
		}
	}
}
