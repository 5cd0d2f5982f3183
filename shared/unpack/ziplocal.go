package unpack

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"

	"github.com/akguard/akguard/shared/finding"
)

// Record layouts, PKWARE APPNOTE 6.3.10: local file header §4.3.7, data
// descriptor §4.3.9, central directory header §4.3.12, Zip64 extended
// information extra field §4.5.3.
const (
	localHeaderLen   = 30
	centralHeaderLen = 46
	sigLocal         = 0x04034b50
	sigCentral       = 0x02014b50
	sigDescriptor    = 0x08074b50
	extraZip64       = 0x0001
)

// rawEntry is a zip member read from its records by hand, for the two
// cases archive/zip cannot serve: a broken central directory and one too
// large to hold in memory.
type rawEntry struct {
	name          string
	flags, method uint16
	csize, usize  uint64
	sized         bool // sizes known; false: only in a trailing data descriptor
	data          int64
	mode          fs.FileMode
}

// rawMember scans one entry, or reports why not. The member's decoder is
// returned so a caller without sizes can inflate to its end.
func (st *walk) rawMember(n node, zd *zipDec, ra io.ReaderAt, size int64, e rawEntry) (io.Reader, error) {
	path := memberPath(n.path, e.name)
	declared := uint64(0) // unknown until the descriptor: checked while reading
	if e.sized {
		declared = e.usize
	}
	if reason, detail := st.unscannable(e.mode, e.flags, e.method, declared); reason != "" {
		st.skip(path, reason, detail)
		return nil, nil
	}
	end := size
	leafSize := int64(-1)
	if e.sized {
		end = min(size, e.data+int64(min(e.csize, 1<<62)))
		leafSize = int64(min(e.usize, 1<<62))
	}
	m := st.meter(path, zd.open(e.method, io.NewSectionReader(ra, e.data, max(end-e.data, 0))), &zd.in.n)
	if e.mode.IsDir() {
		return m, nil
	}
	return m, st.stream(node{path: path, depth: n.depth + 1, size: leafSize}, m)
}

// zipLocal reads a zip front to back by its local file headers. It is the
// fallback when the central directory at the end is missing or broken, as
// in a truncated upload: members before the damage are still scanned, as
// they would be in a truncated tar. It reports whether a local header was
// found at all.
func (st *walk) zipLocal(n node, ra io.ReaderAt, size int64, cause error) (bool, error) {
	le := binary.LittleEndian
	var h [localHeaderLen]byte
	if _, err := ra.ReadAt(h[:], 0); err != nil || le.Uint32(h[:]) != sigLocal {
		return false, nil
	}
	st.skip(n.path, finding.SkipCorrupt, errDetail(cause)+"; members read from local headers")
	zd := st.zipDecoders(nil)
	defer zd.release()
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
		nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
		meta := make([]byte, nameLen+extraLen)
		if _, err := ra.ReadAt(meta, off+localHeaderLen); err != nil {
			return true, nil
		}
		e := rawEntry{
			name:  string(meta[:nameLen]),
			flags: le.Uint16(h[6:]), method: le.Uint16(h[8:]),
			data: off + localHeaderLen + nameLen + extraLen,
		}
		// Local headers carry no file type; a trailing slash marks a directory.
		if len(e.name) > 0 && e.name[len(e.name)-1] == '/' {
			e.mode = fs.ModeDir
		}
		e.sized = e.flags&0x8 == 0
		e.usize, e.csize, _ = zip64Fields(meta[nameLen:], uint64(le.Uint32(h[22:])), uint64(le.Uint32(h[18:])), 0)
		trailer := int64(0) // a descriptor after data whose size was found
		if !e.sized && e.method == zip.Store && e.flags&0x1 == 0 {
			if k, d, ok := st.storedLength(ra, e.data, size); ok {
				e.sized, e.csize, e.usize, trailer = true, uint64(k), uint64(k), d
			}
		}
		if !e.sized && (e.method != zip.Deflate || e.flags&0x1 != 0) {
			// Only deflate ends by itself; without a size there is no way
			// to find where this member stops and the next begins.
			st.skip(memberPath(n.path, e.name), finding.SkipCorrupt, "member size only in its data descriptor; rest of the archive not scanned")
			return true, nil
		}
		m, err := st.rawMember(n, zd, ra, size, e)
		if err != nil {
			return true, err
		}
		if e.sized {
			off = e.data + int64(min(e.csize, 1<<62)) + trailer
			continue
		}
		// The next header follows the end of the deflate stream and the
		// descriptor, so the member is inflated to its end first.
		if m == nil {
			return true, nil
		}
		if _, err := io.Copy(io.Discard, m); err != nil {
			return true, st.fail(err, memberPath(n.path, e.name))
		}
		next, ok := descriptorEnd(ra, e.data+zd.in.n-int64(zd.br.Buffered()))
		if !ok {
			return true, nil
		}
		off = next
	}
}

