package unpack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/akguard/akguard/shared/finding"
)

// zerosDeflate returns a raw deflate stream of gib GiB of zeros without
// compressing gigabytes: after a sync flush the stream is byte aligned and
// the window holds only zeros, so the block that encodes the second MiB
// decodes to a MiB of zeros wherever it is repeated.
func zerosDeflate(t testing.TB, mib int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	w.Write(zeros)
	w.Flush()
	first := buf.Len()
	w.Write(zeros)
	w.Flush()
	out := bytes.Clone(buf.Bytes()[:first])
	block := buf.Bytes()[first:]
	for range mib - 1 {
		out = append(out, block...)
	}
	// Final empty stored block (RFC 1951 §3.2.4): BFINAL=1, BTYPE=00, LEN=0, NLEN=0xffff.
	return append(out, 0x01, 0x00, 0x00, 0xff, 0xff)
}

// gzipOfDeflate wraps raw deflate data in a gzip member (RFC 1952 §2.3).
// The trailer is wrong on purpose: a bomb must be stopped before it.
func gzipOfDeflate(d []byte) []byte {
	h := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	return append(append(h, d...), 0, 0, 0, 0, 0, 0, 0, 0)
}

// heapPeak samples live heap objects cheaply (no stop-the-world) so tests
// can assert that memory stays bounded while a bomb is walked.
type heapPeak struct {
	sample []metrics.Sample
	base   uint64
	peak   uint64
}

func newHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	h.base = h.read()
	return h
}

func (h *heapPeak) read() uint64 {
	metrics.Read(h.sample)
	return h.sample[0].Value.Uint64()
}

func (h *heapPeak) observe() {
	if v := h.read(); v > h.peak {
		h.peak = v
	}
}

func (h *heapPeak) grown() uint64 {
	if h.peak < h.base {
		return 0
	}
	return h.peak - h.base
}

// bombRun walks src, draining every leaf while sampling the heap, and
// counts skip reasons.
type bombRun struct {
	leaves  int
	read    int64
	skips   map[finding.SkipReason]int
	heap    *heapPeak
	elapsed time.Duration
	err     error
}

func runBomb(t testing.TB, lim Limits, src Source) *bombRun {
	t.Helper()
	lim.TempDir = t.TempDir()
	r := &bombRun{skips: map[finding.SkipReason]int{}, heap: newHeapPeak()}
	buf := make([]byte, 64<<10)
	start := time.Now()
	r.err = New(lim).Walk(context.Background(), src, func(_ context.Context, l Leaf) error {
		r.leaves++
		for i := 0; ; i++ {
			n, err := l.R.Read(buf)
			r.read += int64(n)
			if i%32 == 0 {
				r.heap.observe()
			}
			if err != nil {
				return nil
			}
		}
	}, func(s finding.Skip) {
		r.heap.observe()
		r.skips[s.Reason]++
	})
	r.elapsed = time.Since(start)
	t.Logf("leaves=%d read=%s skips=%v heap+%s in %v", r.leaves, human(r.read), r.skips, human(int64(r.heap.grown())), r.elapsed)
	return r
}

const heapBound = 96 << 20 // generous: buffers per level, spools, decoder windows

