package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/finding"
)

// ramAction maps the API names the trail records to the RAM actions that
// authorize them (OSS: HeadObject is authorized as oss:GetObject).
var ramAction = map[string]string{
	"HeadObject": "oss:GetObject", "GetObject": "oss:GetObject", "PutObject": "oss:PutObject",
	"DeleteObject": "oss:DeleteObject", "GetObjectAcl": "oss:GetObjectAcl", "PutObjectAcl": "oss:PutObjectAcl",
	"GetBucketAcl": "oss:GetBucketAcl", "GetObjectTagging": "oss:GetObjectTagging",
	"PutObjectTagging": "oss:PutObjectTagging", "InvokeFunction": "fc:InvokeFunction",
	"GetBucketVersioning": "oss:GetBucketVersioning", // the state bucket must honour forbid-overwrite
}

// TestPolicyGrantsExactlyWhatScanCalls runs every path of the function
// that calls a cloud API (public bucket, remediation, a failed dispatch
// whose claim is released, a duplicate delivery) and checks the trail: no
// call of the scan role was denied, and every action in
// infra/ram/akguard-scan.json was used.
func TestPolicyGrantsExactlyWhatScanCalls(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_SCAN_MAKE_PRIVATE": "true"})
	if _, err := f.oss.PutBucketAcl(f.ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(f.upload), Acl: oss.BucketACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	// Enough failures to exhaust the in-process hand-off retries, so the
	// claim is released and FC's retry of the whole scan sends it.
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "fc", Operation: "InvokeFunction", Rate: 1, Kind: "error", Status: 503,
		Code: "ServiceUnavailable", Remaining: 5})
	etag := f.put("pub/app.env", f.leak(), "")
	f.settle(1)
	f.env.Cloud.FC.ObjectCreated(f.ctx, core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: f.upload,
		Key: "pub/app.env", ETag: etag, Size: int64(len(f.leak())), EventTime: time.Now()})
	f.settle(2)
	inv := f.env.Cloud.FC.Invocations(scanFn)
	if len(inv) != 3 || inv[0].Status != "error" {
		t.Errorf("scan invocations = %+v, want a failed dispatch, its retry and a duplicate", inv)
	}
	recs := f.findingRecords()
	if len(recs) != 1 || recs[0].Finding.Severity != finding.SeverityCritical {
		t.Fatalf("records = %+v, want one critical", recs)
	}

	used := map[string]bool{}
	for _, e := range f.env.Cloud.Env.Trail.All() {
		if e.UserIdentity.Type != "assumed-role" || !strings.Contains(strings.ToLower(e.UserIdentity.UserName), "akguard-scan") {
			continue
		}
		if strings.Contains(e.ErrorCode, "AccessDenied") || strings.Contains(e.ErrorCode, "NoPermission") {
			t.Errorf("%s %s denied: %s", e.EventName, e.ResourceName, e.ErrorMessage)
		}
		a, ok := ramAction[e.EventName]
		if !ok {
			t.Errorf("scan called %s, which the policy test does not know", e.EventName)
			continue
		}
		used[a] = true
	}
	data, err := os.ReadFile(filepath.Join(localtest.Root(), "infra", "ram", "akguard-scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Action json.RawMessage
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, s := range doc.Statement {
		var one string
		var many []string
		if json.Unmarshal(s.Action, &one) == nil {
			many = []string{one}
		} else if err := json.Unmarshal(s.Action, &many); err != nil {
			t.Fatal(err)
		}
		for _, a := range many {
			granted[a] = true
		}
	}
	var unused, ungranted []string
	for a := range granted {
		if !used[a] {
			unused = append(unused, a)
		}
	}
	for a := range used {
		if !granted[a] {
			ungranted = append(ungranted, a)
		}
	}
	slices.Sort(unused)
	slices.Sort(ungranted)
	if len(unused) > 0 || len(ungranted) > 0 {
		t.Errorf("policy grants unused %v; code calls ungranted %v", unused, ungranted)
	}
}
