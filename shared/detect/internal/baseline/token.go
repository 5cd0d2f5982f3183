package baseline

import (
	"bytes"
	"math"
)

// Byte classes used by the boundary and randomness checks. A table lookup
// keeps the per-candidate checks branch-light; they only ever run on the
// few bytes around an anchor hit, never over a whole window.
const (
	clsUpper = 1 << iota
	clsLower
	clsDigit
	clsB64Extra // + / (standard) and - _ (URL-safe) base64 symbols
)

var byteClass = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clsUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clsLower
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsDigit
	}
	t['+'] = clsB64Extra
	t['/'] = clsB64Extra
	t['-'] = clsB64Extra
	t['_'] = clsB64Extra
	return t
}()

func isAlnum(c byte) bool { return byteClass[c]&(clsUpper|clsLower|clsDigit) != 0 }

// alnumRun returns the end of the run of letters and digits starting at i.
func alnumRun(b []byte, i int) int {
	for i < len(b) && isAlnum(b[i]) {
		i++
	}
	return i
}

// tokenBounded reports whether b[start:end] stands on its own: not glued to
// more letters or digits, not part of a snake_case or kebab-case identifier,
// not masked ("LTAI5t***"), and not a slice of a longer base64 blob. The
// blob test follows trivy#3065, where an "LTAI" inside a go.sum hash was
// reported as a key.
func tokenBounded(b []byte, start, end int) bool {
	var before, after byte = ' ', ' '
	if start > 0 {
		before = b[start-1]
	}
	if end < len(b) {
		after = b[end]
	}
	if isAlnum(before) || isAlnum(after) {
		return false
	}
	if before == '_' || after == '_' || after == '*' || before == '*' {
		return false
	}
	// A hyphen glues kebab-case words ("my-LTAI..."), but a leading "-" is
	// also a CLI flag value ("-k LTAI..." has a space, "--id=LTAI" has "="),
	// so only reject when a letter or digit sits beyond the hyphen.
	if before == '-' && start > 1 && isAlnum(b[start-2]) {
		return false
	}
	if after == '-' && end+1 < len(b) && isAlnum(b[end+1]) {
		return false
	}
	if before == '+' || before == '/' || after == '+' || after == '/' || after == '=' {
		if inBase64Blob(b, start, end) {
			return false
		}
	}
	return true
}

// inBase64Blob reports whether b[start:end] sits inside a longer run of the
// base64 alphabet. A path ("oss://LTAI...:x@") or a query value
// ("id=LTAI...&") adds only a few symbols; a blob adds many.
func inBase64Blob(b []byte, start, end int) bool {
	const limit = 24
	lo := start
	for lo > 0 && start-lo < limit && byteClass[b[lo-1]] != 0 {
		lo--
	}
	hi := end
	for hi < len(b) && hi-end < limit && (byteClass[b[hi]] != 0 || b[hi] == '=') {
		hi++
	}
	extra := (start - lo) + (hi - end)
	return extra >= 12
}

// classes returns the set of character classes present in s.
func classes(s []byte) (cls uint8) {
	for _, c := range s {
		cls |= byteClass[c]
	}
	return cls & (clsUpper | clsLower | clsDigit)
}

// entropy is the Shannon entropy of s in bits per byte, computed as
// log2(n) - sum(c*log2(c))/n over the character counts c.
func entropy(s []byte) float64 {
	var counts [256]uint8
	var seen [64]byte
	distinct := 0
	for _, c := range s {
		if counts[c] == 0 && distinct < len(seen) {
			seen[distinct] = c
			distinct++
		}
		counts[c]++
	}
	if len(s) > len(seen) || len(s) == 0 {
		return 0
	}
	var sum float64
	for _, c := range seen[:distinct] {
		sum += cLog2c[counts[c]]
	}
	return cLog2c[len(s)]/float64(len(s)) - sum/float64(len(s))
}

// cLog2c[c] is c*log2(c), for the entropy of strings up to 64 bytes.
var cLog2c = func() (t [65]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// runLike counts neighbouring pairs that are equal or consecutive
// ("aa", "ab", "21"): counters and filler have many, random base62 strings
// few (each pair is one by chance with p=3/62; TestRandomKeyRecall checks
// the threshold in looksRandom costs under 0.1% of random keys).
func runLike(s []byte) int {
	n := 0
	for i := 1; i < len(s); i++ {
		d := int(s[i]) - int(s[i-1])
		if d == 0 || d == 1 || d == -1 {
			n++
		}
	}
	return n
}

// placeholderWords mark documentation samples and templates. They are
// compared case-insensitively against the credential text itself, never
// against its surroundings. A genuine random 20-30 character key contains
// one of these by chance with probability below 1e-4.
var placeholderWords = [][]byte{
	[]byte("example"), []byte("sample"), []byte("dummy"), []byte("placeholder"),
	[]byte("your"), []byte("xxxx"), []byte("fake"), []byte("test"), []byte("secret"),
	[]byte("accesskey"), []byte("abcd"), []byte("1234"), []byte("0000"),
}

func hasPlaceholderWord(s []byte) bool {
	var low [64]byte
	if len(s) > len(low) {
		return false
	}
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	l := low[:len(s)]
	for _, w := range placeholderWords {
		if bytes.Contains(l, w) {
			return true
		}
	}
	return false
}

// looksRandom is the shared test for machine-generated credential text:
// several character classes, no long runs or sequences, high entropy, no
// placeholder words. minEntropy scales with length because a short random
// string cannot reach the entropy of a long one.
func looksRandom(s []byte, needClasses int, minEntropy float64) bool {
	cls := classes(s)
	n := 0
	for c := cls; c != 0; c &= c - 1 {
		n++
	}
	if n < needClasses {
		return false
	}
	if runLike(s) > len(s)/4+1 {
		return false
	}
	if entropy(s) < minEntropy {
		return false
	}
	if isHexish(s) {
		return false
	}
	return !hasPlaceholderWord(s)
}

// isHexish reports runs made of hex digits only: pieces of hashes, UUIDs
// and checksums, never Alibaba Cloud secrets (base62).
func isHexish(s []byte) bool {
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
