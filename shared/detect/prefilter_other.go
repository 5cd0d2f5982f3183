//go:build !amd64 || purego

package detect

const haveSIMD = false

func teddy2(b []byte, tab *[4][32]byte, out []int32) (n int, next int) {
	panic("detect: no SIMD prefilter on this platform")
}