func TestZerosBomb(t *testing.T) {
	deflate := zerosDeflate(t, 10<<10) // 10 GiB of zeros in ~10 MiB
	gzBomb := gzipOfDeflate(deflate)
	zipBomb := func(declared uint64) []byte {
		return zipOf(t, zent{name: "zeros.bin", data: string(deflate), raw: true, method: 8, size: declared},
			deflated("after.txt", "after the bomb\n"))
	}
	tests := []struct {
		name   string
		src    Source
		lim    Limits
		want   finding.SkipReason
		leaves int
	}{
		{name: "gzip stream stops at the ratio limit", src: bytesSource("zeros.gz", gzBomb), want: finding.SkipRatioLimit, leaves: 1},
		{name: "gzip stream stops at the budget without a ratio limit", src: bytesSource("zeros.gz", gzBomb),
			lim: Limits{MaxRatio: 1 << 30, MaxTotalBytes: 64 << 20}, want: finding.SkipDecompressLimit, leaves: 1},
		{name: "gzip stream stops at the member size", src: bytesSource("zeros.gz", gzBomb),
			lim: Limits{MaxRatio: 1 << 30, MaxMemberBytes: 32 << 20}, want: finding.SkipTooLarge, leaves: 1},
		{name: "zip member declared huge is not opened", src: raSource("bomb.zip", zipBomb(10<<30)), want: finding.SkipTooLarge, leaves: 1},
		{name: "zip member lying about its size stops at the ratio limit", src: raSource("bomb.zip", zipBomb(3<<30)),
			want: finding.SkipRatioLimit, leaves: 2},
		{name: "streamed zip member stops at the ratio limit", src: bytesSource("bomb.zip", zipBomb(3<<30)),
			want: finding.SkipRatioLimit, leaves: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBomb(t, tc.lim, tc.src)
			if r.err != nil {
				t.Fatalf("Walk = %v", r.err)
			}
			if r.skips[tc.want] != 1 || len(r.skips) != 1 {
				t.Errorf("skips = %v, want one %s", r.skips, tc.want)
			}
			if r.leaves != tc.leaves {
				t.Errorf("leaves = %d, want %d", r.leaves, tc.leaves)
			}
			if r.read > 64<<20 {
				t.Errorf("read %s before stopping, want at most 64 MiB", human(r.read))
			}
			if g := r.heap.grown(); g > heapBound {
				t.Errorf("heap grew by %s, want under %s", human(int64(g)), human(heapBound))
			}
		})
	}
}

// nestedBomb builds a 42.zip-style archive: levels of zips each holding
// `fan` deflated copies of the level below, zeros at the bottom.
func nestedBomb(t testing.TB, levels, fan, leafMiB int) []byte {
	t.Helper()
	var ents []zent
	zeros := string(make([]byte, leafMiB<<20))
	for i := range fan {
		ents = append(ents, deflated("zeros"+strconv.Itoa(i)+".bin", zeros))
	}
	b := zipOf(t, ents...)
	for range levels - 1 {
		ents = ents[:0]
		for i := range fan {
			ents = append(ents, deflated("lib"+strconv.Itoa(i)+".zip", string(b)))
		}
		b = zipOf(t, ents...)
	}
	return b
}

func TestNestedZipBomb(t *testing.T) {
	bomb := nestedBomb(t, 4, 16, 4) // 16^4 leaves of 4 MiB: 256 GiB
	t.Logf("nested bomb: %s compressed", human(int64(len(bomb))))
	for _, src := range []Source{raSource("42.zip", bomb), bytesSource("42.zip", bomb)} {
		r := runBomb(t, Limits{MaxTotalBytes: 256 << 20}, src)
		if r.err != nil {
			t.Fatalf("Walk = %v", r.err)
		}
		if r.skips[finding.SkipDecompressLimit] != 1 || r.skips[finding.SkipRatioLimit] == 0 {
			t.Errorf("skips = %v, want ratio limits then one decompressed limit", r.skips)
		}
		if r.read > 256<<20 {
			t.Errorf("read %s, more than the budget", human(r.read))
		}
		if g := r.heap.grown(); g > heapBound {
			t.Errorf("heap grew by %s, want under %s", human(int64(g)), human(heapBound))
		}
	}
}

