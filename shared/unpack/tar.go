package unpack

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/akguard/akguard/shared/finding"
)

// tarArchive names failures of the tar layer itself (bad header, archive
// cut short) once, whether a member read or Next sees them first.
type tarArchive struct {
	path string
	err  *streamError
}

func (a *tarArchive) wrap(err error) error {
	if err == nil || err == io.EOF || classified(err) {
		return err
	}
	if a.err == nil {
		detail := errDetail(err)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			detail = "archive truncated"
		}
		a.err = &streamError{path: a.path, reason: finding.SkipCorrupt, detail: detail}
	}
	return a.err
}

type tarMember struct {
	tr *tar.Reader
	a  *tarArchive
}

func (m tarMember) Read(p []byte) (int, error) {
	n, err := m.tr.Read(p)
	return n, m.a.wrap(err)
}

func (st *walk) tar(n node, r io.Reader) error {
	tr := tar.NewReader(r)
	a := &tarArchive{path: n.path}
	for members := 0; ; members++ {
		if st.stopped() {
			return st.ctx.Err()
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return st.fail(a.wrap(err), n.path)
		}
		if members == st.lim.MaxMembers {
			st.skip(n.path, finding.SkipMemberLimit, fmt.Sprintf("more than %d members, the rest not scanned", st.lim.MaxMembers))
			return nil
		}
		name := memberPath(n.path, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue // names and metadata, no content
		case tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			// Never followed: the target is outside this member.
			st.skip(name, finding.SkipNotRegular, tarTypeName(hdr.Typeflag))
			continue
		}
		if hdr.Size > st.lim.MaxMemberBytes {
			st.skip(name, finding.SkipTooLarge, fmt.Sprintf("size %s exceeds %s", human(hdr.Size), human(st.lim.MaxMemberBytes)))
			continue
		}
		var mr io.Reader = tarMember{tr: tr, a: a}
		if isSparse(hdr) {
			// Holes cost no input: a sparse member is an expansion like
			// any decompressor and is charged to the budget.
			mr = st.meter(name, mr, nil)
		}
		child := node{path: name, depth: n.depth + 1, size: hdr.Size}
		if err := st.stream(child, mr); err != nil {
			return err
		}
	}
}

func isSparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func tarTypeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	}
	return "named pipe"
}

// memberPath appends an archive member to its container's path. Names are
// only ever labels here (nothing is written to disk), so "../x" or "/etc/x"
// is shown cleaned but kept recognisable, and its content is scanned like
// any other: refusing it would hide exactly the archives worth a look.
func memberPath(parent, name string) string {
	name = strings.ReplaceAll(name, `\`, "/") // DOS-era zip writers
	clean := path.Clean(name)
	if clean == "." {
		clean = "(unnamed)"
	}
	// Control characters in a name would forge lines in text reports.
	clean = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(clean, "?"))
	// "!" separates nesting levels; inside a name it would let a member
	// pose as a deeper one ("x.env!testdata/y" and path allowlists).
	clean = strings.ReplaceAll(clean, "!", "%21")
	return parent + "!" + clean
}
