// Package scan puts the detector and the container walker together: it
// opens files, folders and streams, unpacks archives, runs detection on each
// decoded leaf, applies path allowlists, and hands findings and skips to a
// Sink. The CLI and the scan function both drive scans through an Engine.
//
// Accepted findings (.akguardignore, see ParseIgnore) are dropped in one
// place, the detector: pass them as Options.Detect.Allow.Fingerprints.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/akguard/akguard/shared/detect"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/unpack"
)

// Sink receives results. Within one Scan or ScanPaths call the Engine never
// calls a Sink concurrently (it serialises the calls), so a Sink used by one
// call at a time needs no locking of its own. A Sink shared by concurrent
// calls must be safe for concurrent use.
type Sink interface {
	Finding(finding.Finding)
	Skip(finding.Skip)
}

// Counter is optionally implemented by a Sink that wants to know how much
// was read: Scanned is called once per top-level input (a file, stdin, an
// object) after it was scanned, with the decoded bytes the detector read
// from it, archive members included.
type Counter interface {
	Scanned(name string, bytes int64)
}

// Options configure an Engine. The zero value scans with the detector's and
// the walker's defaults, GOMAXPROCS workers and no path allowlist.
type Options struct {
	Detect detect.Config
	Limits unpack.Limits
	// PathAllow are globs (see PathMatcher) of paths not to scan, matched
	// against paths relative to each root given to ScanPaths and against
	// member paths inside archives ("x.zip!a/testdata/k.env" is matched as
	// "a/testdata/k.env").
	PathAllow []string
	// Workers is how many files ScanPaths scans at once; default GOMAXPROCS.
	Workers int
	// ScanVCS turns off the default skip of version-control metadata
	// directories (.git, .hg, .svn, .bzr). Their content is mostly zlib
	// packs and history the working tree already shows, so scanning it
	// costs time and reports the same key many times.
	ScanVCS bool
	// Exclude are files never to scan, such as the report being written
	// into the tree that is being scanned.
	Exclude []string
	// Logger receives debug events; nil discards them.
	Logger *slog.Logger
}

// Engine runs scans. It is safe for concurrent use.
type Engine struct {
	det     *detect.Detector
	walker  *unpack.Walker
	allow   *PathMatcher
	workers int
	scanVCS bool
	exclude map[string]bool
	log     *slog.Logger
}

// New builds an Engine, compiling rules and globs once.
func New(o Options) (*Engine, error) {
	det, err := detect.New(o.Detect)
	if err != nil {
		return nil, fmt.Errorf("build detector: %w", err)
	}
	allow, err := NewPathMatcher(o.PathAllow)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		det:     det,
		walker:  unpack.New(o.Limits),
		allow:   allow,
		workers: o.Workers,
		scanVCS: o.ScanVCS,
		exclude: map[string]bool{},
		log:     o.Logger,
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	for _, p := range o.Exclude {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("resolve excluded path: %w", err)
		}
		e.exclude[abs] = true
	}
	return e, nil
}

// Scan scans one stream (stdin, an OSS object) with everything inside it.
// PathAllow applies to the archive members inside (matched against the
// member path), not to src.Name: callers choose their own sources. It
// returns an error only when ctx ends; a stream that cannot be read is
// reported to the sink as a skip.
func (e *Engine) Scan(ctx context.Context, src unpack.Source, sink Sink) error {
	return e.scan(ctx, src, newLockedSink(sink, e.log))
}

