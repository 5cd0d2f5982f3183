package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/golden"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// synth returns n random base62 characters. Test key material is generated
// from a fixed seed, never copied from anywhere: it is synthetic by
// construction and the golden files stay stable.
func synth(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

type fixture struct {
	findings []finding.Finding
	skips    []finding.Skip
	secrets  []string // raw secrets behind the findings: must never be printed
}

func mixedFixture() fixture {
	r := rand.New(rand.NewPCG(2, 3))
	var fx fixture
	add := func(path string, line, col int, rule string, sev finding.Severity, withSecret bool, enc string) {
		f := finding.Finding{
			Path: path, Line: line, Column: col, Rule: rule, Severity: sev,
			AccessKeyID: "LTAI" + synth(r, 20), Encoding: enc,
		}
		if withSecret {
			secret := synth(r, 30)
			fx.secrets = append(fx.secrets, secret)
			f.SecretRedacted = finding.Redact(secret)
			f.SecretSHA256 = finding.HashSecret(secret)
		}
		f.SetFingerprint()
		fx.findings = append(fx.findings, f)
	}
	// Deliberately out of order: every batch format must sort.
	add("src/main.go", 12, 5, "alibaba-access-key-pair", finding.SeverityHigh, true, "plain")
	add("deploy/secret.yaml", 7, 9, "alibaba-access-key-pair", finding.SeverityHigh, true, "base64")
	add("deploy/secret.yaml", 3, 1, "alibaba-access-key-id", finding.SeverityMedium, false, "plain")
	add("dist/app.zip!config/prod env.ini", 2, 18, "alibaba-access-key-pair", finding.SeverityHigh, true, "plain")
	add("oss://uploads/users/42/notes.txt", 1, 30, "alibaba-access-key-pair", finding.SeverityCritical, true, "url")
	add("/abs/logs/access.log", 1041, 77, "alibaba-access-key-pair", finding.SeverityHigh, true, "base64>utf16le")

	sts := finding.Finding{
		Path: "ci/env.sh", Line: 4, Column: 26, Rule: "alibaba-sts-credentials", Severity: finding.SeverityHigh,
		AccessKeyID: "STS." + synth(r, 28), Encoding: "plain",
	}
	secret, token := synth(r, 44), "CAIS"+synth(r, 200)
	fx.secrets = append(fx.secrets, secret, token)
	sts.SecretRedacted, sts.SecretSHA256, sts.TokenSHA256 = finding.Redact(secret), finding.HashSecret(secret), finding.HashSecret(token)
	sts.SetFingerprint()
	fx.findings = append(fx.findings, sts)

	fx.skips = []finding.Skip{
		{Path: "vendor", Reason: finding.SkipAllowlistedPath, Detail: `matched "vendor/**"`},
		{Path: "dist/bomb.zip!z.bin", Reason: finding.SkipDecompressLimit, Detail: "expansion budget of 8 GiB exhausted"},
		{Path: "big.iso", Reason: finding.SkipTooLarge},
	}
	return fx
}

var testRules = []Rule{
	{ID: "alibaba-access-key-pair", Description: "Alibaba Cloud AccessKey ID with its secret", Severity: finding.SeverityHigh},
	{ID: "alibaba-access-key-id", Description: "Alibaba Cloud AccessKey ID without a secret nearby", Severity: finding.SeverityMedium},
	{ID: "alibaba-access-key-secret", Description: "Alibaba Cloud AccessKey secret named by its key", Severity: finding.SeverityMedium},
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

func TestGolden(t *testing.T) {
	mixed := mixedFixture()
	cases := []struct {
		name string
		fx   fixture
	}{
		{"empty", fixture{}},
		{"mixed", mixed},
	}
	exts := map[string]string{"text": "txt", "jsonl": "jsonl", "json": "json", "sarif": "sarif"}
	for _, tc := range cases {
		for _, format := range Formats() {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				o := Options{Rules: testRules, ToolVersion: "0.0.0-test"}
				if tc.name == "mixed" {
					o.Scanned = Scanned{Files: 120, Bytes: 5 << 20}
				}
				rep, err := New(format, o)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := rep.Write(&buf, tc.fx.findings, tc.fx.skips); err != nil {
					t.Fatal(err)
				}
				out := buf.Bytes()
				for _, s := range tc.fx.secrets {
					if bytes.Contains(out, []byte(s)) || bytes.Contains(out, []byte(s[:12])) {
						t.Fatalf("output contains (a prefix of) a raw secret")
					}
				}
				checkGolden(t, tc.name+"."+exts[format], out)
			})
		}
	}
}

func TestNewUnknownFormat(t *testing.T) {
	if _, err := New("xml", Options{}); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Fatalf("New(xml) error = %v, want unknown format", err)
	}
}

