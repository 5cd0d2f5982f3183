package inflate_test

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/akguard/akguard/shared/inflate"
)

const (
	fText    = 1 << 0
	fHCRC    = 1 << 1
	fExtra   = 1 << 2
	fName    = 1 << 3
	fComment = 1 << 4
)

// gzHeader writes member headers by hand: compress/gzip never sets FHCRC
// and cannot write a broken header.
type gzHeader struct {
	flags   byte
	cm      byte // 0 means 8, deflate
	extra   []byte
	name    string
	comment string
	badHCRC bool
}

func (h gzHeader) bytes() []byte {
	cm := h.cm
	if cm == 0 {
		cm = 8
	}
	b := []byte{0x1f, 0x8b, cm, h.flags, 0x00, 0xf1, 0x53, 0x65, 0, 3}
	if h.flags&fExtra != 0 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h.extra)))
		b = append(b, h.extra...)
	}
	if h.flags&fName != 0 {
		b = append(append(b, h.name...), 0)
	}
	if h.flags&fComment != 0 {
		b = append(append(b, h.comment...), 0)
	}
	if h.flags&fHCRC != 0 {
		sum := uint16(crc32.ChecksumIEEE(b))
		if h.badHCRC {
			sum ^= 0x0100
		}
		b = binary.LittleEndian.AppendUint16(b, sum)
	}
	return b
}

// member is one gzip member around data; crcDelta and sizeDelta break the
// trailer on purpose.
func member(tb testing.TB, h gzHeader, data []byte, level int, crcDelta, sizeDelta uint32) []byte {
	tb.Helper()
	b := h.bytes()
	b = append(b, stdDeflate(tb, data, level, 0)...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(data)+crcDelta)
	return binary.LittleEndian.AppendUint32(b, uint32(len(data))+sizeDelta)
}

