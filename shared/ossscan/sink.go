package ossscan

import (
	"errors"
	"io"
	"sync"

	"github.com/akguard/akguard/shared/finding"
)

// collector is the engine's sink for one object: distinct findings (by
// fingerprint, a repeated key counts once) and skips.
type collector struct {
	seen     map[string]bool
	findings []finding.Finding
	skips    []finding.Skip
	bytes    int64
	dropped  int
}

func (c *collector) Finding(f finding.Finding) {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if c.seen[f.Fingerprint] {
		return
	}
	c.seen[f.Fingerprint] = true
	if len(c.findings) >= maxFindingsPerObject {
		c.dropped++
		return
	}
	c.findings = append(c.findings, f)
}

func (c *collector) Skip(s finding.Skip) { c.skips = append(c.skips, s) }

func (c *collector) Scanned(_ string, n int64) { c.bytes += n }

// unreadable returns the skip of the object itself failing to read.
func (c *collector) unreadable(name string) (finding.Skip, bool) {
	for _, s := range c.skips {
		if s.Path == name && s.Reason == finding.SkipUnreadable {
			return s, true
		}
	}
	return finding.Skip{}, false
}

// trap keeps the first real error the object's readers returned: the
// engine turns read failures into skips with a text detail, and the
// handler needs the error itself to tell "gone" and "retry" apart.
type trap struct {
	mu  sync.Mutex
	err error
}

func (t *trap) set(err error) {
	if err == nil || errors.Is(err, io.EOF) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
}

func (t *trap) cause() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

type trapReader struct {
	r io.Reader
	t *trap
}

func (r *trapReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.t.set(err)
	return n, err
}

type trapReaderAt struct {
	ra *ReaderAt
	t  *trap
}

func (r *trapReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.ra.ReadAt(p, off)
	r.t.set(err)
	return n, err
}

// Size lets unpack learn the length without a Stat.
func (r *trapReaderAt) Size() int64 { return r.ra.Size() }
