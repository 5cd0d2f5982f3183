package unpack

import (
	"bufio"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/inflate"
)

type (
	gzipReader  = *inflate.GzipReader
	zstdDecoder = *zstd.Decoder
)

// maxWindow bounds the history a zstd or xz decoder may allocate. 64 MiB
// is what "xz -9" and "zstd --ultra -22"/"--long=26" use; larger windows
// exist only with explicit long-range flags and are refused as unsupported
// rather than letting one stream claim gigabytes.
const maxWindow = 64 << 20

// decompress opens a single-stream compression layer over br and walks its
// output under the same path: compression is transparent to users.
func (st *walk) decompress(n node, f format, br *bufio.Reader, in *int64) error {
	var r io.Reader
	switch f {
	case formatGzip:
		zr, err := st.getGzip(br)
		if zr != nil {
			defer st.putGzip(zr)
		}
		if err != nil {
			return st.fail(err, n.path)
		}
		r = zr
	case formatBzip2:
		r = bzip2.NewReader(br)
	case formatZstd:
		d, err := st.getZstd(br)
		if d != nil {
			defer st.putZstd(d)
		}
		if err != nil {
			return st.fail(err, n.path)
		}
		r = d
	case formatXz:
		head, _ := br.Peek(12 + 1024)
		if dict, ok := xzDictCap(head); ok && dict > maxWindow {
			st.skip(n.path, finding.SkipUnsupported, fmt.Sprintf("xz dictionary of %s exceeds %s", human(dict), human(maxWindow)))
			return nil
		}
		// A small floor: the reader allocates max(floor, stream's own
		// dictionary), and the default 8 MiB floor would cost every small
		// .xz member 8 MiB.
		xr, err := xz.ReaderConfig{DictCap: 1 << 12}.NewReader(br)
		if err != nil {
			return st.fail(err, n.path)
		}
		r = xr
	default:
		return fmt.Errorf("decompress %s: not a compression format", f)
	}
	child := n
	child.layers++
	child.size = -1
	child.ra = nil
	return st.stream(child, st.meter(n.path, r, in))
}

func (st *walk) getGzip(br *bufio.Reader) (*inflate.GzipReader, error) {
	if k := len(st.gzips); k > 0 {
		zr := st.gzips[k-1]
		st.gzips = st.gzips[:k-1]
		return zr, zr.Reset(br)
	}
	return inflate.NewGzipReader(br)
}

func (st *walk) putGzip(zr *inflate.GzipReader) { st.gzips = append(st.gzips, zr) }

func (st *walk) getZstd(r io.Reader) (*zstd.Decoder, error) {
	if k := len(st.zstds); k > 0 {
		d := st.zstds[k-1]
		st.zstds = st.zstds[:k-1]
		return d, d.Reset(r)
	}
	d, err := zstd.NewReader(r,
		// One goroutine: the walker is already one per input, and a
		// synchronous decoder has no goroutines to leak.
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxWindow),
	)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (st *walk) putZstd(d *zstd.Decoder) { st.zstds = append(st.zstds, d) }

// unsupportedErr reports decoder errors that mean "valid but beyond what
// we decode" rather than corrupt.
func unsupportedErr(err error) bool {
	return errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) ||
		errors.Is(err, errUnsupportedMethod)
}

var errUnsupportedMethod = errors.New("unsupported compression method")

// xzDictCap reads the LZMA2 dictionary size from the first block header
// (xz file format 1.0.4 §3.1: header size byte, flags, optional sizes,
// filter flags; LZMA2 filter ID 0x21 with one property byte, decoded per
// §5.3.1). Later blocks are not checked; in practice every block of a
// stream carries the same filter chain.
func xzDictCap(b []byte) (int64, bool) {
	const streamHeader = 12
	if len(b) <= streamHeader || b[streamHeader] == 0 { // 0: index, no blocks
		return 0, false
	}
	size := (int(b[streamHeader]) + 1) * 4
	if len(b) < streamHeader+size {
		return 0, false
	}
	h := b[streamHeader : streamHeader+size]
	flags := h[1]
	p := 2
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && p < len(h); i++ {
			c := h[p]
			p++
			v |= uint64(c&0x7f) << (7 * i)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 {
		if _, ok := varint(); !ok {
			return 0, false
		}
	}
	if flags&0x80 != 0 {
		if _, ok := varint(); !ok {
			return 0, false
		}
	}
	for range int(flags&3) + 1 {
		id, ok1 := varint()
		psize, ok2 := varint()
		if !ok1 || !ok2 || psize > uint64(len(h)-p) {
			return 0, false
		}
		props := h[p : p+int(psize)]
		p += int(psize)
		if id == 0x21 && len(props) == 1 {
			code := props[0] & 0x3f
			switch {
			case code > 40:
				return 0, false
			case code == 40:
				return 1<<32 - 1, true
			}
			return int64(2|code&1) << (code/2 + 11), true
		}
	}
	return 0, false
}
