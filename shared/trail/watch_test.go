package trail_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/localtest"
	localtrail "github.com/akguard/akguard/infra/local/trail"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

// fixture is a local cloud with a Watcher reading it as the audit role.
type fixture struct {
	env   *localtest.Env
	rng   *rand.Rand
	clock time.Time
	w     *trail.Watcher
	st    *store.Store
	sent  map[string]int // incident ID -> accepted escalations
	fail  int            // fail this many escalations first
}

func newFixture(t testing.TB, seed uint64) *fixture {
	t.Helper()
	env := localtest.Start(t, localtest.Options{})
	env.Cloud.RPC.SetLookupEventsRate(0)
	c := auditClients(t, env)
	f := &fixture{env: env, rng: rand.New(rand.NewPCG(seed, seed+1)), sent: map[string]int{},
		st: &store.Store{Client: c.OSS(), Bucket: env.Vars["stateBucket"], Prefix: "akguard/"}}
	f.clock = time.Now().UTC().Add(-3 * time.Hour).Truncate(5 * time.Minute)
	f.w = &trail.Watcher{
		Store: f.st, Reader: reader(t, c, "cn-hangzhou"),
		Escalate: func(_ context.Context, in incident.Incident) error {
			if f.fail > 0 {
				f.fail--
				return errors.New("respond unavailable")
			}
			f.sent[in.ID]++
			return nil
		},
		Options:   trail.Options{Overlap: 10 * time.Minute, Lag: -1, InitialLookback: time.Hour, Owner: "test"},
		Now:       func() time.Time { return f.clock },
		SelfAllow: trail.SelfAllowances(),
	}
	return f
}

