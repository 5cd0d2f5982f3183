// Package inflate decodes DEFLATE (RFC 1951) and gzip (RFC 1952) streams.
//
// It exists for speed: inflating zip, jar and tar.gz members was most of
// the scan engine's CPU time with compress/flate and its klauspost fork,
// which pull input one byte at a time through io.ByteReader and decode
// into a ring window before copying out. This decoder looks at whole
// buffers of input in a bufio.Reader, refills a 64-bit bit buffer eight
// bytes at a time, resolves most codes (and many pairs of literals) with
// one table lookup, and decodes straight into a flat buffer that keeps the
// 32 KiB of history behind the output: the approach of zlib's inflate_fast
// and libdeflate, with ISA-L's multi-literal entries.
//
// The input is a *bufio.Reader so that the decoder can look ahead freely
// and still give back what it did not use: after the final block, the
// reader is positioned at the first byte after the stream (a gzip trailer,
// the next zip local header). It never asks the underlying reader for
// bytes the stream does not need, so a stream on a pipe or socket that
// stays open after its end is decoded to its end, and decoded output is
// returned before the decoder waits for more input.
package inflate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt is wrapped by every error about invalid DEFLATE data.
var ErrCorrupt = errors.New("inflate: corrupt deflate data")

func corrupt(what string) error { return fmt.Errorf("%w: %s", ErrCorrupt, what) }

// errPending stops decoding when more input is needed while decoded
// output waits: Read returns the output first.
var errPending = errors.New("inflate: output pending")

const (
	windowSize = 1 << 15
	maxMatch   = 258
	// chunkSize is how much output is decoded between two slides of the
	// history to the front of the buffer: the slide copies windowSize
	// bytes, so a larger chunk makes it cheaper per byte.
	chunkSize = 1 << 17
	// outEnd is where output stops; the buffer runs on past it so the
	// fast loop may copy matches eight bytes at a time and overshoot.
	outEnd = windowSize + chunkSize
	// The buffer is a power of two plus a word, and the fast loop masks
	// its indexes with outMask: the masks change nothing (every index is
	// below outEnd + 24 <= outMask anyway) but let the compiler prove each
	// word access in bounds and drop its checks.
	outMask = 1<<18 - 1
	outCap  = outMask + 1 + 8
	// fastOutLimit leaves room for up to six literals, or four and a
	// longest match, plus the word-copy overshoot, after any position the
	// fast loop starts an iteration at.
	fastOutLimit = outEnd - maxMatch - 6
	// fastInMargin is input one iteration of the fast loop may read: two
	// eight-byte refills that each advance by at most seven bytes.
	fastInMargin = 24
)

type state uint8

const (
	stateHeader  state = iota // next: a block header
	stateStored               // inside a stored block, r.stored bytes left
	stateHuffman              // inside a compressed block
	stateDone                 // final block ended
)

// Reader decompresses a raw DEFLATE stream. The zero value is not usable;
// use NewReader, and Reset to reuse one Reader (and its buffers) for
// another stream.
type Reader struct {
	br  *bufio.Reader
	in  []byte // what br has buffered, valid from ip
	ip  int
	eof bool // br has nothing beyond in

	bitbuf uint64 // next input bits, least significant first
	nbits  uint   // valid bits in bitbuf

	out    *[outCap]byte // history, then decoded output not yet read
	op, rp int           // decoded up to op, read up to rp

	state    state
	final    bool // the current block is the last
	stored   int  // bytes left in a stored block
	copyLen  int  // match bytes still to copy when output filled up
	copyDist int
	err      error
	fixed    bool // the tables hold the fixed codes

	// lit's root pairs literals (see pairs) and is for the fast loop; the
	// slow path, which must not decode past the end of the output, looks
	// up the first symbol in single, a copy of the root without pairs.
	lit    [litTableSize]uint32
	single [1 << litTableBits]uint32
	dist   [distTableSize]uint32
	cl     [clTableSize]uint32
	lens   [286 + 30]uint8
}

// NewReader returns a Reader decoding the stream that starts at br's next
// byte.
func NewReader(br *bufio.Reader) *Reader {
	r := &Reader{}
	r.Reset(br)
	return r
}

// Reset starts decoding a new stream from br, keeping the buffers.
func (r *Reader) Reset(br *bufio.Reader) {
	if r.out == nil {
		r.out = new([outCap]byte)
	}
	r.br = br
	r.in, r.ip, r.eof = nil, 0, false
	r.bitbuf, r.nbits = 0, 0
	r.op, r.rp = 0, 0
	r.state, r.final, r.stored, r.copyLen, r.copyDist = stateHeader, false, 0, 0, 0
	r.err = nil
}

