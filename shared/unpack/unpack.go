// Package unpack opens containers (zip, tar) and compressed streams (gzip,
// bzip2, zstd, xz) recursively and hands every leaf stream to a callback,
// so a detector only ever sees plain member content.
//
// The walker is built for hostile input: every decompressed byte is charged
// to a per-input budget, each member is checked for bomb-like expansion
// ratios, nesting and member counts are capped, and nothing is written to
// disk except a spool of a nested zip too large for memory. Whatever cannot
// be scanned is reported as a finding.Skip with a named reason instead of
// failing the walk.
//
// Formats are recognised by magic bytes, never by name; a zip-family name
// (.jar, .apk, .docx...) only lets a randomly accessible input be tried as
// a zip with a prefix (launcher scripts, self-extractors).
//
// Decisions worth knowing:
//   - Member names are labels, not paths: nothing is extracted, so "../x"
//     and "/etc/x" are scanned like any member and shown cleaned. No
//     path_traversal skip is emitted, since skips mean "not scanned".
//     In names, "!" is written "%21" and control characters "?", so a
//     path splits unambiguously at "!" and prints on one line.
//   - Directories are passed over silently (no content); symlinks, hard
//     links, devices and fifos are reported as not_regular and never
//     followed.
//   - A zip whose central directory is unreadable (truncated upload) is
//     read front to back by its local headers, so the members before the
//     damage are still scanned, as they are in a truncated tar.
//   - Every decompressor output, every zip member and every sparse tar
//     member is charged to MaxTotalBytes; plain tar members are views of
//     their parent stream and already paid for there.
package unpack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/inflate"
)

// Limits bound the work done for one top-level input. The zero value of
// each field selects its default.
type Limits struct {
	// MaxDepth is the deepest container nesting opened: in
	// "a.zip!b.tar.gz!c.zip!d", d is at depth 3. Default 5.
	MaxDepth int
	// MaxMembers caps the members read from one archive. Default 100_000.
	MaxMembers int
	// MaxTotalBytes is the decompressed-bytes budget per top-level input;
	// once spent the walk of that input ends (bombs end here). Default 8 GiB.
	MaxTotalBytes int64
	// MaxRatio is the largest decompressed/compressed ratio a member or
	// stream may reach once it has produced more than 1 MiB. Default 200.
	MaxRatio int
	// MaxMemberBytes is the largest member or decompressed stream scanned.
	// Default 4 GiB.
	MaxMemberBytes int64
	// MaxSpoolBytes is the largest nested zip held in memory for random
	// access; larger ones go to a temporary file in TempDir. Default 32 MiB.
	MaxSpoolBytes int64
	// TempDir holds spooled zips; default os.TempDir().
	TempDir string
}

// Defaults of Limits.
const (
	DefaultMaxDepth       = 5
	DefaultMaxMembers     = 100_000
	DefaultMaxTotalBytes  = 8 << 30
	DefaultMaxRatio       = 200
	DefaultMaxMemberBytes = 4 << 30
	DefaultMaxSpoolBytes  = 32 << 20
)

// ratioFloor is the output a stream may produce before MaxRatio applies:
// small, highly repetitive files (configs, padding) are legitimately far
// more compressible than bombs are big.
const ratioFloor = 1 << 20

// maxStackedCompression caps compression layers directly inside each other
// (x.gz.gz.gz...). Compression does not count as container depth, so without
// this a gzip quine, which decompresses to itself, would recurse forever.
const maxStackedCompression = 4

// bufSize is the read-ahead per open stream: large enough for sniffing (tar
// needs 512 bytes) and to turn range reads of remote objects into few
// requests, small enough to keep one per nesting level.
const bufSize = 32 << 10

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = DefaultMaxMembers
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.MaxMemberBytes <= 0 {
		l.MaxMemberBytes = DefaultMaxMemberBytes
	}
	if l.MaxSpoolBytes <= 0 {
		l.MaxSpoolBytes = DefaultMaxSpoolBytes
	}
	if l.TempDir == "" {
		l.TempDir = os.TempDir()
	}
	return l
}

// Source is one top-level input.
type Source struct {
	// Name is the path shown to users, e.g. "dir/a.zip" or "oss://bucket/key".
	Name string
	// R is the stream; required unless Bytes is set.
	R io.Reader
	// RA optionally gives random access to the same bytes (an os.File, an
	// OSS range reader); a zip is then read in place instead of spooled.
	RA io.ReaderAt
	// Size is the stream length, -1 if unknown.
	Size int64
	// Bytes optionally holds the whole input in memory (a small file read
	// at once). When it is set, R, RA and Size are ignored, and a plain
	// input reaches the callback as Leaf.Bytes without being copied.
	Bytes []byte
}

