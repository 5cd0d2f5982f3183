package baseline

import (
	"bytes"
	"sort"
)

// view is a byte range being scanned: the window itself, or a decoded
// rendering of part of it.
type view struct {
	b []byte
	// raw[i] is the window offset that produced b[i]; nil means b is the
	// window. Findings are located by it, so lines and columns always point
	// into the stream as stored.
	raw []int32
	// dec[i] is true when b[i] came out of a decoding step; nil means none.
	dec   []bool
	enc   string // decoding chain, outermost first
	depth int
}

func (v *view) rawPos(i int) int {
	if v.raw == nil {
		return i
	}
	if i >= len(v.raw) {
		return int(v.raw[len(v.raw)-1]) + 1
	}
	return int(v.raw[i])
}

// decodedIn reports whether any byte of b[lo:hi] was produced by decoding,
// i.e. whether this view can see something its parent could not.
func (v *view) decodedIn(lo, hi int) bool {
	if v.dec == nil {
		return false
	}
	lo, hi = max(lo, 0), min(hi, len(v.dec))
	for i := lo; i < hi; i++ {
		if v.dec[i] {
			return true
		}
	}
	return false
}

type candKind uint8

const (
	kindLTAI candKind = iota
	kindLegacy
	kindSTS
)

type idCand struct {
	start, end int
	line       int // line index within the view
	kind       candKind
	taken      int // start of the chosen secret, -1 if none
}

type secCand struct {
	start, end int
	line       int
	keyStart   int // start of the key name for labeled secrets
	labeled    bool
}

// Pairing limits, tuned with the testdata cases: an ID and its secret are
// at most this far apart (bytes between them, lines between them).
const (
	pairBytes = 512
	pairLines = 5
	// decodeRadius is how far around an anchor a decoded view reaches;
	// maxCluster bounds how far one view stretches over nearby anchors.
	decodeRadius = 1024
	maxCluster   = 16 << 10
	// anchorSlack lets an anchor just outside the owned range produce a
	// finding whose ID starts inside it (base64 quanta, keyword before value).
	anchorSlack = 64
	maxTokenLen = 8192
)

var (
	anchorLTAI = []byte("LTAI")
	anchorSTS  = []byte("STS.")
)

// scanView finds credentials in v. IDs and secrets anywhere in v take part
// in pairing (so a neighbour in the margin can claim a secret), but only
// those whose raw position lies in [ownLo, ownHi) are reported.
func (d *Detector) scanView(st *state, v *view, ownLo, ownHi int) {
	lv := &st.levels[v.depth]
	lv.ids, lv.labeled, lv.triggers, lv.keys = lv.ids[:0], lv.labeled[:0], lv.triggers[:0], lv.keys[:0]
	d.anchors(lv, v, ownLo, ownHi)
	sortLabeled(lv)
	if len(lv.ids) > 1 {
		sort.Slice(lv.ids, func(i, j int) bool { return lv.ids[i].start < lv.ids[j].start })
		lv.ids = compactIDs(lv.ids)
	}

	collectSecrets(lv, v.b)
	for k := range lv.ids {
		pair(lv, k)
	}
	for k := range lv.ids {
		d.reportID(st, lv, v, k, ownLo, ownHi)
	}
	d.reportLoneSecrets(st, lv, v, ownLo, ownHi)

	if v.depth < d.maxDepth {
		d.nearbyTriggers(lv, v, ownLo, ownHi)
		d.decodeTriggers(st, lv, v, ownLo, ownHi)
	}
}

// escapeBefore reports whether the letters or digits just before i end an
// escape sequence (%XX, \xHH, \uHHHH, \n, \t, \r) and which decoder
// undoes it.
func escapeBefore(b []byte, i int) (decodeKind, bool) {
	switch {
	case i >= 3 && b[i-3] == '%' && unhex(b[i-2]) >= 0 && unhex(b[i-1]) >= 0:
		return decURL, true
	case i >= 2 && b[i-2] == '\\' && (b[i-1] == 'n' || b[i-1] == 't' || b[i-1] == 'r'):
		return decEscape, true
	case i >= 4 && b[i-4] == '\\' && b[i-3] == 'x' && unhex(b[i-2]) >= 0 && unhex(b[i-1]) >= 0:
		return decEscape, true
	case i >= 6 && b[i-6] == '\\' && b[i-5] == 'u':
		return decEscape, true
	}
	return 0, false
}

