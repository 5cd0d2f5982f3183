package detect

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/akguard/akguard/shared/cputime"
	"github.com/akguard/akguard/shared/finding"
)

// BenchmarkScanCPUTime reports per-core throughput measured in thread CPU
// time ("cpu-MB/s") next to the usual wall-clock MB/s, so the figure stays
// meaningful on a loaded CI machine.
func BenchmarkScanCPUTime(b *testing.B) {
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
	d := newDetector(b, Config{})
	for _, c := range corpora {
		b.Run(c.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.SetBytes(int64(len(c.data)))
			n := 0
			t0 := cputime.Thread()
			for b.Loop() {
				if err := d.Scan(context.Background(), "x", bytes.NewReader(c.data), func(finding.Finding) {}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			cpu := cputime.Thread() - t0
			b.ReportMetric(float64(n*len(c.data))/cpu.Seconds()/1e6, "cpu-MB/s")
		})
	}
}
