package inflate_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/akguard/akguard/shared/inflate"
)

type input struct {
	name string
	data []byte
}

// corpus is every input of the differential tests. Inputs of a megabyte
// and more are encoded with fewer encoders (big) to keep the package under
// its time budget; short mode drops the largest.
func corpus(short bool) (small, big []input) {
	g := newGen(1)
	small = []input{
		{"empty", nil},
		{"1byte", []byte{'x'}},
		{"2bytes", []byte{0, 0xff}},
		{"text100", g.text(100)},
		{"text3K", g.text(3 << 10)},
		{"random256K", g.random(256 << 10)},
		{"text256K", g.text(256 << 10)},
		{"mixed256K", g.mixed(256 << 10)},
		{"patchwork300K", g.patchwork(300 << 10)},
		{"text32K-1", g.text(32<<10 - 1)},
		{"text32K", g.text(32 << 10)},
		{"text32K+1", g.text(32<<10 + 1)},
		{"random32K+1", g.random(32<<10 + 1)},
		{"text64K", g.text(64 << 10)},
		{"random64K+7", g.random(64<<10 + 7)},
		{"zeros65535", make([]byte, 65535)},
		{"zeros65536", make([]byte, 65536)},
	}
	for p := 2; p <= 8; p++ {
		small = append(small, input{fmt.Sprintf("period%d", p), g.periodic(20<<10, p)})
	}
	small = append(small, input{"period258", g.periodic(20<<10, 258)}, input{"period32768", g.periodic(80<<10, 32768)})
	big = []input{
		{"zeros1M", make([]byte, 1<<20)},
		{"mixed1M+1", g.mixed(1<<20 + 1)},
	}
	if !short {
		big = append(big, input{"patchwork2.5M", g.patchwork(5 << 19)})
	}
	return small, big
}

func encoders() (all, few []encoder) {
	few = []encoder{stdEncoder(-2), stdEncoder(0), stdEncoder(1), stdEncoder(6), kpEncoder(1), kpEncoder(5), kpEncoder(9)}
	all = append([]encoder{stdEncoder(9), kpEncoder(-2), kpEncoder(0), kpEncoder(7), kpWindowEncoder(1024), kpStatelessEncoder(20000),
		flushEncoder(6, 997), flushEncoder(1, 64<<10)}, few...)
	return all, few
}

// TestDifferential decodes what the reference encoders wrote and wants the
// original back byte for byte.
func TestDifferential(t *testing.T) {
	t.Parallel()
	small, big := corpus(light())
	all, few := encoders()
	run := func(in input, encs []encoder) {
		for _, e := range encs {
			t.Run(in.name+"/"+e.name, func(t *testing.T) {
				src := e.enc(t, in.data)
				got, err := inflateOurs(src, 32<<10)
				if err != nil {
					t.Fatalf("%d-byte stream: %v", len(src), err)
				}
				if !bytes.Equal(got, in.data) {
					t.Fatalf("output differs: %s", firstDiff(got, in.data))
				}
			})
		}
	}
	for _, in := range small {
		if light() && len(in.data) > 64<<10 {
			run(in, few)
			continue
		}
		run(in, all)
	}
	if light() {
		big = big[:1]
	}
	for _, in := range big {
		run(in, few)
	}
}

// TestManyFlushes covers streams that are mostly block boundaries: a Flush
// after every byte gives a sync marker (empty stored block) per byte.
func TestManyFlushes(t *testing.T) {
	t.Parallel()
	g := newGen(2)
	for _, tc := range []struct {
		data  []byte
		level int
		every int
	}{
		{g.text(2000), 6, 1},
		{g.text(2000), 0, 1},
		{g.text(2000), -2, 3},
		{g.random(5000), 1, 7},
		{g.text(64 << 10), 9, 100},
		{g.periodic(10000, 3), 6, 33},
	} {
		t.Run(fmt.Sprintf("level%d-every%d-%d", tc.level, tc.every, len(tc.data)), func(t *testing.T) {
			src := stdDeflate(t, tc.data, tc.level, tc.every)
			got, err := inflateOurs(src, 32<<10)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatalf("output differs: %s", firstDiff(got, tc.data))
			}
		})
	}
}

