package provision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/trail"
	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/golden"
	"github.com/akguard/akguard/shared/provision"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

const (
	testAccount = "1234567890123456"
	testRegion  = "cn-hangzhou"
)

type env struct {
	cloud   *cloud.Cloud
	root    aliyun.Clients
	cfg     provision.Config
	infra   string
	written int // trail events so far
}

// start brings up an empty local cloud and copies the test policies into
// a temporary infra directory the test may change.
func start(t *testing.T) *env {
	t.Helper()
	c, err := cloud.Start(context.Background(), cloud.Options{DataDir: t.TempDir(), AccountID: testAccount, Region: testRegion})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	infra := t.TempDir()
	if err := os.MkdirAll(filepath.Join(infra, "ram"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range provision.Roles() {
		data, err := os.ReadFile(filepath.Join("testdata", "infra", "ram", r.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(infra, "ram", r.Name+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rk := c.Env.IAM.RootKey()
	root := aliyun.Clients{Region: testRegion, AccountID: testAccount, Endpoints: c.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: rk.AccessKeyID, AccessKeySecret: rk.AccessKeySecret}}
	cfg := provision.ConfigFromVars(map[string]string{"region": testRegion, "stateBucket": "akguard-state",
		"uploadBucket": "akguard-demo-uploads", "topic": "akguard-alerts", "deadLetterQueue": "akguard-dead-letters"})
	cfg.InfraDir, cfg.AccountID = infra, testAccount
	return &env{cloud: c, root: root, cfg: cfg, infra: infra}
}

// run plans (and applies unless dryRun) with a fresh provisioner, and
// returns the plan with the write events it caused.
func (e *env) run(t *testing.T, cfg provision.Config, dryRun bool) (*provision.Plan, []trail.Event) {
	t.Helper()
	p, err := provision.New(e.root, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Run(context.Background(), dryRun)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return plan, e.newWrites()
}

func (e *env) newWrites() []trail.Event {
	all := e.cloud.Env.Trail.All()
	var out []trail.Event
	for _, ev := range all[e.written:] {
		if ev.EventRW == "Write" {
			out = append(out, ev)
		}
	}
	e.written = len(all)
	return out
}

func names(evs []trail.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ServiceName+":"+ev.EventName)
	}
	return out
}

func table(t *testing.T, plan *provision.Plan, applied bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := plan.WriteTable(&b, applied); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n" + plan.Summary(applied) + "\n")
	return b.Bytes()
}

func TestSetupFreshAccountThenIdempotent(t *testing.T) {
	e := start(t)
	cfg := e.cfg
	cfg.CreateUploadBucket = true
	cfg.Subscriptions = []provision.Subscription{{Queue: "akguard-oncall", Tag: "critical"}}

	// Dry run: the whole plan, and nothing but reads.
	plan, writes := e.run(t, cfg, true)
	if len(writes) != 0 {
		t.Fatalf("dry run wrote: %v", names(writes))
	}
	checkGolden(t, "fresh-dry-run.txt", table(t, plan, false))
	if plan.Changes() == 0 {
		t.Fatal("fresh account: empty plan")
	}

	// Apply: every change done, then the account is as specified.
	plan, writes = e.run(t, cfg, false)
	checkGolden(t, "fresh-apply.txt", table(t, plan, true))
	for _, s := range plan.Steps {
		if s.Action != provision.ActionOK && s.Action != provision.ActionWarn && s.Status != provision.StatusDone {
			t.Errorf("step %s %s: status %q err %v", s.Action, s.Resource, s.Status, s.Err)
		}
	}
	// One write call per change, none refused.
	if len(writes) != plan.Changes() {
		t.Errorf("%d write calls for %d changes: %v", len(writes), plan.Changes(), names(writes))
	}
	for _, ev := range writes {
		if ev.ErrorCode != "" {
			t.Errorf("%s:%s failed: %s", ev.ServiceName, ev.EventName, ev.ErrorCode)
		}
	}
	e.checkProvisioned(t, cfg)

	// Second run: all ok, and no write call at all.
	plan, writes = e.run(t, cfg, false)
	if len(writes) != 0 {
		t.Errorf("second run wrote: %v", names(writes))
	}
	if n := plan.Changes(); n != 0 {
		t.Errorf("second run planned %d changes:\n%s", n, table(t, plan, true))
	}
	checkGolden(t, "second-run.txt", table(t, plan, true))
}

// checkProvisioned reads the account back, through the SDK where a
// client would, and through the local IAM for attachments.
func (e *env) checkProvisioned(t *testing.T, cfg provision.Config) {
	t.Helper()
	ctx := context.Background()
	cl := e.root.OSS()
	for _, b := range []string{cfg.StateBucket, cfg.UploadBucket} {
		acl, err := cl.GetBucketAcl(ctx, &oss.GetBucketAclRequest{Bucket: oss.Ptr(b)})
		if err != nil {
			t.Fatalf("bucket %s: %v", b, err)
		}
		if got := oss.ToString(acl.ACL); got != "private" {
			t.Errorf("bucket %s ACL %q, want private", b, got)
		}
	}
	v, err := cl.GetBucketVersioning(ctx, &oss.GetBucketVersioningRequest{Bucket: oss.Ptr(cfg.StateBucket)})
	if err != nil {
		t.Fatal(err)
	}
	// Never enabled: OSS ignores x-oss-forbid-overwrite on a versioned
	// bucket, and akguard's exactly-once records depend on it.
	if got := oss.ToString(v.VersionStatus); got != "" {
		t.Errorf("state bucket versioning %q, want never enabled", got)
	}

	ids := e.cloud.Env.IAM
	for _, r := range provision.Roles() {
		role, err := ids.GetRole(r.Name)
		if err != nil {
			t.Errorf("role %s: %v", r.Name, err)
			continue
		}
		if !strings.Contains(role.AssumeRolePolicyDocument, `"`+r.Service+`"`) {
			t.Errorf("role %s trust %s, want service %s", r.Name, role.AssumeRolePolicyDocument, r.Service)
		}
		atts, err := ids.ListPoliciesForRole(r.Name)
		if err != nil || len(atts) != 1 || atts[0].PolicyName != r.Name || atts[0].PolicyType != "Custom" {
			t.Errorf("role %s attachments %+v (%v), want exactly Custom:%s", r.Name, atts, err, r.Name)
		}
		pol, err := ids.GetPolicy("Custom", r.Name)
		if err != nil {
			t.Errorf("policy %s: %v", r.Name, err)
			continue
		}
		want, err := cfg.RolePolicy(r.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := pol.Default().Document; got != want {
			t.Errorf("policy %s document\n%s\nwant\n%s", r.Name, got, want)
		}
		if strings.Contains(pol.Default().Document, "${") {
			t.Errorf("policy %s kept a placeholder", r.Name)
		}
	}
	deny, err := ids.GetPolicy("Custom", policies.DenyHighRiskName)
	if err != nil {
		t.Fatalf("deny policy: %v", err)
	}
	if deny.Default().Document != policies.DenyHighRisk {
		t.Error("deny policy document differs from infra/policies/deny-high-risk.json")
	}

	mc, err := e.root.SMQ()
	if err != nil {
		t.Fatal(err)
	}
	qm := ali_mns.NewMNSQueueManager(mc)
	queues := []string{cfg.DeadLetterQueue}
	for _, s := range cfg.Subscriptions {
		queues = append(queues, s.Queue)
	}
	for _, q := range queues {
		if _, err := qm.GetQueueAttributes(q); err != nil {
			t.Errorf("queue %s: %v", q, err)
		}
	}
	if _, err := ali_mns.NewMNSTopicManager(mc).GetTopicAttributes(cfg.Topic); err != nil {
		t.Errorf("topic: %v", err)
	}
	for _, s := range cfg.Subscriptions {
		topic := ali_mns.NewMNSTopic(cfg.Topic, mc)
		sub, err := topic.GetSubscriptionAttributes(s.Queue)
		if err != nil {
			t.Errorf("subscription %s: %v", s.Queue, err)
			continue
		}
		if sub.FilterTag != s.Tag || sub.Endpoint != topic.GenerateQueueEndpoint(s.Queue) {
			t.Errorf("subscription %s: tag %q endpoint %s", s.Queue, sub.FilterTag, sub.Endpoint)
		}
	}
}

func TestSetupMissingPolicyFileFailsBeforeAnyCall(t *testing.T) {
	e := start(t)
	if err := os.Remove(filepath.Join(e.infra, "ram", "akguard-audit.json")); err != nil {
		t.Fatal(err)
	}
	p, err := provision.New(e.root, e.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Run(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "akguard-audit") || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v, want a missing akguard-audit.json", err)
	}
	if n := len(e.cloud.Env.Trail.All()); n != 0 {
		t.Errorf("%d calls made before failing", n)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// Every kind of drift an account can have after a first setup is planned
// as the smallest change, applied, and gone on the next run.
func TestSetupRepairsDrift(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	cfg := e.cfg
	cfg.CreateUploadBucket = true
	cfg.Subscriptions = []provision.Subscription{{Queue: "akguard-oncall", Tag: "critical"}}
	// The oss-trigger role exists beforehand with a wider trust policy.
	ids := e.cloud.Env.IAM
	wide := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["oss.aliyuncs.com","fc.aliyuncs.com"]}}]}`
	if _, err := ids.CreateRole("akguard-oss-trigger", wide, "made by hand", 3600); err != nil {
		t.Fatal(err)
	}
	e.run(t, cfg, false)

	// Drift: a changed policy file, with the policy at RAM's limit of five
	// versions; a public state bucket; a detached policy; an
	// extra policy on a role; a changed subscription tag.
	path := filepath.Join(e.infra, "ram", "akguard-scan.json")
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := ids.CreatePolicyVersion("akguard-scan", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:PutObject","Resource":"*"}]}`, false, ""); err != nil {
			t.Fatal(err)
		}
	}
	changed := strings.Replace(string(old), `"oss:GetObjectAcl"`, `"oss:GetObjectAcl", "oss:GetObjectMeta"`, 1)
	if changed == string(old) {
		t.Fatal("test policy did not change")
	}
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	cl := e.root.OSS()
	if _, err := cl.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(cfg.StateBucket), Acl: oss.BucketACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if err := ids.DetachPolicyFromRole("Custom", "akguard-audit", "akguard-audit"); err != nil {
		t.Fatal(err)
	}
	if err := ids.AttachPolicyToRole("System", "AliyunOSSFullAccess", "akguard-respond"); err != nil {
		t.Fatal(err)
	}
	cfg.Subscriptions[0].Tag = "high"
	e.newWrites()

	plan, writes := e.run(t, cfg, true)
	if len(writes) != 0 {
		t.Fatalf("dry run wrote: %v", names(writes))
	}
	checkGolden(t, "drift-dry-run.txt", table(t, plan, false))

	plan, writes = e.run(t, cfg, false)
	got := strings.Join(names(writes), " ")
	want := "Oss:PutBucketAcl Mns:Unsubscribe Mns:Subscribe Ram:CreatePolicyVersion Ram:AttachPolicyToRole"
	if got != want {
		t.Errorf("writes %s\nwant   %s", got, want)
	}
	for _, s := range plan.Steps {
		if s.Err != nil {
			t.Errorf("%s %s: %v", s.Action, s.Resource, s.Err)
		}
	}

	pol, err := ids.GetPolicy("Custom", "akguard-scan")
	if err != nil {
		t.Fatal(err)
	}
	wantDoc, err := cfg.RolePolicy("akguard-scan")
	if err != nil {
		t.Fatal(err)
	}
	if pol.Default().Document != wantDoc || len(pol.Versions) != 5 {
		t.Errorf("akguard-scan: default %s of %d versions:\n%s", pol.Default().VersionID, len(pol.Versions), pol.Default().Document)
	}
	e.checkProvisionedExceptExtras(t, cfg)

	// What is left are the two warnings, which setup never changes.
	plan, writes = e.run(t, cfg, false)
	if len(writes) != 0 || plan.Changes() != 0 || plan.Count(provision.ActionWarn) != 2 {
		t.Errorf("after repair: writes %v\n%s", names(writes), table(t, plan, true))
	}
}

// checkProvisionedExceptExtras is checkProvisioned for an account whose
// respond role carries a policy setup does not manage.
func (e *env) checkProvisionedExceptExtras(t *testing.T, cfg provision.Config) {
	t.Helper()
	ids := e.cloud.Env.IAM
	if err := ids.DetachPolicyFromRole("System", "AliyunOSSFullAccess", "akguard-respond"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ids.AttachPolicyToRole("System", "AliyunOSSFullAccess", "akguard-respond"); err != nil {
			t.Fatal(err)
		}
	}()
	e.checkProvisioned(t, cfg)
}

// A RAM user holding only SetupPolicy can provision a fresh account and
// repair drift, and every action the policy allows is one setup called.
func TestSetupPolicyIsLeastPrivilege(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	cfg := e.cfg
	cfg.CreateUploadBucket = true
	cfg.Subscriptions = []provision.Subscription{{Queue: "akguard-oncall", Tag: "critical"}}
	doc, err := cfg.SetupPolicy()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "setup-policy.json", []byte(doc+"\n"))
	ids := e.cloud.Env.IAM
	if _, err := ids.CreateUser("akguard-deployer", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.CreatePolicy("akguard-setup", doc, ""); err != nil {
		t.Fatalf("RAM rejects the setup policy: %v", err)
	}
	if err := ids.AttachPolicyToUser("Custom", "akguard-setup", "akguard-deployer"); err != nil {
		t.Fatal(err)
	}
	key, err := ids.CreateAccessKey("akguard-deployer")
	if err != nil {
		t.Fatal(err)
	}
	deployer := e.root
	deployer.Creds = aliyun.Credentials{AccessKeyID: key.AccessKeyID, AccessKeySecret: key.AccessKeySecret}
	as := &env{cloud: e.cloud, root: deployer, cfg: cfg, infra: e.infra}

	as.run(t, cfg, false) // fresh account
	// Drift that needs the remaining calls: ACL, versioning read, policy
	// version, re-subscription, attachment listing.
	if _, err := e.root.OSS().PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(cfg.StateBucket), Acl: oss.BucketACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.infra, "ram", "akguard-audit.json")
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(old), `"actiontrail:LookupEvents"`, `"actiontrail:LookupEvents", "actiontrail:GetAccessKeyLastUsedInfo"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Subscriptions[0].Tag = "high"
	as.run(t, cfg, false)
	plan, _ := as.run(t, cfg, false)
	if plan.Changes() != 0 {
		t.Errorf("not converged:\n%s", table(t, plan, true))
	}

	used := map[string]bool{}
	for _, ev := range e.cloud.Env.Trail.All() {
		if ev.UserIdentity.AccessKeyID != key.AccessKeyID {
			continue
		}
		// Reads of missing resources answer "not exist": that is how setup
		// finds what to create. Anything else is a refusal.
		if c := ev.ErrorCode; c != "" && c != "NoSuchBucket" && !strings.Contains(c, "NotExist") {
			t.Errorf("%s:%s refused: %s %s", ev.ServiceName, ev.EventName, ev.ErrorCode, ev.ErrorMessage)
		}
		used[strings.ToLower(ev.ServiceName+":"+ev.EventName)] = true
	}
	for _, a := range policyActions(t, doc) {
		if !used[strings.ToLower(a)] {
			t.Errorf("the setup policy allows %s, which setup never called", a)
		}
	}
}

func policyActions(t *testing.T, doc string) []string {
	t.Helper()
	var d struct {
		Statement []struct{ Action []string }
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range d.Statement {
		out = append(out, s.Action...)
	}
	return out
}

// BenchmarkPlanUpToDate is the read-only cost of a run on a provisioned
// account: one call per resource (21 for the default configuration).
func BenchmarkPlanUpToDate(b *testing.B) {
	c, err := cloud.Start(context.Background(), cloud.Options{DataDir: b.TempDir(), AccountID: testAccount, Region: testRegion})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rk := c.Env.IAM.RootKey()
	root := aliyun.Clients{Region: testRegion, AccountID: testAccount, Endpoints: c.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: rk.AccessKeyID, AccessKeySecret: rk.AccessKeySecret}}
	cfg := provision.ConfigFromVars(map[string]string{"region": testRegion, "stateBucket": "akguard-state",
		"uploadBucket": "akguard-demo-uploads", "topic": "akguard-alerts", "deadLetterQueue": "akguard-dead-letters"})
	cfg.AccountID, cfg.InfraDir, cfg.CreateUploadBucket = testAccount, "testdata/infra", true
	p, err := provision.New(root, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Run(context.Background(), false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		plan, err := p.Plan(context.Background())
		if err != nil || plan.Changes() != 0 {
			b.Fatalf("plan: %v, %d changes", err, plan.Changes())
		}
	}
}

// A run cut short by a service failure stops at the failed step, and the
// next run picks up from the state the first one left.
func TestSetupResumesAfterFailure(t *testing.T) {
	e := start(t)
	e.cloud.Env.Faults.Add(fault.Rule{Service: "ram", Operation: "CreatePolicy", Rate: 1, Kind: "throttle", Remaining: 1})
	e.cloud.Env.Faults.Add(fault.Rule{Service: "smq", Operation: "CreateTopic", Rate: 1, Kind: "drop", Remaining: 1})
	cfg := e.cfg
	cfg.CreateUploadBucket = true
	for i, wantFailed := range []string{"smq topic akguard-alerts", "ram policy akguard-scan", ""} {
		p, err := provision.New(e.root, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := p.Run(context.Background(), false)
		if plan == nil {
			t.Fatalf("run %d: no plan: %v", i, err)
		}
		var failed []string
		skipped := 0
		for _, s := range plan.Steps {
			switch s.Status {
			case provision.StatusFailed:
				failed = append(failed, s.Resource)
			case provision.StatusSkipped:
				skipped++
			}
		}
		if wantFailed == "" {
			if err != nil || len(failed) > 0 {
				t.Fatalf("run %d: %v, failed %v", i, err, failed)
			}
			continue
		}
		if err == nil || len(failed) != 1 || failed[0] != wantFailed || skipped == 0 {
			t.Fatalf("run %d: err %v, failed %v, %d skipped; want %s to fail and stop the run", i, err, failed, skipped, wantFailed)
		}
		if strings.Contains(err.Error(), e.root.Creds.AccessKeySecret) {
			t.Fatal("error quotes the secret")
		}
	}
	plan, writes := e.run(t, cfg, false)
	if plan.Changes() != 0 {
		t.Errorf("not converged:\n%s%v", table(t, plan, true), names(writes))
	}
	e.checkProvisioned(t, cfg)
}

// The upload bucket is the user's: missing or public, it is reported and
// left alone unless --create-upload-bucket asks for it.
func TestSetupUploadBucketIsOnlyReported(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	step := func(plan *provision.Plan) provision.Step {
		t.Helper()
		for _, s := range plan.Steps {
			if s.Resource == "oss bucket "+e.cfg.UploadBucket {
				return s
			}
		}
		t.Fatal("no upload bucket step")
		return provision.Step{}
	}
	plan, _ := e.run(t, e.cfg, false)
	if s := step(plan); s.Action != provision.ActionWarn || !strings.Contains(s.Reason, "--create-upload-bucket") {
		t.Errorf("missing upload bucket: %s %s", s.Action, s.Reason)
	}
	if _, err := e.root.OSS().PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(e.cfg.UploadBucket), Acl: oss.BucketACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	e.newWrites()
	plan, writes := e.run(t, e.cfg, false)
	if s := step(plan); s.Action != provision.ActionWarn || !strings.Contains(s.Reason, "public-read") || len(writes) != 0 {
		t.Errorf("public upload bucket: %s %s, writes %v", s.Action, s.Reason, names(writes))
	}
}

// A state bucket whose versioning is enabled or suspended cannot give
// akguard exactly-once writes, and setup cannot turn versioning off: the
// run reports it as an error, changes nothing (dry run or not), and a new
// bucket name is the way out.
func TestSetupRefusesVersionedStateBucket(t *testing.T) {
	for _, status := range []oss.VersioningStatusType{oss.VersionEnabled, oss.VersionSuspended} {
		t.Run(string(status), func(t *testing.T) {
			e := start(t)
			ctx := context.Background()
			cl := e.root.OSS()
			if _, err := cl.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(e.cfg.StateBucket), Acl: oss.BucketACLPrivate}); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr(e.cfg.StateBucket),
				VersioningConfiguration: &oss.VersioningConfiguration{Status: status}}); err != nil {
				t.Fatal(err)
			}
			e.newWrites()
			for _, dryRun := range []bool{true, false} {
				p, err := provision.New(e.root, e.cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				plan, err := p.Run(ctx, dryRun)
				if !errors.Is(err, provision.ErrUnfixable) || plan == nil {
					t.Fatalf("dry run %v: err %v, want ErrUnfixable with the plan", dryRun, err)
				}
				for _, want := range []string{"oss bucket akguard-state versioning", string(status), "x-oss-forbid-overwrite", "use a new bucket"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q: %v", want, err)
					}
				}
				if w := e.newWrites(); len(w) != 0 {
					t.Errorf("dry run %v: wrote %v", dryRun, names(w))
				}
				if plan.Count(provision.ActionError) != 1 {
					t.Errorf("plan:\n%s", table(t, plan, !dryRun))
				}
				if status == oss.VersionEnabled && !dryRun {
					checkGolden(t, "versioned-state-bucket.txt", table(t, plan, false))
				}
			}
			// The way out: another, new bucket.
			cfg := e.cfg
			cfg.StateBucket, cfg.CreateUploadBucket = "akguard-state-2", true
			e.run(t, cfg, false)
			e.checkProvisioned(t, cfg)
		})
	}
}
