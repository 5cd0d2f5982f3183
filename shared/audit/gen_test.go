package audit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// A deterministic generator of normal ActionTrail history for one account,
// and of the attacks injected into it. Every identifier is synthetic:
// AccessKey IDs are drawn from a seeded PRNG and never existed; addresses
// come from the documentation ranges (RFC 5737 203.0.113/24, 198.51.100/24,
// 192.0.2/24), the benchmarking range 198.18/15 and the shared space
// 100.64/10.

const (
	genAccount = "1000000000000001"
	genTZ      = "Asia/Shanghai"
)

// fixture holds the actors of the generated account.
type fixture struct {
	ciKey, devKey, adminKey, rootKey, spareKey string
	role                                       string
	office                                     string // office /24 prefix, e.g. "198.18.7."
	ciIPs                                      [2]string
	shanghai                                   *time.Location
}

func newFixture(seed uint64) *fixture {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	loc, err := time.LoadLocation(genTZ)
	if err != nil {
		panic(err)
	}
	return &fixture{
		ciKey:    "LTAI5t" + randAlnum(r, 18),
		devKey:   "LTAI5t" + randAlnum(r, 18),
		adminKey: "LTAI5t" + randAlnum(r, 18),
		rootKey:  "LTAI5t" + randAlnum(r, 18),
		spareKey: "LTAI5t" + randAlnum(r, 18),
		role:     "akguard-scan-fn",
		office:   "198.18.7.",
		ciIPs:    [2]string{"203.0.113.10", "198.51.100.20"},
		shanghai: loc,
	}
}

