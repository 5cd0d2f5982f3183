//go:build race

package inflate_test

// raceEnabled makes the heaviest tests sample their inputs: the decoder
// shares nothing between goroutines, so the race detector's 10x slowdown
// buys coverage of volume the plain run already has.
const raceEnabled = true
