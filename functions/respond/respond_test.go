package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/contain"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/notify"
)

const fn = "akguard-respond"

type fixture struct {
	t   *testing.T
	env *localtest.Env
	ctx context.Context
	log *syncBuffer
}

// syncBuffer collects the function's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, env map[string]string) *fixture {
	t.Helper()
	log := &syncBuffer{}
	e := localtest.Start(t, localtest.Options{Functions: []string{"respond"}, Vars: map[string]string{"dryRun": "false"}, Env: env,
		FC: fc.Options{LogWriter: log}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &fixture{t: t, env: e, ctx: ctx, log: log}
}

// user creates a RAM user with full access and one key, as a leaked key
// would typically have.
func (f *fixture) user(name string) iam.AccessKey {
	f.t.Helper()
	return f.env.User(f.t, name, "AdministratorAccess")
}

func (f *fixture) clients(id, secret, token string) aliyun.Clients {
	return aliyun.Clients{Region: f.env.Root.Region, AccountID: f.env.Root.AccountID, Endpoints: f.env.Root.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: token}}
}

func newIncident(id, key, severity string, mod func(m map[string]any)) []byte {
	m := map[string]any{"version": incident.Version, "id": id, "source": "scan", "access_key_id": key, "severity": severity,
		"detected_at": "2026-11-23T10:00:00Z", "summary": "AccessKey pair in a public object",
		"object": map[string]any{"bucket": "akguard-demo-uploads", "key": "app/config.env", "acl": "public-read", "public": true},
		// Scan sends a key with the hash of the secret found with it (of a
		// synthetic placeholder here): the proof that the key leaked.
		"findings": []map[string]any{{"path": "oss://akguard-demo-uploads/app/config.env", "line": 2, "rule": "alibaba-access-key-pair",
			"severity": severity, "access_key_id": key, "secret_redacted": "zq8X********",
			"secret_sha256": finding.HashSecret("synthetic-secret-" + key), "encoding": "plain", "fingerprint": "fp-" + key}}}
	if mod != nil {
		mod(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func (f *fixture) invoke(payload []byte) contain.Result {
	f.t.Helper()
	out, err := f.env.Cloud.FC.Invoke(f.ctx, fn, payload, false)
	if err != nil {
		f.t.Fatalf("invoke: %v: %s", err, out)
	}
	var r contain.Result
	if err := json.Unmarshal(out, &r); err != nil {
		f.t.Fatalf("decode result %s: %v", out, err)
	}
	return r
}

// inbox drains the queue subscribed to the alerts topic.
func (f *fixture) inbox() []notify.Message {
	f.t.Helper()
	var out []notify.Message
	for _, body := range f.env.Drain(f.t, localtest.InboxQueue) {
		msg, err := notify.Decode(body)
		if err != nil {
			f.t.Fatalf("inbox message: %v", err)
		}
		out = append(out, msg)
	}
	return out
}

func (f *fixture) only(msgs []notify.Message, id string) notify.Message {
	f.t.Helper()
	var got []notify.Message
	for _, m := range msgs {
		if m.IncidentID == id {
			got = append(got, m)
		}
	}
	if len(got) != 1 {
		f.t.Fatalf("incident %s: %d messages, want 1 (inbox: %+v)", id, len(got), msgs)
	}
	return got[0]
}

func (f *fixture) attached(user string) bool {
	f.t.Helper()
	atts, err := f.env.Cloud.Env.IAM.ListPoliciesForUser(user)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range atts {
		if a.PolicyName == "akguard-deny-high-risk" {
			return true
		}
	}
	return false
}

func (f *fixture) keyStatus(id string) string {
	k, ok := f.env.Cloud.Env.IAM.GetAccessKey(id)
	if !ok {
		return "deleted"
	}
	return k.Status
}

func denied(err error) bool {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode() == "NoPermission" || strings.HasPrefix(se.ErrorCode(), "Forbidden")
	}
	var oe *oss.ServiceError
	return errors.As(err, &oe) && oe.Code == "AccessDenied"
}

func steps(m notify.Message) map[string]notify.Step {
	out := map[string]notify.Step{}
	for _, s := range m.Actions {
		out[s.Step] = s
	}
	return out
}

func TestRespondEndToEnd(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_KMS_ROTATE": "true"})
	ids := f.env.Cloud.Env.IAM
	alice := f.user("alice")
	bob := f.user("bob")
	f.ramSecret("bob", bob)
	bucket := f.env.Vars["uploadBucket"]
	if _, err := f.env.Root.OSS().PutObject(f.ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("app/readme.txt"),
		Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}

	// High severity: the deny policy only; the key stays Active.
	res := f.invoke(newIncident("inc-alice", alice.AccessKeyID, "high", nil))
	if res.Outcome != notify.OutcomeContained || res.DryRun {
		t.Fatalf("alice: %+v", res)
	}
	if !f.attached("alice") || f.keyStatus(alice.AccessKeyID) != "Active" {
		t.Fatalf("alice: attached=%v status=%s", f.attached("alice"), f.keyStatus(alice.AccessKeyID))
	}
	if p, err := ids.GetPolicy("Custom", "akguard-deny-high-risk"); err != nil || !sameDoc(p.Default().Document, policies.DenyHighRisk) {
		t.Fatalf("deny policy not created with the reviewed document: %v", err)
	}
	leaked := f.clients(alice.AccessKeyID, alice.AccessKeySecret, "")
	if _, err := leaked.OSS().DeleteBucket(f.ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr(bucket)}); !denied(err) {
		t.Fatalf("leaked key DeleteBucket: %v, want access denied", err)
	}
	rc, err := leaked.RAM()
	if err != nil {
		t.Fatal(err)
	}
	ck := ram.CreateCreateAccessKeyRequest()
	ck.UserName = "alice"
	if _, err := rc.CreateAccessKey(ck); !denied(err) {
		t.Fatalf("leaked key CreateAccessKey: %v, want NoPermission", err)
	}
	got, err := leaked.OSS().GetObject(f.ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("app/readme.txt")})
	if err != nil {
		t.Fatalf("leaked key GetObject (allowed): %v", err)
	}
	got.Body.Close()

	// Someone edits the deny policy: the next containment restores the
	// reviewed document as a new default version.
	if _, err := ids.CreatePolicyVersion("akguard-deny-high-risk", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:CreateUser","Resource":"*"}]}`, true, ""); err != nil {
		t.Fatal(err)
	}
	// Critical: policy, KMS rotation of bob's managed secret, key disabled.
	if res := f.invoke(newIncident("inc-bob", bob.AccessKeyID, "critical", nil)); res.Outcome != notify.OutcomeContained {
		t.Fatalf("bob: %+v", res)
	}
	if p, err := ids.GetPolicy("Custom", "akguard-deny-high-risk"); err != nil || p.Default().VersionID != "v3" || !sameDoc(p.Default().Document, policies.DenyHighRisk) {
		t.Fatalf("deny policy not restored as a new default version: %+v %v", p.Default(), err)
	}
	if keys, _ := ids.ListAccessKeys("bob"); len(keys) != 2 {
		t.Fatalf("bob has %d keys, want the disabled leaked key and the one KMS rotated in", len(keys))
	}
	if !f.attached("bob") || f.keyStatus(bob.AccessKeyID) != "Inactive" {
		t.Fatalf("bob: attached=%v status=%s", f.attached("bob"), f.keyStatus(bob.AccessKeyID))
	}

	msgs := f.inbox()
	m := f.only(msgs, "inc-alice")
	st := steps(m)
	if m.Owner.UserName != "alice" || m.Owner.LookedUpBy != "ims:GetUser" || m.Outcome != notify.OutcomeContained ||
		st["attach-policy"].Status != notify.StatusDone || st["disable-key"].Status != notify.StatusSkipped ||
		st["ensure-policy"].Status != notify.StatusDone || m.Where.Object == nil || len(m.NextSteps) == 0 || m.Text == "" {
		t.Fatalf("alice message: %+v", m)
	}
	if mb := f.only(msgs, "inc-bob"); steps(mb)["disable-key"].Status != notify.StatusDone || mb.Tag() != "critical" ||
		mb.KMS == nil || !mb.KMS.Rotated || steps(mb)["ensure-policy"].Status != notify.StatusDone {
		t.Fatalf("bob message: %+v", mb)
	}

	// Duplicate delivery: no second containment, no second message.
	if res := f.invoke(newIncident("inc-bob", bob.AccessKeyID, "critical", nil)); !res.Duplicate {
		t.Fatalf("duplicate: %+v", res)
	}
	if msgs := f.inbox(); len(msgs) != 0 {
		t.Fatalf("duplicate sent %d messages", len(msgs))
	}

	// Root key: escalate, act on nothing.
	root := ids.RootKey()
	if res := f.invoke(newIncident("inc-root", root.AccessKeyID, "critical", nil)); res.Outcome != notify.OutcomeEscalated {
		t.Fatalf("root: %+v", res)
	}
	if k, _ := ids.GetAccessKey(root.AccessKeyID); k.Status != "Active" {
		t.Fatal("root key was touched")
	}
	// A key this account does not have.
	foreign := "LTAI5tQ3zW8xK2mP7vN4bR6c"
	if res := f.invoke(newIncident("inc-foreign", foreign, "critical", nil)); res.Outcome != notify.OutcomeReported {
		t.Fatalf("foreign: %+v", res)
	}
	// Dry run from the incident.
	carol := f.user("carol")
	if res := f.invoke(newIncident("inc-carol", carol.AccessKeyID, "critical", func(m map[string]any) { m["dry_run"] = true })); res.Outcome != notify.OutcomeWouldContain || !res.DryRun {
		t.Fatalf("dry run: %+v", res)
	}
	if f.attached("carol") || f.keyStatus(carol.AccessKeyID) != "Active" {
		t.Fatal("dry run changed carol")
	}
	// A session of akguard's own role is never contained.
	sess, err := ids.IssueSession("akguard-respond", "probe", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	// One call puts the session in the trail, where respond finds its role.
	if _, err := f.clients(sess.AccessKeyID, sess.AccessKeySecret, sess.SecurityToken).OSS().ListObjectsV2(f.ctx,
		&oss.ListObjectsV2Request{Bucket: oss.Ptr(f.env.Vars["stateBucket"]), Prefix: oss.Ptr("akguard/responses/")}); err != nil {
		t.Fatal(err)
	}
	if res := f.invoke(newIncident("inc-self", sess.AccessKeyID, "critical", nil)); res.Outcome != notify.OutcomeEscalated {
		t.Fatalf("own role session: %+v", res)
	}
	atts, _ := ids.ListPoliciesForRole("akguard-respond")
	for _, a := range atts {
		if a.PolicyName == "akguard-deny-high-risk" {
			t.Fatal("respond's own role was contained")
		}
	}
	msgs = f.inbox()
	if m := f.only(msgs, "inc-root"); m.Owner.Type != notify.OwnerRoot || !strings.Contains(strings.Join(m.NextSteps, " "), "root") {
		t.Fatalf("root message: %+v", m)
	}
	if m := f.only(msgs, "inc-foreign"); m.Owner.Type != notify.OwnerUnknown {
		t.Fatalf("foreign message: %+v", m)
	}
	if m := f.only(msgs, "inc-carol"); !m.DryRun || steps(m)["attach-policy"].Status != notify.StatusDryRun {
		t.Fatalf("dry-run message: %+v", m)
	}
	if m := f.only(msgs, "inc-self"); m.Owner.RoleName != "akguard-respond" || !strings.Contains(steps(m)["contain"].Reason, "akguard's own role") {
		t.Fatalf("own session message: %+v", m)
	}

	// Release: refused while alice's key is Active, done once it is not.
	rel := func(id string) []byte {
		return newIncident(id, alice.AccessKeyID, "high", func(m map[string]any) {
			m["source"], m["action"], m["reporter"], m["reason"] = "manual", "release", "secops", "key rotated"
			delete(m, "object")
		})
	}
	if res := f.invoke(rel("rel-1")); res.Outcome != notify.OutcomeReleaseRefused || !f.attached("alice") {
		t.Fatalf("release of an active key: %+v", res)
	}
	if err := ids.UpdateAccessKey("alice", alice.AccessKeyID, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if res := f.invoke(rel("rel-2")); res.Outcome != notify.OutcomeReleased || f.attached("alice") {
		t.Fatalf("release: %+v attached=%v", res, f.attached("alice"))
	}
	msgs = f.inbox()
	if m := f.only(msgs, "rel-2"); steps(m)["detach-policy"].Status != notify.StatusDone {
		t.Fatalf("release message: %+v", m)
	}
	f.only(msgs, "rel-1")

	// Every step is recorded before and after.
	keys, err := (&storeLister{f}).list("actions/inc-alice/")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"attach-policy-intent.json", "attach-policy-result.json", "notify-intent.json", "notify-result.json"} {
		if !containsSuffix(keys, want) {
			t.Fatalf("missing record %s in %v", want, keys)
		}
	}
	// No secret in any log line or record.
	logs := f.log.String()
	if !strings.Contains(logs, `"msg":"incident handled"`) {
		t.Fatalf("function logs lack the outcome line:\n%s", logs)
	}
	for _, secret := range []string{alice.AccessKeySecret, bob.AccessKeySecret, carol.AccessKeySecret, root.AccessKeySecret,
		sess.AccessKeySecret, sess.SecurityToken} {
		if strings.Contains(logs, secret) {
			t.Fatal("a secret appears in the function's logs")
		}
	}
	// Least privilege, both ways: nothing the respond role did was refused,
	// and every action its policy grants was used by this run.
	called := checkLeastPrivilege(t, f)
	for _, a := range policyActions(t) {
		if !called[a] {
			t.Errorf("infra/ram/akguard-respond.json grants %s but respond never called it (called %v)", a, keysOf(called))
		}
	}
}

func TestRespondGuardrails(t *testing.T) {
	// The breaker is consulted before the owner lookup, so dave's incident
	// (allowlisted, which only the lookup reveals) takes a slot too: two
	// slots let erin's containment through and stop frank's.
	f := start(t, map[string]string{"AKGUARD_ALLOW_USERS": "dave", "AKGUARD_MAX_CONTAINMENTS_PER_HOUR": "2"})
	dave, erin, frank := f.user("dave"), f.user("erin"), f.user("frank")
	if res := f.invoke(newIncident("inc-dave", dave.AccessKeyID, "critical", nil)); res.Outcome != notify.OutcomeNotifyOnly {
		t.Fatalf("allowlisted: %+v", res)
	}
	if f.attached("dave") || f.keyStatus(dave.AccessKeyID) != "Active" {
		t.Fatal("allowlisted user was touched")
	}
	if res := f.invoke(newIncident("inc-erin", erin.AccessKeyID, "medium", nil)); res.Outcome != notify.OutcomeContained {
		t.Fatalf("erin: %+v", res)
	}
	// The breaker's two slots per hour are taken.
	if res := f.invoke(newIncident("inc-frank", frank.AccessKeyID, "critical", nil)); res.Outcome != notify.OutcomeNotifyOnly {
		t.Fatalf("breaker: %+v", res)
	}
	if f.attached("frank") || f.keyStatus(frank.AccessKeyID) != "Active" {
		t.Fatal("breaker let a containment through")
	}
	// A malformed event is acknowledged, not retried, and logged without
	// the secret someone pasted into it.
	pasted := "Zq8" + strings.Repeat("x7K", 9) // synthetic, secret-shaped
	out, err := f.env.Cloud.FC.Invoke(f.ctx, fn, []byte(`{"version":"akguard.incident/v1","id":"bad","source":"manual","access_key_id":"`+pasted+`"}`), false)
	if err != nil || !strings.Contains(string(out), `"invalid"`) {
		t.Fatalf("malformed event: %s %v", out, err)
	}
	// The function's stdout reaches the log writer through a pipe: wait for it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(f.log.String(), "invalid incident") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if logs := f.log.String(); strings.Contains(logs, pasted[:20]) || !strings.Contains(logs, "invalid incident") {
		t.Fatalf("malformed event log:\n%s", logs)
	}

	// Asynchronous delivery, as scan and audit invoke respond, twice over:
	// one response, one message.
	gail := f.user("gail")
	for range 2 {
		if _, err := f.env.Cloud.FC.Invoke(f.ctx, fn, newIncident("inc-gail", gail.AccessKeyID, "critical", nil), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.env.Cloud.FC.WaitIdle(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, iv := range f.env.Cloud.FC.Invocations(fn) {
		// The second delivery waits for the first's lease, then finds its
		// response: no FC retry is spent.
		if iv.Async && (iv.Status != "success" || iv.RetryCount != 0) {
			t.Fatalf("async delivery: %+v", iv)
		}
	}
	msgs := f.inbox()
	if m := f.only(msgs, "inc-gail"); m.Outcome != notify.OutcomeNotifyOnly {
		t.Fatalf("async message: %+v", m)
	}
	if m := f.only(msgs, "inc-dave"); !strings.Contains(steps(m)["contain"].Reason, "allowlisted") {
		t.Fatalf("allowlist message: %+v", m)
	}
	if m := f.only(msgs, "inc-frank"); !strings.Contains(steps(m)["contain"].Reason, "circuit breaker") {
		t.Fatalf("breaker message: %+v", m)
	}
	if m := f.only(msgs, "inc-erin"); m.Tag() != "medium" {
		t.Fatalf("erin message: %+v", m)
	}
	checkLeastPrivilege(t, f)
}

type storeLister struct{ f *fixture }

func (s *storeLister) list(prefix string) ([]string, error) {
	res, err := s.f.env.Root.OSS().ListObjectsV2(s.f.ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(s.f.env.Vars["stateBucket"]),
		Prefix: oss.Ptr("akguard/" + prefix)})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range res.Contents {
		out = append(out, oss.ToString(o.Key))
	}
	return out, nil
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// checkLeastPrivilege fails on any call of the respond role that was
// refused and returns the RAM actions (service:Action) of its calls.
func checkLeastPrivilege(t *testing.T, f *fixture) map[string]bool {
	t.Helper()
	called := map[string]bool{}
	for _, e := range f.env.Cloud.Env.Trail.All() {
		if e.UserIdentity.Type != "assumed-role" || !strings.HasPrefix(e.UserIdentity.UserName, "akguard-respond:") {
			continue
		}
		if e.ErrorCode == "NoPermission" || e.ErrorCode == "AccessDenied" || strings.HasPrefix(e.ErrorCode, "Forbidden") {
			t.Errorf("respond role was refused %s:%s on %s: %s", e.ServiceName, e.EventName, e.ResourceName, e.ErrorCode)
		}
		called[ramAction(e.ServiceName, e.EventName)] = true
	}
	return called
}

// ramAction maps an ActionTrail event to the RAM action that authorises
// it: IMS uses ram: actions (IMS API reference, "Authorization
// information"); OSS authorises ListObjectsV2 and HeadObject as
// oss:ListObjects and oss:GetObject.
func ramAction(service, event string) string {
	switch service {
	case "Ims":
		return "ram:" + event
	case "Oss":
		switch event {
		case "ListObjectsV2":
			return "oss:ListObjects"
		case "HeadObject", "GetObjectMeta":
			return "oss:GetObject"
		}
	}
	return strings.ToLower(service) + ":" + event
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameDoc(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && fmt.Sprint(x) == fmt.Sprint(y)
}

// ramSecret hosts a user's key in a KMS-managed RAM secret.
func (f *fixture) ramSecret(user string, key iam.AccessKey) {
	f.t.Helper()
	kc, err := f.env.Root.KMS()
	if err != nil {
		f.t.Fatal(err)
	}
	req := kms.CreateCreateSecretRequest()
	req.SecretName, req.VersionId, req.SecretType = "$Auto", "v1", "RAMCredentials"
	req.ExtendedConfig = `{"SecretSubType":"RamUserAccessKey","UserName":"` + user + `"}`
	data, _ := json.Marshal(map[string]any{"AccessKeys": []map[string]string{{"AccessKeyId": key.AccessKeyID, "AccessKeySecret": key.AccessKeySecret}}})
	req.SecretData = string(data)
	if _, err := kc.CreateSecret(req); err != nil {
		f.t.Fatal("create RAM secret failed") // the SDK error would echo SecretData
	}
}

func policyActions(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(localtest.Root(), "infra", "ram", "akguard-respond.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Effect string
			Action any
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("unexpected effect %s", s.Effect)
		}
		switch a := s.Action.(type) {
		case string:
			got = append(got, a)
		case []any:
			for _, x := range a {
				got = append(got, fmt.Sprint(x))
			}
		}
	}
	sort.Strings(got)
	return got
}

// TestPolicyNamesOnlyCalledActions pins infra/ram/akguard-respond.json to
// the calls the code makes: adding a call means adding it here and to the
// policy, and a policy action no code calls fails.
func TestPolicyNamesOnlyCalledActions(t *testing.T) {
	got := policyActions(t)
	// What shared/contain, shared/notify and shared/store call, one entry
	// per SDK call site kind.
	want := []string{
		"actiontrail:GetAccessKeyLastUsedInfo",                      // owner lookup fallback
		"kms:DescribeSecret", "kms:ListSecrets", "kms:RotateSecret", // AKGUARD_KMS_ROTATE (shared/contain TestKMSRotation)
		"mns:PublishMessage",                                // notify.Publisher
		"oss:DeleteObject",                                  // lease release
		"oss:GetBucketVersioning",                           // store.CheckCreateOnce
		"oss:GetObject", "oss:ListObjects", "oss:PutObject", // records, breaker slots
		"ram:AttachPolicyToUser", "ram:CreatePolicy", "ram:CreatePolicyVersion", "ram:DetachPolicyFromUser",
		"ram:GetPolicy", "ram:GetUser", "ram:ListAccessKeys", "ram:ListUsers", "ram:UpdateAccessKey",
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("policy actions\n got %v\nwant %v", got, want)
	}
}

// The manual samples in events/ are valid incidents (`s invoke --event-file`).
func TestEventSamples(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(localtest.Root(), "events", "respond-*.json"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("samples: %v %v", paths, err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := incident.Parse(data); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
}
