package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/akguard/akguard/shared/finding"
)

// Archive builders. Everything is generated in memory with fixed
// timestamps so goldens are stable; tools without a Go writer (bzip2) and
// interop checks use testdata/fixtures (see make.sh there).

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

type zent struct {
	name   string
	data   string
	store  bool        // zip.Store instead of zip.Deflate
	method uint16      // another method (zstd), or the method of raw data
	mode   fs.FileMode // 0: regular 0644
	flags  uint16      // extra general-purpose flags (bit 0: encrypted)
	raw    bool        // data is already compressed, written as is
	size   uint64      // declared uncompressed size of raw data
	crc    uint32      // CRC-32 of the uncompressed raw data
}

func zipOf(t testing.TB, ents ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(methodZstd, zstd.ZipCompressor())
	for _, e := range ents {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch, Flags: e.flags}
		switch {
		case e.raw, e.method != 0:
			fh.Method = e.method
		case e.store, strings.HasSuffix(e.name, "/"):
			fh.Method = zip.Store
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		fh.SetMode(mode)
		var w io.Writer
		var err error
		if e.raw {
			fh.CompressedSize64 = uint64(len(e.data))
			fh.UncompressedSize64 = e.size
			fh.CRC32 = e.crc
			w, err = zw.CreateRaw(fh)
		} else {
			w, err = zw.CreateHeader(fh)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func stored(name, data string) zent   { return zent{name: name, data: data, store: true} }
func deflated(name, data string) zent { return zent{name: name, data: data} }

type tent struct {
	name     string
	data     string
	typeflag byte // default tar.TypeReg
	link     string
}

func tarOf(t testing.TB, format tar.Format, ents ...tent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typeflag, Linkname: e.link, Mode: 0o644, ModTime: epoch, Format: format}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// v7 rewrites a ustar archive's headers into the pre-POSIX form: no magic,
// no version, checksum recomputed.
func v7(t testing.TB, b []byte) []byte {
	t.Helper()
	b = bytes.Clone(b)
	for off := 0; off+512 <= len(b); {
		h := b[off : off+512]
		if bytes.Equal(h, make([]byte, 512)) {
			break
		}
		size, ok := parseOctal(h[124:136])
		if !ok {
			t.Fatalf("v7: bad size at %d", off)
		}
		clear(h[257:512]) // magic, version, uname...prefix
		h[156] = '0'
		copy(h[148:156], "        ")
		var sum int64
		for _, c := range h {
			sum += int64(c)
		}
		copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
		off += 512 + int((size+511)/512*512)
	}
	return b
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func xzOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// transcript runs a walk and renders every event, one per line, in order:
// the format of the golden files.
type transcript struct {
	lines []string
	err   error
}

func (tr *transcript) String() string {
	s := strings.Join(tr.lines, "\n") + "\n"
	if tr.err != nil {
		s += "error: " + tr.err.Error() + "\n"
	}
	return s
}

func walkTranscript(t testing.TB, w *Walker, src Source) *transcript {
	t.Helper()
	tr := &transcript{}
	tr.err = w.Walk(context.Background(), src, func(_ context.Context, l Leaf) error {
		b, err := io.ReadAll(l.R)
		line := fmt.Sprintf("leaf %s size=%d read=%d sha256=%s %s", l.Path, l.Size, len(b), short(b), preview(b))
		if err != nil {
			line += " (read error)"
		}
		if l.Bytes != nil && !bytes.Equal(l.Bytes, b) {
			line += " (Bytes differ from R)"
		}
		tr.lines = append(tr.lines, line)
		return nil
	}, func(s finding.Skip) {
		tr.lines = append(tr.lines, fmt.Sprintf("skip %s %s: %s", s.Path, s.Reason, s.Detail))
	})
	return tr
}

func short(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func preview(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%q...", b[:24])
	}
	return fmt.Sprintf("%q", b)
}

// streamOnly hides every interface but Read, as a network body would.
type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(p []byte) (int, error) { return s.r.Read(p) }

func bytesSource(name string, b []byte) Source {
	return Source{Name: name, R: streamOnly{bytes.NewReader(b)}, Size: -1}
}

func raSource(name string, b []byte) Source {
	return Source{Name: name, R: bytes.NewReader(b), RA: bytes.NewReader(b), Size: int64(len(b))}
}

// prng is a small deterministic generator for test content (xorshift64*).
type prng uint64

func (p *prng) next() uint64 {
	x := uint64(*p)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*p = prng(x)
	return x * 2685821657736338717
}

// text returns n bytes of log-like lines: compressible like real files,
// not degenerate like zeros.
func (p *prng) text(n int) []byte {
	words := []string{"GET", "POST", "/api/v1/items", "200", "404", "user", "bucket", "region", "cn-hangzhou",
		"latency_ms", "request_id", "ok", "retry", "upload", "object", "size", "etag", "trace"}
	b := make([]byte, 0, n+64)
	for len(b) < n {
		for range 8 {
			b = append(b, words[p.next()%uint64(len(words))]...)
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%016x\n", p.next())
	}
	return b[:n]
}