func validLTAI(b []byte, start, end int) bool {
	n := end - start
	// Issued IDs are 16 (older) or 24 characters; 17-23 are truncations or
	// other tokens that share the prefix, longer runs are identifiers.
	if n != 16 && n != 24 {
		return false
	}
	if !tokenBounded(b, start, end) {
		return false
	}
	suffix := b[start+4 : end]
	minH := 3.0
	if n == 16 {
		minH = 2.4
	}
	return looksRandom(suffix, 2, minH) && !isDocSample(b[start:end])
}

func validSTS(b []byte, start, end int) bool {
	n := end - start - len(anchorSTS)
	if n < 16 || n > 64 {
		return false
	}
	if start > 0 && (isAlnum(b[start-1]) || b[start-1] == '_') {
		return false
	}
	if end < len(b) && (b[end] == '*' || b[end] == '_') {
		return false
	}
	return looksRandom(b[start+len(anchorSTS):end], 2, 3.0) && !isDocSample(b[start:end])
}

func isDocSample(s []byte) bool {
	// Samples printed in Alibaba Cloud documentation and SDK tests.
	switch string(s) {
	case "f6IzzFZMmzNwEI4d", "0wNEpMMlzy7szvai", "STS.L4aBSCSJVMuKg5U1vFDw",
		"wyLTSmsyPGP1ohvvw8xYgB29dlGI8KMiH2pKCNZ9":
		return true
	}
	return false
}

// keyword handles a key-name anchor at i: if the enclosing name labels an
// AccessKey ID or secret ("accessKeySecret: ...", "<AccessKeyId>..."), its
// value is recorded: legacy IDs join lv.ids, secrets join lv.labeled. It
// returns the start of a value that could be base64 of a credential, or -1.
func keyword(lv *level, b []byte, i, n int) int {
	ks, ke := keySpan(b, i, i+n)
	class := classifyKey(b[ks:ke])
	if class == keyNone {
		return -1
	}
	lv.keys = append(lv.keys, ks)
	vs, ve, ok := keyValue(b, ks, ke)
	if !ok {
		return -1
	}
	val := b[vs:ve]
	switch class {
	case keyID:
		if ve-vs == 16 && !bytes.HasPrefix(val, anchorLTAI) && tokenBounded(b, vs, ve) &&
			looksRandom(val, 3, 3.0) && !isDocSample(val) {
			lv.ids = append(lv.ids, idCand{start: vs, end: ve, kind: kindLegacy})
			return -1
		}
	case keySecret:
		if n := ve - vs; n >= 30 && n <= 48 && validSecret(b, vs, ve) {
			lv.labeled = append(lv.labeled, secCand{start: vs, end: ve, keyStart: ks, labeled: true})
			if n == 30 {
				return -1
			}
			// Longer values are STS secrets or base64 of a secret.
		}
	}
	// base64 of 16 to 48 bytes, possibly with a trailing newline.
	e := vs
	for e < len(b) && e-vs < 72 && b64Value[b[e]] >= 0 {
		e++
	}
	if n := e - vs; n >= 20 && n < 72 {
		return vs
	}
	return -1
}

// sortLabeled orders labeled secrets and drops repeats: a key name matched
// by two anchors ("KEY" and "SECRET" in one name) yields its value twice.
func sortLabeled(lv *level) {
	if len(lv.labeled) < 2 {
		return
	}
	sort.Slice(lv.labeled, func(i, j int) bool { return lv.labeled[i].start < lv.labeled[j].start })
	out := lv.labeled[:1]
	for _, s := range lv.labeled[1:] {
		if s.start != out[len(out)-1].start {
			out = append(out, s)
		}
	}
	lv.labeled = out
}

func isKeyChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }

func keySpan(b []byte, s, e int) (int, int) {
	const limit = 64
	ks := s
	for ks > 0 && s-ks < limit && isKeyChar(b[ks-1]) {
		ks--
	}
	ke := e
	for ke < len(b) && ke-e < limit && isKeyChar(b[ke]) {
		ke++
	}
	return ks, ke
}

type keyClass uint8

const (
	keyNone keyClass = iota
	keyID
	keySecret
)

// classifyKey decides whether a key name labels an Alibaba Cloud AccessKey
// ID or secret. Names are compared lower-cased with separators removed, so
// ALIBABA_CLOUD_ACCESS_KEY_ID, accessKeyId and access-key-id are one name.
func classifyKey(key []byte) keyClass {
	var buf [64]byte
	n := 0
	for _, c := range key {
		if c == '_' || c == '-' || c == '.' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return keyNone
		}
		buf[n] = c
		n++
	}
	k := buf[:n]
	ali := bytes.Contains(k, []byte("aliyun")) || bytes.Contains(k, []byte("alibaba")) ||
		bytes.Contains(k, []byte("alicloud")) || bytes.HasPrefix(k, []byte("oss"))
	if bytes.Contains(k, []byte("secret")) {
		if bytes.Contains(k, []byte("accesskey")) || bytes.Contains(k, []byte("aksecret")) || ali {
			return keySecret
		}
		return keyNone
	}
	if bytes.Contains(k, []byte("accesskeyid")) || ali && bytes.HasSuffix(k, []byte("accesskey")) {
		return keyID
	}
	return keyNone
}

// keyValue parses the separator after a key name and returns the
// letters-and-digits value that follows: key=v, key: v, key := "v",
// "key": "v", <key>v<, setKey("v").
func keyValue(b []byte, ks, ke int) (int, int, bool) {
	j := ke
	if j < len(b) && (b[j] == '"' || b[j] == '\'' || b[j] == '`') {
		j++
	}
	j = skipBlank(b, j)
	if j >= len(b) {
		return 0, 0, false
	}
	switch c := b[j]; {
	case c == '=' || c == ':':
		j++
		if j < len(b) && (b[j] == '=' || b[j] == '>') {
			j++
		}
	case c == '>' && ks > 0 && b[ks-1] == '<':
		j++
	case c == '(':
		j++
	default:
		return 0, 0, false
	}
	j = skipBlank(b, j)
	if j < len(b) && (b[j] == '"' || b[j] == '\'' || b[j] == '`') {
		j++
	}
	end := alnumRun(b, j)
	return j, end, end > j
}

func skipBlank(b []byte, j int) int {
	for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
		j++
	}
	return j
}

// validSecret checks one secret candidate: bounded, random-looking, not
// a documentation sample.
func validSecret(b []byte, s, e int) bool {
	return tokenBounded(b, s, e) && looksRandom(b[s:e], 3, 3.6) && !isDocSample(b[s:e])
}

func secretFits(kind candKind, n int) bool {
	if kind == kindSTS {
		// STS secrets are longer than long-term ones: the fixture in
		// alibaba-cloud-sdk-go instance_metadata_test.go has 40 characters
		// and issued ones are commonly 44; accept the base62 range around.
		return n >= 30 && n <= 48
	}
	return n == 30
}

// collectSecrets gathers, once per view, every secret candidate within
// pairing reach of some ID (sorted, validated once), and gives each ID and
// candidate its line number so that cost is O(1). Only the bytes near IDs
// are looked at, never the whole view.
func collectSecrets(lv *level, b []byte) {
	lv.secs = lv.secs[:0]
	scanned := 0
	for k := range lv.ids {
		id := &lv.ids[k]
		lo := max(scanned, id.start-pairBytes-48)
		hi := min(len(b), id.end+pairBytes)
		for i := lo; i < hi; {
			if !isAlnum(b[i]) {
				i++
				continue
			}
			j := alnumRun(b, i)
			clipped := i == lo && i > 0 && isAlnum(b[i-1])
			if n := j - i; !clipped && n >= 30 && n <= 48 {
				if li := findLabeled(lv.labeled, i); li >= 0 {
					lv.secs = append(lv.secs, lv.labeled[li])
				} else if validSecret(b, i, j) {
					lv.secs = append(lv.secs, secCand{start: i, end: j})
				}
			}
			i = j
			scanned = max(scanned, j)
		}
		scanned = max(scanned, hi)
	}
	// Line numbers: one sweep over all token starts in order.
	line, at := 0, 0
	si := 0
	for k := range lv.ids {
		for ; si < len(lv.secs) && lv.secs[si].start < lv.ids[k].start; si++ {
			line += bytes.Count(b[at:lv.secs[si].start], []byte{'\n'})
			at = lv.secs[si].start
			lv.secs[si].line = line
		}
		line += bytes.Count(b[at:lv.ids[k].start], []byte{'\n'})
		at = lv.ids[k].start
		lv.ids[k].line = line
	}
	for ; si < len(lv.secs); si++ {
		line += bytes.Count(b[at:lv.secs[si].start], []byte{'\n'})
		at = lv.secs[si].start
		lv.secs[si].line = line
	}
}