// Read decodes into p. It returns io.EOF after the final block,
// io.ErrUnexpectedEOF when the input ends first, an error wrapping
// ErrCorrupt for invalid data, and errors of br's reader as they are.
func (r *Reader) Read(p []byte) (int, error) {
	for r.rp == r.op {
		if r.err != nil {
			return 0, r.err
		}
		if r.op > outEnd-4096 {
			// Everything decoded was read: keep only the history.
			copy(r.out[:], r.out[r.op-windowSize:r.op])
			r.op, r.rp = windowSize, windowSize
		}
		if err := r.decode(); err != nil && err != errPending {
			r.err = err
		}
	}
	n := copy(p, r.out[r.rp:r.op])
	r.rp += n
	return n, nil
}

// giveBack returns the whole bytes in the bit buffer to the input.
func (r *Reader) giveBack() {
	k := r.nbits >> 3
	r.ip -= int(k)
	r.nbits &= 7
	r.bitbuf &= 1<<r.nbits - 1
}

// need waits for at least one more byte of input than br has buffered.
// One read of the underlying reader usually brings a bufferful. It
// returns errPending instead of waiting while decoded output is unread,
// and io.ErrUnexpectedEOF when the input has ended.
func (r *Reader) need() error {
	if r.eof {
		return io.ErrUnexpectedEOF
	}
	if r.op > r.rp {
		return errPending
	}
	r.giveBack()
	if _, err := r.br.Discard(r.ip); err != nil {
		return fmt.Errorf("inflate: discard input: %w", err)
	}
	r.in, r.ip = nil, 0
	have := r.br.Buffered()
	if _, err := r.br.Peek(have + 1); err != nil {
		if err != io.EOF {
			return err
		}
		r.eof = true
	}
	r.in, _ = r.br.Peek(r.br.Buffered())
	return nil
}

// finish positions br right after the stream: its last byte is consumed,
// including the padding bits that end it.
func (r *Reader) finish() error {
	r.giveBack()
	r.bitbuf, r.nbits = 0, 0
	if _, err := r.br.Discard(r.ip); err != nil {
		return fmt.Errorf("inflate: discard input: %w", err)
	}
	r.in, r.ip = nil, 0
	return nil
}

// fill loads the bit buffer from the input at hand, without waiting.
func (r *Reader) fill() {
	if r.ip+8 <= len(r.in) {
		r.bitbuf |= binary.LittleEndian.Uint64(r.in[r.ip:]) << (r.nbits & 63)
		r.ip += int((63 - r.nbits) >> 3)
		r.nbits |= 56
		return
	}
	for r.nbits <= 56 && r.ip < len(r.in) {
		r.bitbuf |= uint64(r.in[r.ip]) << r.nbits
		r.ip++
		r.nbits += 8
	}
}

// ensure makes n (at most 56) bits available, waiting for input if need
// be.
func (r *Reader) ensure(n uint) error {
	for {
		r.fill()
		if r.nbits >= n {
			return nil
		}
		if err := r.need(); err != nil {
			return err
		}
	}
}

// bits takes n (at most 32) bits from the input.
func (r *Reader) bits(n uint) (uint32, error) {
	if err := r.ensure(n); err != nil {
		return 0, err
	}
	v := uint32(r.bitbuf & (1<<n - 1))
	r.bitbuf >>= n
	r.nbits -= n
	return v, nil
}

// decode decodes until the output buffer is full, the stream ends, an
// error occurs, or more input is needed while decoded output waits
// (errPending).
func (r *Reader) decode() error {
	for r.op < outEnd {
		switch r.state {
		case stateDone:
			return io.EOF
		case stateHeader:
			if r.op > r.rp {
				// A header may take many reads to arrive (a block
				// flushed on a live stream ends before the next
				// starts): what came before is returned first.
				return nil
			}
			if err := r.header(); err != nil {
				return err
			}
		case stateStored:
			if err := r.copyStored(); err != nil {
				return err
			}
		case stateHuffman:
			if r.copyLen > 0 {
				r.copyMatch(r.copyLen, r.copyDist)
				continue
			}
			if r.ip+fastInMargin <= len(r.in) && r.op <= fastOutLimit {
				if err := r.fast(); err != nil {
					return err
				}
				continue
			}
			if err := r.slowSymbol(); err != nil {
				return err
			}
		}
	}
	return nil
}

// endBlock moves on after a block ends.
func (r *Reader) endBlock() error {
	if !r.final {
		r.state = stateHeader
		return nil
	}
	r.state = stateDone
	return r.finish()
}

