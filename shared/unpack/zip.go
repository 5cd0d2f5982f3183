package unpack

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/inflate"
)

// Zip compression methods we decode (PKWARE APPNOTE 6.3.10 §4.4.5).
const (
	methodBzip2 uint16 = 12
	methodZstd  uint16 = 93
	methodXz    uint16 = 95
)

var zipMethods = map[uint16]string{
	zip.Store: "stored", zip.Deflate: "deflate", methodBzip2: "bzip2", methodZstd: "zstd", methodXz: "xz",
}

// zipStream opens a zip met as a stream: in place when the bytes are
// randomly accessible, otherwise from a spool (archive/zip needs the
// central directory at the end before it can read the first member).
func (st *walk) zipStream(n node, br *bufio.Reader) error {
	ra, size := n.ra, n.size
	if ra == nil || size < 0 {
		sp, err := st.spool(n, br)
		if sp == nil {
			return err
		}
		defer sp.close()
		ra, size = sp.ra, sp.size
	}
	zr, dir, err := st.openZip(ra, size)
	switch {
	case err == errLargeDirectory:
		return st.zipCentral(n, ra, size, dir)
	case err != nil:
		if !classified(err) {
			if ok, err := st.zipLocal(n, ra, size, err); ok {
				return err
			}
		}
		return st.fail(err, n.path)
	}
	return st.zipFiles(n, zr, ra)
}

// tryZipAt opens a zip whose magic is not at offset 0. ok is false when the
// bytes are not a zip after all, and the caller scans them as a leaf.
func (st *walk) tryZipAt(n node) (ok bool, err error) {
	zr, dir, err := st.openZip(n.ra, n.size)
	switch {
	case err == errLargeDirectory:
		if !st.enter(n) {
			return true, nil
		}
		return true, st.zipCentral(n, n.ra, n.size, dir)
	case err != nil:
		var se *sourceError
		if errors.As(err, &se) {
			return true, se
		}
		return false, nil
	case len(zr.File) == 0:
		return false, nil
	case !st.enter(n):
		return true, nil
	}
	return true, st.zipFiles(n, zr, n.ra)
}

func (st *walk) zipFiles(n node, zr *zip.Reader, ra io.ReaderAt) error {
	files := zr.File
	if len(files) > st.lim.MaxMembers {
		st.skip(n.path, finding.SkipMemberLimit, fmt.Sprintf("%d members, only the first %d scanned", len(files), st.lim.MaxMembers))
		files = files[:st.lim.MaxMembers]
	}
	zd := st.zipDecoders(zr)
	defer zd.release()
	for _, f := range files {
		if st.stopped() {
			return st.ctx.Err()
		}
		if err := st.zipMember(n, zd, f, ra); err != nil {
			return err
		}
	}
	return nil
}

func (st *walk) zipMember(n node, zd *zipDec, f *zip.File, ra io.ReaderAt) error {
	name := memberPath(n.path, f.Name)
	if f.Mode().IsDir() {
		return nil // a name, no content
	}
	if reason, detail := st.unscannable(f.Mode(), f.Flags, f.Method, f.UncompressedSize64); reason != "" {
		st.skip(name, reason, detail)
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return st.fail(err, name)
	}
	defer rc.Close()
	child := node{path: name, depth: n.depth + 1, size: int64(f.UncompressedSize64)}
	if f.Method == zip.Store && ra != nil && f.CompressedSize64 == f.UncompressedSize64 {
		// A stored member is a plain slice of the archive: a nested zip
		// (jars in a war, apks) is then opened in place, not spooled.
		if off, err := f.DataOffset(); err == nil {
			child.ra = io.NewSectionReader(ra, off, int64(f.CompressedSize64))
		}
	}
	return st.stream(child, st.meter(name, rc, &zd.in.n))
}

// unscannable says why a zip member cannot be scanned, if it cannot.
func (st *walk) unscannable(mode fs.FileMode, flags, method uint16, declared uint64) (finding.SkipReason, string) {
	switch {
	case mode.Type()&^fs.ModeDir != 0:
		return finding.SkipNotRegular, typeName(mode)
	case flags&0x1 != 0: // APPNOTE §4.4.4 bit 0: encrypted
		return finding.SkipEncrypted, "encrypted zip member"
	case zipMethods[method] == "":
		return finding.SkipUnsupported, fmt.Sprintf("zip compression method %d", method)
	case declared > uint64(st.lim.MaxMemberBytes):
		return finding.SkipTooLarge, fmt.Sprintf("declared size %s exceeds %s", human(int64(min(declared, 1<<62))), human(st.lim.MaxMemberBytes))
	}
	return "", ""
}

func typeName(m fs.FileMode) string {
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
	return "irregular file"
}

// zipDec holds the decoders of one open zip. archive/zip opens members one
// at a time, so one input buffer and one decoder per method are reused for
// all members, and the member's compressed input is counted for the ratio
// check.
type zipDec struct {
	st   *walk
	in   countReader
	br   *bufio.Reader
	fl   *inflate.Reader
	zstd *zstd.Decoder
}