// record adds events by key at the given times; op "Ram:CreateUser" makes
// each a dangerous operation.
func (f *fixture) record(t testing.TB, key, op string, times ...time.Time) []string {
	t.Helper()
	svc, name := "Ecs", "DescribeInstances"
	if op != "" {
		fmt.Sscanf(op, "%3s:%s", &svc, &name)
	}
	var ids []string
	for _, at := range times {
		id := fmt.Sprintf("%024X", f.rng.Uint64())
		ev := localtrail.Event{EventID: id, EventName: name, ServiceName: svc, EventRW: "Read",
			EventTime: at.UTC().Format(localtrail.TimeLayout), AcsRegion: "cn-hangzhou", SourceIPAddress: "198.51.100.7",
			UserIdentity: localtrail.UserIdentity{Type: "ram-user", AccountID: f.env.Cloud.Env.AccountID, AccessKeyID: key, UserName: "u-" + key[len(key)-4:]}}
		if err := f.env.Cloud.Env.Trail.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func spread(from, to time.Time, n int) []time.Time {
	var out []time.Time
	step := to.Sub(from) / time.Duration(n)
	for i := range n {
		out = append(out, from.Add(time.Duration(i)*step))
	}
	return out
}

func (f *fixture) run(t *testing.T, ctx context.Context) trail.RunResult {
	t.Helper()
	res, err := f.w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWatcherJudgesLateEventsOnce(t *testing.T) {
	f := newFixture(t, 1)
	T := f.clock
	total := len(f.record(t, "LTAI5tAaaaaaaaaaaaaaaaaa", "", spread(T.Add(-55*time.Minute), T.Add(-16*time.Minute), 40)...))

	f.clock = T.Add(-15 * time.Minute)
	r1 := f.run(t, context.Background())
	if !r1.Locked || !r1.To.Equal(T.Add(-15*time.Minute)) || r1.Judged != total {
		t.Fatalf("run 1: %+v, want checkpoint %v and %d judged", r1, T.Add(-15*time.Minute), total)
	}
	// Late: happened before the checkpoint, delivered after run 1.
	total += len(f.record(t, "LTAI5tAaaaaaaaaaaaaaaaaa", "", T.Add(-18*time.Minute), T.Add(-17*time.Minute)))
	total += len(f.record(t, "LTAI5tAaaaaaaaaaaaaaaaaa", "", spread(T.Add(-15*time.Minute), T.Add(-time.Minute), 10)...))

	f.clock = T
	r2 := f.run(t, context.Background())
	if r1.Judged+r2.Judged != total {
		t.Fatalf("judged %d + %d, want %d events exactly once", r1.Judged, r2.Judged, total)
	}
	if r2.Engine.Late != 2 || r2.Rejudged == 0 {
		t.Fatalf("run 2: %d late, %d re-read and dropped; want 2 late and some dropped", r2.Engine.Late, r2.Rejudged)
	}
	// A third run at the same time has nothing to do.
	if r3 := f.run(t, context.Background()); r3.Windows != 0 || r3.Judged != 0 {
		t.Fatalf("run 3: %+v", r3)
	}
	var st trail.State
	if err := f.st.Get(context.Background(), trail.StateRecord, &st); err != nil {
		t.Fatal(err)
	}
	for _, j := range st.Judged {
		if j.Time().Before(st.Checkpoint.Add(-10 * time.Minute)) {
			t.Fatalf("judged set keeps %v, older than checkpoint %v minus the overlap", j.Time(), st.Checkpoint)
		}
	}
	if len(st.Judged) == 0 || st.Baseline.Subjects["key/LTAI5tAaaaaaaaaaaaaaaaaa"] == nil {
		t.Fatalf("state: %d judged, baseline %v", len(st.Judged), st.Baseline.Subjects)
	}
}

func TestWatcherSkipsWhileLocked(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	if ok, err := f.st.Acquire(ctx, trail.LockRecord, "other-run", time.Hour, f.clock); err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	res := f.run(t, ctx)
	if res.Locked || res.Windows != 0 {
		t.Fatalf("ran while another run held the lock: %+v", res)
	}
	var st trail.State
	if err := f.st.Get(ctx, trail.StateRecord, &st); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("state written while locked: %v", err)
	}
	// FC's retry of a failed attempt carries the same request ID: it may
	// take over its own lease.
	f.w.Options.Owner = "other-run"
	if res := f.run(t, ctx); !res.Locked {
		t.Fatal("the lease holder's retry was locked out")
	}
	if ok, err := f.st.Acquire(ctx, trail.LockRecord, "third-run", time.Hour, f.clock); err != nil || !ok {
		t.Fatalf("lease not released after the retry: %v %v", ok, err)
	}
	f.w.Options.Owner = "test"
	if err := f.st.Delete(ctx, trail.StateRecord); err != nil {
		t.Fatal(err)
	}
	// An expired lease left by a crashed run is broken.
	f.clock = f.clock.Add(2 * time.Hour)
	if res := f.run(t, ctx); !res.Locked {
		t.Fatal("expired lease not broken")
	}
}

func TestWatcherWorksThroughBacklogAcrossRuns(t *testing.T) {
	f := newFixture(t, 3)
	T := f.clock
	total := len(f.record(t, "LTAI5tBbbbbbbbbbbbbbbbbb", "", spread(T.Add(-10*time.Hour), T, 3000)...))
	f.w.Options.InitialLookback = 10 * time.Hour
	f.w.Options.Batch = time.Hour
	f.w.Options.DeadlineMargin = 100 * time.Millisecond
	f.w.Reader.Interval = 20 * time.Millisecond // over 1 s to read it all
	judged, runs := 0, 0
	for {
		runs++
		if runs > 40 {
			t.Fatal("backlog not worked through")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
		res, err := f.w.Run(ctx)
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		judged += res.Judged
		if !res.Backlog {
			if !res.To.Equal(T) {
				t.Fatalf("done at %v, want %v", res.To, T)
			}
			break
		}
	}
	if judged != total || runs < 2 {
		t.Fatalf("%d runs judged %d events, want %d in more than one run", runs, judged, total)
	}
	t.Logf("%d events in %d runs", total, runs)
}

func TestWatcherEscalatesOnceAcrossFailures(t *testing.T) {
	f := newFixture(t, 4)
	T := f.clock
	f.record(t, "LTAI5tCccccccccccccccccc", "Ram:CreateUser", T.Add(-50*time.Minute))
	f.record(t, "LTAI5tDddddddddddddddddd", "Ram:CreateUser", T.Add(-48*time.Minute))
	f.record(t, "LTAI5tCccccccccccccccccc", "Ram:CreateUser", T.Add(-20*time.Minute))
	f.record(t, "LTAI5tCccccccccccccccccc", "", spread(T.Add(-time.Hour), T, 30)...)
	f.fail = 2 // the second incident of the first window fails, then its retry fails too

	_, err := f.w.Run(context.Background())
	if err == nil {
		t.Fatal("run with respond down succeeded")
	}
	var st trail.State
	if err := f.st.Get(context.Background(), trail.StateRecord, &st); err != nil {
		t.Fatal(err)
	}
	if st.Checkpoint.After(T.Add(-50 * time.Minute)) {
		t.Fatalf("checkpoint %v passed a window whose incidents were not all escalated", st.Checkpoint)
	}
	if _, err := f.w.Run(context.Background()); err == nil {
		t.Fatal("second run should meet the second failure")
	}
	res := f.run(t, context.Background())
	if !res.To.Equal(T) {
		t.Fatalf("final checkpoint %v, want %v", res.To, T)
	}
	if len(f.sent) != 3 {
		t.Fatalf("escalated %d incidents, want 3: %v", len(f.sent), f.sent)
	}
	for id, n := range f.sent {
		if n != 1 {
			t.Errorf("incident %s escalated %d times", id, n)
		}
	}
	// A duplicate delivery of the same tick: nothing new.
	if res := f.run(t, context.Background()); res.Escalated != 0 {
		t.Fatalf("duplicate run escalated %d", res.Escalated)
	}
	keys, err := f.st.List(context.Background(), trail.IncidentPrefix)
	if err != nil || len(keys) != 3 {
		t.Fatalf("incident records %v, %v", keys, err)
	}
}

func TestWatcherDryRunRecordsWithoutEscalating(t *testing.T) {
	f := newFixture(t, 5)
	T := f.clock
	f.record(t, "LTAI5tEeeeeeeeeeeeeeeeee", "Ram:CreateUser", T.Add(-30*time.Minute))
	f.w.Options.DryRun = true
	res := f.run(t, context.Background())
	if res.Incidents != 1 || res.Escalated != 0 || len(f.sent) != 0 {
		t.Fatalf("dry run: %+v, sent %v", res, f.sent)
	}
	keys, err := f.st.List(context.Background(), trail.IncidentPrefix)
	if err != nil || len(keys) != 1 {
		t.Fatalf("records %v, %v", keys, err)
	}
	var rec trail.IncidentRecord
	if err := f.st.Get(context.Background(), keys[0], &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.DryRun || !rec.EscalatedAt.IsZero() || rec.Incident.Source != incident.SourceAudit {
		t.Fatalf("record: %+v", rec)
	}
}

func TestWatcherReadsLeakedKeyIndex(t *testing.T) {
	f := newFixture(t, 6)
	T := f.clock
	ctx := context.Background()
	root := &store.Store{Client: f.env.Root.OSS(), Bucket: f.env.Vars["stateBucket"], Prefix: "akguard/"}
	if ok, err := root.MarkLeaked(ctx, store.LeakedKey{AccessKeyID: "LTAI5tFfffffffffffffffff", Source: "manual"}); err != nil || !ok {
		t.Fatalf("mark leaked: %v %v", ok, err)
	}
	if ok, _ := root.MarkLeaked(ctx, store.LeakedKey{AccessKeyID: "LTAI5tFfffffffffffffffff", Source: "scan"}); ok {
		t.Fatal("a second report replaced the first")
	}
	// A hand-written record with a typo is skipped, not fatal.
	if err := root.Put(ctx, store.LeakedKeyRecord("LTAI5tGggggggggggggggggg"), "not an object"); err != nil {
		t.Fatal(err)
	}
	f.record(t, "LTAI5tFfffffffffffffffff", "", T.Add(-30*time.Minute))
	f.w.Options.DryRun = true
	res := f.run(t, ctx)
	if res.LeakedKey != 1 || res.Incidents != 1 {
		t.Fatalf("run: %+v", res)
	}
}

func TestWatcherStoredState(t *testing.T) {
	f := newFixture(t, 10)
	ctx := context.Background()
	T := f.clock
	tests := []struct {
		name     string
		state    any
		wantFrom time.Time
		wantErr  string
	}{
		{name: "first run starts InitialLookback back", state: nil, wantFrom: T.Add(-time.Hour)},
		{name: "older than ActionTrail keeps: skip ahead", state: trail.State{Version: trail.StateVersion, Checkpoint: T.Add(-100 * 24 * time.Hour)},
			wantFrom: T.Add(-trail.MaxLookback).Add(5 * time.Minute)},
		{name: "window length changed: re-align back", state: trail.State{Version: trail.StateVersion, Checkpoint: T.Add(-7 * time.Minute)},
			wantFrom: T.Add(-10 * time.Minute)},
		{name: "another schema", state: trail.State{Version: 99, Checkpoint: T}, wantErr: "audit state version 99"},
		{name: "not a state", state: []int{1}, wantErr: "decode record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.st.Delete(ctx, trail.StateRecord); err != nil {
				t.Fatal(err)
			}
			if tt.state != nil {
				if err := f.st.Put(ctx, trail.StateRecord, tt.state); err != nil {
					t.Fatal(err)
				}
			}
			res, err := f.w.Run(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !res.From.Equal(tt.wantFrom) {
				t.Fatalf("from %v, err %v; want from %v", res.From, err, tt.wantFrom)
			}
		})
	}
}