// header reads a block header. It runs with no decoded output waiting, so
// it may wait for input at any point.
func (r *Reader) header() error {
	h, err := r.bits(3)
	if err != nil {
		return err
	}
	r.final = h&1 == 1
	switch h >> 1 {
	case 0:
		// Stored (RFC 1951 §3.2.4): skip to a byte boundary, then LEN and
		// its complement NLEN.
		r.bitbuf >>= r.nbits & 7
		r.nbits &^= 7
		v, err := r.bits(32)
		if err != nil {
			return err
		}
		if uint16(v) != ^uint16(v>>16) {
			return corrupt("stored block length does not match its complement")
		}
		r.stored = int(uint16(v))
		r.state = stateStored
	case 1:
		r.fixedTables()
		r.state = stateHuffman
	case 2:
		if err := r.dynamicTables(); err != nil {
			return err
		}
		r.state = stateHuffman
	default:
		return corrupt("reserved block type")
	}
	return nil
}

func (r *Reader) copyStored() error {
	for r.stored > 0 && r.op < outEnd {
		if r.nbits >= 8 {
			// Bytes already pulled into the bit buffer come first.
			r.out[r.op] = byte(r.bitbuf)
			r.bitbuf >>= 8
			r.nbits -= 8
			r.op++
			r.stored--
			continue
		}
		if r.ip == len(r.in) {
			if err := r.need(); err != nil {
				return err
			}
			continue
		}
		// The bit buffer is empty but may hold bits of in[ip] above
		// nbits; they would be stale once ip moves past it here.
		r.bitbuf = 0
		n := copy(r.out[r.op:min(outEnd, r.op+r.stored)], r.in[r.ip:])
		r.ip += n
		r.op += n
		r.stored -= n
	}
	if r.stored == 0 {
		return r.endBlock()
	}
	return nil
}

// fixedTables loads the fixed codes of RFC 1951 §3.2.6.
func (r *Reader) fixedTables() {
	if r.fixed {
		return // encoders send runs of small fixed blocks
	}
	r.fixed = true
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	build(r.lit[:], litTableBits, l[:], litResult)
	copy(r.single[:], r.lit[:])
	pairs(r.lit[:], l[:], litTableBits)
	var d [32]uint8
	for i := range d {
		d[i] = 5
	}
	build(r.dist[:], distTableBits, d[:], distResult)
}

// dynamicTables reads the code trees of a dynamic block (RFC 1951 §3.2.7).
func (r *Reader) dynamicTables() error {
	h, err := r.bits(14)
	if err != nil {
		return err
	}
	nlit, ndist, ncl := int(h&31)+257, int(h>>5&31)+1, int(h>>10)+4
	if nlit > 286 || ndist > 30 {
		return corrupt("too many length or distance symbols")
	}
	var cl [19]uint8
	for i := range ncl {
		v, err := r.bits(3)
		if err != nil {
			return err
		}
		cl[clOrder[i]] = uint8(v)
	}
	r.fixed = false
	if !build(r.cl[:], clTableBits, cl[:], clResult) {
		return corrupt("invalid code length code")
	}
	lens := r.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		// A code length code and its repeat bits take at most 14 bits.
		r.fill()
		e := r.cl[r.bitbuf&(clTableSize-1)]
		n := uint(e & 63)
		if n > r.nbits {
			if err := r.need(); err != nil {
				return err
			}
			continue
		}
		if e&flagInvalid != 0 {
			return corrupt("invalid code length symbol")
		}
		r.bitbuf >>= n
		r.nbits -= n
		sym := int(e >> 16)
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return corrupt("repeat with no previous length")
			}
			v, err := r.bits(2)
			if err != nil {
				return err
			}
			rep, val = 3+int(v), lens[i-1]
		case 17:
			v, err := r.bits(3)
			if err != nil {
				return err
			}
			rep = 3 + int(v)
		default:
			v, err := r.bits(7)
			if err != nil {
				return err
			}
			rep = 11 + int(v)
		}
		if i+rep > len(lens) {
			return corrupt("code length repeat past the end")
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	if lens[256] == 0 {
		return corrupt("no end-of-block code")
	}
	if !build(r.lit[:], litTableBits, lens[:nlit], litResult) {
		return corrupt("invalid literal/length code")
	}
	copy(r.single[:], r.lit[:])
	pairs(r.lit[:], lens[:nlit], litTableBits)
	if !build(r.dist[:], distTableBits, lens[nlit:], distResult) {
		return corrupt("invalid distance code")
	}
	return nil
}