// cost orders the secrets an ID could pair with: same line after the ID,
// then same line before it, then by line distance (after before before),
// then by byte distance; a key name that labels the value breaks ties.
// ok is false beyond the pairing limits or when the length does not fit.
func cost(id *idCand, s *secCand) (c int, ok bool) {
	if !secretFits(id.kind, s.end-s.start) {
		return 0, false
	}
	var gap, before int
	switch {
	case s.start >= id.end:
		gap = s.start - id.end
	case s.end <= id.start:
		gap, before = id.start-s.end, 1
	default:
		return 0, false
	}
	lines := s.line - id.line
	if lines < 0 {
		lines = -lines
	}
	if gap > pairBytes || lines > pairLines {
		return 0, false
	}
	c = ((lines*2+before)*1024 + gap) * 2
	if !s.labeled {
		c++
	}
	return c, true
}

// pair chooses the secret for lv.ids[k]: its cheapest candidate that no
// other ID nearby reaches more cheaply.
func pair(lv *level, k int) {
	id := &lv.ids[k]
	id.taken = -1
	from := sort.Search(len(lv.secs), func(i int) bool { return lv.secs[i].end > id.start-pairBytes })
	type ranked struct{ c, s int }
	var rbuf [32]ranked
	rs := rbuf[:0]
	for si := from; si < len(lv.secs) && lv.secs[si].start <= id.end+pairBytes; si++ {
		if c, ok := cost(id, &lv.secs[si]); ok {
			rs = append(rs, ranked{c, si})
		}
	}
	// Insertion sort: a handful of candidates, and no allocation.
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].c < rs[j-1].c; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	for _, r := range rs {
		s := &lv.secs[r.s]
		if !beaten(lv, k, s, r.c) {
			id.taken = s.start
			return
		}
	}
}

func findLabeled(ls []secCand, start int) int {
	i := sort.Search(len(ls), func(i int) bool { return ls[i].start >= start })
	if i < len(ls) && ls[i].start == start {
		return i
	}
	return -1
}

// beaten reports whether another ID reaches secret s more cheaply than
// lv.ids[k] does (ties go to the earlier ID).
func beaten(lv *level, k int, s *secCand, c int) bool {
	ids := lv.ids
	from := sort.Search(len(ids), func(i int) bool { return ids[i].end >= s.start-pairBytes })
	for j := from; j < len(ids) && ids[j].start <= s.end+pairBytes; j++ {
		if j == k {
			continue
		}
		if cj, ok := cost(&ids[j], s); ok && (cj < c || cj == c && j < k) {
			return true
		}
	}
	return false
}

