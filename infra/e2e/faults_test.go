package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/shared/contain"
	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/ossscan"
)

// burstFaults hit every service the pipeline calls with each kind of
// failure. Rates are high enough that every path fails often, low enough
// that the retries (SDK, notify, FC's three async retries) get through.
func burstFaults() []fault.Rule {
	return []fault.Rule{
		// Certain failures first, so every service's failure path runs in
		// every run; then random ones.
		{Service: "smq", Operation: "PublishMessage", Rate: 1, Kind: "error", Status: 503, Code: "ServiceUnavailable", Remaining: 1},
		{Service: "fc", Operation: "InvokeFunction", Rate: 1, Kind: "throttle", Status: 429, Code: "ResourceThrottled", Remaining: 1},
		{Service: "ram", Operation: "AttachPolicyToUser", Rate: 1, Kind: "throttle", Status: 400, Code: "Throttling.User", Remaining: 1},
		{Service: "oss", Operation: "GetObject", Rate: 1, Kind: "drop", Remaining: 1},
		{Service: "oss", Operation: "*", Rate: 0.05, Kind: "error", Status: 503, Code: "ServiceUnavailable"},
		{Service: "oss", Operation: "*", Rate: 0.05, Kind: "throttle"},
		{Service: "oss", Operation: "GetObject", Rate: 0.05, Kind: "drop"},
		{Service: "oss", Operation: "*", Rate: 0.2, Kind: "latency", Latency: 20 * time.Millisecond},
		{Service: "ram", Operation: "*", Rate: 0.15, Kind: "throttle", Status: 400, Code: "Throttling.User"},
		{Service: "ram", Operation: "AttachPolicyToUser", Rate: 0.2, Kind: "error", Status: 500, Code: "InternalError"},
		{Service: "ram", Operation: "*", Rate: 0.05, Kind: "drop"},
		{Service: "ims", Operation: "*", Rate: 0.15, Kind: "error", Status: 503, Code: "ServiceUnavailable"},
		{Service: "actiontrail", Operation: "*", Rate: 0.2, Kind: "throttle", Status: 400, Code: "Throttling.User"},
		{Service: "smq", Operation: "PublishMessage", Rate: 0.3, Kind: "error", Status: 503, Code: "ServiceUnavailable"},
		{Service: "smq", Operation: "PublishMessage", Rate: 0.1, Kind: "drop"},
		{Service: "fc", Operation: "InvokeFunction", Rate: 0.2, Kind: "throttle", Status: 429, Code: "ResourceThrottled"},
		{Service: "fc", Operation: "InvokeFunction", Rate: 0.1, Kind: "drop"},
		{Service: "fc", Operation: "InvokeFunction", Rate: 0.2, Kind: "latency", Latency: 50 * time.Millisecond},
	}
}

// firedPerService sums Faults.Fired() by service and kind.
func firedPerService(fired map[string]int) (map[string]int, string) {
	per := map[string]int{}
	kinds := map[string]int{}
	for k, n := range fired {
		parts := strings.Split(k, "/")
		per[parts[0]] += n
		kinds[parts[0]+"/"+parts[len(parts)-1]] += n
	}
	var b strings.Builder
	for _, k := range sortedKeys(kinds) {
		fmt.Fprintf(&b, "%s=%d ", k, kinds[k])
	}
	return per, strings.TrimSpace(b.String())
}

