package detect

import (
	"math"
	"math/bits"
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

func classCount(s []byte) int {
	n := 0
	for c := classes(s); c != 0; c &= c - 1 {
		n++
	}
	return n
}

// looksRandom is the shared test for machine-generated credential text:
// at least needClasses character classes, and nothing a person typed as
// a stand-in (isPlaceholder).
func looksRandom(s []byte, needClasses int) bool {
	return classCount(s) >= needClasses && !isPlaceholder(s)
}

// Placeholder tests. Issued keys are uniformly random base62, so every
// test below is calibrated against that: a random string of 12 to 48
// characters trips any one of them with probability of order 1e-8 or less
// (the distinct-count and entropy tails are computed exactly in
// TestPlaceholderCalibration), and all together reject fewer than 2 in 10
// million genuine 30-character secrets. The earlier filters (any three
// neighbouring equal or consecutive pairs, any 4-letter word in any case,
// entropy floors at 1e-4 tails) missed about 1 random pair in 3,000, e.g.
// an ID whose suffix ends "Znnn3".
const (
	// A run of this many identical or consecutive characters ("xxxxxx",
	// "abcdef", "987654") is typed; at random it needs five 1-in-62
	// coincidences in a row.
	longRun = 6
	// Ignoring case ("AbCdEfGh", "xXxXxXxX") a run needs seven 1-in-31
	// coincidences.
	foldedRun = 8
	// Shorter runs and short words are only weak evidence, common enough
	// in random keys (about 1 in 3,000 has one), so it takes two.
	shortRun      = 4
	weakToReject  = 2
	maxCheckedLen = 64
)

// placeholderWords mark documentation samples and templates. They are
// matched only in the spellings people write (lower, UPPER, Title, and
// camelCase for two-word names), never in any mix of cases: a strong word
// of six or more letters then occurs in a random key with probability
// below 2e-9 and rejects it alone; a weak one (four or five letters, about
// 1 random key in 40,000 holds one) is only weak evidence.
var placeholderWords = [...]struct {
	word   string // lower case
	camel  int    // index of a second capital in camelCase, 0 if none
	strong bool
}{
	{"example", 0, true}, {"sample", 0, true}, {"placeholder", 0, true},
	{"secret", 0, true}, {"accesskey", 6, true}, {"unknown", 0, true},
	{"synthetic", 0, true}, {"invalid", 0, true},
	{"fake", 0, false}, {"test", 0, false}, {"your", 0, false}, {"dummy", 0, false},
	{"such", 0, false}, {"demo", 0, false}, {"mock", 0, false}, {"other", 0, false},
}

// wordFirst[c] has bit i set when placeholderWords[i] starts with c in
// either case, so most positions are dismissed by one lookup.
var wordFirst = func() (t [256]uint16) {
	for i, w := range placeholderWords {
		t[w.word[0]] |= 1 << i
		t[w.word[0]-('a'-'A')] |= 1 << i
	}
	return t
}()

// placeholderWord reports whether s holds a strong placeholder word, and
// how many weak ones it holds.
func placeholderWord(s []byte) (strong bool, weak int) {
	for i, c := range s {
		m := wordFirst[c]
		for m != 0 {
			wi := bits.TrailingZeros16(m)
			m &= m - 1
			w := &placeholderWords[wi]
			if i+len(w.word) > len(s) || !writtenAs(s[i:i+len(w.word)], w.word, w.camel) {
				continue
			}
			if w.strong {
				return true, weak
			}
			weak++
		}
	}
	return false, weak
}

// writtenAs reports whether t spells the lower-case word w as lower,
// UPPER, Title or (when camel > 0) with a capital at camel too.
func writtenAs(t []byte, w string, camel int) bool {
	upper := 0
	for k := range len(t) {
		c := t[k]
		switch {
		case c == w[k]:
		case c == w[k]-('a'-'A'):
			upper |= 1 << k
		default:
			return false
		}
	}
	all := 1<<len(t) - 1
	switch upper {
	case 0, all, 1:
		return true
	}
	return camel > 0 && (upper == 1<<camel || upper == 1|1<<camel)
}

// isPlaceholder reports text that a person typed rather than a generator
// drew: long runs or sequences, few distinct characters, low entropy, a
// repeating period, mostly neighbouring characters, hex only, a template
// word, or two pieces of weak evidence.
func isPlaceholder(s []byte) bool {
	n := len(s)
	if n == 0 || n > maxCheckedLen {
		return true
	}
	var counts [256]uint8
	var seen [maxCheckedLen]byte
	distinct, near, weak := 0, 0, 0
	same, seq, step := 1, 1, 0
	fseq, fstep := 1, 2 // the same over case-folded letters
	hex := true
	for i, c := range s {
		if counts[c] == 0 {
			seen[distinct] = c
			distinct++
		}
		counts[c]++
		if unhex(c) < 0 {
			hex = false
		}
		if i == 0 {
			continue
		}
		d := int(c) - int(s[i-1])
		// A maximal run counts once, when it ends.
		if d == 0 {
			same++
		} else {
			if same >= shortRun {
				weak++
			}
			same = 1
		}
		if d == 1 || d == -1 {
			if d == step && seq > 1 {
				seq++
			} else {
				if seq >= shortRun {
					weak++
				}
				seq = 2
			}
			near++
		} else {
			if seq >= shortRun {
				weak++
			}
			seq = 1
			if d == 0 {
				near++
			}
		}
		step = d
		if same >= longRun || seq >= longRun {
			return true
		}
		if fd := int(fold(c)) - int(fold(s[i-1])); fd >= -1 && fd <= 1 && (fd == fstep || fseq == 1) {
			fseq++
			if fseq >= foldedRun {
				return true
			}
			fstep = fd
		} else if fd >= -1 && fd <= 1 {
			fseq, fstep = 2, fd
		} else {
			fseq = 1
		}
	}
	if same >= shortRun {
		weak++
	}
	if seq >= shortRun {
		weak++
	}
	// Random base62: P(distinct <= 0.4n) <= 3e-9 for n = 12..48.
	if distinct*5 <= n*2 {
		return true
	}
	// P(more than 60% of neighbours equal or consecutive) <= 4e-9.
	if near*5 >= n*3 {
		return true
	}
	// Entropy below log2(n)-2 bits: P <= 1e-9 for n = 12..48.
	var sum float64
	for _, c := range seen[:distinct] {
		sum += cLog2c[counts[c]]
	}
	if cLog2c[n]/float64(n)-sum/float64(n) < cLog2n2[n] {
		return true
	}
	// Hex only: pieces of hashes, UUIDs and checksums, never base62 keys.
	// Below 16 characters a random key is all-hex too often (4e-6 at 12).
	if hex && n >= 16 {
		return true
	}
	if periodic(s) {
		return true
	}
	strong, words := placeholderWord(s)
	return strong || weak+words >= weakToReject
}

func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// periodic reports text that repeats itself ("abc1abc1abc1",
// "KEYKEYKEY..."): for some period p of at most half the length, at least
// 80% of the characters equal the one p places earlier, over at least 8
// comparisons. At random each comparison matches with p=1/62, so a random
// key gives up after a few comparisons per period.
func periodic(s []byte) bool {
	n := len(s)
	for p := 1; 2*p <= n && n-p >= 8; p++ {
		allowed := (n - p) / 5 // mismatches that still leave 80%
		miss := 0
		for i := p; i < n && miss <= allowed; i++ {
			if s[i] != s[i-p] {
				miss++
			}
		}
		if miss <= allowed {
			return true
		}
	}
	return false
}

// cLog2c[c] is c*log2(c), for the entropy of strings up to 64 bytes.
var cLog2c = func() (t [maxCheckedLen + 1]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// cLog2n2[n] is the entropy floor log2(n)-2 for a string of n bytes.
var cLog2n2 = func() (t [maxCheckedLen + 1]float64) {
	for n := 1; n < len(t); n++ {
		t[n] = math.Log2(float64(n)) - 2
	}
	return t
}()
