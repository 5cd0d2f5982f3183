package contain_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/contain"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/notify"
)

func newUser(t *testing.T, env *localtest.Env, name string) string {
	t.Helper()
	if _, err := env.Cloud.Env.IAM.CreateUser(name, name, ""); err != nil {
		t.Fatal(err)
	}
	k, err := env.Cloud.Env.IAM.CreateAccessKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return k.AccessKeyID
}

func scanIncident(id, key string, sev finding.Severity) incident.Incident {
	return incident.Incident{Version: incident.Version, ID: id, Source: incident.SourceScan, AccessKeyID: key,
		Severity: sev, DetectedAt: time.Now(), Findings: evidence(key)}
}

func countEvents(env *localtest.Env, service, event string) int {
	n := 0
	for _, e := range env.Cloud.Env.Trail.All() {
		if e.ServiceName == service && e.EventName == event {
			n++
		}
	}
	return n
}

// A throttled owner lookup fails the attempt (FC retries) instead of
// ending the incident as "failed"; the retry contains the key.
func TestTransientLookupFailureIsRetried(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	key := newUser(t, env, "lena")
	r := responder(t, env)
	r.Config.AsyncRetries = 3
	ctx := context.Background()
	in := scanIncident("lookup-1", key, finding.SeverityCritical)
	env.Cloud.Env.Faults.Add(fault.Rule{Service: "ims", Operation: "GetUser", Rate: 1, Kind: "throttle"})
	if _, err := r.Handle(ctx, in); !errors.Is(err, contain.ErrTransient) {
		t.Fatalf("Handle = %v, want ErrTransient", err)
	}
	if err := r.Store.Get(ctx, "responses/lookup-1.json", &contain.Response{}); err == nil {
		t.Fatal("a transient lookup failure ended the incident")
	}
	if n := inboxCount(t, env); n != 0 {
		t.Fatalf("%d messages before the last attempt, want 0", n)
	}
	env.Cloud.Env.Faults.Clear()
	r.Invocation.RetryCount = 1
	res, err := r.Handle(ctx, in)
	if err != nil || res.Outcome != notify.OutcomeContained {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if n := inboxCount(t, env); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	if n := countEvents(env, "Oss", "PutObject"); n == 0 {
		t.Fatal("no records written")
	}
	// The last attempt ends it as before: failed, notified.
	key2 := newUser(t, env, "lena2")
	env.Cloud.Env.Faults.Add(fault.Rule{Service: "ims", Operation: "GetUser", Rate: 1, Kind: "throttle"})
	r.Invocation.RetryCount = 3
	res, err = r.Handle(ctx, scanIncident("lookup-2", key2, finding.SeverityCritical))
	if err != nil || res.Outcome != notify.OutcomeFailed {
		t.Fatalf("last attempt: %+v %v", res, err)
	}
	if n := inboxCount(t, env); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

// With the circuit breaker open, an incident is not even looked up: a
// flood of unknown keys cannot make respond list every user's keys.
func TestBreakerBeforeOwnerLookup(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	r := responder(t, env)
	r.Config.MaxContainmentsPerHour = 1
	ctx := context.Background()
	// Unknown keys (synthetic, never issued): the lookup falls back to
	// listing every user's keys.
	res, err := r.Handle(ctx, scanIncident("flood-1", "LTAI5tQ3zW8xK2mP7vN4bR6c", finding.SeverityCritical))
	if err != nil || res.Outcome != notify.OutcomeReported {
		t.Fatalf("first: %+v %v", res, err)
	}
	lookups := countEvents(env, "Ims", "GetUser") + countEvents(env, "Ram", "ListUsers")
	if lookups == 0 {
		t.Fatal("the first incident was not looked up")
	}
	res, err = r.Handle(ctx, scanIncident("flood-2", "LTAI5tR4aX9yL3nQ8wO5cS7d", finding.SeverityCritical))
	if err != nil || res.Outcome != notify.OutcomeNotifyOnly {
		t.Fatalf("second: %+v %v", res, err)
	}
	if n := countEvents(env, "Ims", "GetUser") + countEvents(env, "Ram", "ListUsers"); n != lookups {
		t.Fatalf("the breaker was open but the owner was looked up (%d lookup calls, want %d)", n, lookups)
	}
	var resp contain.Response
	if err := r.Store.Get(ctx, "responses/flood-2.json", &resp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stepOf(resp.Message, "contain").Reason, "circuit breaker open") {
		t.Fatalf("message: %+v", resp.Message.Actions)
	}
	inboxCount(t, env)
}

func stepOf(m notify.Message, name string) notify.Step {
	for _, s := range m.Actions {
		if s.Step == name {
			return s
		}
	}
	return notify.Step{}
}

// The deny policy is per user: releasing one leaked key must not lift the
// containment of another leaked key of the same user that is still Active.
func TestReleaseKeepsOtherLeakedKeyContained(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	first := newUser(t, env, "mona")
	k2, err := ids.CreateAccessKey("mona")
	if err != nil {
		t.Fatal(err)
	}
	second := k2.AccessKeyID
	r := responder(t, env)
	ctx := context.Background()
	// High severity: the policy is attached, the keys stay Active.
	for i, k := range []string{first, second} {
		res, err := r.Handle(ctx, scanIncident([]string{"mona-1", "mona-2"}[i], k, finding.SeverityHigh))
		if err != nil || res.Outcome != notify.OutcomeContained {
			t.Fatalf("contain %s: %+v %v", k, res, err)
		}
	}
	if err := ids.UpdateAccessKey("mona", first, "Inactive"); err != nil {
		t.Fatal(err)
	}
	release := func(id string, force bool) contain.Result {
		t.Helper()
		res, err := r.Handle(ctx, incident.Incident{Version: incident.Version, ID: id, Source: incident.SourceManual,
			Action: incident.ActionRelease, AccessKeyID: first, Severity: finding.SeverityHigh, DetectedAt: time.Now(),
			Reporter: "secops", Reason: "first key rotated", Force: force})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	attached := func() bool {
		atts, err := ids.ListPoliciesForUser("mona")
		if err != nil {
			t.Fatal(err)
		}
		return len(atts) > 0
	}
	if res := release("rel-mona-1", false); res.Outcome != notify.OutcomeReleaseRefused || !attached() {
		t.Fatalf("release while %s is Active: %+v attached=%v", second, res, attached())
	}
	var resp contain.Response
	if err := r.Store.Get(ctx, "responses/rel-mona-1.json", &resp); err != nil {
		t.Fatal(err)
	}
	if reason := stepOf(resp.Message, "release").Reason; !strings.Contains(reason, second) || !strings.Contains(reason, "still Active") {
		t.Fatalf("refusal reason = %q", reason)
	}
	if err := ids.UpdateAccessKey("mona", second, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if res := release("rel-mona-2", false); res.Outcome != notify.OutcomeReleased || attached() {
		t.Fatalf("release once both are Inactive: %+v attached=%v", res, attached())
	}
	// The other key's record now says it is released too.
	var c contain.Contained
	if err := r.Store.Get(ctx, "contained/"+second+".json", &c); err != nil || !c.Released || c.ReleasedBy != "rel-mona-2" {
		t.Fatalf("contained record of %s: %+v %v", second, c, err)
	}
	inboxCount(t, env)
}

// Force releases despite another Active leaked key, and says so.
func TestForcedReleaseWithOtherActiveKey(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	first := newUser(t, env, "nina")
	k2, err := ids.CreateAccessKey("nina")
	if err != nil {
		t.Fatal(err)
	}
	r := responder(t, env)
	ctx := context.Background()
	for i, k := range []string{first, k2.AccessKeyID} {
		if res, err := r.Handle(ctx, scanIncident([]string{"nina-1", "nina-2"}[i], k, finding.SeverityHigh)); err != nil || res.Outcome != notify.OutcomeContained {
			t.Fatalf("contain: %+v %v", res, err)
		}
	}
	res, err := r.Handle(ctx, incident.Incident{Version: incident.Version, ID: "rel-nina", Source: incident.SourceManual,
		Action: incident.ActionRelease, AccessKeyID: first, Severity: finding.SeverityHigh, DetectedAt: time.Now(), Force: true})
	if err != nil || res.Outcome != notify.OutcomeReleased {
		t.Fatalf("forced release: %+v %v", res, err)
	}
	var rec contain.Record
	if err := r.Store.Get(ctx, "actions/rel-nina/detach-policy-intent.json", &rec); err != nil ||
		!strings.Contains(rec.Why, "forced") || !strings.Contains(rec.Why, k2.AccessKeyID) {
		t.Fatalf("detach intent: %+v %v", rec, err)
	}
	inboxCount(t, env)
}
