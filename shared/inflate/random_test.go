package inflate_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Encoders choose their codes from real statistics, so they rarely emit
// 15-bit codes, codes of every length at once, or the rarer run-length
// forms of the code-length sequence. These streams are written with random
// complete codes, random symbols and random block types instead, and
// checked against the output computed here and against compress/flate.

// randomCode returns lengths for k codes forming a complete prefix code no
// longer than maxLen: leaves of a random binary tree. deep biases the
// splits towards the deepest leaf, giving the longest codes.
func randomCode(r *rand.Rand, k, maxLen int, deep bool) []int {
	if k == 1 {
		return []int{1} // the one-code case RFC 1951 allows
	}
	leaves := []int{0}
	for len(leaves) < k {
		var i int
		if deep && r.IntN(2) == 0 {
			for j := range leaves {
				if leaves[j] < maxLen && (leaves[i] >= maxLen || leaves[j] > leaves[i]) {
					i = j
				}
			}
		} else {
			i = r.IntN(len(leaves))
		}
		if leaves[i] >= maxLen {
			continue
		}
		d := leaves[i] + 1
		leaves[i] = d
		leaves = append(leaves, d)
	}
	return leaves
}

// assign gives the code lengths to syms (shuffled) within n symbols.
func assign(r *rand.Rand, n int, syms []int, code []int) []int {
	l := make([]int, n)
	r.Shuffle(len(syms), func(i, j int) { syms[i], syms[j] = syms[j], syms[i] })
	for i, c := range code {
		l[syms[i]] = c
	}
	return l
}

// pickSyms returns k distinct symbols below n that include must.
func pickSyms(r *rand.Rand, n, k int, must ...int) []int {
	seen := map[int]bool{}
	var s []int
	for _, m := range must {
		if !seen[m] {
			seen[m] = true
			s = append(s, m)
		}
	}
	for len(s) < k {
		if x := r.IntN(n); !seen[x] {
			seen[x] = true
			s = append(s, x)
		}
	}
	return s
}

// runLength codes a length sequence with 16, 17 and 18 where it can.
func runLength(lens []int) []clSym {
	var seq []clSym
	for i := 0; i < len(lens); {
		run := 1
		for i+run < len(lens) && lens[i+run] == lens[i] {
			run++
		}
		switch {
		case lens[i] == 0 && run >= 11:
			n := min(run, 138)
			seq = append(seq, clSym{18, n - 11})
			i += n
		case lens[i] == 0 && run >= 3:
			n := min(run, 10)
			seq = append(seq, clSym{17, n - 3})
			i += n
		case i > 0 && lens[i-1] == lens[i] && run >= 3:
			n := min(run, 6)
			seq = append(seq, clSym{16, n - 3})
			i += n
		default:
			seq = append(seq, clSym{lens[i], 0})
			i++
		}
	}
	return seq
}