// config is the audit configuration the tests run with: the office works
// 09:00–19:00 Monday to Friday in Shanghai.
func (f *fixture) config() Config {
	c := DefaultConfig()
	c.WorkingHours.Start = "09:00"
	c.WorkingHours.End = "19:00"
	c.WorkingHours.TimeZone = genTZ
	return c
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randAlnum(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

func randEventID(r *rand.Rand) string {
	return fmt.Sprintf("%08X%08X%08X", r.Uint32(), r.Uint32(), r.Uint32())
}

// op is an API call template.
type op struct {
	service, name, rw, region, resType, resource string
	global                                       bool
}

// gen emits events with IDs from its own PRNG stream.
type gen struct {
	f   *fixture
	r   *rand.Rand
	out []Event
}

func (g *gen) emit(t time.Time, key, typ, user, ip, agent string, o op, errCode string) {
	id := UserIdentity{Type: typ, AccountID: genAccount, AccessKeyID: key, UserName: user,
		PrincipalID: "2" + fmt.Sprintf("%017d", len(user)*7919)}
	if typ == TypeAssumedRole {
		id.PrincipalID = "300000000000000001:" + user[len(g.f.role)+1:]
	}
	if typ == TypeRootAccount {
		id.PrincipalID = genAccount
	}
	g.out = append(g.out, Event{
		EventID: randEventID(g.r), EventName: o.name, ServiceName: o.service, EventTime: t,
		AcsRegion: o.region, IsGlobal: o.global, SourceIPAddress: ip, UserAgent: agent, EventRW: o.rw,
		ErrorCode: errCode, ResourceName: o.resource, ResourceType: o.resType, UserIdentity: id,
	})
}

// history generates days of normal activity starting at start (UTC
// midnight): four actors with the habits real keys have.
//   - ci-deploy: a CI key, 24/7, from two fixed addresses, ~30 calls per
//     5 minutes (OSS artefacts, ECS and FC deploys), a stray permission
//     error now and then;
//   - dev-alice: a developer, weekdays 09–19 Shanghai from the office
//     /24 (from home on Wednesdays), bursts of 1–12 calls;
//   - admin-bob: an administrator doing occasional RAM reads in office
//     hours;
//   - akguard-scan-fn: an FC function's role, a fresh STS key every hour,
//     calling OSS from the shared internal range.
func (f *fixture) history(seed uint64, start time.Time, days int) []Event {
	g := &gen{f: f, r: rand.New(rand.NewPCG(seed, 0xa11))}
	const win = 5 * time.Minute
	ciOps := []op{
		{service: "Oss", name: "PutObject", rw: "Write", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "akguard-artifacts/builds/app.tar.gz"},
		{service: "Oss", name: "GetObject", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "akguard-artifacts/builds/app.tar.gz"},
		{service: "Oss", name: "HeadObject", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "akguard-artifacts/builds/app.tar.gz"},
		{service: "Oss", name: "ListObjects", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Bucket", resource: "akguard-artifacts"},
		{service: "Ecs", name: "DescribeInstances", rw: "Read", region: "cn-shanghai"},
		{service: "Fc", name: "UpdateFunction", rw: "Write", region: "cn-hangzhou", resType: "ACS::FC::Function", resource: "akguard/scan"},
	}
	devOps := []op{
		{service: "Ecs", name: "DescribeInstances", rw: "Read", region: "cn-hangzhou"},
		{service: "Ecs", name: "DescribeInstanceStatus", rw: "Read", region: "cn-shanghai"},
		{service: "Oss", name: "GetObject", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "team-docs/design.md"},
		{service: "Oss", name: "ListBuckets", rw: "Read", region: "cn-hangzhou"},
		{service: "Sls", name: "GetLogs", rw: "Read", region: "cn-hangzhou", resType: "ACS::SLS::LogStore", resource: "app/access-log"},
	}
	adminOps := []op{
		{service: "Ram", name: "ListUsers", rw: "Read", region: "cn-hangzhou", global: true},
		{service: "Ram", name: "GetUser", rw: "Read", region: "cn-hangzhou", global: true, resType: "ACS::RAM::User", resource: "dev-alice"},
		{service: "Ram", name: "ListPoliciesForUser", rw: "Read", region: "cn-hangzhou", global: true, resType: "ACS::RAM::User", resource: "ci-deploy"},
		{service: "Ram", name: "ListAccessKeys", rw: "Read", region: "cn-hangzhou", global: true, resType: "ACS::RAM::User", resource: "ci-deploy"},
	}
	roleOps := []op{
		{service: "Oss", name: "GetObject", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "akguard-uploads/incoming/upload.zip"},
		{service: "Oss", name: "GetObjectMeta", rw: "Read", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "akguard-uploads/incoming/upload.zip"},
		{service: "Oss", name: "PutObject", rw: "Write", region: "cn-hangzhou", resType: "ACS::OSS::Object", resource: "akguard-state/findings/upload.json"},
	}
	var stsKey string
	for w := start; w.Before(start.AddDate(0, 0, days)); w = w.Add(win) {
		local := w.In(f.shanghai)
		workday := local.Weekday() >= time.Monday && local.Weekday() <= time.Friday
		officeHours := workday && local.Hour() >= 9 && local.Hour() < 19

		for range 20 + g.r.IntN(21) {
			t := w.Add(time.Duration(g.r.Int64N(int64(win))))
			g.emit(t.Truncate(time.Second), f.ciKey, TypeRAMUser, "ci-deploy", f.ciIPs[g.r.IntN(2)],
				"aliyun-sdk-go/1.63.107 (linux; amd64) Go/1.26", ciOps[g.r.IntN(len(ciOps))], "")
		}
		// CI's permissions lag its pipeline now and then: a stray denied
		// call, never a burst.
		if g.r.IntN(300) == 0 {
			g.emit(w.Add(time.Duration(g.r.Int64N(int64(win)))).Truncate(time.Second), f.ciKey, TypeRAMUser, "ci-deploy",
				f.ciIPs[0], "aliyun-sdk-go/1.63.107 (linux; amd64) Go/1.26",
				op{service: "Ecs", name: "DescribeSecurityGroups", rw: "Read", region: "cn-shanghai"}, "Forbidden.RAM")
		}
		if officeHours && g.r.IntN(2) == 0 {
			ip := f.office + fmt.Sprint(20+g.r.IntN(40))
			if local.Weekday() == time.Wednesday { // works from home
				ip = "198.19.44." + fmt.Sprint(2+g.r.IntN(3))
			}
			for range 1 + g.r.IntN(12) {
				t := w.Add(time.Duration(g.r.Int64N(int64(win))))
				g.emit(t.Truncate(time.Second), f.devKey, TypeRAMUser, "dev-alice", ip,
					"aliyun-cli/3.0.200", devOps[g.r.IntN(len(devOps))], "")
			}
		}
		if officeHours && g.r.IntN(12) == 0 {
			ip := f.office + fmt.Sprint(100+g.r.IntN(10))
			for range 1 + g.r.IntN(4) {
				t := w.Add(time.Duration(g.r.Int64N(int64(win))))
				g.emit(t.Truncate(time.Second), f.adminKey, TypeRAMUser, "admin-bob", ip,
					"aliyun-cli/3.0.200", adminOps[g.r.IntN(len(adminOps))], "")
			}
		}
		if w.Minute() == 0 || stsKey == "" {
			stsKey = "STS.NT" + randAlnum(g.r, 56)
		}
		if g.r.IntN(2) == 0 {
			ip := fmt.Sprintf("100.104.%d.%d", g.r.IntN(4), 1+g.r.IntN(254))
			session := fmt.Sprintf("%s:fc-%d", f.role, w.Unix()/3600)
			for range 1 + g.r.IntN(8) {
				t := w.Add(time.Duration(g.r.Int64N(int64(win))))
				g.emit(t.Truncate(time.Second), stsKey, TypeAssumedRole, session, ip,
					"aliyun-oss-go-sdk-v2/1.6.1", roleOps[g.r.IntN(len(roleOps))], "")
			}
		}
	}
	slices.SortStableFunc(g.out, func(a, b Event) int { return a.EventTime.Compare(b.EventTime) })
	return g.out
}

// attacker emits injected events with their own ID stream.
func (f *fixture) attacker(seed uint64) *gen {
	return &gen{f: f, r: rand.New(rand.NewPCG(seed, 0xbad))}
}