func (st *walk) zipDecoders(zr *zip.Reader) *zipDec {
	zd := &zipDec{st: st}
	zd.br = st.getBuf(&zd.in)
	if zr != nil {
		// Registered on this reader only: the package-level registry is
		// global state shared with every other zip user in the process.
		for m := range zipMethods {
			zr.RegisterDecompressor(m, func(r io.Reader) io.ReadCloser { return zd.open(m, r) })
		}
	}
	return zd
}

// open starts decoding one member's compressed bytes r.
func (zd *zipDec) open(method uint16, r io.Reader) io.ReadCloser {
	in := zd.input(r)
	switch method {
	case zip.Store:
		return io.NopCloser(in)
	case zip.Deflate:
		if zd.fl == nil {
			if k := len(zd.st.flates); k > 0 {
				zd.fl = zd.st.flates[k-1]
				zd.st.flates = zd.st.flates[:k-1]
			}
		}
		if zd.fl == nil {
			zd.fl = inflate.NewReader(in)
		} else {
			zd.fl.Reset(in)
		}
		return io.NopCloser(zd.fl)
	case methodBzip2:
		return io.NopCloser(bzip2.NewReader(in))
	case methodZstd:
		if zd.zstd == nil {
			d, err := zd.st.getZstd(in)
			if d != nil {
				zd.zstd = d
			}
			if err != nil {
				return errReader{err}
			}
		} else if err := zd.zstd.Reset(in); err != nil {
			return errReader{err}
		}
		return io.NopCloser(zd.zstd)
	case methodXz:
		head, _ := in.Peek(12 + 1024)
		if dict, ok := xzDictCap(head); ok && dict > maxWindow {
			return errReader{fmt.Errorf("xz dictionary of %s: %w", human(dict), errUnsupportedMethod)}
		}
		xr, err := xz.ReaderConfig{DictCap: 1 << 12}.NewReader(in)
		if err != nil {
			return errReader{err}
		}
		return io.NopCloser(xr)
	}
	return errReader{fmt.Errorf("method %d: %w", method, errUnsupportedMethod)}
}

func (zd *zipDec) input(r io.Reader) *bufio.Reader {
	zd.in = countReader{r: r}
	zd.br.Reset(&zd.in)
	return zd.br
}

func (zd *zipDec) release() {
	zd.st.putBuf(zd.br)
	if zd.fl != nil {
		zd.st.flates = append(zd.st.flates, zd.fl)
	}
	if zd.zstd != nil {
		zd.st.putZstd(zd.zstd)
	}
}

// errReader reports a decoder that failed to start when the member is read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
func (e errReader) Close() error             { return nil }

// spooled is a nested zip copied out of its stream for random access.
type spooled struct {
	ra   io.ReaderAt
	size int64
	f    *os.File
}

func (s *spooled) close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

// spool copies r to memory, or past MaxSpoolBytes to a temporary file. A
// nil result with a nil error means the stream was skipped.
func (st *walk) spool(n node, r io.Reader) (*spooled, error) {
	lim := st.lim
	if n.size > lim.MaxMemberBytes {
		st.skip(n.path, finding.SkipTooLarge, fmt.Sprintf("zip of %s exceeds %s", human(n.size), human(lim.MaxMemberBytes)))
		return nil, nil
	}
	// Declared sizes are only hints (archives lie), so a large one does
	// not get its buffer up front; growth by doubling is cheap enough.
	capHint := int64(bufSize)
	if n.size >= 0 {
		capHint = min(n.size, lim.MaxSpoolBytes, 4<<20)
	}
	buf := bytes.NewBuffer(make([]byte, 0, capHint+bytes.MinRead))
	rec := &recorder{r: r}
	k, err := buf.ReadFrom(io.LimitReader(rec, lim.MaxSpoolBytes+1))
	if err != nil {
		return nil, st.fail(err, n.path)
	}
	if k <= lim.MaxSpoolBytes {
		return &spooled{ra: bytes.NewReader(buf.Bytes()), size: k}, nil
	}
	f, err := os.CreateTemp(lim.TempDir, "akguard-unpack-*")
	if err != nil {
		st.skip(n.path, finding.SkipUnreadable, "spool zip: "+errDetail(err))
		return nil, nil
	}
	sp := &spooled{ra: f, f: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		sp.close()
		st.skip(n.path, finding.SkipUnreadable, "spool zip: "+errDetail(err))
		return nil, nil
	}
	m, err := io.Copy(f, io.LimitReader(rec, lim.MaxMemberBytes-k+1))
	switch {
	case rec.err != nil:
		sp.close()
		return nil, st.fail(rec.err, n.path)
	case err != nil:
		sp.close()
		st.skip(n.path, finding.SkipUnreadable, "spool zip: "+errDetail(err))
		return nil, nil
	case k+m > lim.MaxMemberBytes:
		sp.close()
		st.skip(n.path, finding.SkipTooLarge, fmt.Sprintf("zip larger than %s", human(lim.MaxMemberBytes)))
		return nil, nil
	}
	sp.size = k + m
	return sp, nil
}
