package detect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/akguard/akguard/shared/finding"
)

// Config tunes a Detector; the zero value gives the defaults.
type Config struct {
	// ChunkSize is the number of new bytes read per window (default 256 KiB).
	ChunkSize int
	// Overlap is the number of bytes carried from one window to the next,
	// so a credential split across windows is still found with its context
	// (default and minimum 4 KiB).
	Overlap int
	// MaxDecodeDepth bounds nested encodings such as base64 inside base64
	// (default 3).
	MaxDecodeDepth int
	// Allow is the user's allowlist; each rule's own allowlist always applies.
	Allow Allowlist
}

// Allowlist drops findings the user has accepted.
type Allowlist struct {
	// Regexes are matched against the whole credential text (ID or secret).
	Regexes []string
	// StopWords are case-insensitive substrings that mark a credential text
	// as a placeholder.
	StopWords []string
	// Fingerprints are finding.Fingerprint values to drop (.akguardignore).
	Fingerprints map[string]bool
}

const (
	defaultChunkSize = 256 << 10
	defaultOverlap   = 4 << 10
	minOverlap       = 4 << 10
	defaultDepth     = 3
	maxDepthLimit    = 8
)

// Detector scans streams. It is immutable after New and safe for
// concurrent use.
type Detector struct {
	chunk, overlap, margin int
	maxDepth               int
	rules                  []Rule
	groups                 []anchorGroup
	pre                    *prefilter
	simd                   bool // use pre; false runs the pivot passes
	allowRe                []*regexp.Regexp
	stopWords              [][]byte
	fingerprints           map[string]bool
	states                 sync.Pool
}

// New validates cfg and prepares a Detector.
func New(cfg Config) (*Detector, error) {
	d := &Detector{
		chunk:    cfg.ChunkSize,
		overlap:  cfg.Overlap,
		maxDepth: cfg.MaxDecodeDepth,
		rules:    Rules(),
		groups:   anchorGroups(),
		simd:     haveSIMD,
	}
	d.pre = newPrefilter(d.groups)
	switch {
	case d.chunk < 0 || d.overlap < 0 || d.maxDepth < 0:
		return nil, errors.New("new detector: negative size in config")
	case d.maxDepth > maxDepthLimit:
		return nil, fmt.Errorf("new detector: decode depth %d above limit %d", d.maxDepth, maxDepthLimit)
	}
	if d.chunk == 0 {
		d.chunk = defaultChunkSize
	}
	if d.overlap == 0 {
		d.overlap = defaultOverlap
	}
	// Below this the carried context no longer covers a pairing
	// neighbourhood plus a decoded region, and results would depend on
	// where windows happen to split.
	d.overlap = max(d.overlap, minOverlap)
	d.margin = d.overlap / 2
	if cfg.MaxDecodeDepth == 0 {
		d.maxDepth = defaultDepth
	}
	for _, expr := range cfg.Allow.Regexes {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("compile allowlist regex: %w", err)
		}
		d.allowRe = append(d.allowRe, re)
	}
	for _, w := range cfg.Allow.StopWords {
		if w != "" {
			d.stopWords = append(d.stopWords, bytes.ToLower([]byte(w)))
		}
	}
	d.fingerprints = make(map[string]bool, len(cfg.Allow.Fingerprints))
	for k, v := range cfg.Allow.Fingerprints {
		if v {
			d.fingerprints[k] = true
		}
	}
	d.states.New = func() any { return newState(d.chunk+d.overlap, d.maxDepth) }
	return d, nil
}

// Scan reads r to the end and calls emit for every credential found, in
// stream order. It returns only read and context errors.
func (d *Detector) Scan(ctx context.Context, path string, r io.Reader, emit func(finding.Finding)) error {
	st := d.states.Get().(*state)
	defer d.states.Put(st)
	st.reset(path, emit)
	buf := st.buf[:cap(st.buf)]
	n := 0
	var base int64
	for {
		eof := false
		for empty := 0; n < len(buf); {
			m, err := r.Read(buf[n:])
			n += m
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("read stream: %w", err)
			}
			// A reader that keeps returning nothing would spin forever;
			// bufio gives up the same way.
			if m == 0 {
				if empty++; empty >= 100 {
					return fmt.Errorf("read stream: %w", io.ErrNoProgress)
				}
			} else {
				empty = 0
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan stream: %w", err)
		}
		keep := d.window(st, buf[:n], base, eof)
		if eof {
			return nil
		}
		copy(buf, buf[keep:n])
		n -= keep
		base += int64(keep)
	}
}

