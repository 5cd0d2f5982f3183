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
// The hot path is one bytes.IndexByte pass per "pivot" byte that is rare
// in text and binaries (anchors.go). Each pivot hit is checked against the
// few anchors that contain it: "LTAI" and "STS." (IDs), key-name fragments
// such as "Key" or "_secret" (legacy IDs and lone secrets are only
// reported as the value of a key that names them), and encoded forms of
// "LTAI" (base64 at each offset, base64 of UTF-16LE and of base64,
// UTF-16, %4C, \u004c, &#76;). Nothing else looks at a window unless an
// anchor hit; in a typical window nothing else runs and nothing is
// allocated.
//
// # Pairing
//
// An ID is paired with the secret that is cheapest to reach: same line
// after it, then same line before it, then by line distance (at most 5)
// and byte distance (at most 512), a value labeled by a key name breaking
// ties. An ID only takes a secret that no other ID reaches more cheaply.
// Secrets must be bounded (not part of a longer identifier, word or base64
// blob) and look random (upper, lower and digits; no sequences; entropy).
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
package baseline
