//go:build amd64 && !purego

package detect

// teddy2 is the AVX2 candidate scan (prefilter_amd64.s).
//
//go:noescape
func teddy2(b []byte, tab *[4][32]byte, out []int32) (n int, next int)

func cpuHasAVX2() bool

// haveSIMD is fixed at start-up from CPUID; it never changes afterwards.
var haveSIMD = cpuHasAVX2()
