package inflate_test

import (
	"bufio"
	"bytes"
	stdflate "compress/flate"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	kpflate "github.com/klauspost/compress/flate"

	"github.com/akguard/akguard/shared/inflate"
)

// light reports whether the heaviest tests should sample rather than try
// everything: in short mode and under the race detector.
func light() bool { return testing.Short() || raceEnabled }

// Inputs are generated, not stored: the same seed gives the same bytes, so
// a failure names an input that can be rebuilt exactly.

type gen struct{ r *rand.Rand }

func newGen(seed uint64) gen { return gen{rand.New(rand.NewPCG(seed, 0x696e666c617465))} }

func (g gen) random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

var vocabulary = strings.Fields(`the of and to in is was that for it with as his on be at by had are
	but from or have an they which one you were her all she there would their we him been has when
	who will more no if out so said what up its about into than them can only other new some could
	time these two may then do first any my now such like our over man me even most made after also
	did many before must through back years where much your way well down should because each just
	those people how too little state good very make world still own see men work long get here
	between both life being under never day same another know while last might us great old year
	off come since against go came right used take three bucket region access key secret token
	request object upload`)

// text is English-like prose: a skewed word choice gives the ~3x ratio of
// real documents, unlike zeros or a short cycle.
func (g gen) text(n int) []byte {
	b := make([]byte, 0, n+128)
	for len(b) < n {
		words := 4 + g.r.IntN(12)
		for i := range words {
			// Squaring favours the front of the vocabulary, like word
			// frequencies in real text.
			f := g.r.Float64()
			w := vocabulary[int(f*f*float64(len(vocabulary)))]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b = append(b, w...)
			if i < words-1 {
				b = append(b, ' ')
			}
		}
		b = append(b, ".\n, ;"[g.r.IntN(4)])
		b = append(b, ' ')
	}
	return b[:n]
}

// mixed is text with about 30% of its bytes in random tokens (keys, ids,
// hashes), the shape of logs and configs in the bench corpus: ~2x.
func (g gen) mixed(n int) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 0, n+128)
	for len(b) < n {
		b = append(b, g.text(28+g.r.IntN(40))...)
		b = append(b, " id="...)
		for range 12 + g.r.IntN(28) {
			b = append(b, alphabet[g.r.IntN(len(alphabet))])
		}
		b = append(b, '\n')
	}
	return b[:n]
}

// patchwork alternates text, random and zero runs so that one stream
// switches between dynamic, stored and long-match blocks.
func (g gen) patchwork(n int) []byte {
	b := make([]byte, 0, n)
	for len(b) < n {
		k := 1 + g.r.IntN(8<<10)
		switch g.r.IntN(3) {
		case 0:
			b = append(b, g.text(k)...)
		case 1:
			b = append(b, g.random(k)...)
		default:
			b = append(b, make([]byte, k)...)
		}
	}
	return b[:n]
}

// periodic repeats a random pattern of the given length, forcing copies
// whose distance is shorter than their length (overlapping copies).
func (g gen) periodic(n, period int) []byte {
	pat := g.random(period)
	b := make([]byte, n)
	for i := range b {
		b[i] = pat[i%period]
	}
	return b
}

type encoder struct {
	name string
	enc  func(tb testing.TB, data []byte) []byte
}

func stdEncoder(level int) encoder {
	return encoder{fmt.Sprintf("std%d", level), func(tb testing.TB, data []byte) []byte {
		tb.Helper()
		return stdDeflate(tb, data, level, 0)
	}}
}

func kpEncoder(level int) encoder {
	return encoder{fmt.Sprintf("kp%d", level), func(tb testing.TB, data []byte) []byte {
		tb.Helper()
		var buf bytes.Buffer
		w, err := kpflate.NewWriter(&buf, level)
		return writeAll(tb, &buf, w, err, data)
	}}
}

