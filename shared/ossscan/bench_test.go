package ossscan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/localtest"
	localoss "github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/shared/scan"
)

// heapPeak samples the Go heap while f runs and returns the highest
// HeapInuse seen, in MiB: the reader's buffers are what grows with the
// object, so this is the memory bound in practice.
func heapPeak(f func()) float64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	return float64(peak.Load()) / (1 << 20)
}

// BenchmarkLargeObject reads a 1 GiB object from the local OSS through the
// OSS SDK: raw (the parallel range reader alone) and through the scan
// engine (reader + detector), with 1, 4 and 8 parallel ranged GETs of
// 8 MiB. MB/s is Go's throughput figure; peak-heap-MiB the process heap.
func BenchmarkLargeObject(b *testing.B) {
	env := localtest.Start(b, localtest.Options{})
	const size = 1 << 30
	bucket := env.Vars["uploadBucket"]
	ctx := context.Background()
	// Sparse zeros cost the detector almost nothing, so they show the
	// reader; repeated config-like text (no keys) shows a realistic scan.
	if _, err := env.Cloud.OSS.PutSynthetic(ctx, bucket, "bench/zeros.bin", localoss.Synthetic{Size: size}); err != nil {
		b.Fatal(err)
	}
	var line bytes.Buffer
	for i := 0; line.Len() < 1<<20; i++ {
		fmt.Fprintf(&line, "2026-11-23T06:21:%02d.000Z INFO request_id=%08x user=svc-%d path=/api/v1/items/%d status=200 bytes=%d\n", i%60, i*2654435761, i%97, i, i*31)
	}
	gen := io.LimitReader(&repeat{b: line.Bytes()}, size)
	if _, err := env.Cloud.OSS.PutSynthetic(ctx, bucket, "bench/text.log", localoss.Synthetic{Size: size, Gen: gen}); err != nil {
		b.Fatal(err)
	}
	engine, err := scan.New(scan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, content := range []string{"zeros.bin", "text.log"} {
		o, err := Head(ctx, env.Root.OSS(), bucket, "bench/"+content)
		if err != nil {
			b.Fatal(err)
		}
		for _, readers := range []int{1, 4, 8} {
			for _, mode := range []string{"raw", "scan"} {
				b.Run(fmt.Sprintf("%s/%s/readers=%d", content, mode, readers), func(b *testing.B) {
					b.SetBytes(size)
					peak := 0.0
					for b.Loop() {
						p := heapPeak(func() {
							src, closeSrc := Open(ctx, o, 8<<20, readers)
							defer closeSrc()
							if mode == "raw" {
								if n, err := io.Copy(io.Discard, src.R); err != nil || n != size {
									b.Fatalf("read %d, %v", n, err)
								}
								return
							}
							c := &collector{}
							if err := engine.Scan(ctx, src, c); err != nil || c.bytes != size || len(c.findings) != 0 {
								b.Fatalf("scanned %d, %d findings, %v", c.bytes, len(c.findings), err)
							}
						})
						peak = max(peak, p)
					}
					b.ReportMetric(peak, "peak-heap-MiB")
				})
			}
		}
	}
}

// repeat yields b over and over.
type repeat struct {
	b   []byte
	off int
}

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}
