package inflate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

var (
	// ErrHeader is wrapped by errors about an invalid gzip member header,
	// including bytes after a member that do not start another one.
	ErrHeader = errors.New("inflate: invalid gzip header")
	// ErrChecksum is wrapped by errors about a member whose CRC-32 or
	// length trailer does not match its content.
	ErrChecksum = errors.New("inflate: gzip checksum mismatch")
)

// Header flags (RFC 1952 §2.3.1).
const (
	gzipFHCRC    = 1 << 1
	gzipFEXTRA   = 1 << 2
	gzipFNAME    = 1 << 3
	gzipFCOMMENT = 1 << 4
)

// GzipReader decompresses a gzip stream: one or more members, each a
// header, DEFLATE data and a CRC-32 and length trailer, read as one
// stream as gzip(1) and compress/gzip's default do.
type GzipReader struct {
	br   *bufio.Reader
	fl   *Reader
	crc  uint32
	size uint32
	err  error
}

// NewGzipReader reads the first member header from br. An empty input is
// io.EOF.
func NewGzipReader(br *bufio.Reader) (*GzipReader, error) {
	z := &GzipReader{fl: &Reader{}}
	return z, z.Reset(br)
}

// Reset starts on a new stream, reading its first header, and keeps the
// buffers. A zero GzipReader is ready for Reset.
func (z *GzipReader) Reset(br *bufio.Reader) error {
	if z.fl == nil {
		z.fl = &Reader{}
	}
	z.br = br
	z.err = nil
	if err := z.header(); err != nil {
		z.err = err
		return err
	}
	return nil
}

func (z *GzipReader) Read(p []byte) (int, error) {
	for {
		if z.err != nil {
			return 0, z.err
		}
		n, err := z.fl.Read(p)
		if n > 0 {
			z.crc = crc32.Update(z.crc, crc32.IEEETable, p[:n])
			z.size += uint32(n)
			return n, nil
		}
		if err != io.EOF {
			z.err = err
			return 0, err
		}
		if err := z.trailer(); err != nil {
			z.err = err
			return 0, err
		}
		// Another member may follow; only a clean end of input ends the
		// stream.
		if _, err := z.br.Peek(1); err == io.EOF {
			z.err = io.EOF
			return 0, io.EOF
		}
		if err := z.header(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			z.err = err
			return 0, err
		}
	}
}

// header reads one member header (RFC 1952 §2.3) and starts its data.
func (z *GzipReader) header() error {
	h, err := z.br.Peek(10)
	if err != nil {
		if err == io.EOF && len(h) == 0 {
			return io.EOF
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return fmt.Errorf("inflate: read gzip header: %w", err)
	}
	if h[0] != 0x1f || h[1] != 0x8b {
		return fmt.Errorf("%w: not a gzip member", ErrHeader)
	}
	if h[2] != 8 {
		return fmt.Errorf("%w: compression method %d is not deflate", ErrHeader, h[2])
	}
	flags := h[3]
	crc := crc32.Update(0, crc32.IEEETable, h)
	if _, err := z.br.Discard(10); err != nil {
		return truncated(err)
	}
	read := func(n int) ([]byte, error) {
		b, err := z.br.Peek(n)
		if err != nil {
			return nil, truncated(err)
		}
		crc = crc32.Update(crc, crc32.IEEETable, b)
		_, err = z.br.Discard(n)
		return b, err
	}
	if flags&gzipFEXTRA != 0 {
		b, err := read(2)
		if err != nil {
			return err
		}
		for left := int(binary.LittleEndian.Uint16(b)); left > 0; {
			// Peeked in pieces: the field may be larger than br's buffer.
			k := min(left, z.br.Size())
			if _, err := read(k); err != nil {
				return err
			}
			left -= k
		}
	}
	for _, f := range []byte{gzipFNAME, gzipFCOMMENT} {
		if flags&f == 0 {
			continue
		}
		// Zero-terminated; no length limit in the format, so read it in
		// pieces rather than all at once.
		for {
			b, err := z.br.ReadSlice(0)
			crc = crc32.Update(crc, crc32.IEEETable, b)
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				return truncated(err)
			}
		}
	}
	if flags&gzipFHCRC != 0 {
		b, err := z.br.Peek(2)
		if err != nil {
			return truncated(err)
		}
		if binary.LittleEndian.Uint16(b) != uint16(crc) {
			return fmt.Errorf("%w: header CRC-16 mismatch", ErrHeader)
		}
		if _, err := z.br.Discard(2); err != nil {
			return truncated(err)
		}
	}
	z.fl.Reset(z.br)
	z.crc, z.size = 0, 0
	return nil
}

func (z *GzipReader) trailer() error {
	b, err := z.br.Peek(8)
	if err != nil {
		return truncated(err)
	}
	crc, size := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	if _, err := z.br.Discard(8); err != nil {
		return truncated(err)
	}
	if crc != z.crc {
		return fmt.Errorf("%w: CRC-32 %08x, content has %08x", ErrChecksum, crc, z.crc)
	}
	if size != z.size {
		return fmt.Errorf("%w: length %d mod 2^32, content has %d", ErrChecksum, size, z.size)
	}
	return nil
}

// truncated turns an end of input inside a header or trailer into
// io.ErrUnexpectedEOF.
func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
