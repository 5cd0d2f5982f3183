package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/finding"
)

// Small hand-built cases for the edges of each rule. The scenarios in
// scenario_test.go show the rules on realistic history; these pin down
// thresholds, exemptions and attribution.

// evAt builds an event; ids are unique per test via the counter in *int.
type evb struct {
	n   int
	key string
}

func (b *evb) ev(t time.Time, ip, region, svc, name, code string) Event {
	b.n++
	return Event{EventID: fmt.Sprintf("T%05d", b.n), EventTime: t, SourceIPAddress: ip, AcsRegion: region,
		ServiceName: svc, EventName: name, ErrorCode: code, UserAgent: "aliyun-cli/3.0.200",
		UserIdentity: UserIdentity{Type: TypeRAMUser, AccessKeyID: b.key, UserName: "dev", AccountID: "1"}}
}

// Monday 2026-10-19; the training fortnight ends at that Monday 00:00 UTC.
var monday = time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC)

// trained returns a baseline for tKey: two weeks of weekday activity,
// 09:00–17:00 UTC, five calls a window every hour, from 203.0.113.5 in
// cn-hangzhou. Under the default config (UTC, 08–20 weekdays) it is
// mature and keeps to working hours.
func trained(t testing.TB, eng *Engine) Baseline {
	t.Helper()
	b := &evb{key: tKey}
	var evs []Event
	for d := monday.AddDate(0, 0, -14); d.Before(monday); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		for h := 9; h < 17; h++ {
			for i := range 5 {
				evs = append(evs, b.ev(d.Add(time.Duration(h)*time.Hour+time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", ""))
			}
		}
	}
	res := eng.Replay(Baseline{}, evs)
	if len(res.Incidents) != 0 {
		t.Fatalf("training raised %d incidents", len(res.Incidents))
	}
	return res.Baseline
}

func TestRuleEdges(t *testing.T) {
	at := monday.Add(10 * time.Hour) // Monday 10:00 UTC, working hours
	win := Window{Start: at, End: at.Add(5 * time.Minute)}
	repeat := func(n int, f func(i int) Event) []Event {
		var out []Event
		for i := range n {
			out = append(out, f(i))
		}
		return out
	}
	tests := []struct {
		name      string
		cfg       func(c *Config)
		untrained bool // evaluate against an empty baseline
		window    *Window
		events    func(b *evb) []Event
		want      []string // rules fired, in table order; nil = no incident
	}{
		{name: "normal window", events: func(b *evb) []Event {
			return repeat(5, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")
			})
		}},
		{name: "new address in a known /24 is familiar", events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.113.99", "cn-hangzhou", "Ecs", "DescribeInstances", "")}
		}},
		{name: "new /24", want: []string{RuleUnfamiliarSource}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.114.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")}
		}},
		{name: "new region", want: []string{RuleUnfamiliarSource}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.113.5", "eu-central-1", "Ecs", "DescribeInstances", "")}
		}},
		{name: "global service region says nothing", events: func(b *evb) []Event {
			e := b.ev(at, "203.0.113.5", "eu-central-1", "Ram", "ListUsers", "")
			e.IsGlobal = true
			return []Event{e}
		}},
		{name: "masked or internal address says nothing", events: func(b *evb) []Event {
			return []Event{b.ev(at, "10.10.**.**", "cn-hangzhou", "Ecs", "DescribeInstances", ""),
				b.ev(at, "Internal", "cn-hangzhou", "Ecs", "DescribeInstances", "")}
		}},
		{name: "unknown key from anywhere: no baseline, no opinion", untrained: true, events: func(b *evb) []Event {
			return []Event{b.ev(monday.AddDate(0, 0, 5).Add(3*time.Hour), "192.0.2.1", "eu-central-1", "Ecs", "DescribeInstances", "")}
		}},
		{name: "saturday night for a weekday key", want: []string{RuleOffHours}, window: &Window{Start: monday.AddDate(0, 0, 5).Add(3 * time.Hour), End: monday.AddDate(0, 0, 5).Add(3*time.Hour + 5*time.Minute)},
			events: func(b *evb) []Event {
				return []Event{b.ev(monday.AddDate(0, 0, 5).Add(3*time.Hour), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")}
			}},
		{name: "off-hours share above the limit: not judged by the clock", cfg: func(c *Config) {
			c.WorkingHours.Start, c.WorkingHours.End = "12:00", "13:00"
		}, window: &Window{Start: monday.AddDate(0, 0, 5).Add(3 * time.Hour), End: monday.AddDate(0, 0, 5).Add(3*time.Hour + 5*time.Minute)},
			events: func(b *evb) []Event {
				return []Event{b.ev(monday.AddDate(0, 0, 5).Add(3*time.Hour), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")}
			}},
		{name: "9 denied calls are not a burst", events: func(b *evb) []Event {
			return repeat(9, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Rds", "DescribeDBInstances", "NoPermission")
			})
		}},
		{name: "10 denied calls are", want: []string{RuleDeniedBurst}, events: func(b *evb) []Event {
			return repeat(10, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Rds", "DescribeDBInstances", "Forbidden.RAM")
			})
		}},
		{name: "10 denied calls spread wider than the burst window are not", cfg: func(c *Config) { c.DeniedBurst.Window = time.Minute },
			events: func(b *evb) []Event {
				return repeat(10, func(i int) Event {
					return b.ev(at.Add(time.Duration(i)*25*time.Second), "203.0.113.5", "cn-hangzhou", "Rds", "DescribeDBInstances", "NoPermission")
				})
			}},
		{name: "other errors are not denials", events: func(b *evb) []Event {
			return repeat(12, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "Throttling.User")
			})
		}},
		// p95 of 5 calls per window: limit max(3×5, 5+50) = 55.
		{name: "55 calls stay under the spike limit", events: func(b *evb) []Event {
			return repeat(55, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")
			})
		}},
		{name: "56 calls are a spike", want: []string{RuleVolumeSpike}, events: func(b *evb) []Event {
			return repeat(56, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")
			})
		}},
		{name: "spike limit scales with a longer window", window: &Window{Start: at, End: at.Add(10 * time.Minute)}, events: func(b *evb) []Event {
			return repeat(100, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")
			})
		}},
		{name: "failed dangerous attempt still counts", want: []string{RuleDangerousOperation}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.113.5", "cn-hangzhou", "Ecs", "DeleteInstances", "NoPermission")}
		}},
		{name: "SLS and SMS names map to their RAM namespaces", want: []string{RuleDangerousOperation}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.113.5", "cn-hangzhou", "Sls", "DeleteLogStore", ""), b.ev(at, "203.0.113.5", "cn-hangzhou", "Dysmsapi", "SendSms", "")}
		}},
		{name: "allowed routine deletion", cfg: func(c *Config) {
			c.Allow = []Allow{{AccessKeyID: tKey, Rules: []string{RuleDangerousOperation}, Operations: []string{"Oss:DeleteObject"}, Reason: "deploy prunes old builds"}}
		}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.113.5", "cn-hangzhou", "Oss", "DeleteObject", "")}
		}},
		{name: "allowance for one operation does not cover another", want: []string{RuleDangerousOperation}, cfg: func(c *Config) {
			c.Allow = []Allow{{Principal: "dev", Rules: []string{RuleDangerousOperation}, Operations: []string{"Oss:DeleteObject"}}}
		}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "203.0.113.5", "cn-hangzhou", "Oss", "DeleteObject", ""), b.ev(at, "203.0.113.5", "cn-hangzhou", "Ram", "CreateUser", "")}
		}},
		{name: "an allowed key that leaks still fires leaked-key-in-use", want: []string{RuleLeakedKeyInUse}, cfg: func(c *Config) {
			c.Allow = []Allow{{AccessKeyID: tKey}}
			c.LeakedKeys = map[string]LeakInfo{tKey: {Source: "scan"}}
		}, events: func(b *evb) []Event {
			return []Event{b.ev(at, "192.0.2.1", "eu-central-1", "Oss", "DeleteBucket", "")}
		}},
		{name: "three medium rules make a high incident", want: []string{RuleDeniedBurst, RuleVolumeSpike, RuleUnfamiliarSource}, events: func(b *evb) []Event {
			return repeat(60, func(i int) Event {
				return b.ev(at.Add(time.Duration(i)*time.Second), "192.0.2.1", "cn-hangzhou", "Kms", "ListSecrets", "NoPermission")
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			eng, err := NewEngine(cfg)
			if err != nil {
				t.Fatal(err)
			}
			base := Baseline{}
			if !tt.untrained {
				train, _ := NewEngine(DefaultConfig())
				base = trained(t, train)
			}
			w := win
			if tt.window != nil {
				w = *tt.window
			}
			res := eng.Evaluate(base, w, tt.events(&evb{key: tKey}))
			var got []string
			switch len(res.Incidents) {
			case 0:
			case 1:
				for _, h := range res.Incidents[0].Rules {
					got = append(got, h.Rule)
				}
			default:
				t.Fatalf("%d incidents for one key in one window", len(res.Incidents))
			}
			if !slices.Equal(got, tt.want) {
				for _, inc := range res.Incidents {
					t.Log(hitSummary(inc))
				}
				t.Fatalf("rules %v, want %v", got, tt.want)
			}
			if len(got) >= 3 {
				if sev := res.Incidents[0].Severity; sev != finding.SeverityHigh {
					t.Errorf("severity %v, want high", sev)
				}
			}
		})
	}
}