func (d *Detector) reportID(st *state, lv *level, v *view, k int, ownLo, ownHi int) {
	b := v.b
	id := &lv.ids[k]
	raw := v.rawPos(id.start)
	if raw < ownLo || raw >= ownHi {
		return
	}
	h := hit{pos: st.base + int64(raw), id: string(b[id.start:id.end]), depth: v.depth, enc: v.enc}
	spanLo, spanHi := id.start, id.end
	if id.taken >= 0 {
		se := alnumRun(b, id.taken)
		h.secret = string(b[id.taken:se])
		spanLo, spanHi = min(spanLo, id.taken), max(spanHi, se)
	}
	switch id.kind {
	case kindLTAI:
		h.rule = d.ruleIndex(RuleAccessKeyID)
		if h.secret != "" {
			h.rule = d.ruleIndex(RuleAccessKeyPair)
		}
	case kindLegacy:
		h.rule = d.ruleIndex(RuleLegacyAccessKeyID)
		if h.secret != "" {
			h.rule = d.ruleIndex(RuleLegacyAccessKeyPair)
		}
	case kindSTS:
		ts, te := stsToken(b, id)
		if ts >= 0 {
			h.token = string(b[ts:te])
			spanLo, spanHi = min(spanLo, ts), max(spanHi, te)
		}
		switch {
		case h.secret != "":
			h.rule = d.ruleIndex(RuleSTSCredentials)
		case h.token != "":
			h.rule = d.ruleIndex(RuleSTSToken)
		default:
			return // a temporary ID alone grants nothing
		}
	}
	if v.dec != nil && !v.decodedIn(spanLo, spanHi) {
		return // the parent view sees exactly this
	}
	st.hits = append(st.hits, h)
}

// stsToken finds the security token nearest to an STS ID: a long base64
// string starting with "CAIS" (current tokens) or "CAES" (older ones, as in
// alibaba-cloud-sdk-go sdk/auth/credentials/providers/instance_metadata_test.go).
func stsToken(b []byte, id *idCand) (int, int) {
	lo := max(0, id.start-2*pairBytes)
	hi := min(len(b), id.end+2*pairBytes)
	bestS, bestE, bestD := -1, -1, 1<<30
	for _, a := range [][]byte{[]byte("CAIS"), []byte("CAES")} {
		for off := lo; off < hi; {
			i := bytes.Index(b[off:hi], a)
			if i < 0 {
				break
			}
			i += off
			off = i + len(a)
			if i > 0 && (byteClass[b[i-1]] != 0 && b[i-1] != '-' && b[i-1] != '_') {
				continue
			}
			e := i
			for e < len(b) && e-i < maxTokenLen && (byteClass[b[e]]&(clsUpper|clsLower|clsDigit) != 0 || b[e] == '+' || b[e] == '/' || b[e] == '=') {
				e++
			}
			if e-i < 100 {
				continue
			}
			dist := id.start - e
			if i >= id.end {
				dist = i - id.end
			}
			if dist >= 0 && dist < bestD {
				bestS, bestE, bestD = i, e, dist
			}
			off = e
		}
	}
	return bestS, bestE
}

// reportLoneSecrets reports labeled secrets that no ID took.
func (d *Detector) reportLoneSecrets(st *state, lv *level, v *view, ownLo, ownHi int) {
	if len(lv.labeled) == 0 {
		return
	}
	lv.taken = lv.taken[:0]
	for k := range lv.ids {
		if lv.ids[k].taken >= 0 {
			lv.taken = append(lv.taken, lv.ids[k].taken)
		}
	}
	sort.Ints(lv.taken)
	for _, s := range lv.labeled {
		if s.end-s.start != 30 {
			continue
		}
		raw := v.rawPos(s.start)
		if raw < ownLo || raw >= ownHi {
			continue
		}
		if i := sort.SearchInts(lv.taken, s.start); i < len(lv.taken) && lv.taken[i] == s.start {
			continue
		}
		if v.dec != nil && !v.decodedIn(s.keyStart, s.end) {
			continue
		}
		st.hits = append(st.hits, hit{
			pos: st.base + int64(raw), rule: d.ruleIndex(RuleAccessKeySecret),
			secret: string(v.b[s.start:s.end]), depth: v.depth, enc: v.enc,
		})
	}
}

func (d *Detector) ruleIndex(id string) int {
	for i := range d.rules {
		if d.rules[i].ID == id {
			return i
		}
	}
	panic("detect: unknown rule " + id)
}

// compactIDs drops repeats of one ID reached through two anchors.
func compactIDs(ids []idCand) []idCand {
	out := ids[:1]
	for _, id := range ids[1:] {
		if id.start != out[len(out)-1].start {
			out = append(out, id)
		}
	}
	return out
}