// slowSymbol decodes one symbol with every check, near the ends of the
// input or output buffers. A symbol is decoded whole or not at all: when
// the bits at hand end inside it, nothing is consumed and more input is
// awaited (or, with output waiting, errPending returned).
func (r *Reader) slowSymbol() error {
	for {
		r.fill()
		done, err := r.trySymbol()
		if done || err != nil {
			return err
		}
		if err := r.need(); err != nil {
			return err
		}
	}
}

// trySymbol decodes one symbol from the bits in the bit buffer, or reports
// that they do not hold all of it. An entry is known once as many bits as
// its length field are present (see build): a table indexed with missing
// high bits, read as zeros, still holds the right entry for every code
// the present bits complete.
func (r *Reader) trySymbol() (bool, error) {
	b, have := r.bitbuf, r.nbits
	e := r.single[b&(1<<litTableBits-1)]
	if e&flagSub != 0 {
		if have < litTableBits {
			return false, nil
		}
		b >>= litTableBits
		have -= litTableBits
		e = r.lit[(int(e>>16)+int(b&(1<<(e>>8&15)-1)))&(litTableSize-1)]
	}
	n := uint(e & 63)
	if n > have {
		return false, nil
	}
	if e&flagInvalid != 0 {
		return false, corrupt("invalid literal/length symbol")
	}
	cl := uint(e >> 8 & 15)
	length := int(e>>16) + int(b>>cl&(1<<(n-cl)-1))
	b >>= n
	have -= n
	switch {
	case e&flagLiteral != 0:
		r.bitbuf, r.nbits = b, have
		r.out[r.op] = byte(e >> 16)
		r.op++
		return true, nil
	case e&flagEOB != 0:
		r.bitbuf, r.nbits = b, have
		return true, r.endBlock()
	}

	d := r.dist[b&(1<<distTableBits-1)]
	if d&flagSub != 0 {
		if have < distTableBits {
			return false, nil
		}
		b >>= distTableBits
		have -= distTableBits
		d = r.dist[(int(d>>16)+int(b&(1<<(d>>8&15)-1)))&(distTableSize-1)]
	}
	n = uint(d & 63)
	if n > have {
		return false, nil
	}
	if d&flagInvalid != 0 {
		return false, corrupt("invalid distance symbol")
	}
	cl = uint(d >> 8 & 15)
	dist := int(d>>16) + int(b>>cl&(1<<(n-cl)-1))
	if dist > r.op {
		return false, corrupt("distance beyond the start of the output")
	}
	r.bitbuf, r.nbits = b>>n, have-n
	r.copyMatch(length, dist)
	return true, nil
}

// copyMatch copies a match of length bytes from dist back, as much of it
// as fits before outEnd; the rest waits in copyLen for the next call.
func (r *Reader) copyMatch(length, dist int) {
	n := min(length, outEnd-r.op)
	out := r.out
	for i := range n {
		out[r.op+i] = out[r.op+i-dist]
	}
	r.op += n
	r.copyLen, r.copyDist = length-n, dist
}