func (e *Engine) scan(ctx context.Context, src unpack.Source, sink *lockedSink) error {
	start := time.Now()
	var read int64
	err := e.walker.Walk(ctx, src, func(ctx context.Context, l unpack.Leaf) error {
		if i := strings.LastIndexByte(l.Path, '!'); i >= 0 {
			// Archive members obey the same allowlist as files: a
			// testdata/ folder inside a jar is still test data. The
			// walker skips whatever the callback does not read.
			if g, ok := e.allow.Match(l.Path[i+1:]); ok {
				sink.Skip(finding.Skip{Path: l.Path, Reason: finding.SkipAllowlistedPath, Detail: fmt.Sprintf("matched %q", g)})
				return nil
			}
		}
		if l.Bytes != nil {
			read += int64(len(l.Bytes))
			return e.det.ScanBytes(ctx, l.Path, l.Bytes, sink.Finding)
		}
		cr := &countingReader{r: l.R}
		// A read error surfacing here is the walker's to classify: it
		// reports a member that breaks off half way (corrupt deflate data)
		// as a skip and goes on, and ends the walk only for the source.
		err := e.det.Scan(ctx, l.Path, cr, sink.Finding)
		read += cr.n
		return err
	}, sink.Skip)
	sink.scanned(src.Name, read)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("scan %s: %w", src.Name, ctxErr)
		}
		sink.Skip(finding.Skip{Path: src.Name, Reason: finding.SkipUnreadable, Detail: errDetail(err)})
	}
	e.log.Debug("scanned", "path", src.Name, "bytes", read, "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// ScanPaths scans files and directory trees, Workers files at a time.
//
// Every path must exist: a missing or unreadable argument is an error
// before anything is scanned, since the caller named it explicitly. Inside
// trees, problems become skips: unreadable files and directories
// (unreadable), files gone before they were opened (missing), symlinks and
// devices (not_regular, never followed), paths matching PathAllow and
// version-control metadata (allowlisted_path). An explicitly named symlink
// is followed.
//
// Result paths are the argument joined with the path inside it, so
// "akguard scan ." reports "config/app.env".
func (e *Engine) ScanPaths(ctx context.Context, paths []string, sink Sink) error {
	roots := make([]root, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		// The same argument twice ("akguard scan . .") would report every
		// finding twice.
		if seen[filepath.Clean(p)] {
			continue
		}
		seen[filepath.Clean(p)] = true
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("scan path: %w", err)
		}
		if fi.IsDir() {
			if err := readableDir(p); err != nil {
				return fmt.Errorf("scan path: %w", err)
			}
		} else if !fi.Mode().IsRegular() {
			return fmt.Errorf("scan path %s: not a regular file or directory", p)
		}
		roots = append(roots, root{path: p, info: fi})
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ls := newLockedSink(sink, e.log)
	jobs := make(chan fileJob, 4*e.workers)
	var wg sync.WaitGroup
	for range e.workers {
		wg.Go(func() {
			var buf []byte // this worker's whole-file buffer
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain so the producer never blocks
				}
				if err := e.scanFile(ctx, j, ls, &buf); err != nil {
					cancel(err)
				}
			}
		})
	}

	var walkErr error
	for _, r := range roots {
		if walkErr = e.walkRoot(ctx, r, jobs, ls); walkErr != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("scan paths: %w", err)
	}
	return walkErr
}

