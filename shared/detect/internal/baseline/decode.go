package baseline

import (
	"bytes"
	"sort"
	"unicode/utf16"
	"unicode/utf8"
)

type decodeKind uint8

const (
	decBase64 decodeKind = iota
	decURL
	decHTML
	decEscape
	decUTF16
)

var decodeNames = [...]string{"base64", "url", "html", "escape", "utf16le"}

// trigger asks for a decoded view around pos.
type trigger struct {
	pos  int
	kind decodeKind
	// q is a base64 quantum boundary inside the run for decBase64, known
	// from which of the three encodings of "LTAI" matched.
	q int
}

// nearbyTriggers asks for decoded views around plain IDs and key names
// whose neighbourhood is partly encoded: an escaped newline or a
// percent-encoded "=" glues the secret to its neighbour until decoded.
func (d *Detector) nearbyTriggers(lv *level, v *view, ownLo, ownHi int) {
	for _, id := range lv.ids {
		nearby(lv, v, id.start, ownLo, ownHi)
	}
	for _, k := range lv.keys {
		nearby(lv, v, k, ownLo, ownHi)
	}
}

func nearby(lv *level, v *view, p, ownLo, ownHi int) {
	b := v.b
	lo, hi := max(0, p-pairBytes), min(len(b), p+pairBytes)
	nb := b[lo:hi]
	if i := bytes.IndexByte(nb, '%'); i >= 0 && hasPct(nb[i:]) {
		addTrigger(lv, v, p, decURL, 0, ownLo, ownHi)
	}
	if i := bytes.IndexByte(nb, '&'); i >= 0 && hasEntity(nb[i:]) {
		addTrigger(lv, v, p, decHTML, 0, ownLo, ownHi)
	}
	if bytes.IndexByte(nb, '\\') >= 0 {
		addTrigger(lv, v, p, decEscape, 0, ownLo, ownHi)
	}
}