// TestSTSAttributedToRole: a role's many short-lived STS keys make one
// subject, one baseline and one incident per window.
func TestSTSAttributedToRole(t *testing.T) {
	at := monday.Add(10 * time.Hour)
	mk := func(id, key string, sec int) Event {
		return Event{EventID: id, EventTime: at.Add(time.Duration(sec) * time.Second), ServiceName: "Ram", EventName: "CreateUser",
			SourceIPAddress: "100.104.1.1", UserIdentity: UserIdentity{Type: TypeAssumedRole, AccessKeyID: key,
				UserName: "deployer:s" + id, PrincipalID: "3001:s" + id, AccountID: "1"}}
	}
	other := "STS.NTz9" + strings.Repeat("Qw", 20)
	evs := []Event{mk("A", tSTS, 1), mk("B", other, 2), mk("C", other, 3)}
	res, err := Evaluate(DefaultConfig(), Baseline{}, Window{Start: at, End: at.Add(5 * time.Minute)}, evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Incidents) != 1 {
		t.Fatalf("%d incidents, want 1", len(res.Incidents))
	}
	inc := res.Incidents[0]
	if inc.Principal != "deployer" || inc.PrincipalType != TypeAssumedRole || inc.AccessKeyID != other || len(inc.Evidence.AccessKeyIDs) != 2 {
		t.Errorf("incident %+v", inc)
	}
}

