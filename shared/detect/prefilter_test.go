package detect

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

// TestFingerprints checks that every anchor has a fingerprint and that the
// nibble tables accept it, so the prefilter can only add candidates the
// exact index then drops, never lose one.
func TestFingerprints(t *testing.T) {
	groups := anchorGroups()
	fps := fingerprintTable()
	p := newPrefilter(groups)
	n := 0
	for _, g := range groups {
		for _, a := range g.anchors {
			fp := fps[string(a.pat)]
			c1, c2 := a.pat[fp.off], a.pat[fp.off+1]
			class := p.tab[0][c1&15] & p.tab[1][c1>>4] & p.tab[2][c2&15] & p.tab[3][c2>>4]
			if class&(1<<fp.bucket) == 0 || p.index[uint16(c1)<<8|uint16(c2)] == 0 {
				t.Errorf("anchor %q: fingerprint %q not accepted", a.pat, a.pat[fp.off:fp.off+2])
			}
			n++
		}
	}
	if n != len(fps) {
		t.Errorf("%d anchors, %d fingerprints: the table lists anchors that no longer exist", n, len(fps))
	}
}

// anchorInput mixes whole anchors, their pieces, key-value shapes and
// random bytes, so that anchors overlap each other and block edges.
func anchorInput(r *rand.Rand, n int) []byte {
	var pats [][]byte
	for _, g := range anchorGroups() {
		for _, a := range g.anchors {
			pats = append(pats, a.pat)
		}
	}
	extra := [][]byte{
		[]byte("accessKeySecret: "), []byte("ALIBABA_CLOUD_ACCESS_KEY_ID="), []byte("\n"), []byte("%3D"),
		[]byte("&#76;"), []byte(`\u004c`), []byte("LTAI5tWK59PFkl0JfI2yyVlb"), []byte("zoc51FeogdvbzDp8mFmQp5zvqYMtrb"),
	}
	var b []byte
	for len(b) < n {
		switch r.IntN(4) {
		case 0:
			b = append(b, pats[r.IntN(len(pats))]...)
		case 1:
			p := pats[r.IntN(len(pats))]
			b = append(b, p[:r.IntN(len(p))]...)
		case 2:
			b = append(b, extra[r.IntN(len(extra))]...)
		default:
			for range r.IntN(40) {
				b = append(b, byte(r.UintN(256)))
			}
		}
	}
	return b
}

// TestPrefilterMatchesPivots runs the SIMD prefilter and the pivot passes
// over the same inputs: the anchor hits they dispatch, and the findings,
// must be identical.
func TestPrefilterMatchesPivots(t *testing.T) {
	if !haveSIMD {
		t.Skip("no SIMD prefilter on this machine")
	}
	simd := newDetector(t, Config{})
	pivots := newDetector(t, Config{})
	pivots.simd = false
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 300 {
		b := anchorInput(r, 1+r.IntN(3000))
		var got [2]level
		for k, d := range []*Detector{simd, pivots} {
			lv := &got[k]
			d.anchors(lv, &view{b: b, enc: "plain"}, 0, len(b))
		}
		if !sameHits(&got[0], &got[1]) {
			t.Fatalf("trial %d: prefilter and pivot passes disagree on %q", trial, b)
		}
	}
	inputs := [][]byte{boundaryCorpus(t), anchorInput(r, 1<<20)}
	for _, a := range adversarial() {
		inputs = append(inputs, bytes.Repeat([]byte(a.unit), 2000))
	}
	for i, in := range inputs {
		var fs [2][]finding.Finding
		for k, d := range []*Detector{simd, pivots} {
			fs[k] = collect(t, func(emit func(finding.Finding)) error {
				return d.ScanBytes(context.Background(), "p", in, emit)
			})
		}
		if !equalFindings(fs[0], fs[1]) {
			t.Errorf("input %d: findings differ:\n%s\n%s", i, summary(fs[0]), summary(fs[1]))
		}
	}
}

func sameHits(a, b *level) bool {
	ids := func(l *level) []idCand {
		s := slices.Clone(l.ids)
		slices.SortFunc(s, func(x, y idCand) int { return x.start - y.start })
		return s
	}
	secs := func(l *level) []secCand {
		s := slices.Clone(l.labeled)
		slices.SortFunc(s, func(x, y secCand) int { return x.start - y.start })
		return s
	}
	trig := func(l *level) []trigger {
		s := slices.Clone(l.triggers)
		slices.SortFunc(s, func(x, y trigger) int {
			if x.pos != y.pos {
				return x.pos - y.pos
			}
			if x.kind != y.kind {
				return int(x.kind) - int(y.kind)
			}
			return x.q - y.q
		})
		return s
	}
	keys := func(l *level) []int { s := slices.Clone(l.keys); slices.Sort(s); return s }
	return slices.Equal(ids(a), ids(b)) && slices.Equal(secs(a), secs(b)) &&
		slices.Equal(trig(a), trig(b)) && slices.Equal(keys(a), keys(b))
}
