package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/audit"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

const functionName = "akguard-audit"

// invoke runs the deployed audit function once, synchronously, with a
// timer event carrying payload.
func invoke(t *testing.T, env *localtest.Env, payload string) (trail.RunResult, error) {
	t.Helper()
	ev, _ := json.Marshal(map[string]string{"triggerTime": time.Now().UTC().Format(time.RFC3339),
		"triggerName": "audit-every-5m", "payload": payload})
	body, err := env.Cloud.FC.Invoke(context.Background(), functionName, ev, false)
	var res trail.RunResult
	if err == nil {
		if jerr := json.Unmarshal(body, &res); jerr != nil {
			t.Fatalf("decode run result %q: %v", body, jerr)
		}
	}
	return res, err
}

// runToEnd invokes until the backlog is worked through.
func runToEnd(t *testing.T, env *localtest.Env, payload string) []trail.RunResult {
	t.Helper()
	var out []trail.RunResult
	for i := 0; ; i++ {
		res, err := invoke(t, env, payload)
		if err != nil {
			t.Fatalf("audit run %d: %v", i, err)
		}
		if !res.Locked {
			t.Fatalf("audit run %d did not get the lock", i)
		}
		out = append(out, res)
		if !res.Backlog {
			return out
		}
		if i > 20 {
			t.Fatal("backlog never worked through")
		}
	}
}

func stateStore(env *localtest.Env) *store.Store {
	return &store.Store{Client: env.Root.OSS(), Bucket: env.Vars["stateBucket"], Prefix: "akguard/"}
}

type stored struct {
	key string
	rec trail.IncidentRecord
	ev  trail.Evidence
}

func incidents(t *testing.T, st *store.Store) []stored {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, trail.IncidentPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []stored
	for _, k := range keys {
		var s stored
		s.key = k
		if err := st.Get(ctx, k, &s.rec); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(s.rec.Incident.Audit, &s.ev); err != nil {
			t.Fatalf("%s: audit evidence: %v", k, err)
		}
		out = append(out, s)
	}
	return out
}

func hasRule(ai audit.Incident, rule string) bool {
	return slices.ContainsFunc(ai.Rules, func(h audit.Hit) bool { return h.Rule == rule })
}

// escalations counts respond invocations the audit role made that FC
// accepted, from the trail: the cloud's own record of what was sent.
func escalations(env *localtest.Env) int {
	n := 0
	for _, e := range env.Cloud.Env.Trail.All() {
		if e.ServiceName == "Fc" && e.EventName == "InvokeFunction" && e.ErrorCode == "" &&
			strings.HasPrefix(e.UserIdentity.UserName, "akguard-audit:") && strings.HasSuffix(e.ResourceName, "/akguard-respond") {
			n++
		}
	}
	return n
}