// TestEvaluatePure: the input baseline is not modified; the result does not
// depend on event order; duplicates and strays are counted, not judged.
func TestEvaluatePure(t *testing.T) {
	eng, err := NewEngine(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	base := trained(t, eng)
	before, _ := json.Marshal(base)
	at := monday.Add(10 * time.Hour)
	w := Window{Start: at, End: at.Add(5 * time.Minute)}
	b := &evb{key: tKey}
	var evs []Event
	for i := range 40 {
		evs = append(evs, b.ev(at.Add(time.Duration(i%7)*time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", ""))
	}
	evs = append(evs, b.ev(at.Add(time.Minute), "192.0.2.8", "cn-hangzhou", "Oss", "PutBucketPolicy", "AccessDenied"))
	clean := &evb{key: "LTAI5tZ4pW8rTq2NcX6vBm3K", n: 1000}
	evs = append(evs, clean.ev(at, "198.51.100.3", "cn-hangzhou", "Ecs", "DescribeInstances", ""))
	evs = append(evs, evs[3], evs[40])                                                                          // duplicates
	evs = append(evs, b.ev(at.Add(-time.Second), "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", "")) // late
	evs = append(evs, b.ev(w.End, "203.0.113.5", "cn-hangzhou", "Ecs", "DescribeInstances", ""))                // next window
	console := b.ev(at, "203.0.113.5", "cn-hangzhou", "AasSub", "ConsoleSignin", "")
	console.UserIdentity.AccessKeyID = ""
	evs = append(evs, console)

	first := eng.Evaluate(base, w, evs)
	after, _ := json.Marshal(base)
	if string(before) != string(after) {
		t.Error("Evaluate modified its input baseline")
	}
	want := Stats{Events: len(evs), Duplicates: 2, OutsideWindow: 1, Late: 1, NoAccessKey: 1, Evaluated: 43, Windows: 1, Subjects: 2, Learned: 1}
	if first.Stats != want {
		t.Errorf("stats %+v, want %+v", first.Stats, want)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range 5 {
		shuffled := slices.Clone(evs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again := eng.Evaluate(base, w, shuffled)
		if !reflect.DeepEqual(mustJSON(t, first), mustJSON(t, again)) {
			t.Fatal("result depends on event order")
		}
	}
	// The dirty subject taught nothing; the clean one was learned.
	if got := first.Baseline.Subjects["key/"+tKey]; !reflect.DeepEqual(got, base.Subjects["key/"+tKey]) {
		t.Error("a window with an incident changed the key's baseline")
	}
	if p := first.Baseline.Subjects["key/LTAI5tZ4pW8rTq2NcX6vBm3K"]; p == nil || p.Events != 1 {
		t.Errorf("clean new key not learned: %+v", p)
	}
}

// TestAttackerCannotTeach: an attacker's new address fires in every window
// it appears in, however long it persists.
func TestAttackerCannotTeach(t *testing.T) {
	eng, err := NewEngine(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	base := trained(t, eng)
	b := &evb{key: tKey}
	var evs []Event
	for h := range 48 {
		at := monday.Add(time.Duration(h) * time.Hour)
		evs = append(evs, b.ev(at, "192.0.2.44", "cn-hangzhou", "Oss", "GetObject", ""))
	}
	res := eng.Replay(base, evs)
	if len(res.Incidents) != 48 {
		t.Errorf("%d incidents over 48 attacker windows", len(res.Incidents))
	}
	if _, ok := res.Baseline.Subjects["key/"+tKey].Networks["192.0.2.0/24"]; ok {
		t.Error("attacker network learned")
	}
}

func mustJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOperationsCoverDenyPolicy: dangerous-operation watches exactly the
// actions the containment policy denies, no more and no fewer.
func TestOperationsCoverDenyPolicy(t *testing.T) {
	var doc struct {
		Statement []struct {
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal([]byte(policies.DenyHighRisk), &doc); err != nil {
		t.Fatal(err)
	}
	ops := operations()
	denied := map[string]bool{}
	for _, st := range doc.Statement {
		if st.Effect != "Deny" {
			continue
		}
		for _, a := range st.Action {
			denied[a] = true
			if _, ok := ops[a]; !ok {
				t.Errorf("policy denies %s but no operation family covers it", a)
			}
		}
	}
	for a := range ops {
		if !denied[a] {
			t.Errorf("operation %s is not denied by the policy", a)
		}
	}
}

func TestRuleTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.ID == "" || r.Description == "" || r.check == nil {
			t.Errorf("incomplete rule %+v", r)
		}
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
	}
}
