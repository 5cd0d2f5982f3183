package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

// TestSecretsStaySecret plants live key pairs and an STS session's secret
// and token in uploads, runs scan → respond → an attacker using the keys
// → audit → respond again, and searches everything the pipeline produced
// (function logs, state bucket, SMQ journals and messages, FC and trail
// records, error strings, function responses) for the secrets and their
// first 12 characters.
func TestSecretsStaySecret(t *testing.T) {
	t0 := time.Now()
	f := start(t, fcOpts(), nil)
	ids := f.env.Cloud.Env.IAM
	henry, ivy := f.user("henry"), f.user("ivy")
	const ecsTrust = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`
	if _, err := ids.CreateRole("app-role", ecsTrust, "an application's instance role", 3600); err != nil {
		t.Fatal(err)
	}
	if err := ids.AttachPolicyToRole("System", "AliyunOSSReadOnlyAccess", "app-role"); err != nil {
		t.Fatal(err)
	}
	sess, err := ids.IssueSession("app-role", "web-1", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{henry.AccessKeySecret, ivy.AccessKeySecret, sess.AccessKeySecret, sess.SecurityToken}

	// A window of 10 s (an operator's rules file) so the audit judges the
	// attacker's calls seconds after they happen.
	st := &store.Store{Client: f.oss, Bucket: f.state, Prefix: prefix}
	if err := st.Put(f.ctx, trail.ConfigRecord, map[string]any{"window": int64(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	stsFile, _ := json.MarshalIndent(map[string]string{"AccessKeyId": sess.AccessKeyID, "AccessKeySecret": sess.AccessKeySecret,
		"SecurityToken": sess.SecurityToken, "Expiration": sess.Expiration, "Code": "Success"}, "", "  ")
	uploads := map[string][]byte{
		"deploy/henry.env":           envFile(henry),
		"metadata/ram-security.json": stsFile,
		"releases/ivy.zip":           zipOf(t, map[string][]byte{"conf/ivy.env": envFile(ivy), "conf/sts.json": stsFile}),
		"logs/debug.log": []byte(fmt.Sprintf("2026-11-23 DEBUG creds id=%s secret=%s token=%s\n", sess.AccessKeyID,
			sess.AccessKeySecret, sess.SecurityToken)),
	}
	var outputs = map[string]string{}
	for _, k := range sortedKeys(uploads) {
		f.put(k, uploads[k])
	}
	f.settle(len(uploads))
	t.Logf("%v: uploads scanned and contained", time.Since(t0).Round(time.Millisecond))
	// The scan function's own response, for one upload delivered again.
	etag := f.put("deploy/henry-again.env", envFile(henry))
	out, err := f.env.Cloud.FC.Invoke(f.ctx, scanFn, ossEvent(f.upload, "deploy/henry-again.env", etag, int64(len(envFile(henry)))), false)
	if err != nil {
		f.errs = append(f.errs, err.Error())
	}
	outputs["scan response"] = string(out)
	f.settle(len(uploads) + 2)

	t.Logf("%v: duplicate delivery handled", time.Since(t0).Round(time.Millisecond))
	// The attacker uses the leaked pair and the session.
	for _, c := range []aliyun.Credentials{{AccessKeyID: henry.AccessKeyID, AccessKeySecret: henry.AccessKeySecret},
		{AccessKeyID: sess.AccessKeyID, AccessKeySecret: sess.AccessKeySecret, SecurityToken: sess.SecurityToken}} {
		cl := aliyun.Clients{Region: f.env.Root.Region, AccountID: f.env.Root.AccountID, Endpoints: f.env.Root.Endpoints, Creds: c}
		o := cl.OSS()
		if _, err := o.ListObjectsV2(f.ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(f.upload)}); err != nil {
			f.errs = append(f.errs, err.Error())
		}
		if _, err := o.PutBucketAcl(f.ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(f.upload), Acl: oss.BucketACLPublicRead}); err != nil {
			f.errs = append(f.errs, err.Error()) // denied: the SDK's error text is an output too
		}
	}
	// Judge the attacker's windows once the last one has closed.
	time.Sleep(time.Until(time.Now().Truncate(10 * time.Second).Add(10*time.Second + 300*time.Millisecond)))
	before := f.distinct(respondFn)
	timer := fmt.Sprintf(`{"triggerTime":%q,"triggerName":"audit-every-5m","payload":"{\"lagMinutes\":0}"}`, time.Now().UTC().Format(time.RFC3339))
	out, err = f.env.Cloud.FC.Invoke(f.ctx, auditFn, []byte(timer), false)
	if err != nil {
		t.Fatalf("audit run: %v: %s", err, out)
	}
	outputs["audit response"] = string(out)
	var res trail.RunResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Escalated == 0 {
		t.Errorf("audit escalated nothing (%s): the audit → respond path was not exercised", out)
	}
	f.settle(len(uploads) + 2)
	if f.distinct(respondFn) <= before {
		t.Error("respond did not run for the audit's incident")
	}

	t.Logf("%v: audit run and its escalations handled", time.Since(t0).Round(time.Millisecond))
	// Gather the in-memory outputs.
	msgs, raw := f.inbox()
	for i, m := range raw {
		outputs[fmt.Sprintf("notification %d", i)] = m
		dec, err := base64.StdEncoding.DecodeString(m)
		if err != nil {
			t.Fatalf("notification %d is not base64: %v", i, err)
		}
		outputs[fmt.Sprintf("notification %d (decoded)", i)] = string(dec)
	}
	sources := map[string]int{}
	for _, m := range msgs {
		sources[m.Source]++
	}
	if sources["scan"] == 0 || sources["audit"] == 0 {
		t.Errorf("notifications by source %v: want scan and audit", sources)
	}
	for i, m := range f.deadLetters() {
		outputs[fmt.Sprintf("dead letter %d", i)] = m
	}
	for k, b := range f.records("") {
		outputs["state object "+k] = string(b)
	}
	events, _ := json.Marshal(f.env.Cloud.Env.Trail.All())
	outputs["trail events"] = string(events)
	for _, fn := range []string{scanFn, respondFn, auditFn} {
		inv, _ := json.Marshal(f.env.Cloud.FC.Invocations(fn))
		outputs["invocations of "+fn] = string(inv)
		f.finalStatus(fn)
	}
	for i, e := range f.errs {
		outputs[fmt.Sprintf("error %d", i)] = e
	}

	hits, files := f.leakSearch(secrets, outputs)
	for _, h := range hits {
		t.Error(h)
	}
	logs, _ := os.ReadDir(filepath.Join(f.dir, "fc", "logs"))
	t.Logf("searched %d files (%d function logs) and %d in-memory outputs (%d notifications, %d error strings) for %d secrets and their 12-char prefixes: %d hits",
		files, len(logs), len(outputs), len(raw), len(f.errs), len(secrets), len(hits))

	// The search must be able to fail: the uploads themselves hold the
	// secrets, and the same search over them finds every one.
	var all strings.Builder
	for _, b := range [][]byte{envFile(henry), envFile(ivy), stsFile} {
		all.Write(b)
	}
	for _, s := range secrets {
		if !strings.Contains(all.String(), s) {
			t.Errorf("control: planted secret #%d not in the uploads", slices.Index(secrets, s))
		}
	}
	if hits, _ := f.leakSearch(nil, map[string]string{"control": all.String()}); len(hits) != 0 {
		t.Error("control: search without needles found something")
	}
	for i := range 3 {
		// At each alignment, whole and as its 12-character prefix, plain
		// and inside base64 text.
		pad := strings.Repeat("x", i)
		for _, sec := range []string{henry.AccessKeySecret, henry.AccessKeySecret[:12] + "-cut"} {
			for name, out := range map[string]string{"plain": pad + sec, "base64": base64.StdEncoding.EncodeToString([]byte(pad + sec + "\n"))} {
				if ctl, _ := f.leakSearch(secrets[:1], map[string]string{"control": out}); len(ctl) == 0 {
					t.Errorf("control: a planted secret (%s, offset %d, %d chars) in an output was not found", name, i, len(sec))
				}
			}
		}
	}
}
