package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/fc"
	localtrail "github.com/akguard/akguard/infra/local/trail"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

// auditHistory is a generated ActionTrail history: a CI key busy in every
// window and a leaked key used by an attacker in scattered windows. Every
// value is synthetic, from a seeded source; addresses are RFC 5737.
type auditHistory struct {
	events             []localtrail.Event
	leaked, ci         string
	attack             []string // attack event IDs
	attackWindows      int
	start, end, leakAt time.Time
}

func newAuditHistory(seed uint64, end time.Time, span, win time.Duration) auditHistory {
	rng := rand.New(rand.NewPCG(seed, seed^0xa0d17))
	id := func() string { return fmt.Sprintf("%08X%016X", rng.Uint32(), rng.Uint64()) }
	key := func() string {
		const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		b := []byte("LTAI5t")
		for len(b) < 24 {
			b = append(b, alnum[rng.IntN(len(alnum))])
		}
		return string(b)
	}
	h := auditHistory{leaked: key(), ci: key(), start: end.Add(-span), end: end}
	h.leakAt = h.start.Add(-time.Hour)
	ev := func(user, key, ip string, t time.Time, svc, op string) localtrail.Event {
		return localtrail.Event{EventID: id(), EventVersion: 1, EventName: op, ServiceName: svc, EventType: "ApiCall", EventRW: "Read",
			EventTime: t.UTC().Format(localtrail.TimeLayout), AcsRegion: "cn-hangzhou", SourceIPAddress: ip, UserAgent: "aliyun-sdk-go/1.63.107",
			RequestID: id(), UserIdentity: localtrail.UserIdentity{Type: "ram-user", PrincipalID: "20000000000" + key[6:10],
				AccountID: "1234567890123456", AccessKeyID: key, UserName: user}}
	}
	i := 0
	for ws := h.start; ws.Before(end); ws, i = ws.Add(win), i+1 {
		for range 1 + rng.IntN(3) {
			h.events = append(h.events, ev("ci", h.ci, "203.0.113.5", ws.Add(time.Duration(rng.Int64N(int64(win)))), "Oss", "PutObject"))
		}
		if i%7 == 3 {
			a := ev("victim", h.leaked, "198.51.100.77", ws.Add(time.Duration(rng.Int64N(int64(win)))), "Oss", "GetObject")
			h.events = append(h.events, a)
			h.attack = append(h.attack, a.EventID)
			h.attackWindows++
		}
	}
	sort.SliceStable(h.events, func(i, j int) bool { return h.events[i].EventTime < h.events[j].EventTime })
	return h
}

// auditRun is one audit deployment worked through a history to the end.
type auditRun struct {
	incidents  map[string][]string // incident record key -> evidence event IDs (generated keys only)
	checkpoint time.Time
	runs       int
	failed     int
	fired      map[string]int
}

