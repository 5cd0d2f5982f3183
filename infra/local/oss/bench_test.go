package oss

import (
	"io"
	"os"
	"testing"

	sdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// BenchmarkGetObject1GiB streams a 1 GiB object through the SDK client
// (which also verifies its CRC64) and reports MB/s.
func BenchmarkGetObject1GiB(b *testing.B) {
	f := newFixture(b)
	c := f.root()
	f.mkBucket(c, "bench")
	const size = 1 << 30
	if _, err := f.srv.PutSynthetic(bg, "bench", "1g.bin", Synthetic{Size: size,
		Patches: []Patch{{Offset: size / 2, Data: []byte("marker")}}}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("bench"), Key: sdk.Ptr("1g.bin")})
		if err != nil {
			b.Fatal(err)
		}
		// Hide io.Discard's ReaderFrom so the 1 MiB buffer is used, as a real
		// consumer reading in large chunks would.
		n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, res.Body, buf)
		res.Body.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}

// patternReader yields n bytes of a repeating pattern without allocating.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left)
	for i := range b[:n] {
		b[i] = byte(i*7 + 3)
	}
	p.left -= n
	return int(n), nil
}

// BenchmarkPutObject256MiB streams a 256 MiB PutObject through the SDK;
// B/op shows memory stays bounded (client and server in one process).
func BenchmarkPutObject256MiB(b *testing.B) {
	f := newFixture(b)
	c := f.root()
	f.mkBucket(c, "bench")
	f.srv.SetDurable(os.Getenv("OSS_BENCH_DURABLE") != "")
	const size = 256 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("bench"), Key: sdk.Ptr("up.bin"),
			ContentLength: sdk.Ptr(int64(size)), Body: &patternReader{left: size}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
