package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/infra/local/localtest"
	localoss "github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/ossscan"
)

const (
	scanFn    = "akguard-scan"
	respondFn = "akguard-respond"
	prefix    = "akguard/"
)

var (
	respondOnce sync.Once
	respondOK   bool
)

// withRespond reports whether functions/respond builds: respond is written
// in parallel with scan, and these tests must hold whether or not it is
// there (without it, FC answers the scan function's InvokeFunction with
// FunctionNotFound, which the trail still records).
func withRespond(t testing.TB) bool {
	respondOnce.Do(func() {
		if os.Getenv("AKGUARD_SCAN_E2E_NO_RESPOND") == "1" {
			return
		}
		if _, err := os.Stat(filepath.Join(localtest.Root(), "functions", "respond", "main.go")); err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", os.DevNull, "./functions/respond")
		cmd.Dir = localtest.Root()
		respondOK = cmd.Run() == nil
	})
	return respondOK
}

type fixture struct {
	t      testing.TB
	env    *localtest.Env
	dir    string
	ctx    context.Context
	oss    *oss.Client
	upload string
	state  string
	key    iam.AccessKey
}

func start(t testing.TB, env map[string]string) *fixture {
	t.Helper()
	fns := []string{"scan"}
	if withRespond(t) {
		fns = append(fns, "respond")
	}
	dir := t.TempDir()
	e := localtest.Start(t, localtest.Options{Functions: fns, Env: env, Dir: dir})
	if _, err := e.Cloud.Env.IAM.CreateUser("ci-deployer", "CI deployer", "leaks its key in these tests"); err != nil {
		t.Fatal(err)
	}
	k, err := e.Cloud.Env.IAM.CreateAccessKey("ci-deployer")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("AKGUARD_SCAN_E2E_LOGS") == "1" {
			// The function's own log says why; it never holds a secret.
			log, _ := os.ReadFile(filepath.Join(dir, "fc", "logs", scanFn+".log"))
			t.Logf("%s log:\n%s", scanFn, log)
			t.Logf("%s invocations: %+v", scanFn, e.Cloud.FC.Invocations(scanFn))
		}
	})
	return &fixture{t: t, env: e, dir: dir, ctx: ctx, oss: e.Root.OSS(), upload: e.Vars["uploadBucket"],
		state: e.Vars["stateBucket"], key: k}
}

// leak is a config file holding the user's live key pair.
func (f *fixture) leak() []byte {
	return []byte("# deploy settings\nREGION=cn-hangzhou\nALIBABA_CLOUD_ACCESS_KEY_ID=" + f.key.AccessKeyID +
		"\nALIBABA_CLOUD_ACCESS_KEY_SECRET=" + f.key.AccessKeySecret + "\n")
}

func (f *fixture) put(key string, body []byte, acl oss.ObjectACLType) string {
	f.t.Helper()
	res, err := f.oss.PutObject(f.ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(f.upload), Key: oss.Ptr(key),
		Body: bytes.NewReader(body), Acl: acl})
	if err != nil {
		f.t.Fatalf("put object: %v", err)
	}
	return ossscan.NormalizeETag(oss.ToString(res.ETag))
}