// writeAll compresses data through w, just made with error err, and
// returns what w wrote into buf.
func writeAll(tb testing.TB, buf *bytes.Buffer, w io.WriteCloser, err error, data []byte) []byte {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// flushEncoder flushes after every chunk bytes: each Flush ends the block
// and appends an empty stored block (a sync marker), as network writers do.
func flushEncoder(level, chunk int) encoder {
	return encoder{fmt.Sprintf("std%d-flush%d", level, chunk), func(tb testing.TB, data []byte) []byte {
		tb.Helper()
		return stdDeflate(tb, data, level, chunk)
	}}
}

// kpWindowEncoder limits distances to size bytes, the shape of stream
// that zip tools for small devices write.
func kpWindowEncoder(size int) encoder {
	return encoder{fmt.Sprintf("kp-window%d", size), func(tb testing.TB, data []byte) []byte {
		tb.Helper()
		var buf bytes.Buffer
		w, err := kpflate.NewWriterWindow(&buf, size)
		return writeAll(tb, &buf, w, err, data)
	}}
}

// kpStatelessEncoder encodes every block of size bytes without history,
// so blocks never refer back across block boundaries, with several
// non-final blocks.
func kpStatelessEncoder(size int) encoder {
	return encoder{fmt.Sprintf("kp-stateless%d", size), func(tb testing.TB, data []byte) []byte {
		tb.Helper()
		var buf bytes.Buffer
		for len(data) > 0 {
			n := min(len(data), size)
			if err := kpflate.StatelessDeflate(&buf, data[:n], n == len(data), nil); err != nil {
				tb.Fatal(err)
			}
			data = data[n:]
		}
		if buf.Len() == 0 {
			if err := kpflate.StatelessDeflate(&buf, nil, true, nil); err != nil {
				tb.Fatal(err)
			}
		}
		return buf.Bytes()
	}}
}

func stdDeflate(tb testing.TB, data []byte, level, flushEvery int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := stdflate.NewWriter(&buf, level)
	if err != nil {
		tb.Fatal(err)
	}
	for len(data) > 0 {
		n := len(data)
		if flushEvery > 0 {
			n = min(n, flushEvery)
		}
		if _, err := w.Write(data[:n]); err != nil {
			tb.Fatal(err)
		}
		if flushEvery > 0 {
			if err := w.Flush(); err != nil {
				tb.Fatal(err)
			}
		}
		data = data[n:]
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func stdGzip(tb testing.TB, data []byte, level int, hdr stdgzip.Header) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := stdgzip.NewWriterLevel(&buf, level)
	if err != nil {
		tb.Fatal(err)
	}
	w.Header = hdr
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// errNoProgress stands for a hang: an io.Reader may return 0, nil, but one
// that keeps doing so never finishes.
var errNoProgress = errors.New("test: 100 reads in a row returned 0, nil")

// errTooLong stands for unbounded output: DEFLATE expands at most ~1032:1,
// so more than limit bytes means the decoder invents data.
var errTooLong = errors.New("test: output past the limit")

// readAll drains r with reads of at most size bytes, checking the
// io.Reader contract on every call.
func readAll(r io.Reader, size, limit int) ([]byte, error) {
	var out []byte
	p := make([]byte, size)
	idle := 0
	for {
		n, err := r.Read(p)
		if n < 0 || n > len(p) {
			return out, fmt.Errorf("test: Read returned n=%d for len(p)=%d", n, len(p))
		}
		out = append(out, p[:n]...)
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		if len(out) > limit {
			return out, errTooLong
		}
		if n > 0 {
			idle = 0
		} else if idle++; idle >= 100 {
			return out, errNoProgress
		}
	}
}

// outputLimit bounds what any stream of n bytes may decode to.
func outputLimit(n int) int { return 1100*n + 1<<16 }

func inflateOurs(src []byte, readSize int) ([]byte, error) {
	br := bufio.NewReaderSize(bytes.NewReader(src), 32<<10)
	return readAll(inflate.NewReader(br), readSize, outputLimit(len(src)))
}

func inflateStd(src []byte) ([]byte, error) {
	r := stdflate.NewReader(bytes.NewReader(src))
	return readAll(r, 32<<10, outputLimit(len(src)))
}

func gunzipOurs(src []byte, readSize int) ([]byte, error) {
	z, err := inflate.NewGzipReader(bufio.NewReaderSize(bytes.NewReader(src), 32<<10))
	if err != nil {
		return nil, err
	}
	return readAll(z, readSize, outputLimit(len(src)))
}

func gunzipStd(src []byte) ([]byte, error) {
	z, err := stdgzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	return readAll(z, 32<<10, outputLimit(len(src)))
}

// isDecodeError reports whether err is one a caller of this package is
// promised: corrupt data or input that ends early.
func isDecodeError(err error) bool {
	return errors.Is(err, inflate.ErrCorrupt) || errors.Is(err, io.ErrUnexpectedEOF)
}

// firstDiff describes where two outputs part, small enough for a failure
// message when the outputs are megabytes.
func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return fmt.Sprintf("len %d vs %d, first difference at byte %d (%#02x vs %#02x)", len(got), len(want), i, got[i], want[i])
		}
	}
	return fmt.Sprintf("len %d vs %d, equal up to %d", len(got), len(want), n)
}