func TestAuditCatchesAttacksOnGeneratedHistory(t *testing.T) {
	ctx := context.Background()
	testStart := time.Now()
	env := localtest.Start(t, localtest.Options{Functions: []string{"audit", "respond"}, Env: map[string]string{
		"AKGUARD_AUDIT_INITIAL_LOOKBACK": "100h",
		"AKGUARD_AUDIT_LOOKUP_QPS":       "1000", // faster than the server allows: it must back off
		"AKGUARD_AUDIT_BATCH":            "6h",
		// Two regions: the local cloud serves both; RAM events are global
		// and come back from each, to be judged once.
		"AKGUARD_AUDIT_REGIONS": "cn-hangzhou,cn-shanghai",
	}})
	env.Cloud.RPC.SetLookupEventsRate(40)
	t.Logf("local cloud up in %v", time.Since(testStart).Round(time.Millisecond))
	st := stateStore(env)
	win := 5 * time.Minute
	t0 := time.Now().UTC().Truncate(win)
	end := t0.Add(-40 * time.Minute)
	start := end.Add(-4 * 24 * time.Hour)

	h := newHistory(42)
	cast := h.actors()
	names := make([]string, 0, len(cast))
	for n := range cast {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h.normal(cast[n], start, end, win)
	}
	// Off-hours admin work by a known key, from its usual address.
	bob := cast["bob"]
	at := lastAt(end.Add(-time.Hour), 2, 12)
	for i, op := range adminOps {
		h.inject(bob, at.Add(time.Duration(i)*40*time.Second), op, bob.ips[0], "", "")
	}
	// A slow attacker with eve's key: one call every 35 minutes from a new network.
	eve := cast["eve"]
	at = lastAt(end.Add(-8*time.Hour), 10, 5)
	for i := range 9 {
		h.inject(eve, at.Add(time.Duration(i)*35*time.Minute), readOps[i%len(readOps)], "185.220.101.7", "", "")
	}
	// A burst of denied calls: enumeration with frank's key.
	frank := cast["frank"]
	at = lastAt(end.Add(-time.Hour), 14, 21)
	for i := range 14 {
		code := "NoPermission"
		op := [2]string{"Ram", "ListUsers"}
		if i%2 == 1 {
			code, op = "AccessDenied", [2]string{"Oss", "ListBuckets"}
		}
		h.inject(frank, at.Add(time.Duration(i)*10*time.Second), op, frank.ips[0], code, "")
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
	t.Logf("history: %d events, %s to %s", len(h.events), start.Format(time.RFC3339), end.Format(time.RFC3339))

	rules := audit.Config{
		WorkingHours:    audit.WorkingHours{Start: "08:00", End: "20:00", TimeZone: "UTC", Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}},
		BaselineMinDays: 2, BaselineMinWindows: 24,
	}
	if err := st.Put(ctx, trail.ConfigRecord, rules); err != nil {
		t.Fatal(err)
	}

	// Phase 1: the history, with respond failing once mid-run.
	env.Cloud.Env.Faults.Add(fault.Rule{Service: "fc", Operation: "InvokeFunction", Rate: 1, Kind: "error",
		Status: 503, Code: "ServiceUnavailable", Remaining: 1})
	const phase1 = `{"lagMinutes":30}`
	began := time.Now()
	res, err := invoke(t, env, phase1)
	var ie *fc.InvocationError
	if !errors.As(err, &ie) {
		t.Fatalf("run with respond unavailable: err = %v, want a function error", err)
	}
	var mid trail.State
	if err := st.Get(ctx, trail.StateRecord, &mid); err != nil {
		t.Fatal(err)
	}
	firstAttack := lastAt(end.Add(-time.Hour), 2, 12)
	if a := lastAt(end.Add(-8*time.Hour), 10, 5); a.Before(firstAttack) {
		firstAttack = a
	}
	if !mid.Checkpoint.Before(firstAttack.Add(win)) {
		t.Fatalf("checkpoint %v passed the window of the first incident (%v) although it was not escalated", mid.Checkpoint, firstAttack)
	}
	// Rate limiting at 40 calls/s only bites when the machine is fast
	// enough to exceed it; two injected throttles make sure the backoff
	// path runs on a loaded CI machine too.
	env.Cloud.Env.Faults.Add(fault.Rule{Service: "actiontrail", Operation: "LookupEvents", Rate: 1, Kind: "throttle",
		Status: 400, Code: "Throttling.User", Remaining: 2})
	runs := runToEnd(t, env, phase1)
	elapsed := time.Since(began)
	var read trail.ReadStats
	events := 0
	for _, r := range runs {
		read.Calls += r.Read.Calls
		read.Throttled += r.Read.Throttled
		events += r.Judged
	}
	cp1 := runs[len(runs)-1].To
	t.Logf("phase 1: a failed run and %d more (%d events judged after the failure); %d events in %v (%.0f events/s) through the function, %d LookupEvents calls after the failure, %d throttled, checkpoint %v",
		len(runs), events, len(h.events), elapsed.Round(time.Millisecond), float64(len(h.events))/elapsed.Seconds(), read.Calls, read.Throttled, cp1)
	if read.Throttled == 0 {
		t.Errorf("no Throttling.User seen at 40 calls/s: the backoff path was not exercised")
	}
	if cp1.Before(end) {
		t.Fatalf("checkpoint %v is before the end of the history %v", cp1, end)
	}
	_ = res

	// Phase 2: dave's key is reported leaked, and its use arrives late
	// (eventTime before the checkpoint, within the overlap).
	dave := cast["dave"]
	if ok, err := st.MarkLeaked(ctx, store.LeakedKey{AccessKeyID: dave.key, Source: "scan",
		Location: "oss://" + env.Vars["uploadBucket"] + "/deploy/.env", ReportedAt: cp1}); err != nil || !ok {
		t.Fatalf("mark leaked: %v, %v", ok, err)
	}
	seed := []struct {
		op   [2]string
		code string
		res  string
	}{
		{[2]string{"Oss", "GetObject"}, "", "acs:oss:cn-hangzhou:" + account + ":finance/backup.sql"},
		{[2]string{"Oss", "PutBucketAcl"}, "AccessDenied", "acs:oss:cn-hangzhou:" + account + ":finance"},
		{[2]string{"Oss", "DeleteBucket"}, "AccessDenied", "acs:oss:cn-hangzhou:" + account + ":finance"},
	}
	for i, s := range seed {
		ev := h.inject(dave, cp1.Add(-4*time.Minute+time.Duration(i)*30*time.Second), s.op, "45.77.0.10", s.code, s.res)
		if err := env.Cloud.Env.Trail.Record(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	p2 := time.Now()
	runToEnd(t, env, `{"lagMinutes":0}`)
	t.Logf("phase 2 run: %v", time.Since(p2).Round(time.Millisecond))

	// A duplicate delivery of the same tick changes nothing.
	before := incidents(t, st)
	dup, err := invoke(t, env, `{"lagMinutes":0}`)
	if err != nil {
		t.Fatal(err)
	}
	// And the deployed timer trigger (s.yaml's payload, async), fired twice
	// at once as a duplicated delivery would.
	nBefore := len(env.Cloud.FC.Invocations(functionName))
	for range 2 {
		if _, err := env.Cloud.FC.FireTimer(ctx, functionName, "audit-every-5m"); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for these two only: respond's own work is not this test's.
	for wait := time.Now().Add(30 * time.Second); len(env.Cloud.FC.Invocations(functionName)) < nBefore+2; {
		if time.Now().After(wait) {
			t.Fatal("timer invocations did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, inv := range env.Cloud.FC.Invocations(functionName)[nBefore:] {
		t.Logf("timer run %s: %s in %v (queued %v)", inv.RequestID, inv.Status, inv.Duration.Round(time.Millisecond), inv.Queued.Round(time.Millisecond))
		if inv.Status != "success" {
			t.Errorf("timer invocation %s: %s %s", inv.RequestID, inv.Status, inv.Error)
		}
	}
	after := incidents(t, st)

	// Judge what was raised.
	byKey := map[string]string{}
	for _, a := range cast {
		if a.key != "" {
			byKey[a.key] = a.name
		}
	}
	got := map[string][]stored{}
	for _, s := range after {
		name := byKey[s.ev.AccessKeyID]
		if s.ev.PrincipalType == audit.TypeAssumedRole && s.ev.Principal == "app-role" {
			name = "app-role"
		}
		if name == "" {
			t.Logf("incident about %s %s (not in the generated history): %s", s.ev.PrincipalType, s.ev.Principal, s.rec.Incident.Summary)
			continue
		}
		got[name] = append(got[name], s)
	}
	for _, name := range []string{"alice", "ci", "app-role"} {
		for _, s := range got[name] {
			t.Errorf("false positive on normal history: %s", s.rec.Incident.Summary)
		}
	}
	attack := map[string]bool{}
	for _, ids := range h.attack {
		for _, id := range ids {
			attack[id] = true
		}
	}
	for name, list := range got {
		for _, s := range list {
			if !slices.ContainsFunc(s.ev.Evidence.EventIDs, func(id string) bool { return attack[id] }) {
				t.Errorf("incident for %s without an attack event: %s", name, s.rec.Incident.Summary)
			}
		}
	}
	expect := []struct {
		actor string
		rule  string
	}{
		{"bob", audit.RuleOffHours},
		{"eve", audit.RuleUnfamiliarSource},
		{"frank", audit.RuleDeniedBurst},
		{"dave", audit.RuleLeakedKeyInUse},
		{"dave", audit.RuleDangerousOperation},
	}
	for _, e := range expect {
		caught := map[string]bool{}
		for _, s := range got[e.actor] {
			if hasRule(s.ev.Incident, e.rule) {
				for _, id := range s.ev.Evidence.EventIDs {
					caught[id] = true
				}
			}
		}
		for _, id := range h.attack[e.actor] {
			if !caught[id] {
				t.Errorf("%s: attack event %s not in any %s incident (%d incidents)", e.actor, id, e.rule, len(got[e.actor]))
			}
		}
	}
	if d := got["dave"]; len(d) != 1 {
		t.Errorf("dave: %d incidents, want 1 (the late-arriving seed attack)", len(d))
	} else {
		in := d[0]
		if in.rec.Incident.Severity != finding.SeverityCritical || in.ev.Leak == nil {
			t.Errorf("seed incident: severity %v, leak %v", in.rec.Incident.Severity, in.ev.Leak)
		}
		if in.ev.LastUsed == nil || !slices.ContainsFunc(in.ev.LastUsed.IPs, func(u trail.IPUse) bool { return u.IP == "45.77.0.10" }) {
			t.Errorf("seed incident not enriched with GetAccessKeyLastUsed*: %+v", in.ev.LastUsed)
		}
		if !slices.ContainsFunc(in.ev.Evidence.SourceIPs, func(c audit.Count) bool { return c.Value == "45.77.0.10" }) {
			t.Errorf("seed incident evidence lacks the attacker's address: %+v", in.ev.Evidence.SourceIPs)
		}
	}

	// Exactly one accepted respond invocation per escalated incident,
	// across the failed run, its retry and the duplicate delivery.
	escalated := 0
	for _, s := range after {
		if !s.rec.EscalatedAt.IsZero() {
			escalated++
		}
		if err := s.rec.Incident.Validate(); err != nil {
			t.Errorf("%s: %v", s.key, err)
		}
	}
	if n := escalations(env); n != escalated {
		t.Errorf("respond invoked %d times for %d escalated incidents", n, escalated)
	}
	if dup.Escalated != 0 && len(after) == len(before) {
		t.Errorf("duplicate delivery escalated %d incidents", dup.Escalated)
	}
	for _, b := range before {
		i := slices.IndexFunc(after, func(a stored) bool { return a.key == b.key })
		if i < 0 || !after[i].rec.EscalatedAt.Equal(b.rec.EscalatedAt) {
			t.Errorf("%s changed on a duplicate delivery", b.key)
		}
	}
	for _, s := range after {
		raw, _ := json.Marshal(s.rec)
		for _, needle := range []string{`"requestParameters"`, "AccessKeySecret", "SecurityToken"} {
			if bytes.Contains(raw, []byte(needle)) {
				t.Errorf("%s carries %s", s.key, needle)
			}
		}
	}
	checkPolicyMatchesCalls(t, env)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = env.Cloud.FC.WaitIdle(wctx) // let respond finish before the cloud stops
	t.Logf("total %v", time.Since(testStart).Round(time.Millisecond))
	summary := map[string]int{}
	for name, list := range got {
		summary[name] = len(list)
	}
	t.Logf("incidents per actor: %v; escalated %d", summary, escalated)
}

// checkPolicyMatchesCalls holds infra/ram/akguard-audit.json to what the
// function really called, as the trail recorded it: every call allowed
// (a denied one means a missing permission) and every allowed action used
// (an unused one is privilege to drop).
func checkPolicyMatchesCalls(t *testing.T, env *localtest.Env) {
	t.Helper()
	doc, err := env.Policy("akguard-audit")
	if err != nil {
		t.Fatal(err)
	}
	var pol struct {
		Statement []struct {
			Action any
		}
	}
	if err := json.Unmarshal([]byte(doc), &pol); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, st := range pol.Statement {
		switch a := st.Action.(type) {
		case string:
			allowed[a] = true
		case []any:
			for _, x := range a {
				allowed[x.(string)] = true
			}
		}
	}
	called := map[string]bool{}
	for _, e := range env.Cloud.Env.Trail.All() {
		if !strings.HasPrefix(e.UserIdentity.UserName, "akguard-audit:") {
			continue
		}
		action := strings.ToLower(e.ServiceName) + ":" + strings.TrimSuffix(e.EventName, "V2")
		if e.ErrorCode == "NoPermission" || e.ErrorCode == "AccessDenied" {
			t.Errorf("the audit role was denied %s: add it to infra/ram/akguard-audit.json", action)
		}
		called[action] = true
	}
	for a := range allowed {
		if !called[a] {
			t.Errorf("policy allows %s, which the function never called", a)
		}
	}
	for a := range called {
		if !allowed[a] {
			t.Errorf("function called %s, which the policy does not list", a)
		}
	}
}
