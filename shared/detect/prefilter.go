package detect

import "bytes"

// The SIMD prefilter (amd64 with AVX2). The pivot passes of anchors.go
// cost one bytes.IndexByte call per pivot byte, and the pivots together
// occur every 30-40 bytes of source text: 11 passes and their restarts
// kept the engine at 6-8 times a single bytes.Index pass. The prefilter
// instead classifies every byte pair of the view in one pass, 32
// positions per step, Teddy style (Hyperscan's literal matcher): each
// anchor is reduced to one two-byte fingerprint, fingerprints are spread
// over 8 buckets, and a position is a candidate when the nibble tables
// put its first and second byte in a common bucket. Buckets overlap a
// little (the tables accept the nibble cross products), so every
// candidate is confirmed against the exact fingerprint index, then
// against the whole anchor. On the benchmark corpora about one position in
// 1,000 is a candidate.

// candBuf is the number of candidate positions collected per call.
const candBuf = 1024

// fingerprint is where an anchor's fingerprint starts and its bucket.
type fingerprint struct{ off, bucket int }

// fingerprintTable assigns every anchor's fingerprint. The pairs were
// chosen greedily to minimise the candidates per MB over the benchmark
// corpora (Go sources, the go binary, access logs), from the pair
// frequencies of those corpora (BenchmarkFingerprintSearch reruns the
// search: about 3,200 candidates per MB summed over the three, against
// nearly 30,000 pivot hits per MB of source text alone). Any assignment is
// correct, the choice only changes speed; TestFingerprints checks that it
// covers every anchor.
func fingerprintTable() map[string]fingerprint {
	return map[string]fingerprint{
		"%4C": {0, 0}, "%4c": {0, 0}, // "%4"
		"&#":                         {0, 1},                    // "&#"
		"-\x00k\x00e\x00y":           {5, 2},                    // "\x00y"
		"-key":                       {0, 3},                    // "-k"
		"1WRUZK":                     {4, 3},                    // "ZK"
		"4VVFV":                      {3, 5},                    // "FV"
		"K\x00E\x00Y":                {3, 6},                    // "\x00Y"
		"K\x00e\x00y":                {3, 2},                    // "\x00y"
		"KEY":                        {1, 7},                    // "EY"
		"Key":                        {0, 7},                    // "Ke"
		"L\x00T\x00A\x00I":           {1, 6},                    // "\x00T"
		"LTAI":                       {0, 6},                    // "LT"
		"MAFQAQQBJA":                 {2, 5},                    // "FQ"
		"MVEFJ":                      {3, 3},                    // "FJ"
		"NVkVGS":                     {1, 3},                    // "Vk"
		"RGUkJT":                     {2, 3},                    // "Uk"
		"S\x00E\x00C\x00R\x00E\x00T": {9, 6},                    // "\x00T"
		"S\x00e\x00c\x00r\x00e\x00t": {5, 2},                    // "\x00r"
		"SECRET":                     {1, 0},                    // "EC"
		"STS.":                       {2, 1},                    // "S."
		"Secret":                     {0, 4},                    // "Se"
		"TABUAEEASQ":                 {5, 0},                    // "EE"
		"TFRBS":                      {1, 5},                    // "FR"
		"TVZFRk":                     {3, 5},                    // "FR"
		"URlJCU":                     {4, 7},                    // "CU"
		"VEZSQl":                     {1, 7},                    // "EZ"
		"\\u004C":                    {0, 4}, "\\u004c": {0, 4}, // "\u"
		"\\x4C": {0, 4}, "\\x4c": {0, 4}, // "\x"
		"_\x00K\x00E\x00Y": {5, 6}, // "\x00Y"
		"_\x00S\x00E\x00C": {1, 6}, // "\x00S"
		"_\x00k\x00e\x00y": {5, 2}, // "\x00y"
		"_\x00s\x00e\x00c": {1, 2}, // "\x00s"
		"_key":             {0, 4}, // "_k"
		"_secret":          {0, 4}, // "_s"
		"eFVRV":            {1, 5}, // "FV"
		"hVUV":             {0, 5}, // "hV"
		"wAVABBAEkA":       {7, 3}, // "Ek"
		"xUQU":             {0, 5}, // "xU"
	}
}

type fpAnchor struct {
	a   *anchor
	off int // offset of the fingerprint in a.pat
}

type prefilter struct {
	// tab holds the nibble tables for the first byte (low, high) and the
	// second byte (low, high), each repeated for both 128-bit lanes.
	tab [4][32]byte
	// index maps a byte pair to 1 + its entry in lists, 0 for none.
	index [1 << 16]uint8
	lists [][]fpAnchor
}

func newPrefilter(groups []anchorGroup) *prefilter {
	p := &prefilter{}
	fps := fingerprintTable()
	for gi := range groups {
		for ai := range groups[gi].anchors {
			a := &groups[gi].anchors[ai]
			fp, ok := fps[string(a.pat)]
			if !ok || fp.off+1 >= len(a.pat) || fp.bucket < 0 || fp.bucket > 7 {
				panic("detect: no valid fingerprint for anchor " + string(a.pat))
			}
			c1, c2 := a.pat[fp.off], a.pat[fp.off+1]
			bit := byte(1) << fp.bucket
			for lane := 0; lane < 32; lane += 16 {
				p.tab[0][lane+int(c1&15)] |= bit
				p.tab[1][lane+int(c1>>4)] |= bit
				p.tab[2][lane+int(c2&15)] |= bit
				p.tab[3][lane+int(c2>>4)] |= bit
			}
			k := uint16(c1)<<8 | uint16(c2)
			if p.index[k] == 0 {
				p.lists = append(p.lists, nil)
				p.index[k] = uint8(len(p.lists))
			}
			p.lists[p.index[k]-1] = append(p.lists[p.index[k]-1], fpAnchor{a: a, off: fp.off})
		}
	}
	return p
}

// anchorsSIMD is anchors with the prefilter: one pass over v for all
// anchors, then the same dispatch as the pivot passes.
func (d *Detector) anchorsSIMD(lv *level, v *view, ownLo, ownHi int) {
	b := v.b
	p := d.pre
	if len(lv.cand) < candBuf {
		lv.cand = make([]int32, candBuf)
	}
	off := 0
	for len(b)-off >= 33 {
		n, next := teddy2(b[off:], &p.tab, lv.cand)
		for _, c := range lv.cand[:n] {
			d.candidate(lv, v, off+int(c), ownLo, ownHi)
		}
		off += next
	}
	for i := off; i+1 < len(b); i++ {
		if p.index[uint16(b[i])<<8|uint16(b[i+1])] != 0 {
			d.candidate(lv, v, i, ownLo, ownHi)
		}
	}
}

// candidate confirms a prefilter candidate at i against the anchors whose
// fingerprint is the pair b[i], b[i+1].
func (d *Detector) candidate(lv *level, v *view, i, ownLo, ownHi int) {
	b := v.b
	li := d.pre.index[uint16(b[i])<<8|uint16(b[i+1])]
	if li == 0 {
		return // a bucket false positive
	}
	for _, fa := range d.pre.lists[li-1] {
		s := i - fa.off
		e := s + len(fa.a.pat)
		if s < 0 || e > len(b) || !bytes.Equal(b[s:e], fa.a.pat) {
			continue
		}
		d.dispatch(lv, v, fa.a, s, ownLo, ownHi)
	}
}
