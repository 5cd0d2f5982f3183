package notify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Synthetic identifiers only: these key IDs do not exist anywhere.
const (
	testKey = "LTAI5tSyntheticKey0001x"
	testSTS = "STS.NUsynthetic0000000000000"
	acct    = "1234567890123456"
)

var (
	detected  = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	responded = time.Date(2026, 11, 23, 10, 0, 3, 0, time.UTC)
)

func base(in incident.Incident) Message {
	return Message{IncidentID: in.ID, Source: in.Source, Action: incident.ActionContain, Severity: in.Severity.String(),
		AccountID: acct, Region: "cn-hangzhou", AccessKeyID: in.AccessKeyID, Exposure: Exposure(in),
		Where:    Where{Object: in.Object, Reporter: in.Reporter, Reason: in.Reason, Trail: in.Audit},
		Evidence: Evidence{Summary: in.Summary, Findings: in.Findings}, DetectedAt: detected, RespondedAt: responded}
}

func messages() map[string]Message {
	scan := incident.Incident{ID: "3f1c0a9e1b2d4c5e6f708192", Source: incident.SourceScan, AccessKeyID: testKey,
		Severity: finding.SeverityCritical, Summary: "AccessKey pair in a public object",
		Object: &incident.Object{Bucket: "akguard-demo-uploads", Key: "app/config.env", ETag: `"5D41402ABC4B2A76B9719D911017C592"`,
			Size: 1234, ACL: "public-read", Public: true},
		Findings: []finding.Finding{{Path: "oss://akguard-demo-uploads/app/config.env", Line: 3, Column: 19, Rule: "alibaba-access-key-pair",
			Severity: finding.SeverityCritical, AccessKeyID: testKey, SecretRedacted: "abcd********",
			SecretSHA256: strings.Repeat("ab", 32), Encoding: "plain", Fingerprint: strings.Repeat("cd", 16)}}}
	out := map[string]Message{}

	m := base(scan)
	m.Outcome = OutcomeContained
	m.Owner = Owner{Type: OwnerRAMUser, UserName: "alice", PrincipalName: "alice@" + acct + ".onaliyun.com", AccountID: acct,
		LookedUpBy: "ims:GetUser", KeyStatus: "Active"}
	m.Actions = []Step{
		{Step: "circuit-breaker", Status: StatusDone, Target: "breaker/", Detail: "slot 1 of 10 this hour"},
		{Step: "ensure-policy", Status: StatusAlready, Target: "akguard-deny-high-risk", Detail: "policy akguard-deny-high-risk v2 is current"},
		{Step: "attach-policy", Status: StatusDone, Target: "alice", Detail: "attached akguard-deny-high-risk to user alice"},
		{Step: "disable-key", Status: StatusDone, Target: testKey, Detail: "set " + testKey + " Inactive"},
	}
	out["contained-scan"] = m

	m = base(scan)
	m.DryRun, m.Outcome, m.Severity = true, OutcomeWouldContain, "high"
	m.Owner = Owner{Type: OwnerRAMUser, UserName: "bob", AccountID: acct, LookedUpBy: "ram:ListAccessKeys", KeyStatus: "Active"}
	m.Actions = []Step{
		{Step: "ensure-policy", Status: StatusDryRun, Target: "akguard-deny-high-risk", Detail: "would ensure-policy akguard-deny-high-risk"},
		{Step: "attach-policy", Status: StatusDryRun, Target: "bob", Detail: "would attach-policy bob"},
		{Step: "disable-key", Status: StatusSkipped, Target: testKey, Reason: "severity high is below AKGUARD_DISABLE_KEY_AT=critical"},
	}
	out["dry-run"] = m

	audit := incident.Incident{ID: "a1", Source: incident.SourceAudit, AccessKeyID: testKey, Severity: finding.SeverityHigh,
		Summary: "CreateAccessKey from a new IP", Audit: json.RawMessage(`{"rule":"new-ip-write","events":[{"eventId":"68D4BC64B29A8D36369698D9","eventName":"CreateAccessKey","sourceIpAddress":"203.0.113.7"}]}`)}
	m = base(audit)
	m.Outcome = OutcomePartial
	m.Owner = Owner{Type: OwnerRAMUser, UserName: "carol", AccountID: acct, LookedUpBy: "actiontrail:GetAccessKeyLastUsedInfo", KeyStatus: "Active"}
	m.Actions = []Step{
		{Step: "ensure-policy", Status: StatusDone, Target: "akguard-deny-high-risk", Detail: "created policy akguard-deny-high-risk"},
		{Step: "attach-policy", Status: StatusDone, Target: "carol", Detail: "attached akguard-deny-high-risk to user carol"},
		{Step: "disable-key", Status: StatusFailed, Target: testKey, Error: "ServiceUnavailable (HTTP 503, request 7A1F)"},
	}
	m.KMS = &KMS{SecretName: "acs/ram/user/carol", Rotated: true, VersionID: "akguard-a1"}
	out["partial-audit-kms"] = m

	root := base(incident.Incident{ID: "r1", Source: incident.SourceManual, AccessKeyID: testKey, Severity: finding.SeverityCritical,
		Reporter: "secops@example.com", Reason: "pasted in a support ticket"})
	root.Outcome = OutcomeEscalated
	root.Owner = Owner{Type: OwnerRoot, AccountID: acct, LookedUpBy: "actiontrail:GetAccessKeyLastUsedInfo", KeyStatus: "unknown"}
	root.Actions = []Step{{Step: "contain", Status: StatusSkipped, Target: testKey, Reason: "the account owner's key cannot carry a RAM policy"}}
	out["escalated-root"] = root

	sts := base(incident.Incident{ID: "s1", Source: incident.SourceScan, AccessKeyID: testSTS, Severity: finding.SeverityHigh,
		Object: &incident.Object{Bucket: "akguard-demo-uploads", Key: "logs/debug.txt", ACL: "private"}})
	sts.Outcome = OutcomeEscalated
	sts.Owner = Owner{Type: OwnerSTS, RoleName: "app-role", AccountID: acct, LookedUpBy: "actiontrail:GetAccessKeyLastUsedInfo"}
	sts.Actions = []Step{{Step: "contain", Status: StatusSkipped, Target: testSTS, Reason: "temporary STS credentials cannot be disabled; they expire"}}
	out["escalated-sts"] = sts

	rel := base(incident.Incident{ID: "rel1", Source: incident.SourceManual, AccessKeyID: testKey, Severity: finding.SeverityHigh,
		Reporter: "secops", Reason: "key rotated"})
	rel.Action, rel.Outcome = incident.ActionRelease, OutcomeReleased
	rel.Owner = Owner{Type: OwnerRAMUser, UserName: "alice", AccountID: acct, LookedUpBy: "record", KeyStatus: "Inactive"}
	rel.Actions = []Step{{Step: "detach-policy", Status: StatusDone, Target: "alice", Detail: "detached akguard-deny-high-risk from user alice"}}
	out["released"] = rel
	return out
}