// TestBurstUnderFaults uploads a burst with faults on OSS, RAM, IMS,
// ActionTrail, SMQ and FC. Every object must end scanned, every leaked key
// contained or, where the faults won, recorded as not contained with the
// reason; nothing lost.
func TestBurstUnderFaults(t *testing.T) {
	f := start(t, fc.Options{RetryBase: 100 * time.Millisecond}, nil)
	users := []iam.AccessKey{f.user("erin"), f.user("frank"), f.user("grace")}
	type obj struct {
		key, etag string
		leaks     *iam.AccessKey
	}
	var objs []obj
	n := 30
	if soak() {
		n = 300
	}
	f.env.Cloud.Env.Faults.Set(burstFaults())
	begin := time.Now()
	for i := range n {
		o := obj{key: fmt.Sprintf("burst/%03d.txt", i)}
		body := clean(i)
		if i%5 == 0 {
			k := users[(i/5)%len(users)]
			o.leaks, body = &k, envFile(k)
		}
		o.etag = f.putDirect(o.key, body)
		objs = append(objs, o)
	}
	drain := f.settle(n)
	f.env.Cloud.Env.Faults.Clear() // the checks below read through the same services
	fired := f.env.Cloud.Env.Faults.Fired()
	per, detail := firedPerService(fired)
	t.Logf("%d uploads drained in %v (%v after the last upload); faults injected per service: %v", n, time.Since(begin).Round(time.Millisecond),
		drain.Round(time.Millisecond), per)
	t.Logf("faults by kind: %s", detail)
	for _, k := range []string{"smq/PublishMessage/error", "fc/InvokeFunction/throttle", "ram/AttachPolicyToUser/throttle", "oss/GetObject/drop"} {
		if fired[k] == 0 {
			t.Errorf("fault %s never fired: that path was not exercised", k)
		}
	}

	// Every object scanned: one delivery each, finally successful, or
	// (where the faults outlasted FC's retries) in the dead-letter queue
	// with the reason.
	dead := f.deadLetters()
	deadByID := map[string]fc.DestinationEvent{}
	for _, m := range dead {
		var ev fc.DestinationEvent
		if err := json.Unmarshal([]byte(m), &ev); err != nil {
			t.Fatalf("dead letter %q: %v", m, err)
		}
		deadByID[ev.RequestContext.RequestID] = ev
	}
	final := f.finalStatus(scanFn)
	if len(final) != n {
		t.Errorf("scan ran for %d events, want %d", len(final), n)
	}
	lost, retried, deadScans := 0, 0, map[string]string{} // object key -> why
	for id, i := range final {
		if i.RetryCount > 0 {
			retried++
		}
		if i.Status == "success" {
			continue
		}
		ev, ok := deadByID[id]
		if !ok {
			lost++
			t.Errorf("scan invocation %s ended %s after %d retries and is not in the dead-letter queue: %s", id, i.Status, i.RetryCount, i.Error)
			continue
		}
		for _, o := range objs {
			if strings.Contains(ev.RequestPayload, `"key":"`+o.key+`"`) {
				deadScans[o.key] = ev.ResponsePayload
			}
		}
		t.Logf("scan invocation %s dead-lettered after %d invocations (%s): %.200s", id, ev.RequestContext.ApproximateInvokeCount,
			ev.RequestContext.Condition, ev.ResponsePayload)
	}
	recs := f.findings()
	byObject := map[string][]ossscan.Record{}
	for _, r := range recs {
		byObject[r.Object.Key] = append(byObject[r.Object.Key], r)
	}
	responses := f.records("responses/")
	dispatch := f.records("dispatch/scan/")
	contained, reported := 0, 0
	for _, o := range objs {
		rs := byObject[o.key]
		if o.leaks == nil {
			if len(rs) != 0 {
				t.Errorf("clean object %s has %d finding records", o.key, len(rs))
			}
			if _, ok := deadScans[o.key]; ok {
				lost++ // a clean object's scan only fails on OSS reads, which the SDK retries
				t.Errorf("clean object %s was never scanned", o.key)
			}
			continue
		}
		if len(rs) != 1 || rs[0].Finding.AccessKeyID != o.leaks.AccessKeyID || rs[0].Object.ETag != o.etag {
			lost++
			t.Errorf("leak in %s: records %+v, want one for %s", o.key, rs, o.leaks.AccessKeyID)
			continue
		}
		id := rs[0].IncidentID
		if b, ok := responses[prefix+"responses/"+id+".json"]; ok {
			var resp contain.Response
			if err := json.Unmarshal(b, &resp); err != nil {
				t.Fatalf("response %s: %v", id, err)
			}
			switch resp.Message.Outcome {
			case notify.OutcomeContained:
				contained++
			case notify.OutcomePartial, notify.OutcomeFailed:
				// Not contained: the record must say which step failed and why.
				if !slices.ContainsFunc(resp.Message.Actions, func(s notify.Step) bool { return s.Status == notify.StatusFailed && s.Error != "" }) {
					t.Errorf("incident %s: outcome %s without a failed step saying why: %+v", id, resp.Message.Outcome, resp.Message.Actions)
				}
				reported++
				for _, s := range resp.Message.Actions {
					if s.Status == notify.StatusFailed {
						t.Logf("incident %s %s, recorded: step %s failed: %s", id, resp.Message.Outcome, s.Step, s.Error)
					}
				}
			default:
				t.Errorf("incident %s: outcome %s", id, resp.Message.Outcome)
			}
			continue
		}
		var d ossscan.Dispatch
		if b, ok := dispatch[prefix+ossscan.DispatchKey(id)]; ok && json.Unmarshal(b, &d) == nil && d.State == ossscan.DispatchFailed && d.Error != "" {
			reported++
			t.Logf("incident %s not handed to respond, recorded: %s", id, d.Error)
			continue
		}
		if why, ok := deadScans[o.key]; ok && strings.Contains(why, id) {
			reported++ // the scan's dead letter names the incident it could not hand over
			continue
		}
		if slices.ContainsFunc(dead, func(m string) bool { return strings.Contains(m, id) }) {
			reported++
			t.Logf("incident %s dead-lettered after FC's retries", id)
			continue
		}
		lost++
		t.Errorf("incident %s (%s in %s): neither contained nor recorded as not contained (dispatch %+v)", id, o.leaks.AccessKeyID, o.key, d)
	}
	for _, u := range users {
		if got := f.attachSuccesses()[u.UserName]; got > 1 {
			t.Errorf("user %s: %d successful AttachPolicyToUser, want at most 1", u.UserName, got)
		}
	}
	msgs, _ := f.inbox()
	ids := map[string]int{}
	for _, m := range msgs {
		ids[m.IncidentID]++
	}
	for id, c := range ids {
		if c > 1 {
			t.Errorf("incident %s notified %d times", id, c)
		}
	}
	t.Logf("objects %d (retried scans %d, dead-lettered %d), leaks %d: contained %d, reported not contained %d, lost %d; notifications %d, dead letters %d",
		n, retried, len(deadScans), n/5, contained, reported, lost, len(msgs), len(dead))
}

// deadLetters drains the dead-letter queue, sorted.
func (f *fixture) deadLetters() []string {
	f.t.Helper()
	out := f.env.Drain(f.t, f.env.Vars["deadLetterQueue"])
	sort.Strings(out)
	return out
}
