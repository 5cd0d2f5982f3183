package audit

import (
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

const genSeed = 20261005

// The generated history starts on Monday 2026-10-05; the first two weeks
// are the learning period, attacks are injected into the third.
var (
	histStart = time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	trainEnd  = histStart.AddDate(0, 0, 14)
)

// TestNormalHistoryRaisesNothing replays three weeks of normal activity
// window by window, as the audit timer would, and requires zero incidents:
// every rule must stay quiet on the habits of CI, developer, admin and
// function-role keys, during learning and after it.
func TestNormalHistoryRaisesNothing(t *testing.T) {
	f := newFixture(genSeed)
	events := f.history(genSeed, histStart, 21)
	eng, err := NewEngine(f.config())
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	res := eng.Replay(Baseline{}, events)
	elapsed := time.Since(begin)
	t.Logf("replayed %d events in %d windows (%d subject-windows, %d learned) in %v: %d incidents",
		res.Stats.Evaluated, res.Stats.Windows, res.Stats.Subjects, res.Stats.Learned, elapsed, len(res.Incidents))
	for i, inc := range res.Incidents {
		if i == 5 {
			t.Errorf("... and %d more", len(res.Incidents)-5)
			break
		}
		t.Errorf("false alarm: %s %s at %v: %s", inc.Principal, inc.Severity, inc.Window.Start, hitSummary(inc))
	}
	if res.Stats.Learned != res.Stats.Subjects {
		t.Errorf("learned %d of %d subject-windows; every clean window should teach", res.Stats.Learned, res.Stats.Subjects)
	}
	// Every actor must have a mature baseline by now, or the quiet above
	// proves nothing about the baseline rules.
	c, _ := f.config().compile()
	for _, key := range []string{"key/" + f.ciKey, "key/" + f.devKey, "key/" + f.adminKey, "role/" + genAccount + "/" + f.role} {
		p := res.Baseline.Subjects[key]
		if !p.mature(c, histStart.AddDate(0, 0, 21)) {
			t.Errorf("%s: baseline not mature: %+v", key, p)
		}
	}
	b, err := json.Marshal(res.Baseline)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("baseline: %d subjects, %d bytes of JSON", len(res.Baseline.Subjects), len(b))
	if len(b) > 64<<10 {
		t.Errorf("baseline is %d bytes; four subjects should fit in 64 KiB", len(b))
	}
}

// scenario is one attack injected into the third week.
type scenario struct {
	name   string
	cfg    func(f *fixture, c *Config)
	inject func(f *fixture, g *gen) (from, to time.Time)
	// want maps a principal to the rules every one of its incidents
	// fires, in table order; wantN is how many incidents in all.
	want  map[string][]string
	wantN int
}

func scenarios() []scenario {
	sh := func(f *fixture, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, f.shanghai).UTC()
	}
	return []scenario{{
		// The seed case: a developer's key leaked in a repository; the
		// scan function reported it; someone downloads a customer export
		// with it, then tries to open and destroy the bucket.
		name: "leaked-key-exfiltration",
		cfg: func(f *fixture, c *Config) {
			c.LeakedKeys = map[string]LeakInfo{f.devKey: {Source: "scan", Location: "oss://akguard-uploads/incoming/repo.zip!app/.env",
				ReportedAt: time.Date(2026, 10, 20, 5, 40, 0, 0, time.UTC)}}
		},
		inject: func(f *fixture, g *gen) (time.Time, time.Time) {
			at := sh(f, 2026, 10, 20, 14, 1)
			ua := "aliyun-oss-go-sdk-v2/1.6.1"
			obj := op{service: "Oss", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "finance-exports/customers-2026.csv"}
			bkt := op{service: "Oss", rw: "Write", region: "cn-hangzhou", resType: "ACS::OSS::Bucket", resource: "finance-exports"}
			obj.name = "GetObject"
			g.emit(at.Add(10*time.Second), f.devKey, TypeRAMUser, "dev-alice", "192.0.2.77", ua, obj, "")
			bkt.name = "PutBucketAcl"
			g.emit(at.Add(45*time.Second), f.devKey, TypeRAMUser, "dev-alice", "192.0.2.77", ua, bkt, "AccessDenied")
			bkt.name = "DeleteBucket"
			g.emit(at.Add(70*time.Second), f.devKey, TypeRAMUser, "dev-alice", "192.0.2.77", ua, bkt, "AccessDenied")
			return at, at.Add(2 * time.Minute)
		},
		want:  map[string][]string{"dev-alice": {RuleLeakedKeyInUse, RuleDangerousOperation, RuleUnfamiliarSource}},
		wantN: 1,
	}, {
		// A slow attacker: two quiet reads an hour for three hours with
		// the CI key from a new address in a region CI never uses, too
		// few to move any volume statistic.
		name: "slow-low-volume",
		inject: func(f *fixture, g *gen) (time.Time, time.Time) {
			at := time.Date(2026, 10, 20, 16, 7, 0, 0, time.UTC)
			for i := range 6 {
				o := op{service: "Oss", name: "ListBuckets", rw: "Read", region: "ap-southeast-1"}
				if i%2 == 1 {
					o = op{service: "Oss", name: "GetObject", rw: "Read", region: "ap-southeast-1", resType: "ACS::OSS::Object", resource: "akguard-artifacts/builds/app.tar.gz"}
				}
				g.emit(at.Add(time.Duration(i)*31*time.Minute), f.ciKey, TypeRAMUser, "ci-deploy", "192.0.2.150", "aliyun-cli/3.0.200", o, "")
			}
			return at, at.Add(3 * time.Hour)
		},
		want:  map[string][]string{"ci-deploy": {RuleUnfamiliarSource}},
		wantN: 6,
	}, {
		// Enumeration with a key nobody has used before: what may it do?
		name: "denied-burst-enumeration",
		inject: func(f *fixture, g *gen) (time.Time, time.Time) {
			at := time.Date(2026, 10, 21, 2, 10, 0, 0, time.UTC)
			probes := []op{
				{service: "Ecs", name: "DescribeInstances", rw: "Read", region: "cn-hangzhou"},
				{service: "Rds", name: "DescribeDBInstances", rw: "Read", region: "cn-hangzhou"},
				{service: "Ram", name: "ListUsers", rw: "Read", region: "cn-hangzhou", global: true},
				{service: "Ram", name: "ListRoles", rw: "Read", region: "cn-hangzhou", global: true},
				{service: "Kms", name: "ListSecrets", rw: "Read", region: "cn-hangzhou"},
				{service: "Sls", name: "ListProject", rw: "Read", region: "cn-hangzhou"},
				{service: "Actiontrail", name: "DescribeTrails", rw: "Read", region: "cn-hangzhou"},
			}
			g.emit(at, f.spareKey, TypeRAMUser, "backup-2019", "192.0.2.33", "python-requests/2.31",
				op{service: "Sts", name: "GetCallerIdentity", rw: "Read", region: "cn-hangzhou", global: true}, "")
			for i := range 28 {
				code := "NoPermission"
				if i%7 == 2 || i%7 == 3 {
					code = "NoPermission.Ram"
				}
				g.emit(at.Add(time.Duration(3+i*4)*time.Second), f.spareKey, TypeRAMUser, "backup-2019", "192.0.2.33",
					"python-requests/2.31", probes[i%len(probes)], code)
			}
			return at, at.Add(2 * time.Minute)
		},
		want:  map[string][]string{"backup-2019": {RuleDeniedBurst}},
		wantN: 1,
	}, {
		// The admin's weekday key creates a user with a policy and a key at
		// 03:00 on a Saturday, from the office network.
		name: "off-hours-admin",
		inject: func(f *fixture, g *gen) (time.Time, time.Time) {
			at := sh(f, 2026, 10, 24, 3, 0)
			ip := f.office + "104"
			ram := func(name, res string) op {
				return op{service: "Ram", name: name, rw: "Write", region: "cn-hangzhou", global: true, resType: "ACS::RAM::User", resource: res}
			}
			g.emit(at.Add(20*time.Second), f.adminKey, TypeRAMUser, "admin-bob", ip, "aliyun-cli/3.0.200", ram("CreateUser", "svc-sync"), "")
			g.emit(at.Add(41*time.Second), f.adminKey, TypeRAMUser, "admin-bob", ip, "aliyun-cli/3.0.200", ram("AttachPolicyToUser", "svc-sync"), "")
			g.emit(at.Add(63*time.Second), f.adminKey, TypeRAMUser, "admin-bob", ip, "aliyun-cli/3.0.200", ram("CreateAccessKey", "svc-sync"), "")
			return at, at.Add(2 * time.Minute)
		},
		want:  map[string][]string{"admin-bob": {RuleDangerousOperation, RuleOffHours}},
		wantN: 1,
	}, {
		name: "root-key-use",
		inject: func(f *fixture, g *gen) (time.Time, time.Time) {
			at := time.Date(2026, 10, 22, 3, 0, 0, 0, time.UTC)
			g.emit(at.Add(5*time.Second), f.rootKey, TypeRootAccount, "root", f.office+"31", "aliyun-cli/3.0.200",
				op{service: "Ecs", name: "DescribeRegions", rw: "Read", region: "cn-hangzhou"}, "")
			g.emit(at.Add(9*time.Second), f.rootKey, TypeRootAccount, "root", f.office+"31", "aliyun-cli/3.0.200",
				op{service: "Ecs", name: "DescribeInstances", rw: "Read", region: "cn-hangzhou"}, "")
			return at, at.Add(time.Minute)
		},
		want:  map[string][]string{"root": {RuleRootKeyUse}},
		wantN: 1,
	}, {
		// Bulk download with the CI key from its usual addresses: ten
		// times its normal volume in one window.
		name: "volume-spike",
		inject: func(f *fixture, g *gen) (time.Time, time.Time) {
			at := time.Date(2026, 10, 22, 8, 0, 0, 0, time.UTC)
			for i := range 270 {
				g.emit(at.Add(time.Duration(i)*time.Second), f.ciKey, TypeRAMUser, "ci-deploy", f.ciIPs[0],
					"aliyun-sdk-go/1.63.107 (linux; amd64) Go/1.26",
					op{service: "Oss", name: "GetObject", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object",
						resource: fmt.Sprintf("akguard-artifacts/releases/r%03d.tar.gz", i)}, "")
			}
			return at, at.Add(4*time.Minute + 30*time.Second)
		},
		want:  map[string][]string{"ci-deploy": {RuleVolumeSpike}},
		wantN: 1,
	}}
}

