package detect

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

// FuzzScan checks that no input panics, that Scan and ScanBytes agree,
// that the SIMD prefilter and the pivot passes agree, and that no finding
// carries more than 4 characters of a secret.
func FuzzScan(f *testing.F) {
	for _, r := range Rules() {
		for _, s := range append(r.TruePositives, r.FalsePositives...) {
			f.Add([]byte(s))
		}
	}
	f.Add([]byte("\xff\xfe" + utf16le("id=LTAI5tB3DO7GWIQtUlmOS6EC\nsecret=K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk")))
	f.Add([]byte(b64(utf16le("LTAI5tB3DO7GWIQtUlmOS6EC K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk"))))
	small := newDetector(f, Config{ChunkSize: 64})
	big := newDetector(f, Config{})
	pivots := newDetector(f, Config{})
	pivots.simd = false
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		var viaReader, viaBytes []finding.Finding
		if err := small.Scan(ctx, "f", bytes.NewReader(data), func(x finding.Finding) { viaReader = append(viaReader, x) }); err != nil {
			t.Fatal(err)
		}
		if err := small.ScanBytes(ctx, "f", data, func(x finding.Finding) { viaBytes = append(viaBytes, x) }); err != nil {
			t.Fatal(err)
		}
		if !equalFindings(viaReader, viaBytes) {
			t.Fatalf("Scan and ScanBytes differ:\n%s\n%s", summary(viaReader), summary(viaBytes))
		}
		var viaBig, viaPivots []finding.Finding
		if err := big.ScanBytes(ctx, "f", data, func(x finding.Finding) { viaBig = append(viaBig, x) }); err != nil {
			t.Fatal(err)
		}
		if err := pivots.ScanBytes(ctx, "f", data, func(x finding.Finding) { viaPivots = append(viaPivots, x) }); err != nil {
			t.Fatal(err)
		}
		if !equalFindings(viaBig, viaPivots) {
			t.Fatalf("prefilter and pivot passes differ:\n%s\n%s", summary(viaBig), summary(viaPivots))
		}
		viaBytes = append(viaBytes, viaBig...)
		for _, x := range viaBytes {
			if real := strings.TrimRight(x.SecretRedacted, "*"); len(real) > 4 {
				t.Fatalf("redacted secret keeps %d characters", len(real))
			}
			if x.Line < 1 || x.Column < 1 || x.Fingerprint == "" || x.Encoding == "" {
				t.Fatalf("incomplete finding %+v", x)
			}
			if x.SecretSHA256 != "" && x.SecretRedacted == "" {
				t.Fatalf("secret hash without redacted form: %+v", x)
			}
		}
	})
}
