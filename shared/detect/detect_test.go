package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// TestFiles scans every realistic sample under testdata/ and compares the
// findings with testdata/golden/<name>.jsonl.
func TestFiles(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	d := newDetector(t, Config{})
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			err = d.Scan(context.Background(), e.Name(), bytes.NewReader(data), func(f finding.Finding) {
				if err := enc.Encode(f); err != nil {
					t.Fatal(err)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", e.Name()+".jsonl")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("findings mismatch\n--- want\n%s--- got\n%s", want, got.Bytes())
			}
		})
	}
}

// oneByteReader returns short reads to exercise Scan's refill loop.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 7 {
		p = p[:7]
	}
	return o.r.Read(p)
}

func collect(t testing.TB, scan func(emit func(finding.Finding)) error) []finding.Finding {
	t.Helper()
	var fs []finding.Finding
	if err := scan(func(f finding.Finding) { fs = append(fs, f) }); err != nil {
		t.Fatal(err)
	}
	return fs
}

// boundaryCorpus places every testdata sample between filler so that
// credentials land on window boundaries for small chunk sizes.
func boundaryCorpus(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	filler := strings.Repeat("filler text, nothing to see here\n", 40)
	for i, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString(filler[:(i*97)%len(filler)])
		buf.Write(data)
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

// TestScanMatchesScanBytes checks that the streaming and in-memory entry
// points agree, and that findings do not depend on where windows split.
func TestScanMatchesScanBytes(t *testing.T) {
	data := boundaryCorpus(t)
	ctx := context.Background()
	ref := collect(t, func(emit func(finding.Finding)) error {
		return newDetector(t, Config{ChunkSize: 1 << 20}).ScanBytes(ctx, "c", data, emit)
	})
	if want := goldenCount(t); len(ref) != want {
		t.Fatalf("corpus yields %d findings, the golden files list %d:\n%s", len(ref), want, summary(ref))
	}
	for _, chunk := range []int{13, 100, 1000, 4093, 65536} {
		// Overlap below the minimum is raised to it, never honoured.
		d := newDetector(t, Config{ChunkSize: chunk, Overlap: chunk % 7})
		viaBytes := collect(t, func(emit func(finding.Finding)) error { return d.ScanBytes(ctx, "c", data, emit) })
		viaReader := collect(t, func(emit func(finding.Finding)) error {
			return d.Scan(ctx, "c", oneByteReader{bytes.NewReader(data)}, emit)
		})
		if !equalFindings(viaBytes, viaReader) {
			t.Errorf("chunk %d: Scan and ScanBytes differ:\n%s\n%s", chunk, summary(viaBytes), summary(viaReader))
		}
		if !equalFindings(ref, viaReader) {
			t.Errorf("chunk %d: findings depend on window size:\n%s\n%s", chunk, summary(ref), summary(viaReader))
		}
	}
}

func goldenCount(t testing.TB) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(data, []byte("\n"))
	}
	return n
}

func equalFindings(a, b []finding.Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLineAndColumn(t *testing.T) {
	id, secret := "LTAI5tWK59PFkl0JfI2yyVlb", "zoc51FeogdvbzDp8mFmQp5zvqYMtrb"
	for _, tc := range []struct {
		name      string
		in        string
		line, col int
	}{
		{"first line", id + " " + secret, 1, 1},
		{"third line indented", "a\nb\n   id=" + id + "\nsecret=" + secret, 3, 7},
		{"after crlf", "x\r\n\r\n" + id + "," + secret, 3, 1},
		{"base64 value", "a\ndata: " + b64(id+":"+secret) + "\n", 2, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 0} {
				got := collect(t, func(emit func(finding.Finding)) error {
					return newDetector(t, Config{ChunkSize: chunk}).Scan(context.Background(), "p", strings.NewReader(tc.in), emit)
				})
				if len(got) != 1 || got[0].Line != tc.line || got[0].Column != tc.col || got[0].Path != "p" {
					t.Fatalf("chunk %d: want one finding at %d:%d, got %+v", chunk, tc.line, tc.col, got)
				}
			}
		})
	}
}