// TestScenarios injects each attack into normal third-week activity and
// requires exactly the expected incidents, compared with golden JSON.
func TestScenarios(t *testing.T) {
	f := newFixture(genSeed)
	hist := f.history(genSeed, histStart, 21)
	split, _ := slices.BinarySearchFunc(hist, trainEnd, func(e Event, t time.Time) int { return e.EventTime.Compare(t) })
	trainer, err := NewEngine(f.config())
	if err != nil {
		t.Fatal(err)
	}
	trained := trainer.Replay(Baseline{}, hist[:split])
	if len(trained.Incidents) != 0 {
		t.Fatalf("training history raised %d incidents", len(trained.Incidents))
	}
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			cfg := f.config()
			if sc.cfg != nil {
				sc.cfg(f, &cfg)
			}
			eng, err := NewEngine(cfg)
			if err != nil {
				t.Fatal(err)
			}
			g := f.attacker(genSeed + uint64(len(sc.name)))
			from, to := sc.inject(f, g)
			from, to = from.Truncate(cfg.Window), to.Truncate(cfg.Window).Add(cfg.Window)
			var events []Event
			for _, e := range hist[split:] {
				if !e.EventTime.Before(from) && e.EventTime.Before(to) {
					events = append(events, e)
				}
			}
			events = append(events, g.out...)
			res := eng.Replay(trained.Baseline, events)

			caught := map[string]bool{}
			for _, inc := range res.Incidents {
				want, ok := sc.want[inc.Principal]
				if !ok {
					t.Errorf("unexpected incident for %s: %s", inc.Principal, hitSummary(inc))
					continue
				}
				var got []string
				for _, h := range inc.Rules {
					got = append(got, h.Rule)
					for _, id := range h.EventIDs {
						caught[id] = true
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s at %v: rules %v, want %v", inc.Principal, inc.Window.Start, got, want)
				}
			}
			if len(res.Incidents) != sc.wantN {
				t.Errorf("%d incidents, want %d", len(res.Incidents), sc.wantN)
			}
			// Every injected event must be named by a rule that fired
			// (where the rule lists them all: at most maxHitIDs per hit).
			if len(g.out) <= maxHitIDs {
				for _, e := range g.out {
					if !caught[e.EventID] {
						t.Errorf("attack event %s %s:%s not named by any rule", e.EventID, e.ServiceName, e.EventName)
					}
				}
			}
			checkGolden(t, filepath.Join("testdata", "golden", sc.name+".json"), res.Incidents)
		})
	}
}

// TestEveryRuleHasAScenario keeps the rule table and the attack scenarios
// in step: a new rule needs an attack that fires it.
func TestEveryRuleHasAScenario(t *testing.T) {
	covered := map[string]bool{}
	for _, sc := range scenarios() {
		for _, rules := range sc.want {
			for _, r := range rules {
				covered[r] = true
			}
		}
	}
	for _, r := range Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s has no scenario in scenarios()", r.ID)
		}
	}
}

func hitSummary(inc Incident) string {
	var s []string
	for _, h := range inc.Rules {
		s = append(s, h.Rule+": "+h.Reason)
	}
	return strings.Join(s, " | ")
}

func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	golden.JSON(t, path, v, *update)
}
