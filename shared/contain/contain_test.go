package contain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/contain"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/store"
)

// responder builds an in-process Responder signed with a real session of
// the akguard-respond role, so the role's policy applies.
func responder(t *testing.T, env *localtest.Env) *contain.Responder { return responderTB(t, env) }

func responderTB(t testing.TB, env *localtest.Env) *contain.Responder {
	r, _ := newResponder(t, env, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	return r
}

// newResponder builds the Responder with the given log and returns the
// role session's credentials with it, for tests that search for them.
func newResponder(t testing.TB, env *localtest.Env, log *slog.Logger) (*contain.Responder, aliyun.Credentials) {
	t.Helper()
	sess, err := env.Cloud.Env.IAM.IssueSession("akguard-respond", "test", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	creds := aliyun.Credentials{AccessKeyID: sess.AccessKeyID, AccessKeySecret: sess.AccessKeySecret, SecurityToken: sess.SecurityToken}
	cl := aliyun.Clients{Region: env.Root.Region, AccountID: env.Root.AccountID, Endpoints: env.Root.Endpoints, Creds: creds}
	mc, err := cl.SMQ()
	if err != nil {
		t.Fatal(err)
	}
	sev := finding.SeverityCritical
	cfg := config.Respond{Common: config.Common{StateBucket: env.Vars["stateBucket"], StatePrefix: "akguard/"},
		Topic: env.Vars["topic"], PolicyName: policies.DenyHighRiskName, DisableKeyAt: &sev, MaxContainmentsPerHour: 10}
	return &contain.Responder{Config: cfg, Clients: cl, PolicyDocument: policies.DenyHighRisk,
		Invocation: aliyun.Invocation{RequestID: "req-test", Function: "akguard-respond"},
		Store:      &store.Store{Client: cl.OSS(), Bucket: cfg.StateBucket, Prefix: cfg.StatePrefix},
		Publisher:  &notify.Publisher{Client: mc, Topic: cfg.Topic, Attempts: 2, Backoff: time.Millisecond},
		Log:        log, StepBackoff: time.Millisecond}, creds
}

// evidence is what scan sends with a key: a finding holding the hash of
// its secret (the secret here is a synthetic placeholder).
func evidence(keyID string) []finding.Finding {
	return []finding.Finding{{Path: "oss://akguard-demo-uploads/app/config.env", Line: 2, Rule: "alibaba-access-key-pair",
		Severity: finding.SeverityCritical, AccessKeyID: keyID, SecretRedacted: "zq8X********",
		SecretSHA256: finding.HashSecret("synthetic-secret-" + keyID), Encoding: "plain", Fingerprint: "fp-" + keyID}}
}

func inboxCount(t testing.TB, env *localtest.Env) int {
	t.Helper()
	return len(env.Drain(t, localtest.InboxQueue))
}

// A notification that cannot be sent fails the invocation (so FC retries)
// without losing or repeating the containment: the retry reuses the
// recorded steps and only publishes.
func TestResumeAfterFailedNotification(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	if _, err := ids.CreateUser("gina", "gina", ""); err != nil {
		t.Fatal(err)
	}
	key, err := ids.CreateAccessKey("gina")
	if err != nil {
		t.Fatal(err)
	}
	r := responder(t, env)
	in := incident.Incident{Version: incident.Version, ID: "resume-1", Source: incident.SourceAudit, AccessKeyID: key.AccessKeyID,
		Severity: finding.SeverityCritical, DetectedAt: time.Now()}
	ctx := context.Background()

	env.Cloud.Env.Faults.Add(fault.Rule{Service: "smq", Operation: "PublishMessage", Rate: 1, Kind: "error", Status: 503, Code: "InternalError"})
	if _, err := r.Handle(ctx, in); err == nil {
		t.Fatal("Handle succeeded although SMQ failed")
	}
	if k, _ := ids.GetAccessKey(key.AccessKeyID); k.Status != "Inactive" {
		t.Fatalf("containment did not happen before the notification: %s", k.Status)
	}
	var rec contain.Record
	if err := r.Store.Get(ctx, "actions/resume-1/notify-result.json", &rec); err != nil || rec.Status != notify.StatusFailed {
		t.Fatalf("failed notification not recorded: %+v %v", rec, err)
	}
	if err := r.Store.Get(ctx, "responses/resume-1.json", &contain.Response{}); err == nil {
		t.Fatal("response recorded although the notification failed")
	}

	env.Cloud.Env.Faults.Clear()
	res, err := r.Handle(ctx, in)
	if err != nil || res.Outcome != notify.OutcomeContained || res.MessageID == "" {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if n := inboxCount(t, env); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	attaches := 0
	for _, e := range env.Cloud.Env.Trail.All() {
		if e.EventName == "AttachPolicyToUser" && e.ErrorCode == "" {
			attaches++
		}
	}
	if attaches != 1 {
		t.Fatalf("policy attached %d times, want 1", attaches)
	}
	var resp contain.Response
	if err := r.Store.Get(ctx, "responses/resume-1.json", &resp); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp.Message.Actions)
	if resp.Message.Outcome != notify.OutcomeContained || resp.Notification.MessageID != res.MessageID {
		t.Fatalf("response record: %+v %s", resp, b)
	}

	res, err = r.Handle(ctx, in)
	if err != nil || !res.Duplicate || res.MessageID == "" {
		t.Fatalf("third delivery: %+v %v", res, err)
	}
	if n := inboxCount(t, env); n != 0 {
		t.Fatalf("duplicate sent %d messages", n)
	}
}

// A containment step that fails still notifies, and says so.
func TestFailedContainmentStillNotifies(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	if _, err := ids.CreateUser("hank", "hank", ""); err != nil {
		t.Fatal(err)
	}
	key, err := ids.CreateAccessKey("hank")
	if err != nil {
		t.Fatal(err)
	}
	r := responder(t, env)
	env.Cloud.Env.Faults.Add(fault.Rule{Service: "ram", Operation: "UpdateAccessKey", Rate: 1, Kind: "error", Status: 500, Code: "InternalError"})
	in := incident.Incident{Version: incident.Version, ID: "fail-1", Source: incident.SourceScan, AccessKeyID: key.AccessKeyID,
		Severity: finding.SeverityCritical, DetectedAt: time.Now(), Findings: evidence(key.AccessKeyID)}
	res, err := r.Handle(context.Background(), in)
	if err != nil || res.Outcome != notify.OutcomePartial {
		t.Fatalf("%+v %v", res, err)
	}
	if n := inboxCount(t, env); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	if got := env.Cloud.Env.Faults.Fired()["ram/UpdateAccessKey/error"]; got != 3 {
		t.Fatalf("UpdateAccessKey tried %d times, want 3 (retries on 5xx)", got)
	}
}

// With AKGUARD_KMS_ROTATE, a key hosted in a KMS-managed RAM secret is
// rotated through KMS (once, even when the incident is delivered again).
func TestKMSRotation(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	if _, err := ids.CreateUser("ivan", "ivan", ""); err != nil {
		t.Fatal(err)
	}
	key, err := ids.CreateAccessKey("ivan")
	if err != nil {
		t.Fatal(err)
	}
	kc, err := env.Root.KMS()
	if err != nil {
		t.Fatal(err)
	}
	cs := kms.CreateCreateSecretRequest()
	cs.SecretName, cs.VersionId, cs.SecretType = "$Auto", "v1", "RAMCredentials"
	cs.ExtendedConfig = `{"SecretSubType":"RamUserAccessKey","UserName":"ivan"}`
	data, _ := json.Marshal(map[string]any{"AccessKeys": []map[string]string{{"AccessKeyId": key.AccessKeyID, "AccessKeySecret": key.AccessKeySecret}}})
	cs.SecretData = string(data)
	if _, err := kc.CreateSecret(cs); err != nil {
		t.Fatal("create secret failed") // the SDK error would echo SecretData
	}
	r := responder(t, env)
	r.Config.KMSRotate = true
	in := incident.Incident{Version: incident.Version, ID: "kms-1", Source: incident.SourceScan, AccessKeyID: key.AccessKeyID,
		Severity: finding.SeverityCritical, DetectedAt: time.Now(), Findings: evidence(key.AccessKeyID)}
	res, err := r.Handle(context.Background(), in)
	if err != nil || res.Outcome != notify.OutcomeContained {
		t.Fatalf("%+v %v", res, err)
	}
	var resp contain.Response
	if err := r.Store.Get(context.Background(), "responses/kms-1.json", &resp); err != nil {
		t.Fatal(err)
	}
	if k := resp.Message.KMS; k == nil || !k.Rotated || k.SecretName != "acs/ram/user/ivan" {
		t.Fatalf("kms: %+v", resp.Message.KMS)
	}
	keys, err := ids.ListAccessKeys("ivan")
	if err != nil || len(keys) != 2 {
		t.Fatalf("ivan has %d keys after rotation, want the leaked (Inactive) and a new one: %v", len(keys), err)
	}
	for _, k := range keys {
		if k.AccessKeyID == key.AccessKeyID && k.Status != "Inactive" {
			t.Fatal("leaked key still active")
		}
	}
	for _, e := range env.Cloud.Env.Trail.All() {
		if e.ServiceName == "Kms" && e.ErrorCode != "" {
			t.Fatalf("KMS call refused: %s %s", e.EventName, e.ErrorCode)
		}
	}
}

func TestGuardrailsInProcess(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	tests := []struct {
		name     string
		setup    func(r *contain.Responder, key string)
		ownKey   bool
		outcome  string
		reason   string // substring of the contain step's reason
		attached bool
		disabled bool
	}{
		{name: "own credential", ownKey: true, outcome: notify.OutcomeNotifyOnly, reason: "own credential"},
		{name: "protected user", setup: func(r *contain.Responder, _ string) { r.Config.ProtectedUsers = []string{"protected-user"} },
			outcome: notify.OutcomeNotifyOnly, reason: "protected"},
		{name: "protected key", setup: func(r *contain.Responder, key string) { r.Config.ProtectedKeys = []string{key} },
			outcome: notify.OutcomeNotifyOnly, reason: "AKGUARD_PROTECTED_KEYS"},
		{name: "allowlisted key", setup: func(r *contain.Responder, key string) { r.Config.AllowKeys = []string{key} },
			outcome: notify.OutcomeNotifyOnly, reason: "AKGUARD_ALLOW_KEYS"},
		{name: "configured dry run", setup: func(r *contain.Responder, _ string) { r.Config.DryRun = true },
			outcome: notify.OutcomeWouldContain},
		{name: "never disable", setup: func(r *contain.Responder, _ string) { r.Config.DisableKeyAt = nil },
			outcome: notify.OutcomeContained, attached: true},
		{name: "breaker off", setup: func(r *contain.Responder, _ string) { r.Config.MaxContainmentsPerHour = 0 },
			outcome: notify.OutcomeNotifyOnly, reason: "circuit breaker"},
		{name: "lookup fails", setup: func(*contain.Responder, string) {
			env.Cloud.Env.Faults.Add(fault.Rule{Service: "ims", Operation: "GetUser", Rate: 1, Kind: "error", Status: 503, Code: "ServiceUnavailable"})
		}, outcome: notify.OutcomeFailed, reason: "could not be looked up"},
		{name: "contained", outcome: notify.OutcomeContained, attached: true, disabled: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer env.Cloud.Env.Faults.Clear()
			user := fmt.Sprintf("user-%d", i)
			if tt.name == "protected user" {
				user = "protected-user"
			}
			if _, err := ids.CreateUser(user, user, ""); err != nil {
				t.Fatal(err)
			}
			key, err := ids.CreateAccessKey(user)
			if err != nil {
				t.Fatal(err)
			}
			r := responder(t, env)
			keyID := key.AccessKeyID
			if tt.ownKey {
				keyID = r.Clients.Creds.AccessKeyID
			}
			if tt.setup != nil {
				tt.setup(r, keyID)
			}
			in := incident.Incident{Version: incident.Version, ID: fmt.Sprintf("guard-%d", i), Source: incident.SourceScan,
				AccessKeyID: keyID, Severity: finding.SeverityCritical, DetectedAt: time.Now(), Findings: evidence(keyID)}
			res, err := r.Handle(context.Background(), in)
			if err != nil || res.Outcome != tt.outcome {
				t.Fatalf("Handle = %+v, %v; want outcome %s", res, err, tt.outcome)
			}
			var resp contain.Response
			if err := r.Store.Get(context.Background(), "responses/"+in.ID+".json", &resp); err != nil {
				t.Fatal(err)
			}
			if tt.reason != "" {
				found := false
				for _, s := range resp.Message.Actions {
					found = found || (s.Step == "contain" && strings.Contains(s.Reason, tt.reason))
				}
				if !found {
					t.Fatalf("no contain step with reason %q: %+v", tt.reason, resp.Message.Actions)
				}
			}
			atts, _ := ids.ListPoliciesForUser(user)
			if got := len(atts) > 0; got != tt.attached {
				t.Fatalf("attached = %v, want %v", got, tt.attached)
			}
			k, _ := ids.GetAccessKey(key.AccessKeyID)
			if got := k.Status == "Inactive"; got != tt.disabled {
				t.Fatalf("disabled = %v, want %v", got, tt.disabled)
			}
			inboxCount(t, env)
		})
	}
}

// BenchmarkHandle measures one full containment through the local cloud:
// owner lookup, breaker, policy, attach, disable, records, notification.
func BenchmarkHandle(b *testing.B) {
	env := localtest.Start(b, localtest.Options{})
	ids := env.Cloud.Env.IAM
	r := responderTB(b, env)
	r.Config.MaxContainmentsPerHour = 1 << 30
	i := 0
	for b.Loop() {
		b.StopTimer()
		user := fmt.Sprintf("bench-%d", i)
		if _, err := ids.CreateUser(user, user, ""); err != nil {
			b.Fatal(err)
		}
		key, err := ids.CreateAccessKey(user)
		if err != nil {
			b.Fatal(err)
		}
		in := incident.Incident{Version: incident.Version, ID: fmt.Sprintf("bench-%d", i), Source: incident.SourceScan,
			AccessKeyID: key.AccessKeyID, Severity: finding.SeverityCritical, DetectedAt: time.Now(), Findings: evidence(key.AccessKeyID)}
		i++
		b.StartTimer()
		if res, err := r.Handle(context.Background(), in); err != nil || res.Outcome != notify.OutcomeContained {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