func TestGzipHeaders(t *testing.T) {
	data := newGen(20).text(20 << 10)
	latin1 := "caf\xe9 na\xefve"
	cases := []struct {
		name string
		h    gzHeader
	}{
		{"plain", gzHeader{}},
		{"ftext", gzHeader{flags: fText}},
		{"fextra", gzHeader{flags: fExtra, extra: []byte("AP\x04\x00abcd")}},
		{"fextra-empty", gzHeader{flags: fExtra}},
		{"fextra-65535", gzHeader{flags: fExtra, extra: bytes.Repeat([]byte{0x1f}, 65535)}},
		{"fname", gzHeader{flags: fName, name: "logs/app.log"}},
		{"fname-empty", gzHeader{flags: fName}},
		{"fname-latin1", gzHeader{flags: fName, name: latin1}},
		{"fcomment", gzHeader{flags: fComment, comment: "made by hand"}},
		{"fhcrc", gzHeader{flags: fHCRC}},
		{"fhcrc-fname", gzHeader{flags: fHCRC | fName, name: "x"}},
		{"all", gzHeader{flags: fText | fHCRC | fExtra | fName | fComment, extra: []byte("xy\x00\x00"), name: latin1, comment: "c\x01\xff"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := member(t, c.h, data, 6, 0, 0)
			if _, err := gunzipStd(src); err != nil {
				t.Fatalf("test bug: compress/gzip rejects it: %v", err)
			}
			for _, size := range []int{1, 32 << 10} {
				got, err := gunzipOurs(src, size)
				if err != nil {
					t.Fatalf("reads of %d: %v", size, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("reads of %d: %s", size, firstDiff(got, data))
				}
			}
		})
	}
}

// TestGzipBadHeader: every broken header is ErrHeader, whether in the first
// member (from NewGzipReader) or a later one (from Read).
func TestGzipBadHeader(t *testing.T) {
	data := []byte("payload")
	good := member(t, gzHeader{}, data, 6, 0, 0)
	cases := []struct {
		name string
		hdr  []byte
	}{
		{"magic", append([]byte{0x1f, 0x8c}, gzHeader{}.bytes()[2:]...)},
		{"not-gzip-text", []byte("this is not a gzip file at all\n")},
		{"zeros", make([]byte, 512)},
		{"cm7", gzHeader{cm: 7}.bytes()},
		{"hcrc-mismatch", gzHeader{flags: fHCRC, badHCRC: true}.bytes()},
		{"hcrc-mismatch-fname", gzHeader{flags: fHCRC | fName, name: "a.txt", badHCRC: true}.bytes()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := append(append([]byte(nil), c.hdr...), good[10:]...)
			if _, err := gunzipStd(src); !errors.Is(err, stdgzip.ErrHeader) {
				t.Fatalf("test bug: compress/gzip says %v", err)
			}
			_, err := inflate.NewGzipReader(bufio.NewReader(bytes.NewReader(src)))
			if !errors.Is(err, inflate.ErrHeader) {
				t.Fatalf("first member: NewGzipReader err = %v, want ErrHeader", err)
			}
			// The same header as a second member fails Read after the
			// first member's data.
			src = append(bytes.Clone(good), src...)
			got, err := gunzipOurs(src, 1000)
			if !errors.Is(err, inflate.ErrHeader) {
				t.Fatalf("second member: err = %v, want ErrHeader", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("second member: first member's data: %s", firstDiff(got, data))
			}
		})
	}
}

func TestGzipEmptyInput(t *testing.T) {
	if _, err := inflate.NewGzipReader(bufio.NewReader(bytes.NewReader(nil))); err != io.EOF {
		t.Fatalf("NewGzipReader on no bytes: err = %v, want io.EOF", err)
	}
	z, err := inflate.NewGzipReader(bufio.NewReader(bytes.NewReader(member(t, gzHeader{}, []byte("x"), 6, 0, 0))))
	if err != nil {
		t.Fatal(err)
	}
	if err := z.Reset(bufio.NewReader(bytes.NewReader(nil))); err != io.EOF {
		t.Fatalf("Reset on no bytes: err = %v, want io.EOF", err)
	}
}

func TestGzipMultiMember(t *testing.T) {
	g := newGen(21)
	parts := [][]byte{g.text(10 << 10), nil, g.random(3000), []byte("z"), g.patchwork(70 << 10)}
	var src, want []byte
	for i, p := range parts {
		h := gzHeader{flags: byte(i) << 1 & (fHCRC | fExtra | fName | fComment), extra: []byte("e"), name: fmt.Sprint("part", i)}
		src = append(src, member(t, h, p, i%10, 0, 0)...)
		want = append(want, p...)
	}
	if std, err := gunzipStd(src); err != nil || !bytes.Equal(std, want) {
		t.Fatalf("test bug: compress/gzip: %v", err)
	}
	for _, so := range sources() {
		for _, size := range []int{1, 7, 32 << 10} {
			t.Run(fmt.Sprintf("%s/read%d", so.name, size), func(t *testing.T) {
				z, err := inflate.NewGzipReader(bufio.NewReaderSize(so.wrap(bytes.NewReader(src)), 16))
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAll(z, size, outputLimit(len(src)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s", firstDiff(got, want))
				}
			})
		}
	}
}

func TestGzipChecksum(t *testing.T) {
	data := newGen(22).text(5000)
	good := member(t, gzHeader{}, data, 6, 0, 0)
	cases := []struct {
		name string
		src  []byte
	}{
		{"crc", member(t, gzHeader{}, data, 6, 1, 0)},
		{"crc-high-bit", member(t, gzHeader{}, data, 6, 1<<31, 0)},
		{"isize", member(t, gzHeader{}, data, 6, 0, 1)},
		{"isize-mod-2^32", member(t, gzHeader{}, data, 6, 0, 1<<31)},
		{"second-member-crc", append(bytes.Clone(good), member(t, gzHeader{}, data, 1, 7, 0)...)},
		{"empty-member-isize", member(t, gzHeader{}, nil, 6, 0, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := gunzipStd(c.src); !errors.Is(err, stdgzip.ErrChecksum) {
				t.Fatalf("test bug: compress/gzip says %v", err)
			}
			for _, size := range []int{1, 32 << 10} {
				if _, err := gunzipOurs(c.src, size); !errors.Is(err, inflate.ErrChecksum) {
					t.Fatalf("reads of %d: err = %v, want ErrChecksum", size, err)
				}
			}
		})
	}
}

// TestGzipGarbageAfterMember: bytes after a member that do not start a
// member are a header error, not silently ignored data.
func TestGzipGarbageAfterMember(t *testing.T) {
	data := newGen(23).text(4000)
	good := member(t, gzHeader{}, data, 6, 0, 0)
	for _, garbage := range []string{"0123456789abcdef", strings.Repeat("\x00", 1024), "\x1f\x8b\x07\x00\x00\x00\x00\x00\x00\x03"} {
		src := append(bytes.Clone(good), garbage...)
		got, err := gunzipOurs(src, 4096)
		if !errors.Is(err, inflate.ErrHeader) {
			t.Errorf("garbage %q: err = %v, want ErrHeader", garbage[:8], err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("garbage %q: member data: %s", garbage[:8], firstDiff(got, data))
		}
	}
}

// TestGzipTruncated cuts a member with every header field at every
// length: NewGzipReader or Read must fail with io.ErrUnexpectedEOF (io.EOF
// only for zero bytes), and compress/gzip must agree that it fails.
func TestGzipTruncated(t *testing.T) {
	data := newGen(24).text(3000)
	src := member(t, gzHeader{flags: fHCRC | fExtra | fName | fComment, extra: []byte("ex"), name: "n", comment: "c"}, data, 6, 0, 0)
	for n := range len(src) {
		_, stdErr := gunzipStd(src[:n])
		if stdErr == nil {
			t.Fatalf("test bug: compress/gzip accepts %d of %d bytes", n, len(src))
		}
		z, err := inflate.NewGzipReader(bufio.NewReaderSize(bytes.NewReader(src[:n]), 16))
		if err == nil {
			var got []byte
			got, err = readAll(z, 100, outputLimit(n))
			if err == nil {
				t.Fatalf("%d of %d bytes: success", n, len(src))
			}
			if !bytes.HasPrefix(data, got) {
				t.Fatalf("%d of %d bytes: output before the error: %s", n, len(src), firstDiff(got, data[:min(len(got), len(data))]))
			}
		}
		want := io.ErrUnexpectedEOF
		if n == 0 {
			want = io.EOF
		}
		if !errors.Is(err, want) {
			t.Fatalf("%d of %d bytes: err = %v, want %v (compress/gzip: %v)", n, len(src), err, want, stdErr)
		}
	}
}

// TestGzipReset reuses one GzipReader over many members of every shape,
// with broken ones in between.
func TestGzipReset(t *testing.T) {
	g := newGen(25)
	br := bufio.NewReader(nil)
	z := new(inflate.GzipReader) // a zero reader is ready for Reset
	for i := range 60 {
		data := g.patchwork(g.r.IntN(50 << 10))
		src := member(t, gzHeader{flags: byte(i) & (fHCRC | fName), name: "r"}, data, i%12-2, 0, 0)
		broken := i%5 == 4
		if broken {
			src[len(src)-5] ^= 0x40 // CRC
		}
		br.Reset(bytes.NewReader(src))
		if err := z.Reset(br); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		got, err := readAll(z, []int{1, 100, 4096, 1 << 16}[i%4], outputLimit(len(src)))
		if broken {
			if !errors.Is(err, inflate.ErrChecksum) {
				t.Fatalf("stream %d: err = %v, want ErrChecksum", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("stream %d: %s", i, firstDiff(got, data))
		}
	}
}

func TestGzipReaderErrorPassedThrough(t *testing.T) {
	boom := errors.New("boom: disk read")
	src := member(t, gzHeader{flags: fName, name: "n"}, newGen(26).text(20000), 6, 0, 0)
	for _, cut := range []int{3, 11, 40, len(src) - 6, len(src) - 1} {
		br := bufio.NewReaderSize(&failingReader{src[:cut], boom}, 16)
		z, err := inflate.NewGzipReader(br)
		if err == nil {
			_, err = readAll(z, 4096, outputLimit(len(src)))
		}
		if !errors.Is(err, boom) {
			t.Errorf("cut at %d: err = %v, want %v", cut, err, boom)
		}
	}
}

// TestGzipPythonSample reads what Python's gzip module (zlib) wrote, with
// FNAME and MTIME set.
func TestGzipPythonSample(t *testing.T) {
	want, err := os.ReadFile("testdata/zlib/sample.bin")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/zlib/named.gz")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(src)), 16)
	z, err := inflate.NewGzipReader(br)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(z, 333, outputLimit(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal(firstDiff(got, want))
	}
}

// TestGzipLongStrings: RFC 1952 puts no limit on FNAME and FCOMMENT and
// gzip(1) accepts any length. compress/gzip and klauspost refuse 512
// bytes or more with ErrHeader; ours reads them, even past bufio's
// buffer, so members the old walker skipped are now scanned.
func TestGzipLongStrings(t *testing.T) {
	data := []byte("content behind a long name")
	h := gzHeader{flags: fHCRC | fName | fComment, name: strings.Repeat("n", 1000), comment: strings.Repeat("c", 70000)}
	src := member(t, h, data, 6, 0, 0)
	for _, bsize := range []int{16, 4096} {
		z, err := inflate.NewGzipReader(bufio.NewReaderSize(bytes.NewReader(src), bsize))
		if err != nil {
			t.Fatalf("bufio %d: %v", bsize, err)
		}
		got, err := readAll(z, 4096, outputLimit(len(src)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("bufio %d: %q, %v", bsize, got, err)
		}
	}
	// Cut inside the comment: a short header, not a bad one.
	_, err := inflate.NewGzipReader(bufio.NewReaderSize(bytes.NewReader(src[:20000]), 16))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut inside the comment: err = %v, want io.ErrUnexpectedEOF", err)
	}
}
