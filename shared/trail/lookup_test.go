package trail_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	localtrail "github.com/akguard/akguard/infra/local/trail"

	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/trail"
)

// auditClients returns clients signed with an STS session of the
// akguard-audit role, so every call is checked against
// infra/ram/akguard-audit.json.
func auditClients(t testing.TB, env *localtest.Env) aliyun.Clients {
	t.Helper()
	s, err := env.Cloud.Env.IAM.IssueSession("akguard-audit", "test", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	return aliyun.Clients{Region: env.Cloud.Env.Region, AccountID: env.Cloud.Env.AccountID, Endpoints: env.Cloud.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: s.AccessKeyID, AccessKeySecret: s.AccessKeySecret, SecurityToken: s.SecurityToken}}
}

func reader(t testing.TB, c aliyun.Clients, regions ...string) *trail.Reader {
	t.Helper()
	r := &trail.Reader{Interval: time.Millisecond, Backoff: trail.Backoff{Base: 20 * time.Millisecond, Max: 400 * time.Millisecond}}
	for _, name := range regions {
		rc := c
		rc.Region = name
		at, err := rc.ActionTrail()
		if err != nil {
			t.Fatal(err)
		}
		r.Regions = append(r.Regions, trail.Region{Name: name, Client: at})
	}
	return r
}

