package unpack

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/akguard/akguard/shared/finding"
)

// Local file header layout, PKWARE APPNOTE 6.3.10 §4.3.7; data descriptor
// §4.3.9; Zip64 extended information extra field §4.5.3.
const (
	localHeaderLen = 30
	sigLocal       = 0x04034b50
	sigCentral     = 0x02014b50
	sigDescriptor  = 0x08074b50
	extraZip64     = 0x0001
)

// zipLocal reads a zip front to back by its local file headers. It is the
// fallback when the central directory at the end is missing or broken, as
// in a truncated upload: members before the damage are still scanned, as
// they would be in a truncated tar. It reports whether a local header was
// found at all.
func (st *walk) zipLocal(n node, ra io.ReaderAt, size int64, cause error) (bool, error) {
	var h [localHeaderLen]byte
	if _, err := ra.ReadAt(h[:], 0); err != nil || binary.LittleEndian.Uint32(h[:]) != sigLocal {
		return false, nil
	}
	st.skip(n.path, finding.SkipCorrupt, errDetail(cause)+"; members read from local headers")
	zd := st.zipDecoders(nil)
	defer zd.release()
	le := binary.LittleEndian
	off := int64(0)
	for members := 0; ; members++ {
		if st.stopped() {
			return true, st.ctx.Err()
		}
		if _, err := ra.ReadAt(h[:], off); err != nil || le.Uint32(h[:]) != sigLocal {
			var se *sourceError
			if errors.As(err, &se) {
				return true, se
			}
			return true, nil // central directory, or where the damage starts
		}
		if members == st.lim.MaxMembers {
			st.skip(n.path, finding.SkipMemberLimit, fmt.Sprintf("more than %d members, the rest not scanned", st.lim.MaxMembers))
			return true, nil
		}
		flags, method := le.Uint16(h[6:]), le.Uint16(h[8:])
		csize, usize := uint64(le.Uint32(h[18:])), uint64(le.Uint32(h[22:]))
		nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
		meta := make([]byte, nameLen+extraLen)
		if _, err := ra.ReadAt(meta, off+localHeaderLen); err != nil {
			return true, nil
		}
		name, extra := string(meta[:nameLen]), meta[nameLen:]
		csize, usize = zip64Sizes(extra, csize, usize)
		path := memberPath(n.path, name)
		data := off + localHeaderLen + nameLen + extraLen
		if data > size {
			return true, nil
		}
		sized := flags&0x8 == 0 // sizes in the header, not in a trailing descriptor
		if !sized && method != zip.Deflate {
			// Only deflate ends by itself; without a size there is no way
			// to find where this member stops and the next begins.
			st.skip(path, finding.SkipCorrupt, "member size only in its data descriptor; rest of the archive not scanned")
			return true, nil
		}
		isDir := strings.HasSuffix(name, "/")
		var skip finding.SkipReason
		var detail string
		switch {
		case flags&0x1 != 0:
			skip, detail = finding.SkipEncrypted, "encrypted zip member"
		case zipMethods[method] == "":
			skip, detail = finding.SkipUnsupported, fmt.Sprintf("zip compression method %d", method)
		case sized && usize > uint64(st.lim.MaxMemberBytes):
			skip, detail = finding.SkipTooLarge, fmt.Sprintf("declared size %s exceeds %s", human(int64(min(usize, 1<<62))), human(st.lim.MaxMemberBytes))
		}
		if skip != "" {
			st.skip(path, skip, detail)
			if !sized {
				return true, nil // undecodable, so its end cannot be found
			}
		}
		if sized && (skip != "" || isDir) {
			off = data + int64(min(csize, 1<<62))
			continue
		}
		end := size
		if sized {
			end = min(size, data+int64(min(csize, 1<<62)))
		}
		m := st.meter(path, zd.open(method, io.NewSectionReader(ra, data, end-data)), &zd.in.n)
		declared := int64(-1)
		if sized {
			declared = int64(min(usize, 1<<62))
		}
		if !isDir {
			if err := st.stream(node{path: path, depth: n.depth + 1, size: declared}, m); err != nil {
				return true, err
			}
		}
		if sized {
			off = data + int64(min(csize, 1<<62))
			continue
		}
		// The next header follows the end of the deflate stream and the
		// descriptor, so the member is inflated to its end first.
		if _, err := io.Copy(io.Discard, m); err != nil {
			return true, st.fail(err, path)
		}
		next, ok := descriptorEnd(ra, data+zd.in.n-int64(zd.br.Buffered()))
		if !ok {
			return true, nil
		}
		off = next
	}
}

// zip64Sizes takes the real sizes from a Zip64 extra field when the
// header's 32-bit fields are saturated; the field lists only those.
func zip64Sizes(extra []byte, csize, usize uint64) (uint64, uint64) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			break
		}
		if id == extraZip64 {
			f := extra[:n]
			if usize == 0xffffffff && len(f) >= 8 {
				usize, f = le.Uint64(f), f[8:]
			}
			if csize == 0xffffffff && len(f) >= 8 {
				csize = le.Uint64(f)
			}
			break
		}
		extra = extra[n:]
	}
	return csize, usize
}

// descriptorEnd skips the data descriptor at off: an optional signature,
// the CRC and 32- or 64-bit sizes. The width is not recorded anywhere, so
// the one followed by a header signature wins.
func descriptorEnd(ra io.ReaderAt, off int64) (int64, bool) {
	var b [4 + 4 + 16 + 4]byte
	n, _ := ra.ReadAt(b[:], off)
	d := b[:n]
	le := binary.LittleEndian
	if len(d) >= 4 && le.Uint32(d) == sigDescriptor {
		d, off = d[4:], off+4
	}
	for _, w := range []int{12, 20} {
		if len(d) >= w+4 {
			if sig := le.Uint32(d[w:]); sig == sigLocal || sig == sigCentral {
				return off + int64(w), true
			}
		}
	}
	return 0, false
}
