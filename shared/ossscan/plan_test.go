package ossscan

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

func TestPlanIncidents(t *testing.T) {
	pair := func(seed uint64, sev finding.Severity) finding.Finding {
		id, secret := synthetic(seed)
		return finding.Finding{Rule: "alibaba-access-key-pair", AccessKeyID: id, Severity: sev, SecretSHA256: finding.HashSecret(secret),
			Fingerprint: fmt.Sprint("pair-", seed)}
	}
	lone := func(seed uint64) finding.Finding {
		id, _ := synthetic(seed)
		return finding.Finding{Rule: "alibaba-access-key-id", AccessKeyID: id, Severity: finding.SeverityMedium, Fingerprint: fmt.Sprint("id-", seed)}
	}
	sts := finding.Finding{Rule: "alibaba-sts-credentials", AccessKeyID: "STS.NUabcdefghij1234", Severity: finding.SeverityHigh,
		TokenSHA256: finding.HashSecret("token"), Fingerprint: "sts"}
	secretOnly := finding.Finding{Rule: "alibaba-access-key-secret", Severity: finding.SeverityMedium, SecretSHA256: "x", Fingerprint: "s"}
	id := func(seed uint64) string { k, _ := synthetic(seed); return k }

	many := []finding.Finding{}
	for i := range uint64(MaxIncidentsPerObject + 2) {
		many = append(many, pair(100+i, finding.SeverityHigh))
	}
	many = append(many, pair(200, finding.SeverityCritical)) // the most severe is sent whatever its ID

	tests := []struct {
		name                 string
		fs                   []finding.Finding
		send, capped, idOnly int
		first                string // expected first key sent
	}{
		{name: "lone id is not sent", fs: []finding.Finding{lone(1)}, idOnly: 1},
		{name: "secret without id is no incident", fs: []finding.Finding{secretOnly}},
		{name: "pair", fs: []finding.Finding{pair(1, finding.SeverityHigh)}, send: 1, first: id(1)},
		{name: "id seen alone and with its secret", fs: []finding.Finding{lone(1), pair(1, finding.SeverityHigh)}, send: 1, first: id(1)},
		{name: "sts token is evidence", fs: []finding.Finding{sts, lone(2)}, send: 1, idOnly: 1, first: sts.AccessKeyID},
		{name: "capped", fs: many, send: MaxIncidentsPerObject, capped: 3, first: id(200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planIncidents(tt.fs)
			if len(p.send) != tt.send || len(p.capped) != tt.capped || len(p.idOnly) != tt.idOnly {
				t.Fatalf("plan = send %v capped %v id-only %v", p.send, p.capped, p.idOnly)
			}
			if tt.first != "" && p.send[0] != tt.first {
				t.Fatalf("first sent = %s, want %s", p.send[0], tt.first)
			}
			for _, k := range p.send {
				if slices.Contains(p.capped, k) || slices.Contains(p.idOnly, k) || !SecretEvidence(p.byKey[k]) {
					t.Fatalf("key %s planned twice or without evidence", k)
				}
			}
		})
	}
}

// Takers that read the same stale claim race for the same marker; a new
// claim or a new claimTTL window gives a new one.
func TestTakeoverKey(t *testing.T) {
	at := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	stale := Dispatch{IncidentID: "i", State: DispatchClaimed, At: at, RequestID: "r1"}
	now := at.Add(2 * claimTTL).Truncate(claimTTL) // the start of a window
	k := takeoverKey("i", stale, now)
	if k != takeoverKey("i", stale, now.Add(claimTTL-time.Second)) {
		t.Fatal("two takers of one stale claim got different markers")
	}
	other := stale
	other.RequestID = "r2"
	if takeoverKey("i", other, now) == k || takeoverKey("i", stale, now.Add(claimTTL)) == k || takeoverKey("j", stale, now) == k {
		t.Fatal("marker does not depend on the claim, the window and the incident")
	}
}