// Leaf is one stream that is not a recognised container.
type Leaf struct {
	// Path names the stream: "outer.zip!inner/path", nested
	// "a.zip!b.tar.gz!c.env". Compression is transparent: "x.env.gz" is the
	// decompressed content of x.env.gz.
	Path string
	// R yields the decompressed content. The callback may stop reading at
	// any point; the walker skips what is left.
	R io.Reader
	// Size is the declared content length, -1 if unknown. Archives can lie.
	Size int64
	// Bytes is the whole content when it is in memory anyway (see
	// Source.Bytes); R then yields the same bytes. Nil otherwise. The
	// slice is only valid during the callback.
	Bytes []byte
}

// Walker opens containers within Limits. It holds no per-walk state and is
// safe for concurrent use.
type Walker struct {
	lim Limits
	// spare keeps read buffers and inflate state between walks: a tree
	// scan walks one small input after another, and allocating 32 KiB
	// buffers and inflate windows for each made the garbage collector a
	// large share of its cost.
	spare sync.Pool // of *scratch
}

// New returns a Walker; zero fields of l take their defaults.
func New(l Limits) *Walker {
	return &Walker{lim: l.withDefaults()}
}

// Limits returns the effective limits, defaults filled in.
func (w *Walker) Limits() Limits { return w.lim }

// Walk calls leaf for every leaf stream in src, depth first in archive
// order, and skip for everything it could not (fully) scan. It returns an
// error only when ctx is done, when leaf returns one (returned as is), or
// when src itself cannot be read; corrupt, encrypted, unsupported or
// over-limit parts become skips and the walk moves on.
func (w *Walker) Walk(ctx context.Context, src Source, leaf func(ctx context.Context, l Leaf) error, skip func(finding.Skip)) error {
	if (src.R == nil && src.Bytes == nil) || leaf == nil {
		return errors.New("walk: source reader (or bytes) and leaf callback are required")
	}
	if skip == nil {
		skip = func(finding.Skip) {}
	}
	sc, _ := w.spare.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	st := &walk{ctx: ctx, lim: w.lim, leaf: leaf, skipFn: skip, scratch: sc}
	defer func() {
		st.close()
		w.spare.Put(sc)
	}()

	if src.Bytes != nil {
		if done, err := st.plain(src); done {
			if err != nil {
				return err
			}
			return ctx.Err()
		}
		r := bytes.NewReader(src.Bytes)
		src.R, src.RA, src.Size = r, r, int64(len(src.Bytes))
	}
	n := node{path: src.Name, size: src.Size}
	if src.RA != nil {
		if size, ok := sizeOf(src); ok {
			n.ra, n.size = sourceReaderAt{ra: src.RA, size: size}, size
		}
	}
	if err := st.stream(n, sourceReader{src.R}); err != nil {
		return err
	}
	return ctx.Err()
}

// plain hands an in-memory input that stream would pass to the callback
// as it is (no container magic, no zip-family name that makes it worth a
// look from the end) straight to the callback; done reports that it did.
func (st *walk) plain(src Source) (done bool, err error) {
	if hintFor(src.Name) == hintZip || sniff(src.Bytes[:min(sniffLen, len(src.Bytes))]) != formatUnknown {
		return false, nil
	}
	if st.stopped() {
		return true, st.ctx.Err()
	}
	n := node{path: src.Name, size: int64(len(src.Bytes))}
	return true, st.emitBytes(n, bytes.NewReader(src.Bytes), src.Bytes)
}

// sizeOf finds the length of a random-access source that did not state it.
func sizeOf(src Source) (int64, bool) {
	if src.Size >= 0 {
		return src.Size, true
	}
	switch ra := src.RA.(type) {
	case interface{ Size() int64 }:
		return ra.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := ra.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		return fi.Size(), true
	}
	return 0, false
}

// node is one stream being walked.
type node struct {
	path   string
	depth  int         // container nesting; members of a top-level zip are at 1
	layers int         // compression layers since the last archive
	size   int64       // declared length, -1 if unknown
	ra     io.ReaderAt // random access to the same bytes, if any
}

// walk is the state of one Walk call.
type walk struct {
	ctx    context.Context
	lim    Limits
	leaf   func(context.Context, Leaf) error
	skipFn func(finding.Skip)

	total     int64        // decompressed bytes so far
	budgetErr *streamError // set once MaxTotalBytes is spent

	*scratch
	zstds []zstdDecoder // per walk: their windows can be large
}

