package detect

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestBase64Anchors verifies the anchor table against encoding/base64: for
// "LTAI" (plain, UTF-16LE, and already base64-encoded) at every offset and
// with random neighbours, some base64 anchor occurs at a position whose
// shift lands on a quantum boundary, for both alphabets.
func TestBase64Anchors(t *testing.T) {
	var anchors []anchor
	for _, g := range anchorGroups() {
		for _, a := range g.anchors {
			if a.pat[a.off] != g.pivot {
				t.Fatalf("anchor %q: pivot %q not at offset %d", a.pat, g.pivot, a.off)
			}
			if a.kind == akB64 {
				anchors = append(anchors, a)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	randBytes := func(n int, alphabet string) []byte {
		b := make([]byte, n)
		for i := range b {
			if alphabet == "" {
				b[i] = byte(r.UintN(256))
			} else {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		return b
	}
	const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for _, core := range []struct {
		name     string
		text     []byte
		alphabet string // neighbours: "" = any byte
	}{
		{"LTAI", []byte("LTAI"), ""},
		{"utf16le", []byte("L\x00T\x00A\x00I\x00"), ""},
		{"base64 TFRBS", []byte("TFRBS"), b64chars},
		{"base64 xUQU", []byte("xUQU"), b64chars},
		{"base64 MVEFJ", []byte("MVEFJ"), b64chars},
	} {
		for off := 0; off < 3; off++ {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				for trial := 0; trial < 200; trial++ {
					in := append(randBytes(off, core.alphabet), core.text...)
					in = append(in, randBytes(3, core.alphabet)...)
					out := []byte(enc.EncodeToString(in))
					found := false
					for _, a := range anchors {
						if p := bytes.Index(out, a.pat); p >= 0 && (p-a.shift)%4 == 0 {
							found = true
						}
					}
					if !found {
						t.Fatalf("%s at offset %d: no anchor in %s", core.name, off, out)
					}
				}
			}
		}
	}
}
