package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
)

// The secret search must find a secret wherever base64 text holds it:
// at every offset, followed by anything.
func TestBase64FormsFindEveryAlignment(t *testing.T) {
	// A synthetic 30-character secret, as the local RAM issues them.
	const secret = "Kq9sZ2xW7pLmN3vR8tYb1cDe4fGh5j"
	for _, p := range []string{secret, secret[:12]} {
		forms := base64Forms(p)
		for pre := range 5 {
			for post := range 4 {
				enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", pre) + p + strings.Repeat("z", post)))
				found := false
				for _, f := range forms {
					found = found || strings.Contains(enc, f)
				}
				if !found {
					t.Errorf("%d chars after %d bytes, %d after: none of %q in %s", len(p), pre, post, forms, enc)
				}
			}
		}
	}
	// And nothing else: another secret's encoding holds none of them.
	other := base64.StdEncoding.EncodeToString([]byte("Zx8rQ1mN4bV7cX0lK9jH2gF5dS6aP3"))
	for _, f := range base64Forms(secret) {
		if strings.Contains(other, f) {
			t.Errorf("form %q of one secret found in another's encoding", f)
		}
	}
}