// TestEncodings covers each decoder and their nesting.
func TestEncodings(t *testing.T) {
	id, secret := "LTAI5tB3DO7GWIQtUlmOS6EC", "K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk"
	pair := "id=" + id + "\nsecret=" + secret + "\n"
	for _, tc := range []struct {
		name, in, enc string
	}{
		{"plain", pair, "plain"},
		{"base64 offset 0", b64(id + " " + secret), "base64"},
		{"base64 offset 1", b64("=" + id + " " + secret), "base64"},
		{"base64 offset 2", b64("k=" + id + " " + secret), "base64"},
		{"base64 with trailing newline", "echo " + b64(pair) + " | base64 -d", "base64"},
		{"base64url", strings.NewReplacer("+", "-", "/", "_").Replace(b64("\xfb\xff>" + pair)), "base64"},
		{"url", "/x?c=" + strings.NewReplacer("=", "%3D", "\n", "%0A").Replace(pair), "url"},
		{"url fully encoded", "q=" + pctAll(pair), "url"},
		{"html entities", htmlAll(pair), "html"},
		{"html quot", "{&quot;ak&quot;:&quot;" + id + "&quot;,&quot;sk&quot;:&quot;" + secret + "&quot;}", "plain"},
		{"json unicode escapes", uEsc(id) + `\n` + secret, "escape"},
		{"c hex escapes", xEsc(id) + `\t` + secret, "escape"},
		{"utf16le with bom", "\xff\xfe" + utf16le(pair), "utf16le"},
		{"utf16le without bom", "x" + utf16le(pair), "utf16le"},
		{"utf16be", utf16be(pair), "utf16be"},
		{"utf16be with bom", "\xfe\xff" + utf16be(pair), "utf16be"},
		{"base64 of utf16le", "data: " + b64(utf16le(pair)), "base64>utf16le"},
		{"base64 of base64 offset 0", "v: " + b64(b64(pair)), "base64>base64"},
		{"base64 of base64 offset 1", "v: " + b64("a"+b64(" "+pair)), "base64>base64"},
		{"base64 of base64 offset 2", "v: " + b64("ab"+b64("  "+pair)), "base64>base64"},
		{"base64 of base64 offset 3", "v: " + b64("a"+b64("  "+pair)), "base64>base64"},
		{"base64 of base64 offset 4", "v: " + b64("ab"+b64(" "+pair)), "base64>base64"},
		{"base64 of base64 offset 5", "v: " + b64("ab"+b64(pair)), "base64>base64"},
		{"base64 of base64 offset 6", "v: " + b64("a"+b64(pair)), "base64>base64"},
		{"base64 of base64 offset 7", "v: " + b64(b64(" "+pair)), "base64>base64"},
		{"base64 of base64 offset 8", "v: " + b64(b64("  "+pair)), "base64>base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			if len(got) != 1 || got[0].Rule != RuleAccessKeyPair || got[0].AccessKeyID != id ||
				got[0].SecretSHA256 != finding.HashSecret(secret) || got[0].Encoding != tc.enc {
				t.Fatalf("want one %s pair via %s, got %s", id, tc.enc, summary(got))
			}
		})
	}
}

func TestMaxDecodeDepth(t *testing.T) {
	id, secret := "LTAI5tB3DO7GWIQtUlmOS6EC", "K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk"
	in := "v: " + b64(utf16le(id+" "+secret))
	if got := scanString(t, newDetector(t, Config{MaxDecodeDepth: 1}), in); len(got) != 0 {
		t.Fatalf("depth 1 must not see a doubly encoded pair, got %s", summary(got))
	}
}