// zipCentral reads a central directory entry by entry, keeping nothing
// per entry: for directories too large for archive/zip to hold, and for
// more entries than MaxMembers, of which it reads the first.
func (st *walk) zipCentral(n node, ra io.ReaderAt, size int64, dir zipDirectory) error {
	le := binary.LittleEndian
	if dir.records > uint64(st.lim.MaxMembers) {
		st.skip(n.path, finding.SkipMemberLimit, fmt.Sprintf("%d members declared, only the first %d scanned", dir.records, st.lim.MaxMembers))
	}
	// Offsets are relative to the archive; a prefix (launcher script)
	// shifts them by the difference archive/zip also computes.
	base := int64(0)
	var sig [4]byte
	if _, err := ra.ReadAt(sig[:], int64(min(dir.offset, 1<<62))); err != nil || le.Uint32(sig[:]) != sigCentral {
		base = dir.end - int64(min(dir.size, 1<<62)) - int64(min(dir.offset, 1<<62))
	}
	start := base + int64(min(dir.offset, 1<<62))
	if start < 0 || start >= size {
		st.skip(n.path, finding.SkipCorrupt, "central directory outside the archive")
		return nil
	}
	br := st.getBuf(io.NewSectionReader(ra, start, size-start))
	defer st.putBuf(br)
	zd := st.zipDecoders(nil)
	defer zd.release()
	var h [centralHeaderLen]byte
	var lh [localHeaderLen]byte
	for range min(dir.records, uint64(st.lim.MaxMembers)) {
		if st.stopped() {
			return st.ctx.Err()
		}
		if _, err := io.ReadFull(br, h[:]); err != nil || le.Uint32(h[:]) != sigCentral {
			return st.fail(orErr(err, errors.New("bad central directory header")), n.path)
		}
		nameLen, extraLen, commentLen := int(le.Uint16(h[28:])), int(le.Uint16(h[30:])), int(le.Uint16(h[32:]))
		meta := make([]byte, nameLen+extraLen)
		if _, err := io.ReadFull(br, meta); err != nil {
			return st.fail(err, n.path)
		}
		if _, err := br.Discard(commentLen); err != nil {
			return st.fail(err, n.path)
		}
		fh := zip.FileHeader{
			Name:           string(meta[:nameLen]),
			CreatorVersion: le.Uint16(h[4:]),
			ExternalAttrs:  le.Uint32(h[38:]),
		}
		e := rawEntry{name: fh.Name, flags: le.Uint16(h[8:]), method: le.Uint16(h[10:]), sized: true, mode: fh.Mode()}
		var local uint64
		e.usize, e.csize, local = zip64Fields(meta[nameLen:], uint64(le.Uint32(h[24:])), uint64(le.Uint32(h[20:])), uint64(le.Uint32(h[42:])))
		local += uint64(base)
		if local > uint64(size) {
			st.skip(memberPath(n.path, e.name), finding.SkipCorrupt, "member outside the archive")
			continue
		}
		if _, err := ra.ReadAt(lh[:], int64(local)); err != nil || le.Uint32(lh[:]) != sigLocal {
			if se := (*sourceError)(nil); errors.As(err, &se) {
				return se
			}
			st.skip(memberPath(n.path, e.name), finding.SkipCorrupt, "bad local file header")
			continue
		}
		e.data = int64(local) + localHeaderLen + int64(le.Uint16(lh[26:])) + int64(le.Uint16(lh[28:]))
		if _, err := st.rawMember(n, zd, ra, size, e); err != nil {
			return err
		}
	}
	return nil
}

// storedLength finds where a stored member without sizes ends: at the
// first data descriptor (signature, CRC-32, sizes) whose CRC and size
// match the bytes before it. A match by chance inside the data would need
// the signature, the CRC and the size to agree. It returns the data length
// and the descriptor's.
func (st *walk) storedLength(ra io.ReaderAt, data, size int64) (int64, int64, bool) {
	le := binary.LittleEndian
	limit := min(size, data+st.lim.MaxMemberBytes+24)
	const chunk = 64 << 10
	buf := make([]byte, chunk+24) // room for a descriptor across the boundary
	crc := uint32(0)
	for pos := data; pos < limit; pos += chunk {
		if st.stopped() {
			return 0, 0, false
		}
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), limit-pos)], pos)
		if n == 0 && err != nil {
			return 0, 0, false
		}
		b := buf[:n]
		start := 0
		for i := 0; i+16 <= len(b) && i < chunk; i++ {
			if b[i] != 'P' || le.Uint32(b[i:]) != sigDescriptor {
				continue
			}
			crc = crc32.Update(crc, crc32.IEEETable, b[start:i])
			start = i
			k := pos + int64(i) - data
			if le.Uint32(b[i+4:]) == crc {
				if uint64(le.Uint32(b[i+8:])) == uint64(k) {
					return k, 16, true
				}
				if i+24 <= len(b) && le.Uint64(b[i+8:]) == uint64(k) {
					return k, 24, true
				}
			}
		}
		crc = crc32.Update(crc, crc32.IEEETable, b[start:min(len(b), chunk)])
	}
	return 0, 0, false
}

func orErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// zip64Fields takes the real values from a Zip64 extra field for the
// header fields that are saturated; the field lists only those, in the
// order uncompressed size, compressed size, local header offset.
func zip64Fields(extra []byte, usize, csize, offset uint64) (uint64, uint64, uint64) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			break
		}
		if id == extraZip64 {
			f := extra[:n]
			for _, v := range []*uint64{&usize, &csize, &offset} {
				if *v == 0xffffffff && len(f) >= 8 {
					*v, f = le.Uint64(f), f[8:]
				}
			}
			break
		}
		extra = extra[n:]
	}
	return usize, csize, offset
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