// overlapBomb builds David Fifield's overlapping-file zip bomb in its
// simplest form: one local file and n central directory entries that all
// point at it. Each entry inflates the same 1 MiB kernel, just under the
// ratio floor, so only the total budget can stop it.
func overlapBomb(t testing.TB, n int) []byte {
	t.Helper()
	var kbuf bytes.Buffer
	w, _ := flate.NewWriter(&kbuf, flate.BestCompression)
	zeros := make([]byte, ratioFloor)
	w.Write(zeros)
	w.Close()
	kernel := kbuf.Bytes()
	crc := crc32.ChecksumIEEE(zeros)

	// Record layouts: PKWARE APPNOTE 6.3 §4.3.7 (local file header),
	// §4.3.12 (central directory header), §4.3.16 (end of central directory).
	le := binary.LittleEndian
	var out []byte
	out = le.AppendUint32(out, 0x04034b50)
	out = le.AppendUint16(out, 20) // version needed
	out = le.AppendUint16(out, 0)  // flags
	out = le.AppendUint16(out, 8)  // deflate
	out = le.AppendUint32(out, 0)  // time, date
	out = le.AppendUint32(out, crc)
	out = le.AppendUint32(out, uint32(len(kernel)))
	out = le.AppendUint32(out, uint32(len(zeros)))
	out = le.AppendUint16(out, 1) // name length
	out = le.AppendUint16(out, 0) // extra length
	out = append(out, 'k')
	out = append(out, kernel...)
	cdStart := len(out)
	for i := range n {
		name := strconv.Itoa(i)
		out = le.AppendUint32(out, 0x02014b50)
		out = le.AppendUint16(out, 20) // made by
		out = le.AppendUint16(out, 20) // needed
		out = le.AppendUint16(out, 0)
		out = le.AppendUint16(out, 8)
		out = le.AppendUint32(out, 0)
		out = le.AppendUint32(out, crc)
		out = le.AppendUint32(out, uint32(len(kernel)))
		out = le.AppendUint32(out, uint32(len(zeros)))
		out = le.AppendUint16(out, uint16(len(name)))
		out = le.AppendUint16(out, 0) // extra
		out = le.AppendUint16(out, 0) // comment
		out = le.AppendUint16(out, 0) // disk
		out = le.AppendUint16(out, 0) // internal attrs
		out = le.AppendUint32(out, 0) // external attrs
		out = le.AppendUint32(out, 0) // local header offset: all the same
		out = append(out, name...)
	}
	cdSize := len(out) - cdStart
	out = le.AppendUint32(out, 0x06054b50)
	out = le.AppendUint16(out, 0)
	out = le.AppendUint16(out, 0)
	out = le.AppendUint16(out, uint16(n))
	out = le.AppendUint16(out, uint16(n))
	out = le.AppendUint32(out, uint32(cdSize))
	out = le.AppendUint32(out, uint32(cdStart))
	return le.AppendUint16(out, 0)
}

func TestOverlappingZipBomb(t *testing.T) {
	bomb := overlapBomb(t, 20000) // 20000 x 1 MiB from ~30 KiB
	t.Logf("overlap bomb: %s compressed", human(int64(len(bomb))))
	r := runBomb(t, Limits{MaxTotalBytes: 64 << 20}, raSource("overlap.zip", bomb))
	if r.err != nil {
		t.Fatalf("Walk = %v", r.err)
	}
	if r.skips[finding.SkipDecompressLimit] != 1 || len(r.skips) != 1 {
		t.Errorf("skips = %v, want exactly one decompressed limit", r.skips)
	}
	if r.read != 64<<20 {
		t.Errorf("read %d bytes, want exactly the 64 MiB budget", r.read)
	}
	if r.leaves != 64 {
		t.Errorf("leaves = %d, want 64 (one per MiB of budget)", r.leaves)
	}
}