func TestPairing(t *testing.T) {
	ids := []string{"LTAI5tWK59PFkl0JfI2yyVlb", "LTAI5tPegBPrUhRZdsvDQuc8"}
	secs := []string{"zoc51FeogdvbzDp8mFmQp5zvqYMtrb", "1uvZwnZuDMjJxyZLLKcgTAOGSf9uih"}
	type pair struct{ id, secret string }
	for _, tc := range []struct {
		name string
		in   string
		want []pair
	}{
		{"two blocks", "id1: " + ids[0] + "\nsecret1: " + secs[0] + "\nid2: " + ids[1] + "\nsecret2: " + secs[1] + "\n",
			[]pair{{ids[0], secs[0]}, {ids[1], secs[1]}}},
		{"csv rows", "AccessKey ID,AccessKey Secret\n" + ids[0] + "," + secs[0] + "\n" + ids[1] + "," + secs[1] + "\n",
			[]pair{{ids[0], secs[0]}, {ids[1], secs[1]}}},
		{"secret before id on same line", "sk=" + secs[0] + " ak=" + ids[0], []pair{{ids[0], secs[0]}}},
		{"minified json", `[{"id":"` + ids[0] + `","secret":"` + secs[0] + `"},{"id":"` + ids[1] + `","secret":"` + secs[1] + `"}]`,
			[]pair{{ids[0], secs[0]}, {ids[1], secs[1]}}},
		{"same line wins over next line", ids[0] + " " + secs[0] + "\n" + secs[1], []pair{{ids[0], secs[0]}}},
		{"five lines apart", ids[0] + strings.Repeat("\n", 5) + secs[0], []pair{{ids[0], secs[0]}}},
		{"six lines apart", ids[0] + strings.Repeat("\n", 6) + secs[0], []pair{{ids[0], ""}}},
		{"too far on one line", ids[0] + strings.Repeat(" ", 513) + secs[0], []pair{{ids[0], ""}}},
		{"secret glued to a word", ids[0] + " x" + secs[0], []pair{{ids[0], ""}}},
		{"secret inside snake_case", ids[0] + " my_" + secs[0], []pair{{ids[0], ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			var gp []pair
			for _, f := range got {
				p := pair{id: f.AccessKeyID}
				for _, s := range secs {
					if f.SecretSHA256 == finding.HashSecret(s) {
						p.secret = s
					}
				}
				gp = append(gp, p)
			}
			if len(gp) != len(tc.want) {
				t.Fatalf("want %v, got %s", tc.want, summary(got))
			}
			for i := range gp {
				if gp[i] != tc.want[i] {
					t.Fatalf("want %v, got %s", tc.want, summary(got))
				}
			}
		})
	}
}

func TestIDLengths(t *testing.T) {
	for n := 12; n <= 28; n++ {
		id := ("LTAI" + "5tWK59PFkl0JfI2yyVlbQ7x9k2M")[:n]
		got := scanString(t, newDetector(t, Config{}), "id: "+id+"\n")
		want := n == 16 || n == 24
		if (len(got) == 1) != want || len(got) > 1 {
			t.Errorf("length %d: want reported=%v, got %s", n, want, summary(got))
		}
	}
}

func TestAllowlist(t *testing.T) {
	in := "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tPegBPrUhRZdsvDQuc8\nALIBABA_CLOUD_ACCESS_KEY_SECRET=zoc51FeogdvbzDp8mFmQp5zvqYMtrb\n"
	base := scanString(t, newDetector(t, Config{}), in)
	if len(base) != 1 {
		t.Fatalf("want one finding, got %s", summary(base))
	}
	for _, tc := range []struct {
		name  string
		allow Allowlist
		want  int
	}{
		{"none", Allowlist{}, 1},
		{"regex on id", Allowlist{Regexes: []string{`^LTAI5tPeg`}}, 0},
		{"regex on secret", Allowlist{Regexes: []string{`Mtrb$`}}, 0},
		{"regex elsewhere", Allowlist{Regexes: []string{`ALIBABA`}}, 1},
		{"stop word any case", Allowlist{StopWords: []string{"PEGBPR"}}, 0},
		{"fingerprint", Allowlist{Fingerprints: map[string]bool{base[0].Fingerprint: true}}, 0},
		{"other fingerprint", Allowlist{Fingerprints: map[string]bool{"00": true}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanString(t, newDetector(t, Config{Allow: tc.allow}), in); len(got) != tc.want {
				t.Fatalf("want %d findings, got %s", tc.want, summary(got))
			}
		})
	}
	if _, err := New(Config{Allow: Allowlist{Regexes: []string{"("}}}); err == nil {
		t.Fatal("invalid regex accepted")
	}
}

// TestNoSecretInOutput serialises every finding of the corpus and checks
// that no secret or token appears in it.
func TestNoSecretInOutput(t *testing.T) {
	data := boundaryCorpus(t)
	fs := collect(t, func(emit func(finding.Finding)) error {
		return newDetector(t, Config{}).ScanBytes(context.Background(), "c", data, emit)
	})
	out, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secretsIn(data) {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("output contains secret %s...", s[:4])
		}
	}
}