// runAudit deploys the pipeline, imports h, and invokes the audit function
// (as FC's timer and its retries would) until a run succeeds with no
// backlog. With rules set, the faults are active during every run.
func runAudit(t *testing.T, h auditHistory, rules []fault.Rule) auditRun {
	t.Helper()
	f := start(t, fcOpts(), map[string]string{
		"AKGUARD_AUDIT_INITIAL_LOOKBACK": "8h",
		"AKGUARD_AUDIT_LOOKUP_QPS":       "1000",
		"AKGUARD_AUDIT_BATCH":            "1h",
	})
	f.env.Cloud.RPC.SetLookupEventsRate(0)
	st := &store.Store{Client: f.oss, Bucket: f.state, Prefix: prefix}
	var buf bytes.Buffer
	for _, e := range h.events {
		line, _ := json.Marshal(e)
		buf.Write(append(line, '\n'))
	}
	if _, err := f.env.Cloud.Env.Trail.Import(f.ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.MarkLeaked(f.ctx, store.LeakedKey{AccessKeyID: h.leaked, Source: "manual", ReportedAt: h.leakAt}); err != nil || !ok {
		t.Fatalf("mark leaked: %v %v", ok, err)
	}
	// The test's own reads go through the same faults (re-setting the
	// rules would re-arm the one-shot ones): retry them.
	checkpoint := func() time.Time {
		var err error
		for range 5 {
			var s trail.State
			if err = st.Get(f.ctx, trail.StateRecord, &s); err == nil || errors.Is(err, store.ErrNotFound) {
				return s.Checkpoint
			}
		}
		t.Fatalf("read audit state: %v", err)
		return time.Time{}
	}
	var out auditRun
	f.env.Cloud.Env.Faults.Set(rules)
	prev := time.Time{}
	for {
		if out.runs > 60 {
			t.Fatalf("audit did not work through the history in %d runs (%d failed)", out.runs, out.failed)
		}
		out.runs++
		payload, _ := json.Marshal(map[string]string{"triggerTime": time.Now().UTC().Format(time.RFC3339),
			"triggerName": "audit-every-5m", "payload": `{"lagMinutes":0}`})
		body, err := f.env.Cloud.FC.Invoke(f.ctx, auditFn, payload, false)
		cp := checkpoint()
		if cp.Before(prev) {
			t.Fatalf("run %d moved the checkpoint back from %v to %v", out.runs, prev, cp)
		}
		if err != nil {
			var ie *fc.InvocationError
			if !errors.As(err, &ie) {
				t.Fatalf("invoke audit: %v", err)
			}
			f.errs = append(f.errs, ie.Message)
			out.failed++
			prev = cp
			continue
		}
		var res trail.RunResult
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("decode run result %s: %v", body, err)
		}
		// A run starts exactly where the saved state says: no window is
		// skipped between a failed run and its successor.
		if res.Locked && !prev.IsZero() && !res.From.Equal(prev) {
			t.Errorf("run %d started at %v, the saved checkpoint was %v", out.runs, res.From, prev)
		}
		prev = cp
		if os.Getenv("AKGUARD_E2E_DEBUG") == "1" {
			t.Logf("run %d: %s", out.runs, body)
		}
		if res.Locked && !res.Backlog {
			break
		}
	}
	out.checkpoint = prev
	out.fired = f.env.Cloud.Env.Faults.Fired()
	f.env.Cloud.Env.Faults.Clear()
	keys, err := st.List(f.ctx, trail.IncidentPrefix)
	if err != nil {
		t.Fatal(err)
	}
	out.incidents = map[string][]string{}
	for _, k := range keys {
		var rec trail.IncidentRecord
		if err := st.Get(f.ctx, k, &rec); err != nil {
			t.Fatal(err)
		}
		var ev trail.Evidence
		if err := json.Unmarshal(rec.Incident.Audit, &ev); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if ev.AccessKeyID != h.leaked && ev.AccessKeyID != h.ci {
			continue // the test's own calls with the root key are live events, not the history
		}
		out.incidents[k] = ev.Evidence.EventIDs
	}
	if err := f.env.Cloud.FC.WaitIdle(f.ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditCheckpointUnderFaults works one history through twice: clean,
// then with ActionTrail, OSS (the state bucket) and FC (escalation to
// respond) failing. Both must end past the history with the same
// incidents, every attack event in one: no window skipped, none judged
// twice.
func TestAuditCheckpointUnderFaults(t *testing.T) {
	win := 5 * time.Minute
	end := time.Now().UTC().Truncate(win).Add(-20 * time.Minute)
	h := newAuditHistory(11, end, 6*time.Hour, win)
	clean := runAudit(t, h, nil)
	faulty := runAudit(t, h, []fault.Rule{
		{Service: "actiontrail", Operation: "LookupEvents", Rate: 1, Kind: "throttle", Status: 400, Code: "Throttling.User", Remaining: 2},
		{Service: "actiontrail", Operation: "LookupEvents", Rate: 1, Kind: "drop", Remaining: 1},
		{Service: "fc", Operation: "InvokeFunction", Rate: 1, Kind: "error", Status: 503, Code: "ServiceUnavailable", Remaining: 1},
		{Service: "actiontrail", Operation: "LookupEvents", Rate: 0.25, Kind: "throttle", Status: 400, Code: "Throttling.User"},
		{Service: "actiontrail", Operation: "LookupEvents", Rate: 0.1, Kind: "error", Status: 500, Code: "InternalError"},
		{Service: "actiontrail", Operation: "LookupEvents", Rate: 0.05, Kind: "drop"},
		{Service: "actiontrail", Operation: "*", Rate: 0.2, Kind: "latency", Latency: 10 * time.Millisecond},
		{Service: "oss", Operation: "PutObject", Rate: 0.1, Kind: "error", Status: 503, Code: "ServiceUnavailable"},
		{Service: "oss", Operation: "GetObject", Rate: 0.05, Kind: "drop"},
		{Service: "fc", Operation: "InvokeFunction", Rate: 0.3, Kind: "error", Status: 503, Code: "ServiceUnavailable"},
	})
	per, detail := firedPerService(faulty.fired)
	t.Logf("clean: %d runs, checkpoint %v, %d incidents; faulty: %d runs (%d failed), checkpoint %v, %d incidents; faults per service %v (%s)",
		clean.runs, clean.checkpoint, len(clean.incidents), faulty.runs, faulty.failed, faulty.checkpoint, len(faulty.incidents), per, detail)
	for _, k := range []string{"actiontrail/LookupEvents/throttle", "actiontrail/LookupEvents/drop", "fc/InvokeFunction/error"} {
		if faulty.fired[k] == 0 {
			t.Errorf("fault %s never fired", k)
		}
	}
	for name, r := range map[string]auditRun{"clean": clean, "faulty": faulty} {
		if r.checkpoint.Before(end) {
			t.Errorf("%s: checkpoint %v before the end of the history %v", name, r.checkpoint, end)
		}
		caught := map[string]bool{}
		for _, ids := range r.incidents {
			for _, id := range ids {
				caught[id] = true
			}
		}
		missed := 0
		for _, id := range h.attack {
			if !caught[id] {
				missed++
			}
		}
		if missed > 0 {
			t.Errorf("%s: %d of %d attack events (in %d windows) in no incident", name, missed, len(h.attack), h.attackWindows)
		}
	}
	if d := faulty.checkpoint.Sub(clean.checkpoint); d < 0 || d > win {
		t.Errorf("checkpoints differ: clean %v, faulty %v", clean.checkpoint, faulty.checkpoint)
	}
	ck, fk := sortedKeys(clean.incidents), sortedKeys(faulty.incidents)
	if !slices.Equal(ck, fk) {
		t.Errorf("incidents differ:\nclean  %v\nfaulty %v", ck, fk)
	}
	for _, k := range ck {
		if !slices.Equal(clean.incidents[k], faulty.incidents[k]) {
			t.Errorf("%s: evidence differs: clean %v, faulty %v", k, clean.incidents[k], faulty.incidents[k])
		}
	}
}