// synth records n synthetic events between start and end (spread evenly;
// IDs from a seeded source) and returns their IDs.
func synth(t testing.TB, env *localtest.Env, rng *rand.Rand, n int, start, end time.Time, region string, global bool) []string {
	t.Helper()
	var ids []string
	step := end.Sub(start) / time.Duration(n)
	for i := range n {
		id := fmt.Sprintf("%024X", rng.Uint64())
		ev := localtrail.Event{EventID: id, EventName: "DescribeInstances", ServiceName: "Ecs", EventRW: "Read",
			EventTime: start.Add(time.Duration(i) * step).UTC().Format(localtrail.TimeLayout), AcsRegion: region,
			IsGlobal: global, SourceIPAddress: "198.51.100.7",
			UserIdentity: localtrail.UserIdentity{Type: "ram-user", PrincipalID: "200000000000000001", AccountID: env.Cloud.Env.AccountID,
				AccessKeyID: "LTAI5tSynthKeyAAAAAAAAAA", UserName: "alice"}}
		if global {
			ev.ServiceName, ev.EventName = "Ram", "ListUsers"
		}
		if err := env.Cloud.Env.Trail.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestReadPagesRegionsAndBounds(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	env.Cloud.RPC.SetLookupEventsRate(0) // paging here; throttling has its own test
	rng := rand.New(rand.NewPCG(1, 2))
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	start := end.Add(-time.Hour)
	hz := synth(t, env, rng, 237, start, end, "cn-hangzhou", false)
	sh := synth(t, env, rng, 41, start, end, "cn-shanghai", false)
	gl := synth(t, env, rng, 12, start, end, "cn-hangzhou", true)
	// Outside [start, end): not returned.
	synth(t, env, rng, 5, end, end.Add(5*time.Second), "cn-hangzhou", false)
	synth(t, env, rng, 5, start.Add(-10*time.Second), start, "cn-hangzhou", false)

	tests := []struct {
		name    string
		regions []string
		want    [][]string
		minCall int
	}{
		{"one region", []string{"cn-hangzhou"}, [][]string{hz, gl}, 5},
		{"two regions, global events once", []string{"cn-hangzhou", "cn-shanghai"}, [][]string{hz, sh, gl}, 5 + 2},
		{"region without events but global ones", []string{"cn-beijing"}, [][]string{gl}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reader(t, auditClients(t, env), tt.regions...)
			evs, complete, st, err := r.Read(context.Background(), start, end)
			if err != nil || !complete.Equal(end) {
				t.Fatalf("complete %v, err %v", complete, err)
			}
			var got, want []string
			for _, e := range evs {
				got = append(got, e.EventID)
				if e.EventTime.Before(start) || !e.EventTime.Before(end) {
					t.Errorf("event %s at %v outside [%v, %v)", e.EventID, e.EventTime, start, end)
				}
			}
			for _, w := range tt.want {
				want = append(want, w...)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			if st.Calls < tt.minCall {
				t.Errorf("calls = %d, want >= %d (MaxResults 50 per page)", st.Calls, tt.minCall)
			}
		})
	}
}

func TestReadBacksOffWhenThrottled(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	rng := rand.New(rand.NewPCG(3, 4))
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	start := end.Add(-30 * time.Minute)
	want := synth(t, env, rng, 260, start, end, "cn-hangzhou", false) // 6 pages at the default 2 QPS
	r := reader(t, auditClients(t, env), "cn-hangzhou")
	r.Interval = time.Millisecond // ignore the documented limit: the server must push back
	evs, complete, st, err := r.Read(context.Background(), start, end)
	if err != nil || !complete.Equal(end) {
		t.Fatalf("complete %v, err %v", complete, err)
	}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	if st.Throttled == 0 || st.Retries == 0 {
		t.Fatalf("stats %+v: expected Throttling.User and retries at 2 QPS", st)
	}
	t.Logf("read %d events: %+v", len(evs), st)
}

func TestReadPacedStaysUnderLimit(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	rng := rand.New(rand.NewPCG(5, 6))
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	start := end.Add(-30 * time.Minute)
	want := synth(t, env, rng, 160, start, end, "cn-hangzhou", false)
	r := reader(t, auditClients(t, env), "cn-hangzhou")
	r.Interval = 550 * time.Millisecond // the function's default pace for 2 QPS, plus clock slack
	evs, _, st, err := r.Read(context.Background(), start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(want) || st.Throttled != 0 {
		t.Fatalf("got %d events (want %d), stats %+v: pacing should avoid throttling", len(evs), len(want), st)
	}
}

func TestReadCutShortReportsWhatIsComplete(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	env.Cloud.RPC.SetLookupEventsRate(0)
	rng := rand.New(rand.NewPCG(7, 8))
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	start := end.Add(-time.Hour)
	synth(t, env, rng, 400, start, end, "cn-hangzhou", false)
	synth(t, env, rng, 100, start, end, "cn-shanghai", false)
	r := reader(t, auditClients(t, env), "cn-hangzhou", "cn-shanghai")
	r.Interval = 300 * time.Millisecond // 10 pages take 3 s; the deadline allows about 4
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	evs, complete, _, err := r.Read(ctx, start, end)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if !complete.After(start) || !complete.Before(end) {
		t.Fatalf("complete = %v, want within (%v, %v)", complete, start, end)
	}
	// Everything before complete is in, in both regions.
	all, _, _, err := r.Read(context.Background(), start, complete)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range evs {
		got[e.EventID] = true
	}
	for _, e := range all {
		if !got[e.EventID] {
			t.Fatalf("event %s at %v before complete %v was not returned", e.EventID, e.EventTime, complete)
		}
	}
	t.Logf("cut after %d events, complete up to %v (%d events before it)", len(evs), complete.Sub(start), len(all))
}

func TestReadErrorsAreCleanAndFinal(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	// A role session without actiontrail:LookupEvents.
	s, err := env.Cloud.Env.IAM.IssueSession("akguard-scan", "test", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	c := aliyun.Clients{Region: env.Cloud.Env.Region, Endpoints: env.Cloud.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: s.AccessKeyID, AccessKeySecret: s.AccessKeySecret, SecurityToken: s.SecurityToken}}
	r := reader(t, c, "cn-hangzhou")
	_, _, st, err := r.Read(context.Background(), time.Now().Add(-time.Hour), time.Now())
	var ae *trail.APIError
	if !errors.As(err, &ae) || ae.Code != "NoPermission" {
		t.Fatalf("err = %v, want NoPermission", err)
	}
	if retry, _ := trail.Retryable(err); retry || st.Calls != 1 {
		t.Errorf("a denied call must not be retried (calls %d)", st.Calls)
	}
	for _, secret := range []string{s.AccessKeySecret, s.SecurityToken} {
		if strings.Contains(err.Error(), secret) {
			t.Fatal("error text carries a credential")
		}
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err              error
		retry, throttled bool
	}{
		{&trail.APIError{Code: "Throttling.User", Status: 400}, true, true},
		{&trail.APIError{Code: "Throttling", Status: 503}, true, true},
		{&trail.APIError{Code: "ServiceUnavailable", Status: 503}, true, false},
		{&trail.APIError{Code: "InternalError", Status: 500}, true, false},
		{&trail.APIError{Code: "NoPermission", Status: 403}, false, false},
		{&trail.APIError{Code: "InvalidParameterValue", Status: 400}, false, false},
		{&trail.NetError{Op: "SDK.TimeoutError", Err: errors.New("i/o timeout")}, true, false},
		{errors.New("decode events"), false, false},
	}
	for _, tt := range tests {
		retry, throttled := trail.Retryable(tt.err)
		if retry != tt.retry || throttled != tt.throttled {
			t.Errorf("Retryable(%v) = %v, %v; want %v, %v", tt.err, retry, throttled, tt.retry, tt.throttled)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := trail.Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		attempt   int
		throttled bool
		lo, hi    time.Duration
	}{
		{0, false, 50 * time.Millisecond, 100 * time.Millisecond},
		{0, true, 100 * time.Millisecond, 200 * time.Millisecond},
		{2, false, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, false, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		for range 200 {
			d := b.Delay(tt.attempt, tt.throttled)
			if d < tt.lo || d > tt.hi {
				t.Fatalf("Delay(%d, %v) = %v, want in [%v, %v]", tt.attempt, tt.throttled, d, tt.lo, tt.hi)
			}
		}
	}
}

func TestLastUsed(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	key, err := env.Cloud.Env.IAM.CreateAccessKey("")
	if err != nil {
		// The account owner's second key is not always allowed: use a user.
		if _, err := env.Cloud.Env.IAM.CreateUser("dave", "dave", ""); err != nil {
			t.Fatal(err)
		}
		if key, err = env.Cloud.Env.IAM.CreateAccessKey("dave"); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i, e := range []struct{ svc, name, ip, res string }{
		{"Oss", "GetObject", "45.77.0.10", "uploads/config.env"},
		{"Oss", "PutBucketAcl", "45.77.0.10", "uploads"},
		{"Ecs", "DescribeInstances", "45.77.0.11", ""},
	} {
		ev := localtrail.Event{EventName: e.name, ServiceName: e.svc, EventTime: now.Add(time.Duration(i) * time.Second).Format(localtrail.TimeLayout),
			AcsRegion: "cn-hangzhou", SourceIPAddress: e.ip, ResourceName: e.res, ResourceType: "ACS::OSS::Object",
			UserIdentity: localtrail.UserIdentity{Type: "ram-user", AccessKeyID: key.AccessKeyID, UserName: "dave"}}
		if err := env.Cloud.Env.Trail.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	r := reader(t, auditClients(t, env), "cn-hangzhou")
	lu, err := r.LastUsed(context.Background(), key.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	var svcs, ips []string
	for _, p := range lu.Products {
		svcs = append(svcs, p.Service)
	}
	for _, ip := range lu.IPs {
		ips = append(ips, ip.IP)
	}
	slices.Sort(svcs)
	slices.Sort(ips)
	if !slices.Equal(svcs, []string{"Ecs", "Oss"}) || !slices.Equal(ips, []string{"45.77.0.10", "45.77.0.11"}) {
		t.Fatalf("last used: services %v, ips %v", svcs, ips)
	}
	if lu.UsedAt.IsZero() || len(lu.Resources) == 0 {
		t.Fatalf("last used: %+v", lu)
	}
}