// secretsIn lists the plain 30-48 character alphanumeric runs of data.
func secretsIn(data []byte) []string {
	var out []string
	for i := 0; i < len(data); {
		if !isAlnum(data[i]) {
			i++
			continue
		}
		j := alnumRun(data, i)
		if n := j - i; n >= 30 && n <= 48 || bytes.HasPrefix(data[i:], []byte("CAIS")) {
			out = append(out, string(data[i:j]))
		}
		i = j
	}
	return out
}

func TestErrors(t *testing.T) {
	d := newDetector(t, Config{ChunkSize: 16})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := d.Scan(ctx, "p", strings.NewReader(strings.Repeat("x", 100000)), func(finding.Finding) {})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if err := d.ScanBytes(ctx, "p", []byte("x"), func(finding.Finding) {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("ScanBytes: want context.Canceled, got %v", err)
	}
	boom := errors.New("boom")
	err = d.Scan(context.Background(), "p", io.MultiReader(strings.NewReader("abc"), errReader{boom}), func(finding.Finding) {})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "read stream: ") {
		t.Fatalf("want wrapped read error, got %v", err)
	}
	for _, cfg := range []Config{{ChunkSize: -1}, {Overlap: -1}, {MaxDecodeDepth: -1}, {MaxDecodeDepth: 99}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestHugeLineBoundedMemory streams a 64 MiB single line with a pair at the
// end and checks the heap did not grow with the input.
func TestHugeLineBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	tail := " LTAI5tWK59PFkl0JfI2yyVlb zoc51FeogdvbzDp8mFmQp5zvqYMtrb"
	r := io.MultiReader(io.LimitReader(repeatReader('a'), 64<<20), strings.NewReader(tail))
	d := newDetector(t, Config{})
	var ms0, ms1 runtimeMemStats
	readMem(&ms0)
	got := collect(t, func(emit func(finding.Finding)) error { return d.Scan(context.Background(), "big", r, emit) })
	readMem(&ms1)
	if len(got) != 1 || got[0].Line != 1 || got[0].Column != 64<<20+2 {
		t.Fatalf("want the pair at 1:%d, got %+v", 64<<20+2, got)
	}
	if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 4<<20 {
		t.Fatalf("allocated %d bytes for a 64 MiB stream", grew)
	}
}

type repeatReader byte

func (c repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestStuckReader(t *testing.T) {
	err := newDetector(t, Config{}).Scan(context.Background(), "p", zeroReader{}, func(finding.Finding) {})
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("want io.ErrNoProgress, got %v", err)
	}
}

// TestDuplicates checks that one credential seen through two encodings on
// one line is reported once, in its plainest form, while the same
// credential on two lines is two findings.
func TestDuplicates(t *testing.T) {
	id, secret := "LTAI5tB3DO7GWIQtUlmOS6EC", "K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk"
	pair := id + " " + secret
	for _, tc := range []struct {
		name  string
		in    string
		want  []string // encodings, in order
		lines []int
	}{
		{"plain and base64 on one line", pair + " " + b64(pair), []string{"plain"}, []int{1}},
		{"base64 then plain on one line", b64(pair) + " " + pair, []string{"plain"}, []int{1}},
		{"html and url on one line", htmlAll(pair) + " " + pctAll(pair), []string{"html"}, []int{1}},
		{"two lines", pair + "\n" + pair + "\n", []string{"plain", "plain"}, []int{1, 2}},
		{"plain, then base64 on the next line", pair + "\n" + b64(pair) + "\n", []string{"plain", "base64"}, []int{1, 2}},
		{"lone id and its pair through an escape", id + `\n` + secret, []string{"escape"}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("want %v, got %s", tc.want, summary(got))
			}
			for i, f := range got {
				if f.Encoding != tc.want[i] || f.Line != tc.lines[i] || f.Rule != RuleAccessKeyPair {
					t.Fatalf("want %v on lines %v, got %s", tc.want, tc.lines, summary(got))
				}
			}
		})
	}
}