// TestZlibSamples decodes streams zlib wrote (testdata/zlib/gen.py): block
// shapes Go's encoders never produce.
func TestZlibSamples(t *testing.T) {
	want, err := os.ReadFile("testdata/zlib/sample.bin")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/zlib/*.deflate")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 32 << 10} {
				got, err := inflateOurs(src, size)
				if err != nil {
					t.Fatalf("reads of %d: %v", size, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("reads of %d: output differs: %s", size, firstDiff(got, want))
				}
			}
		})
	}
}

type source struct {
	name string
	wrap func(io.Reader) io.Reader
}

func sources() []source {
	return []source{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"onebyte", iotest.OneByteReader},
		{"dataerr", iotest.DataErrReader},
		{"half", iotest.HalfReader},
	}
}

// TestAwkwardReads varies every size a caller controls: the read buffer,
// the bufio buffer and how much the reader under bufio returns per call.
func TestAwkwardReads(t *testing.T) {
	t.Parallel()
	g := newGen(3)
	streams := []struct {
		name string
		data []byte
		enc  encoder
	}{
		{"text", g.text(100 << 10), stdEncoder(6)},
		{"patchwork", g.patchwork(120 << 10), kpEncoder(5)},
		{"zeros", make([]byte, 150<<10), stdEncoder(9)},
		{"random", g.random(70 << 10), stdEncoder(0)},
		{"flushed", g.text(20 << 10), flushEncoder(6, 333)},
		{"period3", g.periodic(50<<10, 3), kpEncoder(9)},
	}
	for _, s := range streams {
		src := s.enc.enc(t, s.data)
		for _, so := range sources() {
			for _, bsize := range []int{16, 32 << 10} {
				for _, rsize := range []int{1, 3, 7, 4096, 1 << 20} {
					if so.name != "plain" && rsize < 7 && (bsize > 16 || light()) && len(s.data) > 64<<10 {
						// Byte-at-a-time on both sides of bufio adds
						// nothing the 16-byte buffer does not cover.
						continue
					}
					name := fmt.Sprintf("%s/%s/bufio%d/read%d", s.name, so.name, bsize, rsize)
					t.Run(name, func(t *testing.T) {
						br := bufio.NewReaderSize(so.wrap(bytes.NewReader(src)), bsize)
						got, err := readAll(inflate.NewReader(br), rsize, outputLimit(len(src)))
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, s.data) {
							t.Fatalf("output differs: %s", firstDiff(got, s.data))
						}
					})
				}
			}
		}
	}
}

// TestExactConsumption: zip and gzip put data right after the deflate
// stream, so the decoder must stop at the byte holding the last bit.
func TestExactConsumption(t *testing.T) {
	t.Parallel()
	g := newGen(4)
	trailer := []byte("TRAILER\x00\xff...next local header")
	all, few := encoders()
	if light() {
		all = few
	}
	inputs := []input{{"empty", nil}, {"1byte", []byte("a")}, {"text", g.text(50 << 10)}, {"random", g.random(40 << 10)}, {"zeros", make([]byte, 70<<10)}}
	for _, in := range inputs {
		for _, e := range all {
			src := append(e.enc(t, in.data), trailer...)
			for _, so := range sources()[:2] {
				for _, bsize := range []int{16, 32 << 10} {
					t.Run(fmt.Sprintf("%s/%s/%s/bufio%d", in.name, e.name, so.name, bsize), func(t *testing.T) {
						br := bufio.NewReaderSize(so.wrap(bytes.NewReader(src)), bsize)
						r := inflate.NewReader(br)
						got, err := readAll(r, 4096, outputLimit(len(src)))
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, in.data) {
							t.Fatalf("output differs: %s", firstDiff(got, in.data))
						}
						if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
							t.Fatalf("Read after the end = %d, %v; want 0, EOF", n, err)
						}
						rest, err := io.ReadAll(br)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(rest, trailer) {
							t.Fatalf("after the stream br holds %q, want %q", rest, trailer)
						}
					})
				}
			}
		}
	}
}

// TestBackToBack reads several streams from one bufio.Reader with one
// Reader, as the zip walker does with consecutive entries.
func TestBackToBack(t *testing.T) {
	g := newGen(5)
	all, _ := encoders()
	var src []byte
	var want [][]byte
	for i, e := range all {
		d := g.patchwork(i * 3000)
		want = append(want, d)
		src = append(src, e.enc(t, d)...)
	}
	for _, so := range sources()[:2] {
		t.Run(so.name, func(t *testing.T) {
			br := bufio.NewReaderSize(so.wrap(bytes.NewReader(src)), 16)
			var r *inflate.Reader
			for i, w := range want {
				if r == nil {
					r = inflate.NewReader(br)
				} else {
					r.Reset(br)
				}
				got, err := readAll(r, 1000, outputLimit(len(src)))
				if err != nil {
					t.Fatalf("stream %d (%s): %v", i, all[i].name, err)
				}
				if !bytes.Equal(got, w) {
					t.Fatalf("stream %d (%s): %s", i, all[i].name, firstDiff(got, w))
				}
			}
			if n, _ := br.Read(make([]byte, 1)); n != 0 {
				t.Fatal("bytes left after the last stream")
			}
		})
	}
}

// TestResetAfterError: a reused Reader must not carry a corrupt stream's
// state (window, bits, error) into the next one.
func TestResetAfterError(t *testing.T) {
	g := newGen(6)
	good := g.text(40 << 10)
	goodSrc := stdDeflate(t, good, 6, 0)
	bad := [][]byte{
		{0x07},                   // block type 3
		goodSrc[:len(goodSrc)/2], // truncated mid-block
		append([]byte{0x01, 5, 0, 0, 0}, "hello"...), // LEN != ^NLEN
	}
	br := bufio.NewReader(nil)
	r := inflate.NewReader(br)
	for i, b := range bad {
		br.Reset(bytes.NewReader(b))
		r.Reset(br)
		if _, err := readAll(r, 4096, outputLimit(len(b))); !isDecodeError(err) {
			t.Fatalf("bad stream %d: err = %v, want a decode error", i, err)
		}
		br.Reset(bytes.NewReader(goodSrc))
		r.Reset(br)
		got, err := readAll(r, 4096, outputLimit(len(goodSrc)))
		if err != nil {
			t.Fatalf("good stream after bad %d: %v", i, err)
		}
		if !bytes.Equal(got, good) {
			t.Fatalf("good stream after bad %d: %s", i, firstDiff(got, good))
		}
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReaderErrorPassedThrough: a network or disk error under bufio must
// reach the caller as itself, not as corruption or a short stream.
func TestReaderErrorPassedThrough(t *testing.T) {
	boom := errors.New("boom: connection reset")
	g := newGen(7)
	src := stdDeflate(t, g.text(30<<10), 6, 0)
	stored := stdDeflate(t, g.random(30<<10), 0, 0)
	for _, s := range [][]byte{src, stored} {
		for _, cut := range []int{0, 1, 2, 5, len(s) / 3, len(s) - 1} {
			t.Run(fmt.Sprintf("%d-of-%d", cut, len(s)), func(t *testing.T) {
				br := bufio.NewReaderSize(&failingReader{s[:cut], boom}, 16)
				_, err := readAll(inflate.NewReader(br), 4096, outputLimit(len(s)))
				if !errors.Is(err, boom) {
					t.Fatalf("err = %v, want %v", err, boom)
				}
			})
		}
	}
}

// coder writes block bodies: fixed codes when lit is nil.
type coder struct {
	w         *bitWriter
	lit, dist []huffCode
}

var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func (c coder) sym(s int) {
	if c.lit == nil {
		c.w.fixedLit(s)
		return
	}
	if c.lit[s].len == 0 {
		panic(fmt.Sprintf("test bug: symbol %d has no code", s))
	}
	c.w.code(c.lit[s].code, c.lit[s].len)
}

func (c coder) distSym(s int) {
	if c.dist == nil {
		c.w.code(uint32(s), 5)
		return
	}
	c.w.code(c.dist[s].code, c.dist[s].len)
}

func (c coder) literals(s string) {
	for i := range len(s) {
		c.sym(int(s[i]))
	}
}

func (c coder) match(length, dist int) {
	i := 28
	for lenBase[i] > length {
		i--
	}
	c.sym(257 + i)
	c.w.bits(uint64(length-lenBase[i]), lenExtra[i])
	j := 29
	for distBase[j] > dist {
		j--
	}
	c.distSym(j)
	c.w.bits(uint64(dist-distBase[j]), distExtra[j])
}

func fixedBlock(w *bitWriter, final bool) coder {
	w.bits(b2u(final), 1)
	w.bits(1, 2)
	return coder{w: w}
}

func storedBlock(w *bitWriter, final bool, data []byte) {
	w.bits(b2u(final), 1)
	w.bits(0, 2)
	w.align()
	w.bits(uint64(len(data)), 16)
	w.bits(uint64(^uint16(len(data))), 16)
	w.out = append(w.out, data...)
}

// dynCoder writes a dynamic block header and returns a coder for its body.
func dynCoder(w *bitWriter, final bool, lit, dist []int) coder {
	l, d := dynBlock(w, final, lit, dist)
	return coder{w, l, d}
}

// abLit is a complete literal/length code: 'a' 1 bit, EOB and length 3 two
// bits each.
func abLit() []int { return lengths(257+1, map[int]int{'a': 1, 256: 2, 257: 2}) }

// decodeGuarded runs ours in a goroutine so that a hang fails the test
// instead of the whole run, and turns a panic into an error.
func decodeGuarded(t *testing.T, src []byte, readSize int) ([]byte, error) {
	t.Helper()
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- result{nil, fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
			}
		}()
		out, err := inflateOurs(src, readSize)
		ch <- result{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("no result after 20s: the decoder hangs on %s", short(src))
		return nil, nil
	}
}

// handBuilt is a stream written bit by bit.
type handBuilt struct {
	name  string
	build func(w *bitWriter)
	want  []byte // for valid streams; nil means only compare with compress/flate
}

func (h handBuilt) bytes() []byte {
	var w bitWriter
	h.build(&w)
	return w.bytes()
}

// invalidStreams break one rule of RFC 1951 each.
func invalidStreams() []handBuilt {
	type tc struct {
		name  string
		build func(w *bitWriter)
	}
	cases := []tc{
		{"btype3", func(w *bitWriter) { w.bits(1, 1); w.bits(3, 2); w.bits(0, 13) }},
		{"btype3-nonfinal", func(w *bitWriter) { w.bits(0, 1); w.bits(3, 2); w.bits(0, 13) }},
		{"btype3-after-stored", func(w *bitWriter) {
			storedBlock(w, false, []byte("abc"))
			w.bits(1, 1)
			w.bits(3, 2)
		}},
		{"stored-nlen-zero", func(w *bitWriter) {
			w.bits(1, 3)
			w.align()
			w.bits(5, 16)
			w.bits(0, 16)
			w.out = append(w.out, "hello"...)
		}},
		{"stored-nlen-off-by-one", func(w *bitWriter) {
			w.bits(1, 3)
			w.align()
			w.bits(5, 16)
			w.bits(uint64(^uint16(5)+1), 16)
			w.out = append(w.out, "hello"...)
		}},
		{"stored-len0-nlen0", func(w *bitWriter) {
			w.bits(1, 3)
			w.align()
			w.bits(0, 32)
		}},
		{"fixed-match-first", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.match(3, 1)
			c.sym(256)
		}},
		{"fixed-dist-past-start", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.literals("ab")
			c.match(3, 3)
			c.sym(256)
		}},
		{"fixed-dist-past-start-far", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.literals(strings.Repeat("x", 1000))
			c.match(10, 32768)
			c.sym(256)
		}},
		{"dist-past-start-across-blocks", func(w *bitWriter) {
			storedBlock(w, false, bytes.Repeat([]byte("y"), 5000))
			c := fixedBlock(w, true)
			c.match(258, 5001)
			c.sym(256)
		}},
		{"fixed-lit286", func(w *bitWriter) { c := fixedBlock(w, true); c.literals("a"); c.sym(286); c.sym(256) }},
		{"fixed-lit287", func(w *bitWriter) { c := fixedBlock(w, true); c.literals("a"); c.sym(287); c.sym(256) }},
		{"fixed-dist30", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.literals("abcdef")
			c.sym(257)
			c.distSym(30)
			c.sym(256)
		}},
		{"fixed-dist31", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.literals("abcdef")
			c.sym(257)
			c.distSym(31)
			c.sym(256)
		}},
		{"hlit287", func(w *bitWriter) {
			lit := lengths(287, map[int]int{'a': 1, 256: 2, 257: 2})
			dynHeader{hlit: 287, hdist: 1, cl: defaultCL, seq: lengthsSeq(lit, []int{1})}.write(w, true)
			w.bits(0, 16)
		}},
		{"hlit288", func(w *bitWriter) {
			lit := lengths(288, map[int]int{'a': 1, 256: 2, 257: 2})
			dynHeader{hlit: 288, hdist: 1, cl: defaultCL, seq: lengthsSeq(lit, []int{1})}.write(w, true)
			w.bits(0, 16)
		}},
		{"hdist31", func(w *bitWriter) {
			dist := lengths(31, map[int]int{0: 1, 1: 1})
			dynHeader{hlit: 258, hdist: 31, cl: defaultCL, seq: lengthsSeq(abLit(), dist)}.write(w, true)
			w.bits(0, 16)
		}},
		{"hdist32", func(w *bitWriter) {
			dist := lengths(32, map[int]int{0: 1, 1: 1})
			dynHeader{hlit: 258, hdist: 32, cl: defaultCL, seq: lengthsSeq(abLit(), dist)}.write(w, true)
			w.bits(0, 16)
		}},
		{"cl-oversubscribed", func(w *bitWriter) {
			var cl [19]int
			for i := range cl {
				cl[i] = 1
			}
			dynHeader{hlit: 258, hdist: 1, cl: cl}.write(w, true)
			w.bits(0, 32)
		}},
		{"cl-incomplete", func(w *bitWriter) {
			// Two 2-bit codes fill half the code space.
			var cl [19]int
			cl[1], cl[2] = 2, 2
			dynHeader{hlit: 257, hdist: 1, cl: cl}.write(w, true)
			w.bits(0, 32)
		}},
		{"lit-oversubscribed", func(w *bitWriter) {
			dynCoder(w, true, lengths(257, map[int]int{'a': 1, 'b': 1, 256: 1}), []int{1})
			w.bits(0, 16)
		}},
		{"lit-incomplete", func(w *bitWriter) {
			c := dynCoder(w, true, lengths(257, map[int]int{'a': 2, 256: 2}), []int{1})
			c.literals("aa")
			c.sym(256)
		}},
		{"lit-incomplete-long", func(w *bitWriter) {
			c := dynCoder(w, true, lengths(257, map[int]int{'a': 1, 'b': 3, 256: 15}), []int{1})
			c.literals("ab")
			c.sym(256)
		}},
		{"lit-single-code-length2", func(w *bitWriter) {
			c := dynCoder(w, true, lengths(257, map[int]int{256: 2}), []int{1})
			c.sym(256)
		}},
		{"dist-oversubscribed", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{1, 1, 1})
			c.literals("a")
			c.sym(256)
		}},
		{"dist-incomplete", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{2, 2})
			c.literals("a")
			c.match(3, 1)
			c.sym(256)
		}},
		{"dist-single-code-length2", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{2})
			c.literals("a")
			c.match(3, 1)
			c.sym(256)
		}},
		{"repeat16-first", func(w *bitWriter) {
			seq := append([]clSym{{16, 0}}, lengthsSeq(abLit(), []int{1})[3:]...)
			dynHeader{hlit: 258, hdist: 1, cl: defaultCL, seq: seq}.write(w, true)
			w.bits(0, 16)
		}},
		{"repeat18-past-end", func(w *bitWriter) {
			// 258 lit + 1 dist lengths; two runs of 138 zeros overshoot.
			dynHeader{hlit: 258, hdist: 1, cl: defaultCL, seq: []clSym{{18, 127}, {18, 127}}}.write(w, true)
			w.bits(0, 16)
		}},
		{"repeat17-past-end", func(w *bitWriter) {
			seq := lengthsSeq(abLit(), nil)
			seq = append(seq, clSym{17, 7}) // 10 zeros where 1 dist length is left
			dynHeader{hlit: 258, hdist: 1, cl: defaultCL, seq: seq}.write(w, true)
			w.bits(0, 16)
		}},
		{"repeat16-past-end", func(w *bitWriter) {
			seq := lengthsSeq(abLit(), nil)
			seq = append(seq, clSym{1, 0}, clSym{16, 3}) // 1 dist length then 6 more
			dynHeader{hlit: 258, hdist: 2, cl: defaultCL, seq: seq}.write(w, true)
			w.bits(0, 16)
		}},
		{"no-end-of-block", func(w *bitWriter) {
			c := dynCoder(w, true, lengths(257, map[int]int{'a': 1, 'b': 1}), []int{1})
			c.literals("abababab")
		}},
		{"no-end-of-block-long-input", func(w *bitWriter) {
			c := dynCoder(w, true, lengths(257, map[int]int{'a': 1, 'b': 1}), []int{1})
			c.literals(strings.Repeat("ab", 5000))
		}},
		{"degenerate-dist-unused-code", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{1})
			c.literals("a")
			c.sym(257)
			w.code(1, 1) // the half of the one-code tree that has no symbol
			c.sym(256)
		}},
		{"degenerate-lit-unused-code", func(w *bitWriter) {
			dynCoder(w, true, lengths(257, map[int]int{256: 1}), []int{1})
			w.code(1, 1)
		}},
		{"length-without-dist-codes", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{0})
			c.literals("a")
			c.sym(257)
			c.sym(256)
		}},
		{"bad-second-block", func(w *bitWriter) {
			c := fixedBlock(w, false)
			c.literals("hello")
			c.sym(256)
			c = fixedBlock(w, true)
			c.match(3, 6)
			c.sym(256)
		}},
	}
	out := make([]handBuilt, len(cases))
	for i, c := range cases {
		out[i] = handBuilt{name: c.name, build: c.build}
	}
	return out
}

// TestInvalid: each broken stream is ErrCorrupt, without a hang or panic.
func TestInvalid(t *testing.T) {
	for _, c := range invalidStreams() {
		t.Run(c.name, func(t *testing.T) {
			src := c.bytes()
			if _, err := inflateStd(src); err == nil {
				t.Fatalf("test bug: compress/flate accepts %s", short(src))
			}
			for _, size := range []int{1, 32 << 10} {
				out, err := decodeGuarded(t, src, size)
				if !errors.Is(err, inflate.ErrCorrupt) {
					t.Fatalf("reads of %d: err = %v after %d bytes, want ErrCorrupt; stream %s", size, err, len(out), short(src))
				}
			}
		})
	}
}

// validEdges are streams at the edges of what the format allows, each of
// which zlib and compress/flate accept.
func validEdges() []handBuilt {
	g := newGen(8)
	prefix := g.random(32768)
	return []handBuilt{
		{"stored-empty", func(w *bitWriter) { storedBlock(w, true, nil) }, nil},
		{"stored-65535", func(w *bitWriter) { storedBlock(w, true, bytes.Repeat([]byte("s"), 65535)) }, bytes.Repeat([]byte("s"), 65535)},
		{"fixed-empty", func(w *bitWriter) { fixedBlock(w, true).sym(256) }, nil},
		{"empty-blocks", func(w *bitWriter) {
			fixedBlock(w, false).sym(256)
			storedBlock(w, false, nil)
			dynCoder(w, false, abLit(), []int{1}).sym(256)
			fixedBlock(w, true).sym(256)
		}, nil},
		{"len258-via-285", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.literals("a")
			c.match(258, 1)
			c.sym(256)
		}, bytes.Repeat([]byte("a"), 259)},
		{"len258-via-284-extra31", func(w *bitWriter) {
			// zlib and compress/flate both read 284 with all extra bits
			// set as length 258, though RFC 1951 lists 284 up to 257.
			c := fixedBlock(w, true)
			c.literals("a")
			c.sym(284)
			w.bits(31, 5)
			c.distSym(0)
			c.sym(256)
		}, bytes.Repeat([]byte("a"), 259)},
		{"dist32768", func(w *bitWriter) {
			storedBlock(w, false, prefix)
			c := fixedBlock(w, true)
			c.match(258, 32768)
			c.match(3, 32768)
			c.sym(256)
		}, append(append(append([]byte(nil), prefix...), prefix[:258]...), prefix[258:261]...)},
		{"overlap-dist1-len258-chain", func(w *bitWriter) {
			c := fixedBlock(w, true)
			c.literals("z")
			for range 300 {
				c.match(258, 1)
			}
			c.sym(256)
		}, bytes.Repeat([]byte("z"), 1+300*258)},
		{"lit-single-code", func(w *bitWriter) {
			c := dynCoder(w, true, lengths(257, map[int]int{256: 1}), []int{1})
			c.sym(256)
		}, nil},
		{"dist-single-code", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{1})
			c.literals("a")
			c.match(3, 1)
			c.literals("a")
			c.sym(256)
		}, []byte("aaaaa")},
		{"no-dist-codes-literals-only", func(w *bitWriter) {
			c := dynCoder(w, true, abLit(), []int{0})
			c.literals("aaa")
			c.sym(256)
		}, []byte("aaa")},
		{"code-length-15", func(w *bitWriter) {
			// Lengths 1..14 then two of 15 make a complete code whose
			// longest codes need a second table level in most decoders;
			// the distance code has the same shape.
			set := map[int]int{256: 15, 257: 15}
			for i := range 14 {
				set['A'+i] = i + 1
			}
			dist := make([]int, 16)
			for i := range 14 {
				dist[i] = i + 1
			}
			dist[14], dist[15] = 15, 15
			storedBlock(w, false, prefix[:1000])
			c := dynCoder(w, true, lengths(258, set), dist)
			for i := range 14 {
				c.sym('A' + i)
			}
			for i := range 16 {
				c.match(3, distBase[i])
			}
			c.sym(256)
		}, nil},
		{"repeat-crosses-lit-dist", func(w *bitWriter) {
			// The last literal length and the distance lengths come from one
			// run of code 16: the two tables are one sequence.
			lit := lengths(259, map[int]int{'a': 1, 256: 2})
			seq := lengthsSeq(lit[:258], nil)
			seq = append(seq, clSym{2, 0}, clSym{16, 0}) // lit 258 = 2, then 3 more 2s: dist 0..2
			seq = append(seq, clSym{2, 0})               // dist 3
			dynHeader{hlit: 259, hdist: 4, cl: defaultCL, seq: seq}.write(w, true)
			lit[258] = 2
			c := coder{w, canonical(lit), canonical([]int{2, 2, 2, 2})}
			c.literals("a")
			c.sym(258)
			c.distSym(0)
			c.literals("a")
			c.sym(256)
		}, []byte("aaaaaa")},
		{"hclen18", func(w *bitWriter) {
			// Code-length lengths not written (symbol 15, last in the
			// order) count as zero.
			var cl [19]int
			cl[0], cl[1], cl[2], cl[18] = 2, 2, 2, 2
			seq := []clSym{{18, 97 - 11}, {1, 0}, {18, 138 - 11}}
			for range 20 {
				seq = append(seq, clSym{0, 0})
			}
			seq = append(seq, clSym{1, 0}, clSym{1, 0}) // EOB, then the one distance code
			dynHeader{hlit: 257, hdist: 1, cl: cl, hclen: 18, seq: seq}.write(w, true)
			c := coder{w, canonical(lengths(257, map[int]int{'a': 1, 256: 1})), nil}
			c.literals("aa")
			c.sym(256)
		}, []byte("aa")},
	}
}

func TestValidEdges(t *testing.T) {
	for _, c := range validEdges() {
		t.Run(c.name, func(t *testing.T) {
			src := c.bytes()
			want, err := inflateStd(src)
			if err != nil {
				t.Fatalf("test bug: compress/flate rejects it: %v", err)
			}
			if c.want != nil && !bytes.Equal(want, c.want) {
				t.Fatalf("test bug: compress/flate decodes %s", firstDiff(want, c.want))
			}
			for _, size := range []int{1, 32 << 10} {
				got, err := decodeGuarded(t, src, size)
				if err != nil {
					t.Fatalf("reads of %d: %v; stream %s", size, err, short(src))
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("reads of %d: %s", size, firstDiff(got, want))
				}
			}
		})
	}
}

// agreeWithStd is the differential oracle for any input: both decoders
// succeed with the same output, or both fail, ours with a promised error.
// It returns what ours decoded.
func agreeWithStd(t *testing.T, src []byte) ([]byte, error) {
	t.Helper()
	want, stdErr := inflateStd(src)
	got, err := decodeGuarded(t, src, 1000)
	switch {
	case stdErr == nil && err != nil:
		t.Fatalf("compress/flate decodes %d bytes, ours fails after %d: %v; stream %s", len(want), len(got), err, short(src))
	case stdErr != nil && err == nil:
		t.Fatalf("compress/flate fails (%v), ours decodes %d bytes; stream %s", stdErr, len(got), short(src))
	case err != nil && !isDecodeError(err):
		t.Fatalf("err = %v, want ErrCorrupt or io.ErrUnexpectedEOF (compress/flate: %v); stream %s", err, stdErr, short(src))
	case err == nil && !bytes.Equal(got, want):
		t.Fatalf("output differs from compress/flate: %s; stream %s", firstDiff(got, want), short(src))
	}
	return got, err
}

// truncationStreams are small enough to try every prefix.
func truncationStreams(t *testing.T) []input {
	g := newGen(9)
	zl, err := os.ReadFile("testdata/zlib/partial-flush.deflate")
	if err != nil {
		t.Fatal(err)
	}
	return []input{
		{"std6-text", stdDeflate(t, g.text(8<<10), 6, 0)},
		{"std1-text-fixed", stdDeflate(t, g.text(200), 1, 0)},
		{"std0-random", stdDeflate(t, g.random(2000), 0, 0)},
		{"huffman-text", stdDeflate(t, g.text(2000), -2, 0)},
		{"kp5-patchwork", kpEncoder(5).enc(t, g.patchwork(3000))},
		{"flushed", stdDeflate(t, g.text(600), 6, 50)},
		{"zlib-partial-flush", zl},
	}
}

// TestTruncated cuts valid streams at every length: a short stream must
// fail with io.ErrUnexpectedEOF (or ErrCorrupt), never succeed, and what
// came out before the error must be the start of the true data.
func TestTruncated(t *testing.T) {
	t.Parallel()
	for _, s := range truncationStreams(t) {
		t.Run(s.name, func(t *testing.T) {
			full, err := inflateStd(s.data)
			if err != nil {
				t.Fatal(err)
			}
			for n := range len(s.data) {
				if (len(s.data) > 4000 || light()) && n > 1500 && n < len(s.data)-500 && n%11 != 0 {
					// Past the first blocks of a long stream, a sample of
					// cuts covers the same code paths in a fraction of
					// the time.
					continue
				}
				got, err := agreeWithStd(t, s.data[:n])
				if err == nil {
					continue // agreeWithStd checked it equals compress/flate
				}
				if !bytes.HasPrefix(full, got) {
					t.Fatalf("prefix %d: output before the error is not a prefix of the data: %s", n, firstDiff(got, full[:min(len(got), len(full))]))
				}
			}
		})
	}
}

// TestBitFlips corrupts valid streams one bit at a time and asks for the
// same verdict as compress/flate.
func TestBitFlips(t *testing.T) {
	t.Parallel()
	g := newGen(10)
	streams := []input{
		{"std6-text", stdDeflate(t, g.text(3000), 6, 0)},
		{"std1-fixed", stdDeflate(t, g.text(150), 1, 0)},
		{"kp5-patchwork", kpEncoder(5).enc(t, g.patchwork(4000))},
		{"stored", stdDeflate(t, g.random(100), 0, 0)},
	}
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			src := bytes.Clone(s.data)
			flip := func(bit int) {
				src[bit/8] ^= 1 << (bit % 8)
				agreeWithStd(t, src)
				src[bit/8] ^= 1 << (bit % 8)
			}
			// Every bit of the headers, then a sample of the body.
			for bit := range min(len(src), 80) * 8 {
				flip(bit)
			}
			flips := 400
			if light() {
				flips = 50
			}
			for range flips {
				flip(g.r.IntN(len(src) * 8))
			}
		})
	}
}

// TestNoLookaheadPastEnd: the decoder may buffer ahead, but it must not
// need input beyond the stream to finish it. compress/flate reads one
// byte at a time and needs none, so readers that fail or block after the
// stream (a reset connection after the last zip member, a pipe whose
// writer waits for an answer) work with it and must work with ours.
func TestNoLookaheadPastEnd(t *testing.T) {
	g := newGen(11)
	data := g.text(10000)
	all, _ := encoders()
	t.Run("error-after-stream", func(t *testing.T) {
		boom := errors.New("boom: connection reset after the last byte")
		var failed []string
		for _, e := range all {
			src := e.enc(t, data)
			for _, bsize := range []int{16, 32 << 10} {
				br := bufio.NewReaderSize(&failingReader{src, boom}, bsize)
				got, err := readAll(inflate.NewReader(br), 4096, outputLimit(len(src)))
				switch {
				case err != nil:
					failed = append(failed, fmt.Sprintf("%s, bufio %d: %v after %d of %d bytes", e.name, bsize, err, len(got), len(data)))
				case !bytes.Equal(got, data):
					failed = append(failed, fmt.Sprintf("%s, bufio %d: %s", e.name, bsize, firstDiff(got, data)))
				}
			}
		}
		if len(failed) > 0 {
			t.Errorf("%d of %d streams fail, e.g. %s", len(failed), 2*len(all), failed[0])
		}
	})
	t.Run("pipe-writer-waits", func(t *testing.T) {
		for _, e := range []encoder{stdEncoder(6)} {
			src := e.enc(t, data)
			pr, pw := io.Pipe()
			done := make(chan struct{})
			go func() {
				pw.Write(src)
				// The peer sends nothing more until it hears back.
				<-done
				pw.Close()
			}()
			res := make(chan error, 1)
			go func() {
				_, err := readAll(inflate.NewReader(bufio.NewReader(pr)), 4096, outputLimit(len(src)))
				res <- err
			}()
			select {
			case err := <-res:
				if err != nil {
					t.Errorf("%s: %v", e.name, err)
				}
			case <-time.After(3 * time.Second):
				t.Errorf("%s: no io.EOF 3s after the whole stream arrived: the decoder waits for bytes past its end", e.name)
				close(done)
				<-res
				continue
			}
			close(done)
		}
	})
	t.Run("pipe-flushed-prefix", func(t *testing.T) {
		// A sync flush makes everything written so far decodable: network
		// protocols flush and wait for the answer.
		var buf bytes.Buffer
		w, _ := stdflateWriter(&buf)
		w.Write(data[:5000])
		w.Flush()
		prefix := bytes.Clone(buf.Bytes())
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			pw.Write(prefix)
			<-done
			pw.Close()
		}()
		got := make(chan []byte, 1)
		go func() {
			r := inflate.NewReader(bufio.NewReader(pr))
			p := make([]byte, 5000)
			n, _ := io.ReadFull(r, p)
			got <- p[:n]
		}()
		select {
		case b := <-got:
			if !bytes.Equal(b, data[:5000]) {
				t.Errorf("flushed prefix: %s", firstDiff(b, data[:5000]))
			}
		case <-time.After(3 * time.Second):
			t.Errorf("flushed prefix not decoded 3s after it arrived: the decoder waits for more input than the data needs")
		}
		close(done)
	})
}
