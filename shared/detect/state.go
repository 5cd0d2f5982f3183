package detect

import (
	"bytes"
	"strconv"

	"github.com/akguard/akguard/shared/finding"
)

// hit is a credential before it becomes a finding: the raw secret lives
// only here, inside one Scan call, and is hashed and redacted on the way
// out.
type hit struct {
	pos        int64 // absolute stream offset of the ID (or lone secret)
	rule       int   // index into Detector.rules
	id, secret string
	token      string
	depth      int // decoding steps; 0 is plain
	enc        string
	line, col  int
}

func (h *hit) key() string {
	return strconv.Itoa(h.rule) + "\x00" + h.id + "\x00" + h.secret + "\x00" + strconv.Itoa(h.line)
}

// state is the per-Scan scratch space, pooled so that a window without
// anchor hits allocates nothing.
type state struct {
	buf  []byte
	path string
	base int64 // absolute offset of the current window
	emit func(finding.Finding)
	hits []hit

	// Line tracking: everything before linePos has been counted.
	linePos, lineStart int64
	line               int

	// Cross-window duplicate suppression for the current line.
	prevLine int
	prevKeys map[string]bool

	// levels[d] is the scratch for views at decoding depth d.
	levels []level
}

type level struct {
	ids      []idCand
	secs     []secCand
	labeled  []secCand
	keys     []int // starts of key names that label an ID or secret
	taken    []int // starts of secrets some ID took, sorted
	triggers []trigger
	child    view // the decoded view built at this level's depth+1
	scratch  []int32
	cand     []int32 // prefilter candidate positions
}

func newState(size, maxDepth int) *state {
	return &state{
		buf:      make([]byte, 0, size),
		prevKeys: map[string]bool{},
		levels:   make([]level, maxDepth+1),
	}
}

func (st *state) reset(path string, emit func(finding.Finding)) {
	st.path, st.emit = path, emit
	st.hits = st.hits[:0]
	st.linePos, st.lineStart, st.line = 0, 0, 1
	st.prevLine = 0
	clear(st.prevKeys)
}

// advanceLines counts lines up to absolute offset to, which must lie in w
// (starting at base) or at its end. Counting happens once per byte of the
// stream with bytes.Count, which is vectorised.
func (st *state) advanceLines(w []byte, base, to int64) {
	if to <= st.linePos {
		return
	}
	seg := w[st.linePos-base : to-base]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		st.line += n
		st.lineStart = st.linePos + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	st.linePos = to
}