// TestConcurrentUse shares one Detector between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	d := newDetector(t, Config{ChunkSize: 4096})
	data := boundaryCorpus(t)
	want := collect(t, func(emit func(finding.Finding)) error { return d.ScanBytes(context.Background(), "c", data, emit) })
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var got []finding.Finding
			err := d.Scan(context.Background(), "c", bytes.NewReader(data), func(f finding.Finding) { got = append(got, f) })
			if err == nil && !equalFindings(got, want) {
				err = errors.New("findings differ between goroutines")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSTS(t *testing.T) {
	id, secret := "STS.xkKIv6IK652wFQsVFOs3CfYlc", "nZrK6sYQsuNEt1iXR1u8g1ypKM9Oe1MQh4NmWI1YxNOk"
	token := "CAIS" + strings.Repeat("q8Zk3+Vb/2Lm", 30) + "=="
	for _, tc := range []struct {
		name, in, rule string
		withToken      bool
	}{
		{"id, secret and token", `{"AccessKeyId":"` + id + `","AccessKeySecret":"` + secret + `","SecurityToken":"` + token + `"}`, RuleSTSCredentials, true},
		{"id and secret", "export OSS_ACCESS_KEY_ID=" + id + "\nexport OSS_ACCESS_KEY_SECRET=" + secret, RuleSTSCredentials, false},
		{"id and token", "security-token: " + token + "\nauthorization: OSS " + id + ":sig=", RuleSTSToken, true},
		{"id alone", "authorization: OSS " + id + ":sig=", "", false},
		{"token alone", "token: " + token, "", false},
		{"30-character secret", id + " " + secret[:30], RuleSTSCredentials, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			if tc.rule == "" {
				if len(got) != 0 {
					t.Fatalf("want nothing, got %s", summary(got))
				}
				return
			}
			if len(got) != 1 || got[0].Rule != tc.rule || got[0].AccessKeyID != id || (got[0].TokenSHA256 != "") != tc.withToken {
				t.Fatalf("want %s (token %v), got %+v", tc.rule, tc.withToken, got)
			}
			if tc.withToken && got[0].TokenSHA256 != finding.HashSecret(token) {
				t.Fatalf("token hash mismatch")
			}
		})
	}
}