// randomDynamic writes one dynamic block of about n symbols, appending
// what it decodes to to out.
func randomDynamic(r *rand.Rand, w *bitWriter, final bool, n int, out []byte) []byte {
	nlit := 257 + r.IntN(30)
	k := 2 + r.IntN(min(nlit, 200))
	if r.IntN(20) == 0 {
		k = 1 // only the end-of-block code
	}
	lit := assign(r, nlit, pickSyms(r, nlit, k, 256), randomCode(r, k, 15, r.IntN(2) == 0))

	ndist := 1 + r.IntN(30)
	var dist []int
	switch x := r.IntN(10); {
	case x == 0:
		dist = make([]int, ndist) // no distance codes
	case x == 1:
		dist = assign(r, ndist, pickSyms(r, ndist, 1), []int{1})
	default:
		kd := 2 + r.IntN(ndist)
		if kd > ndist {
			kd = ndist
		}
		if kd < 2 {
			dist = assign(r, ndist, pickSyms(r, ndist, 1), []int{1})
		} else {
			dist = assign(r, ndist, pickSyms(r, ndist, kd), randomCode(r, kd, 15, r.IntN(2) == 0))
		}
	}

	all := append(append([]int(nil), lit...), dist...)
	seq := lengthsSeq(lit, dist)
	if r.IntN(3) > 0 {
		seq = runLength(all)
	}
	used := map[int]bool{}
	for _, s := range seq {
		used[s.sym] = true
	}
	var clSyms []int
	for s := range used {
		clSyms = append(clSyms, s)
	}
	if len(clSyms) == 1 {
		clSyms = pickSyms(r, 19, 2, clSyms[0])
	}
	var cl [19]int
	copy(cl[:], assign(r, 19, clSyms, randomCode(r, len(clSyms), 7, r.IntN(2) == 0)))
	hclen := 19
	for hclen > 4 && cl[codeOrder[hclen-1]] == 0 {
		hclen--
	}
	dynHeader{hlit: nlit, hdist: ndist, cl: cl, hclen: hclen, seq: seq}.write(w, final)
	c := coder{w, canonical(lit), canonical(dist)}

	var lits, lens, dists []int
	for s, l := range lit {
		switch {
		case l == 0:
		case s < 256:
			lits = append(lits, s)
		case s > 256:
			lens = append(lens, s)
		}
	}
	for s, l := range dist {
		if l > 0 {
			dists = append(dists, s)
		}
	}
	for range n {
		if len(lens) > 0 && len(dists) > 0 && r.IntN(3) > 0 {
			ls := lens[r.IntN(len(lens))] - 257
			ds := dists[r.IntN(len(dists))]
			length := lenBase[ls] + r.IntN(1<<lenExtra[ls])
			if ls == 28 {
				length = 258
			}
			d := distBase[ds] + r.IntN(1<<distExtra[ds])
			if d <= len(out) {
				c.sym(257 + ls)
				w.bits(uint64(length-lenBase[ls]), lenExtra[ls])
				c.distSym(ds)
				w.bits(uint64(d-distBase[ds]), distExtra[ds])
				for range length {
					out = append(out, out[len(out)-d])
				}
				continue
			}
		}
		if len(lits) > 0 {
			s := lits[r.IntN(len(lits))]
			c.sym(s)
			out = append(out, byte(s))
		}
	}
	c.sym(256)
	return out
}

func randomStream(r *rand.Rand) (src, want []byte) {
	var w bitWriter
	blocks := 1 + r.IntN(4)
	for i := range blocks {
		final := i == blocks-1
		switch r.IntN(6) {
		case 0:
			d := make([]byte, r.IntN(300))
			for j := range d {
				d[j] = byte(r.Uint32())
			}
			storedBlock(&w, final, d)
			want = append(want, d...)
		case 1:
			c := fixedBlock(&w, final)
			for range r.IntN(200) {
				if len(want) > 0 && r.IntN(3) == 0 {
					length, d := 3+r.IntN(256), 1+r.IntN(min(len(want), 32768))
					c.match(length, d)
					for range length {
						want = append(want, want[len(want)-d])
					}
					continue
				}
				b := byte(r.Uint32())
				c.sym(int(b))
				want = append(want, b)
			}
			c.sym(256)
		default:
			want = randomDynamic(r, &w, final, r.IntN(2000), want)
		}
	}
	return w.bytes(), want
}

func TestRandomBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 34))
	n := 400
	if light() {
		n = 100
	}
	for i := range n {
		src, want := randomStream(r)
		std, err := inflateStd(src)
		if err != nil || !bytes.Equal(std, want) {
			t.Fatalf("test bug: stream %d: compress/flate: %v, %s", i, err, firstDiff(std, want))
		}
		for _, size := range []int{7, 32 << 10} {
			got, err := decodeGuarded(t, src, size)
			if err != nil {
				t.Fatalf("stream %d, reads of %d: %v; stream %s", i, size, err, short(src))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("stream %d, reads of %d: %s", i, size, firstDiff(got, want))
			}
		}
	}
}

// TestRandomBlocksCorrupted flips bits in random streams: the headers of
// these streams use every code shape, so the flips reach table-building
// corners that encoder output does not.
func TestRandomBlocksCorrupted(t *testing.T) {
	r := rand.New(rand.NewPCG(56, 78))
	n := 150
	if light() {
		n = 30
	}
	for range n {
		src, _ := randomStream(r)
		for range 20 {
			bit := r.IntN(len(src) * 8)
			src[bit/8] ^= 1 << (bit % 8)
			agreeWithStd(t, src)
			src[bit/8] ^= 1 << (bit % 8)
		}
	}
}