// bitWriter builds streams by hand, LSB first as RFC 1951 packs them.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes a Huffman code, which RFC 1951 packs starting from its most
// significant bit.
func (w *bitWriter) code(c uint32, n uint) {
	w.bits(uint64(bits.Reverse32(c)>>(32-n)), n)
}

func (w *bitWriter) align() {
	if w.n > 0 {
		w.bits(0, 8-w.n)
	}
}

func (w *bitWriter) bytes() []byte {
	w.align()
	return w.out
}

// fixedLit writes a literal/length symbol of the fixed code (RFC 1951
// 3.2.6), including the 286 and 287 that the code has but the format
// forbids.
func (w *bitWriter) fixedLit(sym int) {
	switch {
	case sym < 144:
		w.code(uint32(0x30+sym), 8)
	case sym < 256:
		w.code(uint32(0x190+sym-144), 9)
	case sym < 280:
		w.code(uint32(sym-256), 7)
	default:
		w.code(uint32(0xc0+sym-280), 8)
	}
}

// huffCode is one symbol's canonical code.
type huffCode struct {
	code uint32
	len  uint
}

// canonical assigns codes to lengths as RFC 1951 3.2.2 does.
func canonical(lengths []int) []huffCode {
	var count [16]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	var next [16]uint32
	code := uint32(0)
	for l := 1; l < 16; l++ {
		code = (code + uint32(count[l-1])) << 1
		next[l] = code
	}
	codes := make([]huffCode, len(lengths))
	for s, l := range lengths {
		if l > 0 {
			codes[s] = huffCode{next[l], uint(l)}
			next[l]++
		}
	}
	return codes
}

// clSym is one symbol of the code-length alphabet with its extra bits
// (repeat count minus the base for 16, 17 and 18).
type clSym struct{ sym, extra int }

var clExtraBits = [19]uint{16: 2, 17: 3, 18: 7}

var codeOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// defaultCL is a complete code over all 19 code-length symbols.
var defaultCL = [19]int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5}

// dynHeader describes a dynamic block header; fields allow values the
// format forbids so that broken headers can be written.
type dynHeader struct {
	hlit, hdist int     // symbol counts as written (257..288, 1..32)
	cl          [19]int // code-length code lengths by symbol
	hclen       int     // number of cl lengths written; 0 means 19
	seq         []clSym // code lengths, run-length coded
}

// lengthsSeq codes lit then dist lengths one symbol each, no runs.
func lengthsSeq(lit, dist []int) []clSym {
	var seq []clSym
	for _, l := range append(append([]int(nil), lit...), dist...) {
		seq = append(seq, clSym{l, 0})
	}
	return seq
}

// write emits the block header up to the first data symbol.
func (h dynHeader) write(w *bitWriter, final bool) {
	w.bits(b2u(final), 1)
	w.bits(2, 2)
	w.bits(uint64(h.hlit-257), 5)
	w.bits(uint64(h.hdist-1), 5)
	hclen := h.hclen
	if hclen == 0 {
		hclen = 19
	}
	w.bits(uint64(hclen-4), 4)
	for _, s := range codeOrder[:hclen] {
		w.bits(uint64(h.cl[s]), 3)
	}
	codes := canonical(h.cl[:])
	for _, s := range h.seq {
		c := codes[s.sym]
		w.code(c.code, c.len)
		if n := clExtraBits[s.sym]; n > 0 {
			w.bits(uint64(s.extra), n)
		}
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// dynBlock writes a complete dynamic block header for the given lengths
// and returns the lit/length and distance codes for the block body.
func dynBlock(w *bitWriter, final bool, lit, dist []int) (litCodes, distCodes []huffCode) {
	dynHeader{hlit: len(lit), hdist: len(dist), cl: defaultCL, seq: lengthsSeq(lit, dist)}.write(w, final)
	return canonical(lit), canonical(dist)
}

func lengths(n int, set map[int]int) []int {
	l := make([]int, n)
	for s, v := range set {
		l[s] = v
	}
	return l
}

// short prints a stream for a failure message, cut where it would flood
// the log; a reproducer needs the whole stream only when it is short.
func short(src []byte) string {
	if len(src) <= 256 {
		return fmt.Sprintf("(%d bytes) % x", len(src), src)
	}
	return fmt.Sprintf("(%d bytes) % x ...", len(src), src[:256])
}

func stdflateWriter(w io.Writer) (*stdflate.Writer, error) { return stdflate.NewWriter(w, 6) }
