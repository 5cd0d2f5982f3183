package unpack

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"io"
)

// zipDirectory is what the end-of-central-directory records declare
// (PKWARE APPNOTE 6.3.10 §4.3.14-4.3.16).
type zipDirectory struct {
	records uint64
	size    uint64
	offset  uint64
	end     int64 // where the (Zip64) end record starts
}

const (
	sigEnd           = 0x06054b50
	sigEnd64         = 0x06064b50
	sigEnd64Locator  = 0x07064b50
	endLen           = 22
	end64LocatorLen  = 20
	end64Len         = 56
	maxEndCommentLen = 65535
	directorySlack   = 128 << 10 // end records, read-ahead past the last header
	// directoryInMemory is the largest central directory left to
	// archive/zip, which keeps ~460 bytes per entry: at worst (46-byte
	// headers) about 40 MiB. Larger ones are read entry by entry.
	directoryInMemory = 4 << 20
)

// readZipDirectory finds the end record the way archive/zip does (last
// signature whose comment fits) and follows the Zip64 locator when a field
// is saturated. ok is false when there is no end record.
func readZipDirectory(ra io.ReaderAt, size int64) (zipDirectory, bool) {
	le := binary.LittleEndian
	n := min(size, endLen+maxEndCommentLen)
	buf := make([]byte, n)
	if _, err := ra.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return zipDirectory{}, false
	}
	at := -1
	for i := len(buf) - endLen; i >= 0; i-- {
		if le.Uint32(buf[i:]) == sigEnd && i+endLen+int(le.Uint16(buf[i+20:])) <= len(buf) {
			at = i
			break
		}
	}
	if at < 0 {
		return zipDirectory{}, false
	}
	e := buf[at:]
	endOff := size - n + int64(at)
	d := zipDirectory{records: uint64(le.Uint16(e[10:])), size: uint64(le.Uint32(e[12:])), offset: uint64(le.Uint32(e[16:])), end: endOff}
	if d.records != 0xffff && d.size != 0xffffffff && le.Uint32(e[16:]) != 0xffffffff {
		return d, true
	}
	var loc [end64LocatorLen]byte
	if endOff < end64LocatorLen {
		return d, true
	}
	if _, err := ra.ReadAt(loc[:], endOff-end64LocatorLen); err != nil || le.Uint32(loc[:]) != sigEnd64Locator {
		return d, true
	}
	var e64 [end64Len]byte
	off := le.Uint64(loc[8:])
	if off > uint64(size) {
		return d, true
	}
	if _, err := ra.ReadAt(e64[:], int64(off)); err != nil || le.Uint32(e64[:]) != sigEnd64 {
		return d, true
	}
	return zipDirectory{records: le.Uint64(e64[32:]), size: le.Uint64(e64[40:]), offset: le.Uint64(e64[48:]), end: int64(off)}, true
}

var (
	errDirectoryTooLarge = errors.New("central directory larger than declared")
	errLargeDirectory    = errors.New("central directory too large to hold")
)

// openZip parses the central directory with archive/zip when it is small
// enough to hold. errLargeDirectory means the end record declares more
// than MaxMembers entries or more than directoryInMemory bytes; dir
// describes it for zipCentral.
func (st *walk) openZip(ra io.ReaderAt, size int64) (*zip.Reader, zipDirectory, error) {
	dir, ok := readZipDirectory(ra, size)
	if ok && (dir.records > uint64(st.lim.MaxMembers) || dir.size > directoryInMemory) {
		return nil, dir, errLargeDirectory
	}
	b := &directoryBudget{ra: ra, left: directoryInMemory + directorySlack}
	if ok {
		b.left = int64(dir.size) + directorySlack
	}
	zr, err := zip.NewReader(b, size)
	b.open = true
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // names are labels here, see the package doc
	}
	return zr, dir, err
}

// directoryBudget caps the bytes archive/zip may read while parsing the
// central directory. It reads headers until one fails to parse, not just
// the declared count, so a forged directory would otherwise cost memory in
// proportion to its real size. Lifted once parsing is done: the reader
// keeps this ReaderAt for opening members.
type directoryBudget struct {
	ra   io.ReaderAt
	left int64
	open bool
}

func (b *directoryBudget) ReadAt(p []byte, off int64) (int, error) {
	if !b.open {
		if int64(len(p)) > b.left {
			return 0, errDirectoryTooLarge
		}
		b.left -= int64(len(p))
	}
	return b.ra.ReadAt(p, off)
}
