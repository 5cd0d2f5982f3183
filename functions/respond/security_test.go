package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/shared/notify"
)

// A scan incident that carries no secret (a forged payload, or an older
// scan that sent a key it only saw as an ID) is notified, never acted on:
// no owner lookup, no policy, no disabled key, no leaked-key index entry.
func TestScanIncidentWithoutSecretIsNotifyOnly(t *testing.T) {
	f := start(t, nil)
	victim := f.user("victim")
	tests := map[string]func(m map[string]any){
		"no-findings": func(m map[string]any) { delete(m, "findings") },
		"id-only": func(m map[string]any) {
			m["findings"] = []map[string]any{{"path": "oss://akguard-demo-uploads/tickets/4711.txt", "line": 1,
				"rule": "alibaba-access-key-id", "severity": "critical", "access_key_id": victim.AccessKeyID, "secret_sha256": "",
				"encoding": "plain", "fingerprint": "fp-id"}}
		},
	}
	for id, mod := range tests {
		if res := f.invoke(newIncident(id, victim.AccessKeyID, "critical", mod)); res.Outcome != notify.OutcomeNotifyOnly {
			t.Fatalf("%s: %+v, want notify-only", id, res)
		}
	}
	if f.attached("victim") || f.keyStatus(victim.AccessKeyID) != "Active" {
		t.Fatalf("victim touched: attached=%v status=%s", f.attached("victim"), f.keyStatus(victim.AccessKeyID))
	}
	msgs := f.inbox()
	for id := range tests {
		if m := f.only(msgs, id); !strings.Contains(steps(m)["contain"].Reason, "no secret") {
			t.Fatalf("%s message: %+v", id, m)
		}
	}
	for _, e := range f.env.Cloud.Env.Trail.All() {
		if strings.HasPrefix(e.UserIdentity.UserName, "akguard-respond:") && (e.ServiceName == "Ims" || e.ServiceName == "Ram") {
			t.Errorf("respond called %s:%s for an incident without a secret", e.ServiceName, e.EventName)
		}
	}
	_, err := f.env.Root.OSS().HeadObject(f.ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(f.env.Vars["stateBucket"]),
		Key: oss.Ptr("akguard/leaked/" + victim.AccessKeyID + ".json")})
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != 404 {
		t.Fatalf("leaked-key index entry for an unproven key: %v", err)
	}
}

// A throttled RAM call does not close the incident: the invocation fails,
// FC's async retry resumes it, the key ends contained and people are told
// once.
func TestThrottledAttachIsRetriedByFC(t *testing.T) {
	f := start(t, nil)
	ivy := f.user("ivy")
	// Three throttles per attempt exhaust the step's own retries: the
	// first two attempts fail, the third succeeds.
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "ram", Operation: "AttachPolicyToUser", Rate: 1, Kind: "throttle", Remaining: 6})
	if _, err := f.env.Cloud.FC.Invoke(f.ctx, fn, newIncident("inc-ivy", ivy.AccessKeyID, "critical", nil), true); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Cloud.FC.WaitIdle(f.ctx); err != nil {
		t.Fatal(err)
	}
	inv := f.env.Cloud.FC.Invocations(fn)
	if len(inv) != 3 || inv[0].Status != "error" || inv[1].Status != "error" || inv[2].Status != "success" || inv[2].RetryCount != 2 {
		t.Fatalf("respond attempts = %+v, want two failures then a successful retry", inv)
	}
	if got := f.env.Cloud.Env.Faults.Fired()["ram/AttachPolicyToUser/throttle"]; got != 6 {
		t.Fatalf("AttachPolicyToUser throttled %d times, want 6", got)
	}
	if !f.attached("ivy") || f.keyStatus(ivy.AccessKeyID) != "Inactive" {
		t.Fatalf("ivy: attached=%v status=%s", f.attached("ivy"), f.keyStatus(ivy.AccessKeyID))
	}
	msgs := f.inbox()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1: %+v", len(msgs), msgs)
	}
	if m := f.only(msgs, "inc-ivy"); m.Outcome != notify.OutcomeContained || steps(m)["attach-policy"].Status != notify.StatusDone {
		t.Fatalf("message: %+v", m)
	}
	checkLeastPrivilege(t, f)
}

// When every attempt fails, the last one (retry count = AsyncRetries)
// records the failure, notifies once and ends the incident.
func TestLastAttemptNotifiesTheFailure(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_ASYNC_RETRY_ATTEMPTS": "1"})
	jay := f.user("jay")
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "ram", Operation: "AttachPolicyToUser", Rate: 1, Kind: "throttle"})
	if _, err := f.env.Cloud.FC.Invoke(f.ctx, fn, newIncident("inc-jay", jay.AccessKeyID, "critical", nil), true); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Cloud.FC.WaitIdle(f.ctx); err != nil {
		t.Fatal(err)
	}
	inv := f.env.Cloud.FC.Invocations(fn)
	if len(inv) != 2 || inv[0].Status != "error" || inv[1].Status != "success" {
		t.Fatalf("respond attempts = %+v, want one failure then the last attempt", inv)
	}
	if f.attached("jay") || f.keyStatus(jay.AccessKeyID) != "Inactive" {
		t.Fatalf("jay: attached=%v status=%s, want the key disabled without the policy", f.attached("jay"), f.keyStatus(jay.AccessKeyID))
	}
	msgs := f.inbox()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := f.only(msgs, "inc-jay")
	if m.Outcome != notify.OutcomePartial || steps(m)["attach-policy"].Status != notify.StatusFailed ||
		!strings.Contains(steps(m)["attach-policy"].Error, "Throttling") {
		t.Fatalf("message: %+v", m)
	}
	// Ended: a later delivery is a duplicate.
	if res := f.invoke(newIncident("inc-jay", jay.AccessKeyID, "critical", nil)); !res.Duplicate {
		t.Fatalf("redelivery: %+v", res)
	}
}