// decodeTriggers builds and scans one decoded view per trigger, skipping
// triggers that an earlier view of the same kind already covers with full
// pairing context.
func (d *Detector) decodeTriggers(st *state, lv *level, v *view, ownLo, ownHi int) {
	if len(lv.triggers) == 0 {
		return
	}
	sort.Slice(lv.triggers, func(i, j int) bool {
		a, b := lv.triggers[i], lv.triggers[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.pos < b.pos
	})
	// Triggers of one kind that are close together share one view: dense
	// anchors (hostile input, long encoded blobs) cost one decode per
	// cluster, not one per anchor. Triggers are consumed by index: the
	// recursion below uses deeper levels' scratch, never lv.triggers.
	for ti := 0; ti < len(lv.triggers); {
		t := lv.triggers[ti]
		tj := ti + 1
		for tj < len(lv.triggers) && lv.triggers[tj].kind == t.kind &&
			lv.triggers[tj].pos-lv.triggers[tj-1].pos <= decodeRadius && lv.triggers[tj].pos-t.pos <= maxCluster {
			tj++
		}
		cluster := lv.triggers[ti:tj]
		ti = tj
		lo, hi := max(0, t.pos-decodeRadius), min(len(v.b), cluster[len(cluster)-1].pos+decodeRadius)
		child := &lv.child
		child.b, child.raw, child.dec = child.b[:0], child.raw[:0], child.dec[:0]
		child.depth = v.depth + 1
		child.enc = decodeNames[t.kind]
		if v.enc != "plain" {
			child.enc = v.enc + ">" + child.enc
		}
		var changed bool
		switch t.kind {
		case decBase64:
			changed = decodeBase64(child, v, lo, hi, cluster, &lv.scratch)
		case decURL:
			changed = decodeSimple(child, v, lo, hi, percent)
		case decHTML:
			changed = decodeSimple(child, v, lo, hi, entity)
		case decEscape:
			changed = decodeSimple(child, v, lo, hi, escape)
		case decUTF16:
			var le bool
			changed, le = decodeUTF16(child, v, lo, hi, t.pos)
			if !le {
				child.enc = child.enc[:len(child.enc)-2] + "be"
			}
		}
		if changed {
			d.scanView(st, child, ownLo, ownHi)
		}
	}
}

func (dst *view) put(src *view, i int, c byte, decoded bool) {
	dst.b = append(dst.b, c)
	dst.raw = append(dst.raw, int32(src.rawPos(i)))
	dst.dec = append(dst.dec, decoded)
}

func (dst *view) putRune(src *view, i int, r rune) {
	if r < utf8.RuneSelf {
		dst.put(src, i, byte(r), true)
		return
	}
	var tmp [utf8.UTFMax]byte
	for _, c := range tmp[:utf8.EncodeRune(tmp[:], r)] {
		dst.put(src, i, c, true)
	}
}

// decodeSimple runs a one-token decoder over src.b[lo:hi], copying bytes
// it does not recognise. dec returns the rune at i and the length of its
// encoded form.
func decodeSimple(dst *view, src *view, lo, hi int, dec func([]byte, int) (rune, int, bool)) bool {
	b := src.b
	changed := false
	for i := lo; i < hi; {
		if r, n, ok := dec(b, i); ok && i+n <= len(b) {
			dst.putRune(src, i, r)
			i += n
			changed = true
			continue
		}
		dst.put(src, i, b[i], false)
		i++
	}
	return changed
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func hexN(b []byte, i, n int) (rune, bool) {
	if i+n > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+n] {
		v := unhex(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// percent decodes "%XX" (RFC 3986 section 2.1).
func percent(b []byte, i int) (rune, int, bool) {
	if b[i] != '%' {
		return 0, 0, false
	}
	r, ok := hexN(b, i+1, 2)
	// A percent-encoded byte above 0x7f is part of a UTF-8 sequence; emit
	// it as is so multi-byte characters survive.
	if ok && r >= utf8.RuneSelf {
		return utf8.RuneError, 3, true
	}
	return r, 3, ok
}

// entity decodes numeric character references and the named ones that
// matter around credentials (HTML Living Standard, "character references").
func entity(b []byte, i int) (rune, int, bool) {
	if b[i] != '&' || i+3 >= len(b) {
		return 0, 0, false
	}
	if b[i+1] == '#' {
		j := i + 2
		base := 10
		if b[j] == 'x' || b[j] == 'X' {
			base = 16
			j++
		}
		var r rune
		k := j
		for ; k < len(b) && k-j < 8; k++ {
			var v int
			if base == 16 {
				v = unhex(b[k])
			} else if '0' <= b[k] && b[k] <= '9' {
				v = int(b[k] - '0')
			} else {
				v = -1
			}
			if v < 0 {
				break
			}
			r = r*rune(base) + rune(v)
		}
		if k == j || k >= len(b) || b[k] != ';' || r > utf8.MaxRune {
			return 0, 0, false
		}
		return r, k + 1 - i, true
	}
	for _, e := range namedEntities {
		if bytes.HasPrefix(b[i+1:], e.name) {
			return e.r, len(e.name) + 1, true
		}
	}
	return 0, 0, false
}

var namedEntities = []struct {
	name []byte
	r    rune
}{
	{[]byte("quot;"), '"'}, {[]byte("amp;"), '&'}, {[]byte("lt;"), '<'}, {[]byte("gt;"), '>'},
	{[]byte("apos;"), '\''}, {[]byte("nbsp;"), ' '}, {[]byte("colon;"), ':'}, {[]byte("equals;"), '='},
}

// escape decodes backslash escapes shared by JSON, Go, Java, JavaScript,
// Python and C string literals: \uXXXX, \UXXXXXXXX, \xHH and the one-letter
// forms.
func escape(b []byte, i int) (rune, int, bool) {
	if b[i] != '\\' || i+1 >= len(b) {
		return 0, 0, false
	}
	switch c := b[i+1]; c {
	case 'u':
		r, ok := hexN(b, i+2, 4)
		return r, 6, ok
	case 'U':
		r, ok := hexN(b, i+2, 8)
		return r, 10, ok && r <= utf8.MaxRune
	case 'x':
		r, ok := hexN(b, i+2, 2)
		return r, 4, ok
	case 'n':
		return '\n', 2, true
	case 'r':
		return '\r', 2, true
	case 't':
		return '\t', 2, true
	case '"', '\'', '\\', '/':
		return rune(c), 2, true
	}
	return 0, 0, false
}

// decodeUTF16 decodes src.b[lo:hi] as UTF-16 code units, with at the
// offset of an ASCII character's non-zero byte. Inside ASCII text LE and BE
// differ only by a one-byte shift, so the byte order is read from where the
// text starts: walking back over "c\x00" units of printable ASCII, LE text
// (or an LE BOM, FF FE) starts right after a non-zero byte, BE text (or a
// BE BOM, FE FF) right after a zero. Units outside the BMP are joined from
// surrogate pairs; unpaired surrogates become U+FFFD.
func decodeUTF16(dst *view, src *view, lo, hi, at int) (changed, le bool) {
	b := src.b
	k := at
	for k-2 >= lo && b[k-1] == 0 && b[k-2] >= 0x09 && b[k-2] < 0x7f {
		k -= 2
	}
	le = k == 0 || b[k-1] != 0
	if !le {
		at--
	}
	if (at-lo)%2 != 0 {
		lo++
	}
	unit := func(i int) uint16 {
		if le {
			return uint16(b[i]) | uint16(b[i+1])<<8
		}
		return uint16(b[i])<<8 | uint16(b[i+1])
	}
	for i := lo; i+1 < hi; i += 2 {
		u := unit(i)
		r := rune(u)
		if utf16.IsSurrogate(r) && i+3 < hi {
			if p := utf16.DecodeRune(r, rune(unit(i+2))); p != utf8.RuneError {
				dst.putRune(src, i, p)
				i += 2
				continue
			}
		}
		if utf16.IsSurrogate(r) {
			r = utf8.RuneError
		}
		dst.putRune(src, i, r)
	}
	return len(dst.b) > 0, le
}

var b64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = int8(i)
	}
	t['-'], t['_'] = 62, 63 // base64url (RFC 4648 section 5)
	return t
}()

// decodeBase64 replaces each base64 run in src.b[lo:hi] by its decoding
// when that decoding is text, and always for a run holding an anchor's
// quantum boundary q (which must decode to something containing "LTAI"). Runs may be
// wrapped at a multiple of 4 characters per line, as base64(1) and PEM do.
func decodeBase64(dst *view, src *view, lo, hi int, anchors []trigger, scratch *[]int32) bool {
	b := src.b
	changed := false
	for i := lo; i < hi; {
		if b64Value[b[i]] < 0 {
			dst.put(src, i, b[i], false)
			i++
			continue
		}
		pos := (*scratch)[:0]
		k := i
		lineLen := 0
		for k < hi {
			c := b[k]
			if b64Value[c] >= 0 {
				pos = append(pos, int32(k))
				lineLen++
				k++
				continue
			}
			if c == '\r' || c == '\n' {
				n := k
				if c == '\r' && n+1 < hi && b[n+1] == '\n' {
					n++
				}
				n++
				if lineLen >= 60 && lineLen%4 == 0 && n < hi && b64Value[b[n]] >= 0 {
					lineLen = 0
					k = n
					continue
				}
			}
			break
		}
		for pads := 0; k < hi && b[k] == '=' && pads < 2; pads++ {
			k++
		}
		*scratch = pos
		clipped := i == lo && lo > 0 && b64Value[b[lo-1]] >= 0
		// anchors are sorted by position and q trails its position by at
		// most 3, so one forward pointer finds the run's anchor.
		for len(anchors) > 0 && anchors[0].pos < i {
			anchors = anchors[1:]
		}
		q := -1
		for _, a := range anchors {
			if a.pos >= k+4 {
				break
			}
			if a.q >= i && a.q < k {
				q = a.q
				break
			}
		}
		anchored := q >= 0
		s0 := 0
		if anchored {
			qi := sort.Search(len(pos), func(x int) bool { return int(pos[x]) >= q })
			s0 = qi % 4
		}
		mark := len(dst.b)
		ok := !clipped || anchored
		if ok && len(pos)-s0 >= 16 {
			for x := 0; x < s0; x++ {
				dst.put(src, int(pos[x]), b[pos[x]], false)
			}
			start := len(dst.b)
			for x := s0; x+1 < len(pos); x += 4 {
				var v [4]int
				n := min(4, len(pos)-x)
				for y := 0; y < n; y++ {
					v[y] = int(b64Value[b[pos[x+y]]])
				}
				out := [3]byte{byte(v[0]<<2 | v[1]>>4), byte(v[1]<<4 | v[2]>>2), byte(v[2]<<6 | v[3])}
				for y := 0; y < n-1; y++ {
					dst.put(src, int(pos[x+y]), out[y], true)
				}
			}
			decoded := dst.b[start:]
			if texty(decoded) || anchored && bytes.Contains(decoded, anchorLTAI) {
				changed = true
			} else {
				ok = false
			}
		} else {
			ok = false
		}
		if !ok {
			dst.b, dst.raw, dst.dec = dst.b[:mark], dst.raw[:mark], dst.dec[:mark]
			for x := i; x < k; x++ {
				dst.put(src, x, b[x], false)
			}
		}
		i = k
	}
	return changed
}

// texty reports whether decoded bytes look like text (UTF-8 without control
// characters, or UTF-16 with its many zero bytes) rather than binary.
func texty(p []byte) bool {
	zeros, bad := 0, 0
	for _, c := range p {
		switch {
		case c == 0:
			zeros++
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t', c == 0x7f:
			bad++
		}
	}
	if zeros*3 >= len(p) && zeros*3 <= 2*len(p) {
		return true
	}
	return bad == 0 && zeros == 0 && utf8.Valid(p)
}

func hasPct(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0 {
			return true
		}
	}
	return false
}

func hasEntity(b []byte) bool {
	for i := range b {
		if b[i] == '&' {
			if _, _, ok := entity(b, i); ok {
				return true
			}
		}
	}
	return false
}