// TestKeyNames covers the key spellings that name a legacy ID or a lone
// secret, and near misses that must not.
func TestKeyNames(t *testing.T) {
	legacy, secret := "HnCO3V3xkhTOa1bF", "zoc51FeogdvbzDp8mFmQp5zvqYMtrb"
	for _, tc := range []struct {
		in   string
		rule string // "" = nothing
	}{
		{"AccessKeyId: " + legacy, RuleLegacyAccessKeyID},
		{"access_key_id = '" + legacy + "'", RuleLegacyAccessKeyID},
		{"ALIBABA_CLOUD_ACCESS_KEY_ID=" + legacy, RuleLegacyAccessKeyID},
		{"ALICLOUD_ACCESS_KEY=\"" + legacy + "\"", RuleLegacyAccessKeyID},
		{"spring.cloud.alicloud.access-key=" + legacy, RuleLegacyAccessKeyID},
		{"config.setAccessKeyId(\"" + legacy + "\");", RuleLegacyAccessKeyID},
		{"<AccessKeyId>" + legacy + "</AccessKeyId>", RuleLegacyAccessKeyID},
		{"?OSSAccessKeyId=" + legacy + "&Expires=1", RuleLegacyAccessKeyID},
		{"aws_access_key = " + legacy, ""},   // not an Alibaba name
		{"access_key = " + legacy, ""},       // too generic
		{"AccessKeyId, " + legacy, ""},       // no separator
		{"my_key_id: " + legacy, ""},         // not an access key
		{"AccessKeyId: " + legacy + "x", ""}, // 17 characters
		{"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + secret, RuleAccessKeySecret},
		{"accessKeySecret := \"" + secret + "\"", RuleAccessKeySecret},
		{"spring.cloud.alicloud.secret-key=" + secret, RuleAccessKeySecret},
		{"ak_secret: " + secret, RuleAccessKeySecret},
		{"\"AccessKeySecret\" : \"" + secret + "\"", RuleAccessKeySecret},
		{`{\"accessKeySecret\":\"` + secret + `\"}`, RuleAccessKeySecret},
		{"client_secret: " + secret, ""},         // not an Alibaba name
		{"secret_key = " + secret, ""},           // too generic
		{"accessKeySecret: " + secret + "Q", ""}, // 31 characters
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			if tc.rule == "" && len(got) != 0 || tc.rule != "" && (len(got) != 1 || got[0].Rule != tc.rule) {
				t.Fatalf("want %q, got %s", tc.rule, summary(got))
			}
		})
	}
}

// TestEncodedKeyValues covers lone secrets and legacy IDs whose value, or
// whole text, is encoded: no "LTAI" anywhere to anchor on.
func TestEncodedKeyValues(t *testing.T) {
	legacy, secret := "HnCO3V3xkhTOa1bF", "zoc51FeogdvbzDp8mFmQp5zvqYMtrb"
	for _, tc := range []struct {
		name, in, rule, enc string
	}{
		{"k8s secret value", "data:\n  ALIBABA_CLOUD_ACCESS_KEY_SECRET: " + b64(secret) + "\n", RuleAccessKeySecret, "base64"},
		{"k8s secret value with newline", "data:\n  accessKeySecret: " + b64(secret+"\n") + "\n", RuleAccessKeySecret, "base64"},
		{"k8s legacy id value", "data:\n  OSS_ACCESS_KEY_ID: " + b64(legacy) + "\n", RuleLegacyAccessKeyID, "base64"},
		{"k8s legacy pair", "data:\n  access_key_id: " + b64(legacy) + "\n  access_key_secret: " + b64(secret) + "\n", RuleLegacyAccessKeyPair, "base64"},
		{"utf16 lone secret", utf16le("AccessKeySecret=" + secret), RuleAccessKeySecret, "utf16le"},
		{"utf16 snake secret", utf16be("aliyun_secret: " + secret), RuleAccessKeySecret, "utf16be"},
		{"utf16 legacy id", utf16le("ALICLOUD_ACCESS_KEY=" + legacy), RuleLegacyAccessKeyID, "utf16le"},
		{"url-encoded separator", "q=accessKeySecret%3D" + secret + "%26x", RuleAccessKeySecret, "url"},
		{"base64 of random bytes", "accessKeySecret: " + b64("\x00\x01\x02binary\xff\xfe\x03\x04 not text at all"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			if tc.rule == "" {
				if len(got) != 0 {
					t.Fatalf("want nothing, got %s", summary(got))
				}
				return
			}
			if len(got) != 1 || got[0].Rule != tc.rule || got[0].Encoding != tc.enc {
				t.Fatalf("want %s via %s, got %s", tc.rule, tc.enc, summary(got))
			}
		})
	}
}