// ScanBytes scans b with exactly the windows Scan would use, without
// copying it, so both report the same findings.
func (d *Detector) ScanBytes(ctx context.Context, path string, b []byte, emit func(finding.Finding)) error {
	st := d.states.Get().(*state)
	defer d.states.Put(st)
	st.reset(path, emit)
	size := d.chunk + d.overlap
	var base int64
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan bytes: %w", err)
		}
		end := min(len(b), int(base)+size)
		eof := end == len(b)
		keep := d.window(st, b[base:end], base, eof)
		if eof {
			return nil
		}
		base += int64(keep)
	}
}

// window scans one window w that starts at absolute offset base and
// returns how many leading bytes the next window no longer needs. Each
// position belongs to exactly one window (its owned range); the margins on
// either side only give context.
func (d *Detector) window(st *state, w []byte, base int64, eof bool) (keep int) {
	ownLo, ownHi := 0, len(w)
	if base > 0 {
		ownLo = d.margin
	}
	if !eof {
		ownHi = len(w) - d.margin
	}
	st.hits = st.hits[:0]
	st.base = base
	d.scanView(st, &view{b: w, enc: "plain"}, ownLo, ownHi)
	d.flush(st, w, base)
	if eof {
		return len(w)
	}
	keep = ownHi - d.margin
	st.advanceLines(w, base, base+int64(keep))
	return keep
}

// flush turns the window's hits into findings: line numbers, duplicate
// suppression (the plainest encoding wins), allowlists, then emit in
// stream order.
func (d *Detector) flush(st *state, w []byte, base int64) {
	if len(st.hits) == 0 {
		return
	}
	hits := st.hits
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].pos != hits[j].pos {
			return hits[i].pos < hits[j].pos
		}
		if hits[i].depth != hits[j].depth {
			return hits[i].depth < hits[j].depth
		}
		return hits[i].rule < hits[j].rule
	})
	for i := range hits {
		st.advanceLines(w, base, hits[i].pos)
		hits[i].line = st.line
		hits[i].col = int(hits[i].pos-st.lineStart) + 1
	}
	// Pairs found through any encoding make the lone halves redundant.
	paired := map[string]bool{}
	for _, h := range hits {
		if r := d.rules[h.rule].ID; r == RuleAccessKeyPair || r == RuleLegacyAccessKeyPair || r == RuleSTSCredentials {
			paired["id"+strconv.Itoa(h.line)+"\x00"+h.id] = true
			paired["secret"+h.secret] = true
		}
	}
	best := map[string]int{}
	for i, h := range hits {
		switch d.rules[h.rule].ID {
		case RuleAccessKeyID, RuleLegacyAccessKeyID, RuleSTSToken:
			if paired["id"+strconv.Itoa(h.line)+"\x00"+h.id] {
				continue
			}
		case RuleAccessKeySecret:
			if paired["secret"+h.secret] {
				continue
			}
		}
		k := h.key()
		if j, ok := best[k]; !ok || h.depth < hits[j].depth {
			best[k] = i
		}
	}
	for i, h := range hits {
		k := h.key()
		if j, ok := best[k]; !ok || j != i {
			continue
		}
		if h.line != st.prevLine {
			clear(st.prevKeys)
			st.prevLine = h.line
		}
		if st.prevKeys[k] {
			continue // already reported from the previous window, same line
		}
		st.prevKeys[k] = true
		f := d.finding(st.path, h)
		if d.allowed(h, f) {
			continue
		}
		st.emit(f)
	}
}

func (d *Detector) finding(path string, h hit) finding.Finding {
	r := &d.rules[h.rule]
	f := finding.Finding{
		Path:           path,
		Line:           h.line,
		Column:         h.col,
		Rule:           r.ID,
		Severity:       r.Severity,
		AccessKeyID:    h.id,
		SecretRedacted: finding.Redact(h.secret),
		SecretSHA256:   finding.HashSecret(h.secret),
		TokenSHA256:    finding.HashSecret(h.token),
		Encoding:       h.enc,
		Description:    r.Description,
	}
	f.SetFingerprint()
	return f
}

func (d *Detector) allowed(h hit, f finding.Finding) bool {
	if d.fingerprints[f.Fingerprint] {
		return true
	}
	for _, s := range []string{h.id, h.secret} {
		if s == "" {
			continue
		}
		for _, re := range d.allowRe {
			if re.MatchString(s) {
				return true
			}
		}
		if len(d.stopWords) == 0 {
			continue
		}
		low := strings.ToLower(s)
		for _, w := range d.stopWords {
			if strings.Contains(low, string(w)) {
				return true
			}
		}
	}
	return false
}
