package baseline

import "bytes"

// The hot path. Every anchor is found through one of a few "pivot" bytes
// that are rare in text, code and binaries alike (measured on Go sources
// and the go binary: 'Q' 0.02-0.08%, 'V' 0.1%, 'K' 0.1%, 'L' 0.4-1%); one
// bytes.IndexByte pass per pivot (vectorised in the runtime) replaces one
// bytes.Index pass per pattern, which slows to 2-4 GB/s whenever the
// pattern's first byte is common ("ecret", "xUQU").

type anchorKind uint8

const (
	akLTAI anchorKind = iota
	akSTS
	akKey
	akB64
	akUTF16
	akPct
	akEsc
	akHTML
)

type anchor struct {
	pat  []byte
	off  int // index of the pivot byte in pat
	kind anchorKind
	// shift is, for base64 anchors, how many characters into a quantum the
	// pattern starts.
	shift int
}

type anchorGroup struct {
	pivot   byte
	anchors []anchor
	// next and prev hold the bytes that follow (or, for anchors ending in
	// the pivot, precede) the pivot in some anchor: two table lookups
	// dismiss most pivot hits before any anchor is compared.
	next, prev [256]bool
}

// anchorGroups is the anchor table. Key-name anchors cover the camelCase,
// snake_case, kebab-case and UPPER_CASE spellings of the names classifyKey
// accepts. Base64 of "LTAI" depends on its offset modulo 3; each offset has
// a stable core (checked against encoding/base64 for all neighbour bytes):
// offset 0 gives "TFRBS" at a quantum start, 1 gives "xUQU" two characters
// in, 2 gives "MVEFJ" three characters in; the next three are the same for
// UTF-16LE "LTAI" (PowerShell -EncodedCommand), and the last nine are
// base64 of those three cores at each offset, for base64 inside base64 (a
// Kubernetes Secret holding an encoded file). None contains '+' or '/', so
// they match base64url too. The UTF-16 forms of the key-name anchors let
// a lone secret in a UTF-16 file be found without any "LTAI" near it.
func anchorGroups() []anchorGroup {
	a := func(pat string, pivot byte, kind anchorKind, shift int) anchor {
		return anchor{pat: []byte(pat), off: bytes.IndexByte([]byte(pat), pivot), kind: kind, shift: shift}
	}
	grp := func(pivot byte, as ...anchor) anchorGroup { return anchorGroup{pivot: pivot, anchors: as} }
	groups := []anchorGroup{
		grp('L', a("LTAI", 'L', akLTAI, 0), a("L\x00T\x00A\x00I", 'L', akUTF16, 0)),
		grp('S', a("STS.", 'S', akSTS, 0), a("Secret", 'S', akKey, 0), a("SECRET", 'S', akKey, 0), a("TFRBS", 'S', akB64, 0),
			a("S\x00e\x00c\x00r\x00e\x00t", 'S', akUTF16, 0), a("S\x00E\x00C\x00R\x00E\x00T", 'S', akUTF16, 0)),
		grp('K', a("Key", 'K', akKey, 0), a("KEY", 'K', akKey, 0), a("1WRUZK", 'K', akB64, 2),
			a("K\x00e\x00y", 'K', akUTF16, 0), a("K\x00E\x00Y", 'K', akUTF16, 0)),
		grp('_', a("_key", '_', akKey, 0), a("_secret", '_', akKey, 0),
			a("_\x00k\x00e\x00y", '_', akUTF16, 0), a("_\x00s\x00e\x00c", '_', akUTF16, 0),
			a("_\x00K\x00E\x00Y", '_', akUTF16, 0), a("_\x00S\x00E\x00C", '_', akUTF16, 0)),
		grp('-', a("-key", '-', akKey, 0), a("-\x00k\x00e\x00y", '-', akUTF16, 0)),
		grp('Q', a("xUQU", 'Q', akB64, 2), a("TABUAEEASQ", 'Q', akB64, 0), a("MAFQAQQBJA", 'Q', akB64, 3)),
		grp('V', a("MVEFJ", 'V', akB64, 3), a("wAVABBAEkA", 'V', akB64, 2),
			a("VEZSQl", 'V', akB64, 0), a("eFVRV", 'V', akB64, 0), a("hVUV", 'V', akB64, 2),
			a("4VVFV", 'V', akB64, 3), a("TVZFRk", 'V', akB64, 0), a("NVkVGS", 'V', akB64, 3)),
		grp('J', a("RGUkJT", 'J', akB64, 2), a("URlJCU", 'J', akB64, 3)),
		grp('%', a("%4c", '%', akPct, 0), a("%4C", '%', akPct, 0)),
		grp('\\', a(`\u004c`, '\\', akEsc, 0), a(`\u004C`, '\\', akEsc, 0), a(`\x4c`, '\\', akEsc, 0), a(`\x4C`, '\\', akEsc, 0)),
		grp('&', a("&#", '&', akHTML, 0)),
	}
	for gi := range groups {
		g := &groups[gi]
		for _, a := range g.anchors {
			if a.off+1 < len(a.pat) {
				g.next[a.pat[a.off+1]] = true
			} else {
				g.prev[a.pat[a.off-1]] = true
			}
		}
	}
	return groups
}

