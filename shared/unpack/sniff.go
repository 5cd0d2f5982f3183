package unpack

import (
	"bytes"
	"path"
	"strings"
)

type format int

const (
	formatUnknown format = iota
	formatGzip
	formatBzip2
	formatZstd
	formatXz
	formatZip
	formatTar
	format7z
	formatRar
	formatLz4
)

func (f format) String() string {
	switch f {
	case formatGzip:
		return "gzip"
	case formatBzip2:
		return "bzip2"
	case formatZstd:
		return "zstd"
	case formatXz:
		return "xz"
	case formatZip:
		return "zip"
	case formatTar:
		return "tar"
	case format7z:
		return "7z"
	case formatRar:
		return "rar"
	case formatLz4:
		return "lz4"
	}
	return "unknown"
}

// sniffLen covers the tar header, the longest signature we check.
const sniffLen = 512

// Magic numbers from the format specifications: RFC 1952 §2.3.1 (gzip),
// RFC 8878 §3.1.1 (zstd frame, skippable frames 0x184D2A5?), the xz file
// format 1.0.4 §2.1.1.1, the bzip2 stream header ("BZh" + level, then the
// block magic 0x314159265359 or the end-of-stream magic 0x177245385090),
// PKWARE APPNOTE 6.3 §4.3.7/§4.3.16 (local file header, end of central
// directory, spanning marker), POSIX ustar (magic at offset 257).
var (
	magicGzip     = []byte{0x1f, 0x8b, 0x08}
	magicZstd     = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicXz       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZipLocal = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicZipSpan  = []byte("PK\x07\x08PK\x03\x04")
	magic7z       = []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}
	magicRar      = []byte("Rar!\x1a\x07")
	magicLz4      = []byte{0x04, 0x22, 0x4d, 0x18}
	bzBlock       = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzEnd         = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

// sniff identifies a stream from its first bytes. It errs towards
// "unknown": a false container costs the content its scan, a missed one
// is still scanned as a leaf.
func sniff(b []byte) format {
	switch {
	case bytes.HasPrefix(b, magicGzip) && len(b) > 3 && b[3]&0xe0 == 0: // reserved FLG bits must be zero
		return formatGzip
	case bytes.HasPrefix(b, magicZstd),
		len(b) >= 4 && b[0]&0xf0 == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18:
		return formatZstd
	case bytes.HasPrefix(b, magicXz):
		return formatXz
	case len(b) >= 10 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9' &&
		(bytes.Equal(b[4:10], bzBlock) || bytes.Equal(b[4:10], bzEnd)):
		return formatBzip2
	case bytes.HasPrefix(b, magicZipLocal), bytes.HasPrefix(b, magicZipEmpty), bytes.HasPrefix(b, magicZipSpan):
		return formatZip
	case isTar(b):
		return formatTar
	case bytes.HasPrefix(b, magic7z):
		return format7z
	case bytes.HasPrefix(b, magicRar):
		return formatRar
	case bytes.HasPrefix(b, magicLz4):
		return formatLz4
	}
	return formatUnknown
}

// isTar accepts a header block whose checksum verifies: ustar, GNU and pax
// archives carry "ustar" at 257, pre-POSIX (v7) ones only the checksum,
// which is what makes a random match implausible for both.
func isTar(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	h := b[:512]
	want, ok := parseOctal(h[148:156])
	if !ok {
		return false
	}
	// Historic writers summed signed chars; readers accept either.
	var unsigned, signed int64
	for i, c := range h {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	if want != unsigned && want != signed {
		return false
	}
	return bytes.HasPrefix(h[257:], []byte("ustar")) || h[0] != 0
}

func parseOctal(b []byte) (int64, bool) {
	s := strings.Trim(string(b), " \x00")
	if s == "" {
		return 0, false
	}
	var v int64
	for _, c := range []byte(s) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | int64(c-'0')
	}
	return v, true
}

type formatHint int

const (
	hintNone formatHint = iota
	hintZip
)

// zipExts are zip-based formats that are commonly found with a prefix
// (launcher script, self-extractor stub) before the first local header.
var zipExts = map[string]bool{
	".zip": true, ".jar": true, ".war": true, ".ear": true, ".apk": true, ".aar": true,
	".whl": true, ".nupkg": true, ".docx": true, ".xlsx": true, ".pptx": true,
	".odt": true, ".ods": true, ".odp": true, ".epub": true, ".ipa": true, ".xpi": true,
}

func hintFor(name string) formatHint {
	if i := strings.LastIndexByte(name, '!'); i >= 0 {
		name = name[i+1:]
	}
	if zipExts[strings.ToLower(path.Ext(name))] {
		return hintZip
	}
	return hintNone
}
