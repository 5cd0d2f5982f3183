package inflate

import "math/bits"

// Decode tables (RFC 1951 §3.2.2 canonical Huffman codes), built the way
// zlib's inflate_table and libdeflate do: one lookup of tableBits bits
// resolves every code that short, and a pointer entry sends longer codes
// to a subtable indexed by their remaining bits. Deflate packs codes
// starting with their most significant bit into a least-significant-bit
// first stream, so table indexes are the bit-reversed codes.
//
// An entry is a uint32:
//
//	bits 0-5   bits the lookup consumes: the code's length, plus its extra
//	           bits for lengths and distances, both codes' for a literal
//	           pair, tableBits for a pointer (the decoder shifts by
//	           entry&63, one instruction on the critical path)
//	bit  6     a second literal follows the first (pair entries)
//	bits 8-11  the code's length, after which its extra bits start (see
//	           entry); for a pointer: the subtable's index bits
//	bits 12-15 flags
//	bits 16-31 literal byte (pairs: two bytes, first in the low byte),
//	           length or distance base, or subtable start
const (
	flagPair     = 1 << 6
	flagLiteral  = 1 << 12
	flagEOB      = 1 << 13
	flagSub      = 1 << 14
	flagInvalid  = 1 << 15
	invalidEntry = flagInvalid

	litTableBits  = 11
	distTableBits = 8
	clTableBits   = 7

	// Table sizes: zlib's "enough" program gives 2342 entries for 288
	// symbols, 11 root bits, 15-bit codes, and 402 for 32 symbols with 8
	// root bits; the powers of two above them let lookups mask their index
	// instead of paying a bounds check.
	litTableSize  = 4096
	distTableSize = 512
	clTableSize   = 1 << clTableBits

	maxCodeBits = 15
)

// lengthBase and lengthExtra describe length symbols 257..285, distBase and
// distExtra distance symbols 0..29 (RFC 1951 §3.2.5).
var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clOrder is the order code length code lengths are sent in.
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func litResult(sym int) uint32 {
	switch {
	case sym < 256:
		return flagLiteral | uint32(sym)<<16
	case sym == 256:
		return flagEOB
	case sym < 286:
		i := sym - 257
		return uint32(lengthBase[i])<<16 | uint32(lengthExtra[i])<<8
	}
	return flagInvalid // 286 and 287 exist only to complete the fixed code
}

func distResult(sym int) uint32 {
	if sym < 30 {
		return uint32(distBase[sym])<<16 | uint32(distExtra[sym])<<8
	}
	return flagInvalid // 30 and 31, likewise
}

func clResult(sym int) uint32 { return uint32(sym) << 16 }

