package detect

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

const benchSize = 16 << 20

// benchText is real source text: the Go standard library's own files.
func benchText(b *testing.B) []byte {
	var buf bytes.Buffer
	root := filepath.Join(build.Default.GOROOT, "src")
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || buf.Len() >= benchSize {
			return filepath.SkipDir
		}
		if !e.IsDir() && (strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".json")) {
			data, err := os.ReadFile(p)
			if err == nil {
				buf.Write(data)
			}
		}
		return nil
	})
	if buf.Len() < benchSize/2 {
		b.Skip("GOROOT sources not available")
	}
	return buf.Bytes()
}

// benchBinary is a real executable: the go command itself.
func benchBinary(b *testing.B) []byte {
	data, err := os.ReadFile(filepath.Join(build.Default.GOROOT, "bin", "go"))
	if err != nil {
		b.Skip("go binary not available")
	}
	return data[:min(len(data), benchSize)]
}

// benchLogs is access-log shaped text with query strings, percent-encoding
// and status words, drawn from a seeded PRNG.
func benchLogs(b *testing.B) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/api/v1/objects", "/static/app.js", "/bucket/key%20name.png", "/login?next=%2Fhome", "/health"}
	words := []string{"success", "access granted", "secret rotation ok", "user=alice", "Access denied"}
	var buf bytes.Buffer
	for buf.Len() < benchSize {
		fmt.Fprintf(&buf, "10.%d.%d.%d - - [23/Nov/2026:16:%02d:%02d +0000] \"GET %s?Expires=%d&Signature=%x HTTP/1.1\" %d %d \"-\" \"Mozilla/5.0\" %s\n",
			r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(60), r.IntN(60), paths[r.IntN(len(paths))],
			1700000000+r.IntN(1e6), r.Uint64(), 200+r.IntN(4)*100, r.IntN(1e6), words[r.IntN(len(words))])
	}
	return buf.Bytes()
}

func benchScan(b *testing.B, data []byte) {
	d := newDetector(b, Config{})
	ctx := context.Background()
	n := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := d.Scan(ctx, "bench", bytes.NewReader(data), func(finding.Finding) { n++ }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanText(b *testing.B)   { benchScan(b, benchText(b)) }
func BenchmarkScanBinary(b *testing.B) { benchScan(b, benchBinary(b)) }
func BenchmarkScanLogs(b *testing.B)   { benchScan(b, benchLogs(b)) }

// BenchmarkBytesIndexFloor is the floor the design is measured against:
// one bytes.Index pass for "LTAI" over the text corpus.
func BenchmarkBytesIndexFloor(b *testing.B) {
	data := benchText(b)
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		n += bytes.Count(data, anchorLTAI)
	}
	_ = n
}

type adversarialInput struct{ name, unit string }

// adversarial inputs hit the slow paths with dense anchors of every kind;
// throughput must stay linear in the input, not collapse. They are
// measured by BenchmarkScanCPUTime.
func adversarial() []adversarialInput {
	pair := "LTAI5tWK59PFkl0JfI2yyVlb zoc51FeogdvbzDp8mFmQp5zvqYMtrb\n"
	return []adversarialInput{
		{"pairs", pair},
		{"ids", "LTAI5tWK59PFkl0JfI2yyVlb "},
		{"base64", b64(pair)},
		{"anchors", "TFRBS xUQU MVEFJ %4c &#76; \\u004c L\x00T\x00A\x00I "},
		{"keys", "accessKeySecret: zoc51FeogdvbzDp8mFmQp5zvqYMtrb\n"},
		{"utf16", utf16le(pair)},
		{"base64-utf16", b64(utf16le(pair))},
		{"mixed", "LTAI5tWK59PFkl0JfI2yyVlb\\naccessKeySecret%3Dzoc51FeogdvbzDp8mFmQp5zvqYMtrb&#10;"},
		{"base64-keys", "accessKeySecret: " + b64("zoc51FeogdvbzDp8mFmQp5zvqYMtrb") + "\n"},
	}
}

// BenchmarkScanParallel scans the text corpus from GOMAXPROCS goroutines
// sharing one Detector: the throughput the scan function gets from all
// cores.
func BenchmarkScanParallel(b *testing.B) {
	data := benchText(b)
	d := newDetector(b, Config{})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := d.Scan(context.Background(), "bench", bytes.NewReader(data), func(finding.Finding) {}); err != nil {
				b.Error(err)
			}
		}
	})
}