func (f *fixture) idle() {
	f.t.Helper()
	if err := f.env.Cloud.FC.WaitIdle(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// settle waits until the scan function was invoked for n distinct events
// and everything queued has run. OSS notifies FC from a goroutine after
// PutObject returns, so FC may look idle before the event arrives.
func (f *fixture) settle(n int) {
	f.t.Helper()
	for {
		ids := map[string]bool{}
		for _, i := range f.env.Cloud.FC.Invocations(scanFn) {
			ids[i.RequestID] = true
		}
		if len(ids) >= n {
			break
		}
		select {
		case <-f.ctx.Done():
			f.t.Fatalf("scan invoked for %d events, want %d", len(ids), n)
		case <-time.After(2 * time.Millisecond):
		}
	}
	f.idle()
}

// records reads every object under prefix p of the state bucket.
func (f *fixture) records(p string) map[string][]byte {
	f.t.Helper()
	// No store prefix: keys are whole object keys, as callers index them.
	return f.env.Records(f.ctx, f.t, prefix+p)
}

func (f *fixture) findingRecords() []ossscan.Record {
	f.t.Helper()
	return localtest.Decode[ossscan.Record](f.t, f.records("findings/"))
}

// scanInvocations returns the scan function's attempts, failing the test
// on any that did not succeed.
func (f *fixture) scanInvocations() int {
	f.t.Helper()
	inv := f.env.Cloud.FC.Invocations(scanFn)
	for _, i := range inv {
		if i.Status != "success" {
			f.t.Errorf("scan invocation %s: %s %s: %s", i.RequestID, i.Status, i.ErrorType, i.Error)
		}
	}
	return len(inv)
}

// respondCalls counts the scan role's InvokeFunction calls on respond, in
// the trail, and respond's distinct invocations when it is deployed.
func (f *fixture) respondCalls() (trail int, invocations int) {
	f.t.Helper()
	for _, e := range f.env.Cloud.Env.Trail.All() {
		if e.ServiceName == "Fc" && e.EventName == "InvokeFunction" && strings.HasSuffix(e.ResourceName, "functions/"+respondFn) &&
			e.UserIdentity.Type == "assumed-role" && strings.Contains(strings.ToLower(e.UserIdentity.UserName), "akguard-scan") {
			trail++
			if withRespond(f.t) && e.ErrorCode != "" {
				f.t.Errorf("InvokeFunction %s failed: %s %s", respondFn, e.ErrorCode, e.ErrorMessage)
			}
		}
	}
	ids := map[string]bool{}
	for _, i := range f.env.Cloud.FC.Invocations(respondFn) {
		ids[i.RequestID] = true
	}
	return trail, len(ids)
}

// noSecret fails if the secret appears in the state bucket, the function
// logs or the trail.
func (f *fixture) noSecret() {
	f.t.Helper()
	for k, b := range f.records("") {
		if bytes.Contains(b, []byte(f.key.AccessKeySecret)) {
			f.t.Errorf("state object %s holds the secret", k)
		}
	}
	for _, sub := range []string{filepath.Join("fc", "logs"), "trail"} {
		_ = filepath.WalkDir(filepath.Join(f.dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil && bytes.Contains(b, []byte(f.key.AccessKeySecret)) {
				f.t.Errorf("%s holds the secret", p)
			}
			return nil
		})
	}
}

// wantOneFinding checks the common outcome: one redacted record for the
// user's key in this object version and one incident sent to respond.
func (f *fixture) wantOneFinding(key, etag string, sev finding.Severity) ossscan.Record {
	f.t.Helper()
	recs := f.findingRecords()
	if len(recs) != 1 {
		f.t.Fatalf("got %d finding records, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.Finding.AccessKeyID != f.key.AccessKeyID || r.Object.Key != key || r.Object.ETag != etag || r.Object.Bucket != f.upload {
		f.t.Errorf("record = %+v, want key %s of oss://%s/%s@%s", r, f.key.AccessKeyID, f.upload, key, etag)
	}
	if r.Finding.Severity != sev {
		f.t.Errorf("severity = %v, want %v", r.Finding.Severity, sev)
	}
	if r.Finding.SecretSHA256 != finding.HashSecret(f.key.AccessKeySecret) || len(strings.TrimRight(r.Finding.SecretRedacted, "*")) > 4 {
		f.t.Errorf("finding secret fields = %q/%q", r.Finding.SecretRedacted, r.Finding.SecretSHA256)
	}
	if want := ossscan.IncidentID(f.upload, key, etag, f.key.AccessKeyID); r.IncidentID != want {
		f.t.Errorf("incident id = %s, want %s", r.IncidentID, want)
	}
	trail, inv := f.respondCalls()
	if trail != 1 {
		f.t.Errorf("scan called InvokeFunction on respond %d times, want 1", trail)
	}
	if withRespond(f.t) && inv != 1 {
		f.t.Errorf("respond ran for %d incidents, want 1", inv)
	}
	var d ossscan.Dispatch
	b, ok := f.records("dispatch/scan/")[prefix+ossscan.DispatchKey(r.IncidentID)]
	if !ok || json.Unmarshal(b, &d) != nil {
		f.t.Fatalf("no dispatch record for incident %s", r.IncidentID)
	}
	want := ossscan.DispatchSent
	if !withRespond(f.t) {
		want = ossscan.DispatchFailed
	}
	if d.State != want {
		f.t.Errorf("dispatch state = %s (%s), want %s", d.State, d.Error, want)
	}
	f.noSecret()
	return r
}

func (f *fixture) invokeSync(payload []byte) ossscan.Summary {
	f.t.Helper()
	out, err := f.env.Cloud.FC.Invoke(f.ctx, scanFn, payload, false)
	if err != nil {
		f.t.Fatalf("invoke scan: %v: %s", err, out)
	}
	var s ossscan.Summary
	if err := json.Unmarshal(out, &s); err != nil {
		f.t.Fatalf("decode summary %s: %v", out, err)
	}
	return s
}

func (f *fixture) event(key, etag string, size int64) []byte {
	return []byte(fmt.Sprintf(`{"events":[{"eventName":"ObjectCreated:PutObject","eventSource":"acs:oss","eventTime":"2026-11-23T06:21:35.000Z","eventVersion":"1.0",
"oss":{"bucket":{"arn":"acs:oss:cn-hangzhou:1234567890123456:%[1]s","name":"%[1]s","ownerIdentity":"1234567890123456","virtualBucket":""},
"object":{"deltaSize":%[4]d,"eTag":"%[3]s","key":"%[2]s","objectMeta":{"mimeType":"text/plain"},"size":%[4]d},"ossSchemaVersion":"1.0","ruleId":"x"},
"region":"cn-hangzhou","requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"requestId":"r"},"userIdentity":{"principalId":"1"}}]}`,
		f.upload, key, etag, size))
}

func TestUploadIsScannedRecordedAndSentToRespond(t *testing.T) {
	f := start(t, nil)
	etag := f.put("deploy/prod.env", f.leak(), "")
	f.settle(1)
	if n := f.scanInvocations(); n != 1 {
		t.Errorf("scan ran %d times, want 1", n)
	}
	r := f.wantOneFinding("deploy/prod.env", etag, finding.SeverityHigh)
	if r.Object.Public || r.Object.ACL != "private" {
		t.Errorf("exposure = %s public=%v, want private", r.Object.ACL, r.Object.Public)
	}
	// s.yaml tags objects holding a key.
	tags, err := f.oss.GetObjectTagging(f.ctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(f.upload), Key: oss.Ptr("deploy/prod.env")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || oss.ToString(tags.Tags[0].Key) != "akguard" || oss.ToString(tags.Tags[0].Value) != "leaked-credential" {
		t.Errorf("object tags = %+v, want akguard=leaked-credential", tags.Tags)
	}
}

func TestDuplicateDeliveriesMakeOneRecordAndOneIncident(t *testing.T) {
	f := start(t, nil)
	etag := f.put("dup/app.env", f.leak(), "")
	size := int64(len(f.leak()))
	for range 2 {
		f.env.Cloud.FC.ObjectCreated(f.ctx, core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: f.upload,
			Key: "dup/app.env", ETag: etag, Size: size, EventTime: time.Now()})
	}
	// And a third delivery straight through the API, as FC's retry would.
	if _, err := f.env.Cloud.FC.Invoke(f.ctx, scanFn, f.event("dup/app.env", etag, size), true); err != nil {
		t.Fatal(err)
	}
	f.settle(4)
	if n := f.scanInvocations(); n != 4 {
		t.Errorf("scan ran %d times, want 4", n)
	}
	f.wantOneFinding("dup/app.env", etag, finding.SeverityHigh)
}

func TestPublicObjectIsCriticalAndMadePrivate(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_SCAN_MAKE_PRIVATE": "true"})
	etag := f.put("www/config.js", f.leak(), oss.ObjectACLPublicRead)
	f.settle(1)
	f.scanInvocations()
	r := f.wantOneFinding("www/config.js", etag, finding.SeverityCritical)
	if !r.Object.Public || r.Object.ACL != "public-read" {
		t.Errorf("exposure = %s public=%v, want public-read", r.Object.ACL, r.Object.Public)
	}
	if !strings.Contains(strings.Join(r.Remediation, ","), "acl:private") {
		t.Errorf("remediation = %v, want acl:private", r.Remediation)
	}
	acl, err := f.oss.GetObjectAcl(f.ctx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(f.upload), Key: oss.Ptr("www/config.js")})
	if err != nil {
		t.Fatal(err)
	}
	if got := oss.ToString(acl.ACL); got != "private" {
		t.Errorf("object ACL after scan = %s, want private", got)
	}
}

func TestPublicBucketMakesDefaultACLObjectCritical(t *testing.T) {
	f := start(t, nil)
	if _, err := f.oss.PutBucketAcl(f.ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(f.upload), Acl: oss.BucketACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	etag := f.put("site/settings.env", f.leak(), "")
	f.settle(1)
	f.scanInvocations()
	r := f.wantOneFinding("site/settings.env", etag, finding.SeverityCritical)
	if r.Object.ACL != "public-read" || !r.Object.Public {
		t.Errorf("exposure = %s public=%v, want the bucket's public-read", r.Object.ACL, r.Object.Public)
	}
}

func TestURLEncodedKeyInEvent(t *testing.T) {
	f := start(t, nil)
	etag := f.put("backups/config backup+1.env", f.leak(), "")
	f.settle(1)
	s := f.invokeSync(f.event("backups/config%20backup%2B1.env", etag, int64(len(f.leak()))))
	if len(s.Objects) != 1 || s.Objects[0].Status != ossscan.StatusScanned || s.Objects[0].Key != "backups/config backup+1.env" {
		t.Fatalf("summary = %+v", s)
	}
	if s.Objects[0].Recorded != 0 || len(s.Objects[0].Incidents) != 0 {
		t.Errorf("second scan of the same version recorded %d, dispatched %v; want nothing new", s.Objects[0].Recorded, s.Objects[0].Incidents)
	}
	f.wantOneFinding("backups/config backup+1.env", etag, finding.SeverityHigh)
}

// The object is deleted between the upload and the (late) event: a clean
// skip, acknowledged without retry, nothing recorded.
func TestDeletedObjectIsACleanSkip(t *testing.T) {
	f := start(t, nil)
	body := f.leak()
	info, err := f.env.Cloud.OSS.PutSynthetic(f.ctx, f.upload, "tmp/gone.env", localoss.Synthetic{Size: int64(len(body)), Gen: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.oss.DeleteObject(f.ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(f.upload), Key: oss.Ptr("tmp/gone.env")}); err != nil {
		t.Fatal(err)
	}
	f.env.Cloud.FC.ObjectCreated(f.ctx, core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: f.upload,
		Key: "tmp/gone.env", ETag: info.ETag, Size: info.Size, EventTime: time.Now()})
	f.settle(1)
	if n := f.scanInvocations(); n != 1 {
		t.Errorf("scan ran %d times, want 1 (no retry)", n)
	}
	s := f.invokeSync(f.event("tmp/gone.env", ossscan.NormalizeETag(info.ETag), info.Size))
	if len(s.Objects) != 1 || s.Objects[0].Status != ossscan.StatusSkipped || s.Objects[0].Skip != finding.SkipMissing {
		t.Errorf("summary = %+v, want skipped/missing", s)
	}
	if recs := f.records(""); len(recs) != 0 {
		t.Errorf("state bucket holds %d objects, want none", len(recs))
	}
}

func TestMalformedEventsAreAcknowledged(t *testing.T) {
	f := start(t, nil)
	for _, payload := range []string{
		`not json`,
		`{"events":[]}`,
		`{"events":[{"eventName":"ObjectRemoved:DeleteObject","eventSource":"acs:oss","oss":{"bucket":{"name":"akguard-demo-uploads"},"object":{"key":"a"}}}]}`,
		`{"events":[{"eventName":"ObjectCreated:PutObject","eventSource":"acs:oss","oss":{"bucket":{"name":"Bad_Bucket"},"object":{"key":"a"}}}]}`,
	} {
		if _, err := f.env.Cloud.FC.Invoke(f.ctx, scanFn, []byte(payload), true); err != nil {
			t.Fatal(err)
		}
		s := f.invokeSync([]byte(payload))
		if s.Malformed == "" || len(s.Objects) != 0 {
			t.Errorf("%s: summary = %+v, want malformed", payload, s)
		}
	}
	f.settle(8)
	if n := f.scanInvocations(); n != 8 {
		t.Errorf("scan ran %d times, want 8 (no retries)", n)
	}
}

// Events from the state bucket (a trigger added there by hand) and
// multipart progress events are acknowledged without reading anything.
func TestEventsThatAreNotScanned(t *testing.T) {
	f := start(t, nil)
	for name, ev := range map[string]string{
		"state bucket": strings.ReplaceAll(string(f.event("akguard/findings/x.json", "E", 10)), f.upload, f.state),
		"upload part":  strings.Replace(string(f.event("big.bin", "E", 10)), "ObjectCreated:PutObject", "ObjectCreated:UploadPart", 1),
		// s.yaml sets AKGUARD_SCAN_BUCKETS to the upload bucket only.
		"unlisted bucket": strings.ReplaceAll(string(f.event("app.env", "E", 10)), f.upload, "other-uploads"),
	} {
		s := f.invokeSync([]byte(ev))
		if len(s.Objects) != 1 || s.Objects[0].Status != ossscan.StatusIgnored {
			t.Errorf("%s: summary = %+v, want ignored", name, s)
		}
	}
	for _, e := range f.env.Cloud.Env.Trail.All() {
		if e.ServiceName == "Oss" && strings.Contains(strings.ToLower(e.UserIdentity.UserName), "akguard-scan") {
			t.Errorf("scan called %s for an ignored event", e.EventName)
		}
	}
}

func TestStartRefusesLoopConfig(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_SCAN_BUCKETS": "akguard-state"})
	_, err := f.env.Cloud.FC.Invoke(f.ctx, scanFn, f.event("a", "E", 1), false)
	if err == nil {
		t.Fatal("scan started with the state bucket in AKGUARD_SCAN_BUCKETS")
	}
}

func TestTooLargeObjectIsSkippedAndNoted(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_SCAN_MAX_OBJECT_BYTES": "100"})
	etag := f.put("big/dump.sql", f.leak(), "")
	f.settle(1)
	f.scanInvocations()
	if recs := f.findingRecords(); len(recs) != 0 {
		t.Errorf("got %d finding records for a skipped object", len(recs))
	}
	skips := f.records("skips/")
	if len(skips) != 1 {
		t.Fatalf("got %d skip records, want 1", len(skips))
	}
	for _, b := range skips {
		var r ossscan.SkipRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Skip.Reason != finding.SkipTooLarge || r.Object.ETag != etag {
			t.Errorf("skip record = %+v", r)
		}
	}
}

// A zip larger than one part is read through the parallel range reader
// and its central directory through ranged reads.
func TestLargeZipThroughRangedReads(t *testing.T) {
	f := start(t, map[string]string{"AKGUARD_SCAN_PART_BYTES": "65536", "AKGUARD_SCAN_READERS": "3"})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 40 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("assets/blob-%02d.bin", i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.Repeat([]byte{byte('a' + i%26)}, 20_000))
	}
	w, _ := zw.Create("app/config/prod.env")
	w.Write(f.leak())
	zw.Close()
	etag := f.put("releases/app.zip", buf.Bytes(), "")
	// And a plain multi-part object with the key at its very end.
	plain := append(bytes.Repeat([]byte("log line without secrets\n"), 20_000), f.leak()...)
	etag2 := f.put("logs/big.log", plain, "")
	f.settle(2)
	f.scanInvocations()
	recs := f.findingRecords()
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Finding.Path] = r.Object.ETag
	}
	if got["oss://"+f.upload+"/releases/app.zip!app/config/prod.env"] != etag || got["oss://"+f.upload+"/logs/big.log"] != etag2 {
		t.Errorf("records = %v", got)
	}
}