// Members are counted at the default limit; the walk neither reads the
// rest nor keeps per-member state.
func TestHugeMemberCount(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := range DefaultMaxMembers + 5 {
		if err := tw.WriteHeader(&tar.Header{Name: "f" + strconv.Itoa(i), Typeflag: tar.TypeReg, Mode: 0o644, ModTime: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	r := runBomb(t, Limits{}, bytesSource("many.tar.gz", buf.Bytes()))
	if r.err != nil {
		t.Fatalf("Walk = %v", r.err)
	}
	if r.leaves != DefaultMaxMembers || r.skips[finding.SkipMemberLimit] != 1 {
		t.Errorf("leaves = %d, skips = %v; want %d leaves and one member limit", r.leaves, r.skips, DefaultMaxMembers)
	}
}

func TestCorruptNestedGzipInTar(t *testing.T) {
	// The tar and its gzip layer break together; the failure is reported
	// once, on the layer that failed, and earlier leaves stay emitted.
	tgz := gz(t, tarOf(t, tar.FormatUSTAR,
		tent{name: "first.txt", data: "first\n"},
		tent{name: "second.bin", data: string(bytes.Repeat([]byte("0123456789abcdef"), 4096))}))
	r := runBomb(t, Limits{}, bytesSource("cut.tgz", tgz[:len(tgz)*2/3]))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.leaves != 2 || r.skips[finding.SkipCorrupt] != 1 || len(r.skips) != 1 {
		t.Errorf("leaves = %d, skips = %v; want 2 leaves and one corrupt skip", r.leaves, r.skips)
	}
}

// gnuSparse builds an old-GNU sparse member (type 'S', GNU tar manual
// "Sparse Files" / tar.h struct sparse) whose one 512-byte data chunk
// stands for realSize bytes: holes read back as zeros and cost no input.
func gnuSparse(t testing.TB, name string, realSize int64) []byte {
	t.Helper()
	h := make([]byte, 512)
	copy(h, name)
	octal := func(b []byte, v int64) { copy(b, fmt.Sprintf("%0*o\x00", len(b)-1, v)) }
	octal(h[100:108], 0o644)
	octal(h[108:116], 0)
	octal(h[116:124], 0)
	octal(h[124:136], 512) // bytes stored in the archive
	octal(h[136:148], epoch.Unix())
	h[156] = 'S'
	copy(h[257:265], "ustar  \x00")
	octal(h[386:398], 0)   // sparse[0].offset
	octal(h[398:410], 512) // sparse[0].numbytes
	octal(h[483:495], realSize)
	copy(h[148:156], "        ")
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	data := bytes.Repeat([]byte{'s'}, 512)
	return cat(h, data, make([]byte, 1024))
}

func TestSparseTarBomb(t *testing.T) {
	sparse := gnuSparse(t, "holes.bin", 1<<30)
	r := runBomb(t, Limits{MaxTotalBytes: 16 << 20}, bytesSource("sparse.tar", sparse))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.leaves != 1 || r.skips[finding.SkipDecompressLimit] != 1 || r.read > 16<<20 {
		t.Errorf("leaves = %d, read %s, skips = %v; want one leaf cut at the 16 MiB budget", r.leaves, human(r.read), r.skips)
	}
}

// Decoders run synchronously: nothing may outlive a walk.
func TestNoGoroutinesLeft(t *testing.T) {
	inputs := []Source{
		bytesSource("a.zst", zst(t, []byte("zstd\n"))),
		bytesSource("z.zip", zipOf(t, zent{name: "z.txt", data: "zstd in zip\n", method: methodZstd})),
		bytesSource("a.xz", xzOf(t, []byte("xz\n"))),
		bytesSource("cut.zst", zst(t, bytes.Repeat([]byte("cut "), 10000))[:40]),
	}
	runtime.GC()
	before := runtime.NumGoroutine()
	for _, src := range inputs {
		runBomb(t, Limits{}, src)
	}
	time.Sleep(10 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}

// rawStoredZip writes n one-byte stored members with sizes in their local
// headers (no data descriptors), as jar tools do; names are padded to pad.
func rawStoredZip(t testing.TB, n, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		name := strconv.Itoa(i)
		name += strings.Repeat("_", max(pad-len(name), 0))
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store,
			CompressedSize64: 1, UncompressedSize64: 1, CRC32: crc32.ChecksumIEEE([]byte{'x'})})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{'x'})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZipDirectoryBounds(t *testing.T) {
	long := rawStoredZip(t, 5000, 1000) // a 5 MiB directory
	forged := bytes.Clone(long)
	// Understate the directory size in the end record: archive/zip would
	// read (and keep) every header regardless; the walker stops it at the
	// in-memory bound and falls back to the local headers.
	binary.LittleEndian.PutUint32(forged[len(forged)-22+12:], 46)
	zip64 := rawStoredZip(t, 1<<16+5, 0) // more than 65535: Zip64 end records
	tests := []struct {
		name   string
		data   []byte
		lim    Limits
		leaves int
		skips  map[finding.SkipReason]int
	}{
		{name: "directory too large to hold is read entry by entry", data: long, leaves: 5000,
			skips: map[finding.SkipReason]int{}},
		{name: "directory larger than declared", data: forged, leaves: 5000,
			skips: map[finding.SkipReason]int{finding.SkipCorrupt: 1}},
		{name: "zip64 count over the limit", data: zip64, lim: Limits{MaxMembers: 1000}, leaves: 1000,
			skips: map[finding.SkipReason]int{finding.SkipMemberLimit: 1}},
		{name: "zip64 count within the limit", data: zip64, leaves: 1<<16 + 5, skips: map[finding.SkipReason]int{}},
		{name: "prefixed jar with a large directory", data: cat([]byte("#!/bin/sh\n"), long), leaves: 5000,
			skips: map[finding.SkipReason]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBomb(t, tc.lim, raSource("big.jar", tc.data))
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.leaves != tc.leaves || fmt.Sprint(r.skips) != fmt.Sprint(tc.skips) {
				t.Errorf("leaves = %d, skips = %v; want %d and %v", r.leaves, r.skips, tc.leaves, tc.skips)
			}
		})
	}
}
