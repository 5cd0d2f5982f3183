package detect

import (
	"bytes"
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

// threadCPU is the CPU time of the calling OS thread (Linux RUSAGE_THREAD).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScanCPUTime reports per-core throughput measured in thread CPU
// time rather than wall time, so it stays meaningful on a loaded CI
// machine. Run with -benchtime 1x; it logs one line per corpus.
func BenchmarkScanCPUTime(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := newDetector(b, Config{})
	corpora := []struct {
		name string
		data []byte
	}{{"text", benchText(b)}, {"binary", benchBinary(b)}, {"logs", benchLogs(b)}}
	for _, a := range adversarial() {
		corpora = append(corpora, struct {
			name string
			data []byte
		}{"adversarial-" + a.name, bytes.Repeat([]byte(a.unit), (1<<20)/len(a.unit))})
	}
	for b.Loop() {
		for _, c := range corpora {
			best := time.Hour
			for r := 0; r < 3; r++ {
				t0 := threadCPU()
				if err := d.Scan(context.Background(), "x", bytes.NewReader(c.data), func(finding.Finding) {}); err != nil {
					b.Fatal(err)
				}
				best = min(best, threadCPU()-t0)
			}
			b.Logf("%-26s %8.0f MB/s per core (cpu time)", c.name, float64(len(c.data))/best.Seconds()/1e6)
		}
	}
}
