// Package detect finds leaked Alibaba Cloud credentials (AccessKey pairs,
// legacy keys, STS credentials) in byte streams of any size, in plain text
// and behind encodings (base64, URL, HTML entities, string escapes,
// UTF-16), at close to memory speed and in bounded memory.
//
// # How a stream is scanned
//
// A stream is read in windows of Config.ChunkSize new bytes plus
// Config.Overlap bytes carried from the previous window. Each position is
// owned by exactly one window (the margins of Overlap/2 on either side
// only give context), so a credential split across windows is found once,
// and Scan and ScanBytes, which walk the same windows, report the same
// findings.
//
// The hot path finds the anchors: "LTAI" and "STS." (IDs), key-name
// fragments such as "Key" or "_secret" (legacy IDs and lone secrets are
// only reported as the value of a key that names them), and encoded forms
// of "LTAI" (base64 at each offset, base64 of UTF-16LE and of base64,
// UTF-16, %4C, \u004c, &#76;). On amd64 with AVX2 one SIMD pass classifies
// every byte pair of the window against a two-byte fingerprint of each
// anchor (prefilter.go) and about one position in 1,000 is checked
// further; elsewhere one bytes.IndexByte pass per rare "pivot" byte does
// the same job more slowly (anchors.go). Nothing else looks at a window
// unless an anchor hit; in a typical window nothing else runs and nothing
// is allocated.
//
// # Pairing
//
// An ID is paired with the secret that is cheapest to reach: same line
// after it, then same line before it, then by line distance (at most 5)
// and byte distance (at most 512), a value labeled by a key name breaking
// ties. An ID only takes a secret that no other ID reaches more cheaply.
// Secrets must be bounded (not part of a longer identifier, word or base64
// blob) and not look typed: placeholder tests (token.go) reject long runs
// and sequences, few distinct characters, repetition, hex and template
// words, each calibrated to reject a random key with odds of order 1e-8.
// A secret without a digit (1 random secret in 200) pairs only when a key
// name or the layout (same line, right next to the ID) marks it.
//
// # Decoding
//
// An encoded anchor, or a plain anchor whose surroundings contain escapes
// (a "%3D" or "\n" glued to a secret), produces a decoded view of about
// 1 KiB either side of it; the view is scanned like the window, up to
// Config.MaxDecodeDepth levels, and findings keep the position of their raw
// bytes. Finding.Encoding names the chain ("base64>utf16le"). The same
// credential on the same line is reported once, through its plainest
// encoding.
package detect