func readableDir(p string) error {
	d, err := os.Open(p)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.ReadDir(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

type root struct {
	path string
	info fs.FileInfo
}

type fileJob struct {
	path string
	size int64
}

func (e *Engine) walkRoot(ctx context.Context, r root, jobs chan<- fileJob, sink *lockedSink) error {
	send := func(j fileJob) error {
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	absRoot := ""
	if len(e.exclude) > 0 {
		absRoot, _ = filepath.Abs(r.path)
	}
	if !r.info.IsDir() {
		if e.skipFile(r.path, filepath.ToSlash(filepath.Clean(r.path)), absRoot, sink) || e.tooLarge(r.path, r.info.Size(), sink) {
			return nil
		}
		return send(fileJob{path: r.path, size: r.info.Size()})
	}
	start := r.path
	if fi, err := os.Lstat(r.path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// WalkDir does not follow a symlinked root; a trailing separator
		// makes its Lstat resolve the link the user explicitly named.
		start = r.path + string(filepath.Separator)
	}
	return filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start {
				return fmt.Errorf("walk %s: %w", r.path, err)
			}
			reason := finding.SkipUnreadable
			if errors.Is(err, fs.ErrNotExist) {
				reason = finding.SkipMissing
			}
			sink.Skip(finding.Skip{Path: p, Reason: reason, Detail: errDetail(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if p == start {
			return nil
		}
		rel, err := filepath.Rel(start, p)
		if err != nil {
			rel = p
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			if !e.scanVCS && isVCSDir(d.Name()) {
				sink.Skip(finding.Skip{Path: p, Reason: finding.SkipAllowlistedPath, Detail: "version control metadata"})
				return fs.SkipDir
			}
			if g, ok := e.allow.Match(rel); ok {
				sink.Skip(finding.Skip{Path: p, Reason: finding.SkipAllowlistedPath, Detail: fmt.Sprintf("matched %q", g)})
				return fs.SkipDir
			}
			return nil
		case d.Type().IsRegular():
			abs := ""
			if absRoot != "" {
				abs = filepath.Join(absRoot, filepath.FromSlash(rel))
			}
			if e.skipFile(p, rel, abs, sink) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				reason := finding.SkipUnreadable
				if errors.Is(err, fs.ErrNotExist) {
					reason = finding.SkipMissing
				}
				sink.Skip(finding.Skip{Path: p, Reason: reason, Detail: errDetail(err)})
				return nil
			}
			if e.tooLarge(p, info.Size(), sink) {
				return nil
			}
			return send(fileJob{path: p, size: info.Size()})
		default:
			sink.Skip(finding.Skip{Path: p, Reason: finding.SkipNotRegular, Detail: fileKind(d.Type())})
			return nil
		}
	})
}

// skipFile applies the path allowlist and exclusions to a regular file;
// abs is its absolute path, known only when there are exclusions.
func (e *Engine) skipFile(p, rel, abs string, sink *lockedSink) bool {
	if g, ok := e.allow.Match(rel); ok {
		sink.Skip(finding.Skip{Path: p, Reason: finding.SkipAllowlistedPath, Detail: fmt.Sprintf("matched %q", g)})
		return true
	}
	if abs != "" && e.exclude[abs] {
		sink.Skip(finding.Skip{Path: p, Reason: finding.SkipAllowlistedPath, Detail: "akguard output file"})
		return true
	}
	return false
}

// tooLarge applies the member size cap to plain files too: the walker
// meters only what it decompresses, and a file is a member of nothing.
func (e *Engine) tooLarge(p string, size int64, sink *lockedSink) bool {
	if limit := e.walker.Limits().MaxMemberBytes; size > limit {
		sink.Skip(finding.Skip{Path: p, Reason: finding.SkipTooLarge, Detail: fmt.Sprintf("size %d exceeds %d bytes", size, limit)})
		return true
	}
	return false
}

// wholeFileMax is the largest file read into memory at once instead of
// streamed: the detector then scans the file where it lies, and the walker
// sniffs and opens archives without further reads. Above it, streaming
// costs nothing extra per byte and keeps a worker's memory at this bound.
const wholeFileMax = 1 << 20

// scanFile scans one file; buf is the calling worker's reusable buffer.
func (e *Engine) scanFile(ctx context.Context, j fileJob, sink *lockedSink, buf *[]byte) error {
	f, err := os.Open(j.path)
	if err != nil {
		reason := finding.SkipUnreadable
		if errors.Is(err, fs.ErrNotExist) {
			reason = finding.SkipMissing
		}
		sink.Skip(finding.Skip{Path: j.path, Reason: reason, Detail: errDetail(err)})
		return nil
	}
	defer f.Close()
	if j.size <= wholeFileMax {
		if data, ok := readWhole(f, j.size, buf); ok {
			return e.scan(ctx, unpack.Source{Name: j.path, Bytes: data}, sink)
		}
		// Changed since it was listed, or unreadable: stream it, and the
		// walker reports what it finds as it always does.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			sink.Skip(finding.Skip{Path: j.path, Reason: finding.SkipUnreadable, Detail: errDetail(err)})
			return nil
		}
	}
	return e.scan(ctx, unpack.Source{Name: j.path, R: f, RA: f, Size: j.size}, sink)
}

// readWhole reads f, expected to hold size bytes, into *buf. ok is false
// unless exactly size bytes were read before the end of the file.
func readWhole(f *os.File, size int64, buf *[]byte) (data []byte, ok bool) {
	// One byte more than expected tells a file that grew from one that
	// did not without another read at its end.
	want := int(size) + 1
	if cap(*buf) < want {
		// Doubling keeps a walk through ever larger files from
		// reallocating at each one.
		*buf = make([]byte, max(want, min(2*cap(*buf), wholeFileMax+1), 64<<10))
	}
	b := (*buf)[:want]
	n := 0
	for n < want {
		m, err := f.Read(b[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		if m == 0 {
			return nil, false
		}
	}
	if n != int(size) {
		return nil, false
	}
	return b[:n], true
}

func isVCSDir(name string) bool {
	switch name {
	case ".git", ".hg", ".svn", ".bzr":
		return true
	}
	return false
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "not a regular file"
}

// errDetail keeps the innermost, content-free part of an I/O error: the
// path is already in the skip and "open x: permission denied" would repeat it.
func errDetail(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// lockedSink serialises calls into the caller's Sink and logs each result
// once at debug level (never a secret: findings carry none).
type lockedSink struct {
	mu      sync.Mutex
	sink    Sink
	counter Counter
	log     *slog.Logger
}

func newLockedSink(s Sink, log *slog.Logger) *lockedSink {
	c, _ := s.(Counter)
	return &lockedSink{sink: s, counter: c, log: log}
}

func (l *lockedSink) Finding(f finding.Finding) {
	l.log.Debug("finding", "rule_id", f.Rule, "path", f.Path, "line", f.Line, "access_key_id", f.AccessKeyID, "fingerprint", f.Fingerprint)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Finding(f)
}

func (l *lockedSink) Skip(s finding.Skip) {
	l.log.Debug("skipped", "path", s.Path, "reason", string(s.Reason), "detail", s.Detail)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Skip(s)
}

func (l *lockedSink) scanned(name string, n int64) {
	if l.counter == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counter.Scanned(name, n)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
