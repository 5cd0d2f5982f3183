package scan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/unpack"
)

// benchText is log-like text with a planted pair at 256 KiB and then one
// per MiB, so the
// benchmark pays for findings too, not just for the empty fast path.
func benchText(k *keyGen, size int) []byte {
	r := rand.New(rand.NewPCG(1, 1))
	var b []byte
	next := 256 << 10
	for i := 0; len(b) < size; i++ {
		b = append(b, "2026-11-23T08:00:00Z INFO worker-"...)
		b = strconv.AppendInt(b, int64(r.IntN(64)), 10)
		b = append(b, " handled request id="...)
		b = strconv.AppendUint(b, r.Uint64(), 16)
		b = append(b, " path=/api/v1/items status=200 bytes="...)
		b = strconv.AppendInt(b, int64(r.IntN(1e6)), 10)
		b = append(b, '\n')
		if len(b) > next {
			text, _ := k.envPair()
			b = append(b, text...)
			next += 1 << 20
		}
	}
	return b
}

type countSink struct{ findings, skips int }

func (c *countSink) Finding(finding.Finding) { c.findings++ }
func (c *countSink) Skip(finding.Skip)       { c.skips++ }

// BenchmarkScanPaths measures the engine over a tree of 64 files (32 MiB)
// with the default workers; compare with the detector's own benchmarks to
// see what the walk, the file handling and the sink add.
func BenchmarkScanPaths(b *testing.B) {
	root := b.TempDir()
	k := newKeyGen(21)
	text := benchText(k, 512<<10)
	var total int64
	for i := range 64 {
		p := filepath.Join(root, fmt.Sprintf("d%d", i%8), fmt.Sprintf("f%02d.log", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, text, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(text))
	}
	e, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		sink := &countSink{}
		if err := e.ScanPaths(context.Background(), []string{root}, sink); err != nil {
			b.Fatal(err)
		}
		if sink.findings == 0 {
			b.Fatal("no findings")
		}
	}
}

// BenchmarkScanStream measures one unseekable stream (stdin, an object
// body) through the walker and the detector.
func BenchmarkScanStream(b *testing.B) {
	text := benchText(newKeyGen(22), 16<<20)
	e, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		sink := &countSink{}
		if err := e.Scan(context.Background(), unpack.Source{Name: "stdin", R: bytes.NewReader(text), Size: -1}, sink); err != nil {
			b.Fatal(err)
		}
		if sink.findings == 0 {
			b.Fatal("no findings")
		}
	}
}
