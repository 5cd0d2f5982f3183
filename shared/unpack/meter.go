package unpack

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/akguard/akguard/shared/finding"
)

// streamError is a failure of one stream we opened. It is sticky (the
// reader keeps returning it) and is reported once, however many consumers
// up the stack see it.
type streamError struct {
	path     string
	reason   finding.SkipReason
	detail   string
	reported bool
}

func (e *streamError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.path, e.reason, e.detail)
}

// sourceError is a failure to read the top-level source: not a property of
// the content, so it ends the walk and the caller may retry.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "read source: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// classified reports whether err already says what failed.
func classified(err error) bool {
	var me *streamError
	var se *sourceError
	return errors.As(err, &me) || errors.As(err, &se) ||
		errors.Is(err, errCanceled)
}

// errCanceled marks a read refused because the walk's context is done.
var errCanceled = errors.New("walk canceled")

// errDetail renders an error for a Skip detail. Errors from the
// decompressors and archive readers name positions and formats, never
// content; the cap keeps a misbehaving reader from flooding reports.
func errDetail(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

// sourceReaderAt confines archive readers to the source's stated size: an
// offset outside it comes from corrupt archive metadata, not from a
// failing source, and must not end the walk.
type sourceReaderAt struct {
	ra   io.ReaderAt
	size int64
}

var errOffset = errors.New("archive points outside the source")

func (s sourceReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size {
		return 0, errOffset
	}
	short := false
	if rem := s.size - off; int64(len(p)) > rem {
		p, short = p[:rem], true
	}
	n, err := s.ra.ReadAt(p, off)
	switch {
	case err != nil && err != io.EOF:
		err = &sourceError{err}
	case short && n == len(p):
		err = io.EOF
	}
	return n, err
}

// countReader counts the bytes pulled through it; under a decompressor's
// read-ahead it measures the compressed input for the ratio check.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// recorder remembers the first error a consumer saw, so that after the
// consumer returns the walker knows whether the stream failed under it.
type recorder struct {
	r   io.Reader
	err error
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// meter is the output side of every decompressor and zip member: it
// charges bytes to the walk's budget, enforces the per-member size and
// ratio caps, checks for cancellation, and names failures after its path.
type meter struct {
	st   *walk
	r    io.Reader
	path string
	in   *int64 // compressed bytes consumed so far; nil when not compressed
	out  int64
	err  error
}

func (st *walk) meter(path string, r io.Reader, in *int64) *meter {
	return &meter{st: st, r: r, path: path, in: in}
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	st := m.st
	if st.budgetErr != nil {
		m.err = st.budgetErr
		return 0, m.err
	}
	if st.ctx.Err() != nil {
		m.err = errCanceled
		return 0, m.err
	}
	// Never hand out more than the budgets allow, so limits hold exactly.
	room := min(st.lim.MaxTotalBytes-st.total, st.lim.MaxMemberBytes-m.out) + 1
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := m.r.Read(p)
	m.out += int64(n)
	st.total += int64(n)
	switch {
	case st.total > st.lim.MaxTotalBytes:
		n -= int(st.total - st.lim.MaxTotalBytes)
		st.budgetErr = &streamError{path: m.path, reason: finding.SkipDecompressLimit,
			detail: fmt.Sprintf("input expands beyond %s; rest of the input not scanned", human(st.lim.MaxTotalBytes))}
		m.err = st.budgetErr
	case m.out > st.lim.MaxMemberBytes:
		n--
		m.err = &streamError{path: m.path, reason: finding.SkipTooLarge,
			detail: fmt.Sprintf("decompressed size beyond %s; rest not scanned", human(st.lim.MaxMemberBytes))}
	case m.in != nil && m.out > ratioFloor && m.out/int64(st.lim.MaxRatio) > *m.in:
		m.err = &streamError{path: m.path, reason: finding.SkipRatioLimit,
			detail: fmt.Sprintf("%s from %s compressed exceeds ratio %d; rest not scanned", human(m.out), human(*m.in), st.lim.MaxRatio)}
	case err == nil || err == io.EOF:
		return n, err
	case classified(err):
		m.err = err
	default:
		m.err = &streamError{path: m.path, reason: reasonOf(err), detail: errDetail(err)}
	}
	return n, m.err
}

// reasonOf names an unclassified failure of a decoder or archive reader.
func reasonOf(err error) finding.SkipReason {
	if unsupportedErr(err) {
		return finding.SkipUnsupported
	}
	return finding.SkipCorrupt
}

// human renders a byte count for details.
func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