// anchors runs the pivot passes over v and dispatches each anchor hit:
// IDs and key names are collected for pairing, encoded forms become
// decode triggers.
func (d *Detector) anchors(lv *level, v *view, ownLo, ownHi int) {
	b := v.b
	decode := v.depth < d.maxDepth
	for gi := range d.groups {
		g := &d.groups[gi]
		for off := 0; off < len(b); {
			i := bytes.IndexByte(b[off:], g.pivot)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			if !(i+1 < len(b) && g.next[b[i+1]]) && !(i > 0 && g.prev[b[i-1]]) {
				continue
			}
			for ai := range g.anchors {
				a := &g.anchors[ai]
				s := i - a.off
				e := s + len(a.pat)
				// The last byte rejects most pivot hits before the call.
				if s < 0 || e > len(b) || b[e-1] != a.pat[len(a.pat)-1] || !bytes.Equal(b[s:e], a.pat) {
					continue
				}
				switch a.kind {
				case akLTAI:
					end := alnumRun(b, s+len(a.pat))
					if validLTAI(b, s, end) {
						lv.ids = append(lv.ids, idCand{start: s, end: end, kind: kindLTAI})
					} else if k, ok := escapeBefore(b, s); ok && decode {
						// "%3DLTAI...", "\nLTAI...": the ID is glued to an
						// escape and only a decoded view can see its boundary.
						addTrigger(lv, v, s, k, 0, ownLo, ownHi)
					}
				case akSTS:
					end := alnumRun(b, s+len(a.pat))
					if validSTS(b, s, end) {
						lv.ids = append(lv.ids, idCand{start: s, end: end, kind: kindSTS})
					}
				case akKey:
					if vs := keyword(lv, b, s, len(a.pat)); vs >= 0 && decode {
						// A value that is itself base64 (a Kubernetes
						// Secret's data) decodes from its first character.
						addTrigger(lv, v, vs, decBase64, vs, ownLo, ownHi)
					}
				case akB64:
					if q := s - a.shift; q >= 0 && decode {
						addTrigger(lv, v, s, decBase64, q, ownLo, ownHi)
					}
				case akUTF16:
					if decode {
						addTrigger(lv, v, s, decUTF16, 0, ownLo, ownHi)
					}
				case akPct:
					if decode {
						addTrigger(lv, v, s, decURL, 0, ownLo, ownHi)
					}
				case akEsc:
					if decode {
						addTrigger(lv, v, s, decEscape, 0, ownLo, ownHi)
					}
				case akHTML:
					if r, _, ok := entity(b, s); ok && r == 'L' && decode {
						addTrigger(lv, v, s, decHTML, 0, ownLo, ownHi)
					}
				}
			}
		}
	}
}

// addTrigger records a decode trigger. In the window itself only anchors
// near the owned range count; in a decoded view only anchors in decoded
// bytes, so a view never re-decodes what its parent already saw.
func addTrigger(lv *level, v *view, i int, k decodeKind, q, ownLo, ownHi int) {
	if v.dec == nil {
		if i < ownLo-anchorSlack || i >= ownHi+anchorSlack {
			return
		}
	} else if i >= len(v.dec) || !v.dec[i] {
		return
	}
	lv.triggers = append(lv.triggers, trigger{pos: i, kind: k, q: q})
}