// scratch holds free lists reused across members and, through
// Walker.spare, across walks. Everything in it has a fixed size.
type scratch struct {
	bufs   []*bufio.Reader
	gzips  []gzipReader
	flates []*inflate.Reader // raw inflaters for zip members
}

func (st *walk) close() {
	for _, d := range st.zstds {
		d.Close()
	}
	st.zstds = nil
}

func (st *walk) skip(path string, reason finding.SkipReason, detail string) {
	st.skipFn(finding.Skip{Path: path, Reason: reason, Detail: detail})
}

// stopped reports whether the walk must not open anything more.
func (st *walk) stopped() bool {
	return st.budgetErr != nil || st.ctx.Err() != nil
}

func (st *walk) getBuf(r io.Reader) *bufio.Reader {
	if k := len(st.bufs); k > 0 {
		br := st.bufs[k-1]
		st.bufs = st.bufs[:k-1]
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, bufSize)
}

func (st *walk) putBuf(br *bufio.Reader) {
	br.Reset(nil)
	st.bufs = append(st.bufs, br)
}

// stream sniffs r and dispatches it: decompress, open as archive, or hand
// to leaf. It returns only errors that end the walk.
func (st *walk) stream(n node, r io.Reader) error {
	if st.stopped() {
		return st.ctx.Err()
	}
	if n.ra != nil && n.size >= 0 {
		// A zip with random access is read in place and its stream never
		// touched: for a remote object, that is one request fewer.
		if done, err := st.sniffAt(n); done || err != nil {
			return err
		}
	}
	cr := &countReader{r: r}
	br := st.getBuf(cr)
	defer st.putBuf(br)

	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF {
		return st.fail(err, n.path)
	}
	f := sniff(head)
	switch f {
	case formatGzip, formatBzip2, formatZstd, formatXz:
		if n.layers >= maxStackedCompression {
			st.skip(n.path, finding.SkipDepthLimit, fmt.Sprintf("more than %d nested compression layers", maxStackedCompression))
			return nil
		}
		return st.decompress(n, f, br, &cr.n)
	case formatZip:
		if !st.enter(n) {
			return nil
		}
		return st.zipStream(n, br)
	case formatTar:
		if !st.enter(n) {
			return nil
		}
		return st.tar(n, br)
	case format7z, formatRar, formatLz4:
		st.skip(n.path, finding.SkipUnsupported, f.String()+" is not supported")
		return nil
	}
	return st.emit(n, br)
}

// sniffAt opens n as a zip through its ReaderAt if it is one; done
// reports that it was.
func (st *walk) sniffAt(n node) (done bool, err error) {
	var b [sniffLen]byte
	k, err := n.ra.ReadAt(b[:min(sniffLen, n.size)], 0)
	if err != nil && err != io.EOF {
		return true, st.fail(err, n.path)
	}
	switch f := sniff(b[:k]); {
	case f == formatZip:
		if !st.enter(n) {
			return true, nil
		}
		return true, st.zipStream(n, nil)
	case f == formatUnknown && hintFor(n.path) == hintZip && n.size > 0:
		// Self-extracting and script-prefixed zips (jar launchers) do not
		// start with a local header; archive/zip finds them from the end.
		return st.tryZipAt(n)
	}
	return false, nil
}

// enter checks that the members of container n are within MaxDepth.
func (st *walk) enter(n node) bool {
	if n.depth >= st.lim.MaxDepth {
		st.skip(n.path, finding.SkipDepthLimit, fmt.Sprintf("archive nested deeper than %d levels", st.lim.MaxDepth))
		return false
	}
	return true
}

// emit hands a leaf to the callback. If the stream failed under the
// callback, that failure is what gets reported: the callback's own error is
// then only its reaction to it.
func (st *walk) emit(n node, r io.Reader) error {
	return st.emitBytes(n, r, nil)
}

// emitBytes is emit for content that may also be in memory as data.
func (st *walk) emitBytes(n node, r io.Reader, data []byte) error {
	rec := &recorder{r: r}
	err := st.leaf(st.ctx, Leaf{Path: n.path, R: rec, Size: n.size, Bytes: data})
	if rec.err != nil {
		return st.fail(rec.err, n.path)
	}
	return err
}

// fail turns a stream error into a skip, or into the error that ends the
// walk (cancellation, unreadable source).
func (st *walk) fail(err error, path string) error {
	if cerr := st.ctx.Err(); cerr != nil {
		return cerr
	}
	var se *sourceError
	if errors.As(err, &se) {
		return se
	}
	var me *streamError
	if errors.As(err, &me) {
		if !me.reported {
			me.reported = true
			st.skip(me.path, me.reason, me.detail)
		}
		return nil
	}
	st.skip(path, reasonOf(err), errDetail(err))
	return nil
}