func TestMessageGolden(t *testing.T) {
	for name, m := range messages() {
		t.Run(name, func(t *testing.T) {
			m.Finish()
			got, err := json.MarshalIndent(&m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("message differs from %s (run with -update to accept):\n%s", path, got)
			}
			// The body on the wire decodes back to the same message.
			body, err := Encode(&m)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := json.MarshalIndent(&back, "", "  ")
			if !bytes.Equal(append(again, '\n'), want) {
				t.Fatal("decode(encode(m)) != m")
			}
		})
	}
}

func TestMessageContent(t *testing.T) {
	ms := messages()
	tests := []struct {
		name      string
		tag       string
		text      []string
		nextSteps []string
	}{
		{"contained-scan", "critical", []string{"RAM user alice", "oss://akguard-demo-uploads/app/config.env", "Outcome: contained", "Done: circuit-breaker, ensure-policy, attach-policy, disable-key"},
			[]string{"Create a new AccessKey", "is now Inactive", "MFA", "ActionTrail", "billing", "Remove the secret"}},
		{"dry-run", "high", []string{"DRY RUN", "Would do: ensure-policy, attach-policy", "Skipped: disable-key"}, []string{"Create a new AccessKey", "then delete it"}},
		{"partial-audit-kms", "high", []string{"used abnormally", "FAILED: disable-key"}, []string{"KMS rotated the managed RAM secret acs/ram/user/carol"}},
		{"escalated-root", "critical", []string{"the account owner", "reported by secops@example.com", "Outcome: escalated"}, []string{"root", "Sign in as the account owner"}},
		{"escalated-sts", "high", []string{"STS session of role app-role"}, []string{"temporary STS credential", "acs:TokenIssueTime"}},
		{"released", "high", []string{"Outcome: released"}, []string{"Delete the old AccessKey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ms[tt.name]
			m.Finish()
			if m.Tag() != tt.tag || m.Version != Version {
				t.Fatalf("tag %q version %q", m.Tag(), m.Version)
			}
			for _, s := range tt.text {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text %q lacks %q", m.Text, s)
				}
			}
			all := strings.Join(m.NextSteps, "\n")
			for _, s := range tt.nextSteps {
				if !strings.Contains(all, s) {
					t.Errorf("next steps lack %q:\n%s", s, all)
				}
			}
			// Never a secret: the only secret-derived values are the
			// finding's redaction (4 characters) and hash.
			body, _ := json.Marshal(&m)
			if bytes.Contains(body, []byte("AccessKeySecret")) || bytes.Contains(body, []byte("SecurityToken")) {
				t.Fatal("message names a secret field")
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	other := base64.StdEncoding.EncodeToString([]byte(`{"version":"akguard.notify/v0"}`))
	for name, body := range map[string]string{"not base64": "%%%", "not json": base64.StdEncoding.EncodeToString([]byte("nope")),
		"other version": other} {
		if _, err := Decode(body); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range messages() {
		m.Finish()
		body, _ := Encode(&m)
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := Decode(body)
		if err != nil {
			return
		}
		again, err := Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}

func BenchmarkFinishEncode(b *testing.B) {
	m := messages()["contained-scan"]
	b.ReportAllocs()
	for b.Loop() {
		mm := m
		mm.Finish()
		if _, err := Encode(&mm); err != nil {
			b.Fatal(err)
		}
	}
}
