package inflate_test

import (
	"bufio"
	"bytes"
	stdflate "compress/flate"
	stdgzip "compress/gzip"
	"io"
	"testing"

	kpflate "github.com/klauspost/compress/flate"
	kpgzip "github.com/klauspost/compress/gzip"

	"github.com/akguard/akguard/shared/cputime"
	"github.com/akguard/akguard/shared/inflate"
)

// Benchmarks report MB/s of decompressed output for ours, klauspost (what
// the walker used before) and the standard library over the same stream,
// each reusing its reader through Reset as the walker does, so allocs/op
// is what one more archive member costs. Streams come from compress/flate
// at level 6, the same match search as zlib's default, which wrote most
// archives the scanner meets.

const benchSize = 2 << 20

func benchInputs() []input {
	g := newGen(40)
	return []input{
		{"text", g.text(benchSize)},
		{"mixed", g.mixed(benchSize)},
		{"random", g.random(benchSize)},
		{"zeros", make([]byte, benchSize)},
		{"repeats", repeats(g, benchSize)},
	}
}

// repeats is runs of short patterns (periods 2 to 12) between text:
// padding, tables and sparse binaries decode as long overlapping matches
// with small distances, a path the other kinds barely touch.
func repeats(g gen, n int) []byte {
	b := make([]byte, 0, n)
	for p := 2; len(b) < n; p = p%11 + 2 {
		b = append(b, g.periodic(16<<10, p)...)
		b = append(b, g.text(1<<10)...)
	}
	return b[:n]
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

type benchDecoder struct {
	name string
	// reset points the decoder at br and returns it, creating it on the
	// first call.
	reset func(b *testing.B, br *bufio.Reader) io.Reader
}

func inflateDecoders() []benchDecoder {
	return []benchDecoder{
		{"ours", func() func(*testing.B, *bufio.Reader) io.Reader {
			var r *inflate.Reader
			return func(_ *testing.B, br *bufio.Reader) io.Reader {
				if r == nil {
					r = inflate.NewReader(br)
				} else {
					r.Reset(br)
				}
				return r
			}
		}()},
		{"klauspost", func() func(*testing.B, *bufio.Reader) io.Reader {
			var r io.ReadCloser
			return func(b *testing.B, br *bufio.Reader) io.Reader {
				if r == nil {
					r = kpflate.NewReader(br)
				} else if err := r.(kpflate.Resetter).Reset(br, nil); err != nil {
					b.Fatal(err)
				}
				return r
			}
		}()},
		{"stdlib", func() func(*testing.B, *bufio.Reader) io.Reader {
			var r io.ReadCloser
			return func(b *testing.B, br *bufio.Reader) io.Reader {
				if r == nil {
					r = stdflate.NewReader(br)
				} else if err := r.(stdflate.Resetter).Reset(br, nil); err != nil {
					b.Fatal(err)
				}
				return r
			}
		}()},
	}
}

func gzipDecoders() []benchDecoder {
	return []benchDecoder{
		{"ours", func() func(*testing.B, *bufio.Reader) io.Reader {
			z := new(inflate.GzipReader)
			return func(b *testing.B, br *bufio.Reader) io.Reader {
				if err := z.Reset(br); err != nil {
					b.Fatal(err)
				}
				return z
			}
		}()},
		{"klauspost", func() func(*testing.B, *bufio.Reader) io.Reader {
			var z *kpgzip.Reader
			return func(b *testing.B, br *bufio.Reader) io.Reader {
				var err error
				if z == nil {
					z, err = kpgzip.NewReader(br)
				} else {
					err = z.Reset(br)
				}
				if err != nil {
					b.Fatal(err)
				}
				return z
			}
		}()},
		{"stdlib", func() func(*testing.B, *bufio.Reader) io.Reader {
			var z *stdgzip.Reader
			return func(b *testing.B, br *bufio.Reader) io.Reader {
				var err error
				if z == nil {
					z, err = stdgzip.NewReader(br)
				} else {
					err = z.Reset(br)
				}
				if err != nil {
					b.Fatal(err)
				}
				return z
			}
		}()},
	}
}

// benchDecode drains the decoder with plain Read calls: io.Copy would take
// klauspost's WriteTo and measure a different path than the walker uses.
func benchDecode(b *testing.B, src []byte, want int, d benchDecoder) {
	rd := bytes.NewReader(src)
	br := bufio.NewReaderSize(rd, 32<<10)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(want))
	b.ReportAllocs()
	cpuMBps(b, int64(want), func() {
		for b.Loop() {
			rd.Reset(src)
			br.Reset(rd)
			r := d.reset(b, br)
			n := 0
			for {
				k, err := r.Read(buf)
				n += k
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if n != want {
				b.Fatalf("decoded %d bytes, want %d", n, want)
			}
		}
	})
}

func BenchmarkInflate(b *testing.B) {
	for _, in := range benchInputs() {
		src := stdDeflate(b, in.data, 6, 0)
		b.Run(in.name, func(b *testing.B) {
			for _, d := range inflateDecoders() {
				b.Run(d.name, func(b *testing.B) { benchDecode(b, src, len(in.data), d) })
			}
		})
	}
}

func BenchmarkGzip(b *testing.B) {
	for _, in := range benchInputs() {
		src := stdGzip(b, in.data, 6, stdgzip.Header{Name: in.name})
		b.Run(in.name, func(b *testing.B) {
			for _, d := range gzipDecoders() {
				b.Run(d.name, func(b *testing.B) { benchDecode(b, src, len(in.data), d) })
			}
		})
	}
}