// A read failing with 503 past the SDK's own 3 attempts fails the
// invocation; FC retries it, and there is still one record and one incident.
func TestRetryAfterThrottlingKeepsOneRecord(t *testing.T) {
	f := start(t, nil)
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "oss", Operation: "GetObjectAcl", Rate: 1, Kind: "error", Status: 503, Code: "ServiceUnavailable", Remaining: 3})
	etag := f.put("retry/app.env", f.leak(), "")
	f.settle(1)
	inv := f.env.Cloud.FC.Invocations(scanFn)
	if len(inv) != 2 || inv[0].Status != "error" || inv[1].Status != "success" || inv[1].RetryCount != 1 {
		t.Errorf("scan invocations = %+v, want one error then one successful retry", inv)
	}
	f.wantOneFinding("retry/app.env", etag, finding.SeverityHigh)
}

// TestFiveGiBObject scans a sparse 5 GiB object with the key in its last
// 4 KiB, through the real binary with its default 8 MiB parts. It takes
// 10-40 s on 2 cores, so CI runs the same test on 256 MiB and the full
// size runs with AKGUARD_SOAK=1.
func TestFiveGiBObject(t *testing.T) {
	size := int64(256 << 20)
	if os.Getenv("AKGUARD_SOAK") == "1" {
		size = 5 << 30
	}
	f := start(t, nil)
	leak := f.leak()
	info, err := f.env.Cloud.OSS.PutSynthetic(f.ctx, f.upload, "dumps/disk.img", localoss.Synthetic{Size: size,
		Patches: []localoss.Patch{{Offset: size - 4096, Data: leak}}, Notify: true})
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	f.settle(1)
	el := time.Since(begin)
	f.scanInvocations()
	f.wantOneFinding("dumps/disk.img", ossscan.NormalizeETag(info.ETag), finding.SeverityHigh)
	t.Logf("%d MiB scanned in %v (%.0f MB/s)", size>>20, el, float64(size)/el.Seconds()/1e6)
	// Memory is bounded by (readers+1) parts plus the detector's windows,
	// whatever the object size.
	if hwm, ok := functionHWM("scan"); ok {
		t.Logf("scan function peak RSS %d MiB", hwm/1024)
		if hwm > 256<<10 {
			t.Errorf("scan function peak RSS %d MiB, want under 256 MiB", hwm/1024)
		}
	}
}

// A denial cannot pass on retry: the object is reported unreadable, the
// event acknowledged.
func TestDeniedReadIsNotRetried(t *testing.T) {
	f := start(t, nil)
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "oss", Operation: "HeadObject", Rate: 1, Kind: "error", Status: 403, Code: "AccessDenied"})
	f.put("denied/app.env", f.leak(), "")
	f.settle(1)
	if n := f.scanInvocations(); n != 1 {
		t.Errorf("scan ran %d times, want 1", n)
	}
	s := f.invokeSync(f.event("denied/app.env", "E", 10))
	if len(s.Objects) != 1 || s.Objects[0].Status != ossscan.StatusSkipped || s.Objects[0].Skip != finding.SkipUnreadable ||
		!strings.Contains(s.Objects[0].Error, "AccessDenied") {
		t.Errorf("summary = %+v, want skipped/unreadable with the denial", s)
	}
}