// fast decodes symbols while the input holds fastInMargin bytes and the
// output has room for a literal and a longest match, keeping the decoder
// state in locals. It returns nil when a limit is reached or a block ends.
func (r *Reader) fast() error {
	in, ip := r.in, r.ip
	out, op := r.out, r.op
	bitbuf, nbits := r.bitbuf, r.nbits
	inLimit := len(in) - fastInMargin
	var err error
	for ip <= inLimit && op <= fastOutLimit {
		// The iteration's input, as an array: one bounds check here
		// covers both refills below, each advancing at most 7 bytes.
		w := (*[fastInMargin]byte)(in[ip : ip+fastInMargin])
		k := int((63-nbits)>>3) & 7
		bitbuf |= binary.LittleEndian.Uint64(w[:8]) << (nbits & 63)
		ip += k
		nbits |= 56

		// A length's extra bits are read from prev, the bits from its
		// code on.
		e, prev, left := r.lookup(bitbuf, nbits)
		bitbuf = prev >> (e & 63)
		nbits = left - uint(e&63)
		if e&flagLiteral != 0 {
			// Two bytes are written either way; a single literal's
			// second byte is overwritten by what follows.
			put16(out, op, uint16(e>>16))
			op += 1 + int(e>>6&1)
			// At least 41 bits remain: enough for another lookup, or a
			// length code with its extra bits, without a refill.
			e, prev, left = r.lookup(bitbuf, nbits)
			bitbuf = prev >> (e & 63)
			nbits = left - uint(e&63)
			if e&flagLiteral != 0 {
				put16(out, op, uint16(e>>16))
				op += 1 + int(e>>6&1)
				// Still at least 26 bits: a third lookup, and a length
				// code's five extra bits after it, fit too.
				e, prev, left = r.lookup(bitbuf, nbits)
				bitbuf = prev >> (e & 63)
				nbits = left - uint(e&63)
				if e&flagLiteral != 0 {
					put16(out, op, uint16(e>>16))
					op += 1 + int(e>>6&1)
					continue
				}
			}
		}
		if e&(flagEOB|flagInvalid) != 0 {
			if e&flagInvalid != 0 {
				err = corrupt("invalid literal/length symbol")
				break
			}
			r.in, r.ip, r.out, r.op, r.bitbuf, r.nbits = in, ip, out, op, bitbuf, nbits
			return r.endBlock()
		}
		cl := e >> 8 & 15
		length := int(e>>16) + int(prev>>cl&(1<<((e&63)-cl)-1))

		k2 := int((63-nbits)>>3) & 7
		bitbuf |= binary.LittleEndian.Uint64(w[k:k+8]) << (nbits & 63)
		ip += k2
		nbits |= 56

		d := r.dist[bitbuf&(1<<distTableBits-1)]
		if d&flagSub != 0 {
			bitbuf >>= distTableBits
			nbits -= distTableBits
			d = r.dist[(int(d>>16)+int(bitbuf&(1<<(d>>8&15)-1)))&(distTableSize-1)]
		}
		if d&flagInvalid != 0 {
			err = corrupt("invalid distance symbol")
			break
		}
		cl = d >> 8 & 15
		dist := int(d>>16) + int(bitbuf>>cl&(1<<((d&63)-cl)-1))
		bitbuf >>= d & 63
		nbits -= uint(d & 63)
		if dist > op {
			err = corrupt("distance beyond the start of the output")
			break
		}

		src := op - dist
		switch {
		case dist >= 8 && length <= 16:
			// Most matches: two words, overshooting by up to 13 bytes,
			// each word read wholly before the bytes it writes.
			put64(out, op, get64(out, src))
			put64(out, op+8, get64(out, src+8))
		case dist == 1:
			// A run of one byte, as long runs of zeros or spaces are.
			v := uint64(out[src&outMask]) * 0x0101010101010101
			for k := 0; k < length; k += 8 {
				put64(out, op+k, v)
			}
		case length >= 32:
			// Long: memmove, which beats word copies that wait on the
			// stores just before them. An overlapping match repeats a
			// period, so copying everything from src written so far
			// (a whole number of periods) doubles the copied part.
			for k := 0; k < length; {
				k += copy(out[op+k:op+length], out[src:op+k])
			}
		case dist >= 8:
			for k := 0; k < length; k += 8 {
				put64(out, op+k, get64(out, src+k))
			}
		default:
			// A short period: lay down the first few periods byte by
			// byte, then copy words from a whole number of periods
			// (at least eight bytes) back.
			step := dist * ((8 + dist - 1) / dist)
			for k := range min(step, length) {
				out[op+k] = out[src+k]
			}
			for k := step; k < length; k += 8 {
				put64(out, op+k, get64(out, op+k-step))
			}
		}
		op += length
	}
	r.in, r.ip, r.out, r.op, r.bitbuf, r.nbits = in, ip, out, op, bitbuf, nbits
	return err
}

// lookup returns the literal/length entry for the code at the front of
// bitbuf, following a subtable pointer, and the bits from that entry's
// code on.
func (r *Reader) lookup(bitbuf uint64, nbits uint) (uint32, uint64, uint) {
	e := r.lit[bitbuf&(1<<litTableBits-1)]
	if e&flagSub != 0 {
		bitbuf >>= litTableBits
		nbits -= litTableBits
		e = r.lit[(int(e>>16)+int(bitbuf&(1<<(e>>8&15)-1)))&(litTableSize-1)]
	}
	return e, bitbuf, nbits
}

// get64, put64 and put16 access the output buffer at masked indexes (see
// outMask).
func get64(out *[outCap]byte, i int) uint64 {
	j := i & outMask
	return binary.LittleEndian.Uint64(out[j : j+8])
}

func put64(out *[outCap]byte, i int, v uint64) {
	j := i & outMask
	binary.LittleEndian.PutUint64(out[j:j+8], v)
}

func put16(out *[outCap]byte, i int, v uint16) {
	j := i & outMask
	binary.LittleEndian.PutUint16(out[j:j+2], v)
}
