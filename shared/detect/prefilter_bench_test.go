package detect

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// pairFreq is the frequency of each byte pair per MB over the benchmark
// corpora (Go sources, the go binary, access logs), summed.
func pairFreq(b *testing.B) *[256][256]float64 {
	var f [256][256]float64
	for _, data := range [][]byte{benchText(b), benchBinary(b), benchLogs(b)} {
		w := 1e6 / float64(len(data))
		for i := 0; i+1 < len(data); i++ {
			f[data[i]][data[i+1]] += w
		}
	}
	return &f
}

// nibbleBucket is one prefilter bucket: the nibbles its first and second
// bytes may have.
type nibbleBucket struct{ lo1, hi1, lo2, hi2 [16]bool }

func (k *nibbleBucket) add(c1, c2 byte) {
	k.lo1[c1&15], k.hi1[c1>>4], k.lo2[c2&15], k.hi2[c2>>4] = true, true, true, true
}

// cost is the candidates per MB the bucket lets through.
func (k *nibbleBucket) cost(f *[256][256]float64) float64 {
	var s1, s2 []int
	for x := range 256 {
		if k.lo1[x&15] && k.hi1[x>>4] {
			s1 = append(s1, x)
		}
		if k.lo2[x&15] && k.hi2[x>>4] {
			s2 = append(s2, x)
		}
	}
	c := 0.0
	for _, x := range s1 {
		for _, y := range s2 {
			c += f[x][y]
		}
	}
	return c
}

func tableCost(f *[256][256]float64, fps map[string]fingerprint) float64 {
	var ks [8]nibbleBucket
	for pat, fp := range fps {
		ks[fp.bucket].add(pat[fp.off], pat[fp.off+1])
	}
	c := 0.0
	for i := range ks {
		c += ks[i].cost(f)
	}
	return c
}

// BenchmarkFingerprintSearch reruns the greedy search that produced
// fingerprintTable (each anchor in turn takes the fingerprint offset and
// bucket that add the fewest candidates, four rounds) and logs its table
// next to the candidates per MB of the current one. Run it after changing
// the anchors: go test -run='^$' -bench=FingerprintSearch -benchtime=1x -v
func BenchmarkFingerprintSearch(b *testing.B) {
	f := pairFreq(b)
	var pats []string
	for pat := range fingerprintTable() {
		pats = append(pats, pat)
	}
	sort.Strings(pats)
	for b.Loop() {
		got := map[string]fingerprint{}
		for range 4 {
			for _, pat := range pats {
				delete(got, pat)
				var ks [8]nibbleBucket
				for p, fp := range got {
					ks[fp.bucket].add(p[fp.off], p[fp.off+1])
				}
				best, choice := 0.0, fingerprint{bucket: -1}
				for off := 0; off+1 < len(pat); off++ {
					for k := range ks {
						t := ks[k]
						t.add(pat[off], pat[off+1])
						if c := t.cost(f) - ks[k].cost(f); choice.bucket < 0 || c < best {
							best, choice = c, fingerprint{off, k}
						}
					}
				}
				got[pat] = choice
			}
		}
		var out strings.Builder
		for _, pat := range pats {
			fp := got[pat]
			fmt.Fprintf(&out, "%q: {%d, %d}, // %q\n", pat, fp.off, fp.bucket, pat[fp.off:fp.off+2])
		}
		b.Logf("search result, %.0f candidates per MB:\n%s", tableCost(f, got), out.String())
	}
	b.ReportMetric(tableCost(f, fingerprintTable()), "candidates/MB")
}