func TestSortedLeavesInputAlone(t *testing.T) {
	fx := mixedFixture()
	first := fx.findings[0]
	fs, _ := Sorted(fx.findings, fx.skips)
	if fx.findings[0] != first {
		t.Fatal("Sorted reordered its input")
	}
	for i := 1; i < len(fs); i++ {
		if compareFindings(fs[i-1], fs[i]) > 0 {
			t.Fatalf("findings %d and %d out of order: %s:%d, %s:%d", i-1, i, fs[i-1].Path, fs[i-1].Line, fs[i].Path, fs[i].Line)
		}
	}
}

// Each JSON Lines line must decode into finding.Finding or finding.Skip
// according to its type, with nothing lost.
func TestJSONLRoundTrip(t *testing.T) {
	fx := mixedFixture()
	var buf bytes.Buffer
	if err := (JSONL{}).Write(&buf, fx.findings, fx.skips); err != nil {
		t.Fatal(err)
	}
	var gotF []finding.Finding
	var gotS []finding.Skip
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var head struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch head.Type {
		case TypeFinding:
			var f finding.Finding
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatal(err)
			}
			gotF = append(gotF, f)
		case TypeSkip:
			var s finding.Skip
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			gotS = append(gotS, s)
		default:
			t.Fatalf("line with type %q", head.Type)
		}
	}
	wantF, wantS := Sorted(fx.findings, fx.skips)
	if len(gotF) != len(wantF) || len(gotS) != len(wantS) {
		t.Fatalf("got %d findings %d skips, want %d %d", len(gotF), len(gotS), len(wantF), len(wantS))
	}
	for i := range wantF {
		if gotF[i] != wantF[i] {
			t.Errorf("finding %d: got %+v want %+v", i, gotF[i], wantF[i])
		}
	}
	for i := range wantS {
		if gotS[i] != wantS[i] {
			t.Errorf("skip %d: got %+v want %+v", i, gotS[i], wantS[i])
		}
	}
}

func TestJSONEmptyArraysNotNull(t *testing.T) {
	var buf bytes.Buffer
	if err := (&JSON{}).Write(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"findings", "skips"} {
		if string(raw[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, raw[k])
		}
	}
}

// Every result must point at a rule entry with its own ID, even for rules
// the caller did not list.
func TestSARIFRuleIndex(t *testing.T) {
	fx := mixedFixture()
	var buf bytes.Buffer
	if err := (&SARIF{Rules: testRules[:1]}).Write(&buf, fx.findings, fx.skips); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Results) != len(fx.findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(fx.findings))
	}
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d not naming its rule", r.RuleID, r.RuleIndex)
		}
		if r.PartialFingerprints[FingerprintKey] == "" {
			t.Errorf("result %s lacks a fingerprint", r.RuleID)
		}
	}
	if n := len(run.Invocations[0].ToolExecutionNotifications); n != len(fx.skips) {
		t.Errorf("%d notifications, want %d", n, len(fx.skips))
	}
}

func TestArtifactURI(t *testing.T) {
	cases := []struct{ in, want string }{
		{"src/main.go", "src/main.go"},
		{"dist/app.zip!config/prod env.ini", "dist/app.zip!config/prod%20env.ini"},
		{"/abs/a b/x.env", "file:///abs/a%20b/x.env"},
		{"oss://bucket/dir/my key.txt", "oss://bucket/dir/my%20key.txt"},
		{"c:weird/x", "c%3Aweird/x"},
		{"a/100%.txt", "a/100%25.txt"},
		{"-", "-"},
	}
	for _, tc := range cases {
		if got := ArtifactURI(tc.in); got != tc.want {
			t.Errorf("ArtifactURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextSummaryElsewhere(t *testing.T) {
	fx := mixedFixture()
	var out, summary bytes.Buffer
	if err := (&Text{Summary: &summary}).Write(&out, fx.findings, fx.skips); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "skipped") {
		t.Error("skips went to the findings writer")
	}
	if got := strings.Count(summary.String(), "skipped "); got != len(fx.skips) {
		t.Errorf("summary lists %d skips, want %d:\n%s", got, len(fx.skips), summary.String())
	}
	if !strings.Contains(summary.String(), "7 findings (1 critical, 5 high, 1 medium), 3 skipped") {
		t.Errorf("summary line wrong:\n%s", summary.String())
	}
}

func TestStreamConcurrent(t *testing.T) {
	var buf bytes.Buffer
	s := NewStream(&buf)
	fx := mixedFixture()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, f := range fx.findings {
				s.Finding(f)
			}
			for _, sk := range fx.skips {
				s.Skip(sk)
			}
		})
	}
	wg.Wait()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if want := 8 * (len(fx.findings) + len(fx.skips)); len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved or invalid line %q", l)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, os.ErrClosed
	}
	w.n--
	return len(p), nil
}

func TestWriteErrorsReported(t *testing.T) {
	fx := mixedFixture()
	for _, format := range Formats() {
		rep, _ := New(format, Options{})
		if err := rep.Write(&failWriter{n: 0}, fx.findings, fx.skips); err == nil {
			t.Errorf("%s: write error swallowed", format)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	cases := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"}
	for in, want := range cases {
		if got := HumanBytes(in); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", in, got, want)
		}
	}
}