// build fills table from the code lengths of symbols 0..len(lens)-1. It
// reports false for a set of lengths that is not a prefix code: one that
// is over-subscribed, or incomplete other than the single one-bit code RFC
// 1951 allows for a distance tree that is never or once used. The same
// rule as compress/flate applies to all three trees, so both decoders
// accept exactly the same streams. An empty code (all lengths zero) is
// valid and decodes nothing.
func build(table []uint32, tableBits uint, lens []uint8, result func(int) uint32) bool {
	var count [maxCodeBits + 1]int
	maxLen := 0
	for _, l := range lens {
		count[l]++
		if int(l) > maxLen {
			maxLen = int(l)
		}
	}
	count[0] = 0
	size := 1 << tableBits
	if maxLen == 0 {
		// Any use of an empty code is an error, known without reading.
		for i := range size {
			table[i] = invalidEntry
		}
		return true
	}
	left := 1
	codes := 0
	for l := 1; l <= maxCodeBits; l++ {
		left <<= 1
		left -= count[l]
		codes += count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 && !(codes == 1 && maxLen == 1) {
		return false // incomplete
	}

	// Symbols in canonical order: by length, then by symbol.
	var offs [maxCodeBits + 2]int
	for l := 1; l <= maxCodeBits; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [320]uint16
	for s, l := range lens {
		if l != 0 {
			sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}

	if left > 0 {
		// Unused entries (only in the one-code case) decode as errors,
		// known as soon as the one bit that is not the code is read; a
		// complete code writes every entry.
		for i := range size {
			table[i] = invalidEntry | 1
		}
	}
	end := size // next free subtable slot
	code := 0   // canonical code of the current symbol, MSB first
	prevLen := 0
	curPrefix := -1
	subBits := 0
	subStart := 0
	for i := range codes {
		sym := int(sorted[i])
		l := int(lens[sym])
		code <<= l - prevLen
		prevLen = l
		res := result(sym)
		if l <= int(tableBits) {
			ent := entry(res, l)
			for j := reverse(code, l); j < size; j += 1 << l {
				table[j] = ent
			}
		} else {
			prefix := code >> (l - int(tableBits))
			if prefix != curPrefix {
				// The group's codes are contiguous in canonical order and
				// the last is the longest: the subtable is sized for it.
				curPrefix = prefix
				groupMax := l
				c, pl := code, l
				for k := i + 1; k < codes; k++ {
					kl := int(lens[sorted[k]])
					c = (c + 1) << (kl - pl)
					pl = kl
					if c>>(kl-int(tableBits)) != prefix {
						break
					}
					groupMax = kl
				}
				subBits = groupMax - int(tableBits)
				subStart = end
				end += 1 << subBits
				if end > len(table) {
					return false // cannot happen for a valid code; bounds the table anyway
				}
				for j := subStart; j < end; j++ {
					table[j] = invalidEntry
				}
				table[reverse(prefix, int(tableBits))] = flagSub | uint32(subStart)<<16 | uint32(subBits)<<8 | uint32(tableBits)
			}
			rest := l - int(tableBits)
			ent := entry(res, rest)
			for j := reverse(code&(1<<rest-1), rest); j < 1<<subBits; j += 1 << rest {
				table[subStart+j] = ent
			}
		}
		code++
	}
	return true
}

// entry completes a symbol's result with the length of its code, l bits
// (in a subtable: the bits after the root's). A length or distance code and
// its extra bits are consumed with one shift by their sum, in bits 0-5,
// while bits 8-11 switch from the extra bits' count to the code's length,
// which locates the extra bits: one step less on the chain of dependent
// operations from one lookup to the next.
func entry(res uint32, l int) uint32 {
	extra := res >> 8 & 15
	return res&^(15<<8) | uint32(l)<<8 | uint32(l) + extra
}

// reverse returns the low n bits of v in reverse order.
func reverse(v, n int) int { return int(bits.Reverse16(uint16(v)) >> (16 - n)) }

// pairs adds literal pairs to the root of a literal/length table built
// from lens with tableBits root bits: where a literal's code leaves room
// in the root bits for a whole second literal code, the entry yields both
// bytes. Text is mostly literals, and the decoder's speed is bound by the
// chain from one lookup to the next, so two literals per lookup nearly
// halve its cost there (as in Intel ISA-L's inflate). Pairs are
// enumerated from the literals' codes, shortest first, rather than found
// by testing every root entry: the tests mispredicted often enough to make
// this a tenth of the decoding time on small blocks.
func pairs(root []uint32, lens []uint8, tableBits uint) {
	var count [maxCodeBits + 1]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	// First canonical code of each length (RFC 1951 §3.2.2).
	var next [maxCodeBits + 1]int
	code := 0
	for l := 1; l <= maxCodeBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	// Literals with codes shorter than the root, bucketed by length;
	// literals are symbols 0-255, so their codes come first in each length.
	type lit struct {
		rev int
		sym uint32
	}
	var byLen [maxCodeBits + 1][]lit
	var store [256]lit
	var start [maxCodeBits + 2]int
	for s := range min(256, len(lens)) {
		if l := int(lens[s]); l != 0 && l < int(tableBits) {
			start[l+1]++
		}
	}
	for l := 1; l <= maxCodeBits; l++ {
		start[l+1] += start[l]
	}
	fill := start
	for s := range min(256, len(lens)) {
		l := int(lens[s])
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if l < int(tableBits) {
			store[fill[l]] = lit{reverse(c, l), uint32(s)}
			fill[l]++
		}
	}
	for l := 1; l <= maxCodeBits; l++ {
		byLen[l] = store[start[l]:start[l+1]]
	}
	size := 1 << tableBits
	for l1 := 1; l1 < int(tableBits); l1++ {
		for _, a := range byLen[l1] {
			for l2 := 1; l1+l2 <= int(tableBits); l2++ {
				step := 1 << (l1 + l2)
				for _, b := range byLen[l2] {
					ent := flagLiteral | flagPair | a.sym<<16 | b.sym<<24 | uint32(l1+l2)
					for j := a.rev | b.rev<<l1; j < size; j += step {
						root[j] = ent
					}
				}
			}
		}
	}
}
