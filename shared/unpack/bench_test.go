package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/akguard/akguard/shared/cputime"
	"github.com/akguard/akguard/shared/finding"
)

// Benchmarks report MB/s of decompressed output. Each Walk benchmark has a
// baseline that runs the bare decompressor over the same bytes, so the
// walker's own overhead is the difference.

const (
	benchMembers    = 64
	benchMemberSize = 512 << 10
)

func benchContent() [][]byte {
	var p prng = 7
	out := make([][]byte, benchMembers)
	for i := range out {
		out[i] = p.text(benchMemberSize)
	}
	return out
}

func benchTarGz(b *testing.B) []byte {
	var ents []tent
	for i, c := range benchContent() {
		ents = append(ents, tent{name: "logs/" + strconv.Itoa(i) + ".log", data: string(c)})
	}
	return gz(b, tarOf(b, tar.FormatPAX, ents...))
}

func benchZip(b *testing.B) []byte {
	var ents []zent
	for i, c := range benchContent() {
		ents = append(ents, deflated("logs/"+strconv.Itoa(i)+".log", string(c)))
	}
	return zipOf(b, ents...)
}

// cpuMBps reports decompressed MB per CPU-second alongside the wall-clock
// MB/s, which other processes on a shared machine distort.
func cpuMBps(b *testing.B, bytesPerOp int64, loop func()) {
	start := cputime.Process()
	loop()
	if cpu := cputime.Process() - start; cpu > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

func benchWalk(b *testing.B, src func() Source) {
	w := New(Limits{})
	buf := make([]byte, 64<<10)
	drain := func(_ context.Context, l Leaf) error {
		_, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{l.R}, buf)
		return err
	}
	skip := func(s finding.Skip) { b.Fatalf("unexpected skip %+v", s) }
	b.SetBytes(benchMembers * benchMemberSize)
	b.ReportAllocs()
	cpuMBps(b, benchMembers*benchMemberSize, func() {
		for b.Loop() {
			if err := w.Walk(context.Background(), src(), drain, skip); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWalkTarGz(b *testing.B) {
	data := benchTarGz(b)
	benchWalk(b, func() Source { return bytesSource("logs.tar.gz", data) })
}

func BenchmarkGunzipBaseline(b *testing.B) {
	data := benchTarGz(b)
	b.SetBytes(benchMembers * benchMemberSize)
	b.ReportAllocs()
	cpuMBps(b, benchMembers*benchMemberSize, func() {
		for b.Loop() {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWalkZip(b *testing.B) {
	data := benchZip(b)
	benchWalk(b, func() Source { return raSource("logs.zip", data) })
}

// BenchmarkWalkZipStreamed measures the spool path (no random access).
func BenchmarkWalkZipStreamed(b *testing.B) {
	data := benchZip(b)
	benchWalk(b, func() Source { return bytesSource("logs.zip", data) })
}

func BenchmarkInflateZipBaseline(b *testing.B) {
	data := benchZip(b)
	b.SetBytes(benchMembers * benchMemberSize)
	b.ReportAllocs()
	cpuMBps(b, benchMembers*benchMemberSize, func() {
		for b.Loop() {
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			zr.RegisterDecompressor(zip.Deflate, flate.NewReader)
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		}
	})
}

// BenchmarkWalkZipSmallMembers measures per-member overhead: 10k members
// of 100 bytes, the shape of a source tree or node_modules archive.
func BenchmarkWalkZipSmallMembers(b *testing.B) {
	var p prng = 9
	var ents []zent
	for i := range 10000 {
		ents = append(ents, deflated("src/"+strconv.Itoa(i)+".js", string(p.text(100))))
	}
	data := zipOf(b, ents...)
	w := New(Limits{})
	drain := func(_ context.Context, l Leaf) error { _, err := io.Copy(io.Discard, l.R); return err }
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Walk(context.Background(), raSource("src.zip", data), drain, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/member")
}

// BenchmarkNestedBombDefaultLimits is the cost of a 42.zip-style bomb
// under the default limits: how long one hostile upload can occupy a
// function before the 8 GiB budget ends it.
func BenchmarkNestedBombDefaultLimits(b *testing.B) {
	bomb := nestedBomb(b, 4, 16, 4)
	w := New(Limits{})
	drain := func(_ context.Context, l Leaf) error { _, err := io.Copy(io.Discard, l.R); return err }
	b.ReportAllocs()
	for b.Loop() {
		reasons := map[finding.SkipReason]int{}
		if err := w.Walk(context.Background(), raSource("42.zip", bomb), drain, func(s finding.Skip) { reasons[s.Reason]++ }); err != nil {
			b.Fatal(err)
		}
		if reasons[finding.SkipDecompressLimit] != 1 {
			b.Fatalf("skips = %v, want the budget to end the walk", reasons)
		}
	}
}
