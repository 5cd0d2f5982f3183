package detect

import (
	"context"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

func scanString(t testing.TB, d *Detector, s string) []finding.Finding {
	t.Helper()
	var got []finding.Finding
	if err := d.ScanBytes(context.Background(), "t", []byte(s), func(f finding.Finding) { got = append(got, f) }); err != nil {
		t.Fatal(err)
	}
	return got
}

func newDetector(t testing.TB, cfg Config) *Detector {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRulesSelfCheck walks the rule table: IDs are unique kebab-case,
// every true positive yields exactly its rule once, no false positive
// yields anything.
func TestRulesSelfCheck(t *testing.T) {
	d := newDetector(t, Config{})
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if r.ID != strings.ToLower(r.ID) || strings.ContainsAny(r.ID, " _") {
			t.Errorf("rule %s: not kebab-case", r.ID)
		}
		if r.Description == "" || len(r.TruePositives) == 0 || len(r.FalsePositives) == 0 {
			t.Errorf("rule %s: description, true and false positives are required", r.ID)
		}
		for _, tp := range r.TruePositives {
			got := scanString(t, d, tp)
			if len(got) != 1 || got[0].Rule != r.ID {
				t.Errorf("rule %s: true positive %q\n got %s", r.ID, tp, summary(got))
			}
		}
		for _, fp := range r.FalsePositives {
			if got := scanString(t, d, fp); len(got) != 0 {
				t.Errorf("rule %s: false positive %q\n got %s", r.ID, fp, summary(got))
			}
		}
	}
}

func summary(fs []finding.Finding) string {
	var b strings.Builder
	b.WriteString("[")
	for _, f := range fs {
		b.WriteString("\n  " + f.Rule + " id=" + f.AccessKeyID + " secret=" + f.SecretRedacted + " enc=" + f.Encoding)
	}
	b.WriteString("]")
	return b.String()
}
