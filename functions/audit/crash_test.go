package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/audit"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

// auditPIDs lists the running audit function instances: the processes
// whose executable is the binary localtest built for this test process.
func auditPIDs(t *testing.T) []int {
	t.Helper()
	exe := filepath.Join(localtest.BuildFunction(t, "audit"), "main")
	dirs, _ := os.ReadDir("/proc")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe")); err == nil && target == exe {
			out = append(out, pid)
		}
	}
	return out
}

// TestAuditSurvivesKillAndOverlap: two deliveries of one tick at once (one
// runs, one backs off), the running one killed mid-backlog, then the
// backlog finished by later runs. The baseline at the end must be exactly
// what an uninterrupted replay of the history learns: no window skipped,
// none learned twice.
func TestAuditSurvivesKillAndOverlap(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("needs /proc to find the function's process")
	}
	ctx := context.Background()
	env := localtest.Start(t, localtest.Options{Functions: []string{"audit", "respond"}, Env: map[string]string{
		"AKGUARD_AUDIT_INITIAL_LOOKBACK": "30h",
		"AKGUARD_AUDIT_LOOKUP_QPS":       "15",
		"AKGUARD_AUDIT_BATCH":            "1h",
	}})
	env.Cloud.RPC.SetLookupEventsRate(0)
	st := stateStore(env)
	win := 5 * time.Minute
	end := time.Now().UTC().Truncate(win).Add(-30 * time.Minute)
	start := end.Add(-26 * time.Hour)
	h := newHistory(7)
	cast := h.actors()
	names := make([]string, 0, len(cast))
	for n := range cast {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h.normal(cast[n], start, end, win)
	}
	frank := cast["frank"]
	at := lastAt(end.Add(-time.Hour), 14, 21)
	for i := range 12 {
		h.inject(frank, at.Add(time.Duration(i)*10*time.Second), [2]string{"Ram", "ListUsers"}, frank.ips[0], "NoPermission", "")
	}
	sort.SliceStable(h.events, func(i, j int) bool { return h.events[i].EventTime < h.events[j].EventTime })
	var buf bytes.Buffer
	for _, e := range h.events {
		line, _ := json.Marshal(e)
		buf.Write(append(line, '\n'))
	}
	if _, err := env.Cloud.Env.Trail.Import(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	rules := audit.Config{WorkingHours: audit.WorkingHours{Start: "08:00", End: "20:00", TimeZone: "UTC",
		Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}}
	if err := st.Put(ctx, trail.ConfigRecord, rules); err != nil {
		t.Fatal(err)
	}

	// Two deliveries of the same tick, at once.
	type outcome struct {
		res trail.RunResult
		err error
	}
	results := make(chan outcome, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := invoke(t, env, `{}`)
			results <- outcome{res, err}
		}()
	}
	// The one that got the lock is working through 26 hours at 15 calls/s:
	// kill it once it has saved some progress.
	deadline := time.Now().Add(30 * time.Second)
	var mid trail.State
	for {
		if time.Now().After(deadline) {
			t.Fatal("no progress saved")
		}
		err := st.Get(ctx, trail.StateRecord, &mid)
		if err == nil && mid.Checkpoint.After(start.Add(3*time.Hour)) {
			break
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every instance is killed (the idle one is harmless to kill: FC starts another).
	for _, pid := range auditPIDs(t) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Logf("kill %d: %v", pid, err)
		}
	}
	wg.Wait()
	close(results)
	var locked, skipped, failed int
	for o := range results {
		switch {
		case o.err != nil:
			failed++
		case !o.res.Locked:
			skipped++
		default:
			locked++
		}
	}
	if skipped != 1 || failed != 1 {
		t.Fatalf("overlapping deliveries: %d ran to the end, %d skipped on the lock, %d killed; want 0, 1, 1", locked, skipped, failed)
	}
	if mid.Checkpoint.After(end) || mid.Checkpoint.Equal(end) {
		t.Fatalf("the killed run finished before it was killed (checkpoint %v)", mid.Checkpoint)
	}

	// The killed run's lease lasts until its deadline plus a minute; the
	// test lets it lapse instead of waiting (an operator's "break the lock").
	if err := st.BreakLease(ctx, trail.LockRecord); err != nil {
		t.Fatal(err)
	}
	runToEnd(t, env, `{}`)

	var final trail.State
	if err := st.Get(ctx, trail.StateRecord, &final); err != nil {
		t.Fatal(err)
	}
	if final.Checkpoint.Before(end) {
		t.Fatalf("checkpoint %v before the end of the history %v", final.Checkpoint, end)
	}
	// The reference: the same history replayed in one go.
	evs := make([]audit.Event, 0, len(h.events))
	for _, e := range h.events {
		b, _ := json.Marshal(e)
		var ev audit.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	rules.Allow = trail.SelfAllowances()
	eng, err := audit.NewEngine(rules)
	if err != nil {
		t.Fatal(err)
	}
	want := eng.Replay(audit.Baseline{}, evs)
	for _, n := range names {
		a := cast[n]
		key := "key/" + a.key
		if a.role {
			key = "role/" + account + "/" + a.name
		}
		if final.Baseline.Subjects[key] == nil || final.Baseline.Subjects[key].Windows == 0 {
			t.Errorf("%s: nothing learned", n)
		}
		got, _ := json.Marshal(final.Baseline.Subjects[key])
		exp, _ := json.Marshal(want.Baseline.Subjects[key])
		if !bytes.Equal(got, exp) {
			t.Errorf("%s: baseline after the crash differs from an uninterrupted replay:\n got %s\nwant %s", n, got, exp)
		}
	}
	recs := incidents(t, st)
	franks := 0
	escalated := 0
	for _, s := range recs {
		if s.ev.AccessKeyID == frank.key {
			franks++
		}
		if !s.rec.EscalatedAt.IsZero() {
			escalated++
		}
	}
	if franks != 1 || len(want.Incidents) == 0 {
		t.Errorf("frank's denied burst: %d incidents recorded (replay raised %d in all)", franks, len(want.Incidents))
	}
	if n := escalations(env); n != escalated {
		t.Errorf("respond invoked %d times for %d escalated incidents", n, escalated)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = env.Cloud.FC.WaitIdle(wctx)
}
