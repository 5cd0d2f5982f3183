package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/ossscan"
)

// upload is one object of a test corpus and the keys it leaks.
type upload struct {
	key  string
	body []byte
	keys []iam.AccessKey
	etag string
}

// corpus is 20 objects: leaks of four users' live keys (one user leaked
// twice, two keys in one file, keys inside a zip, a tar.gz and a zip in a
// tar.gz) and clean files and archives.
func corpus(t testing.TB, f *fixture) ([]upload, []iam.AccessKey) {
	alice, bob, carol, dave := f.user("alice"), f.user("bob"), f.user("carol"), f.user("dave")
	both := append(envFile(bob), []byte("\n# old pair\n"+string(envFile(carol)))...)
	ups := []upload{
		{key: "deploy/alice.env", body: envFile(alice), keys: []iam.AccessKey{alice}},
		{key: "backup/alice-copy.env", body: append([]byte("# copy\n"), envFile(alice)...), keys: []iam.AccessKey{alice}},
		{key: "deploy/bob-and-carol.env", body: both, keys: []iam.AccessKey{bob, carol}},
		{key: "releases/site.zip", body: zipOf(t, map[string][]byte{"site/index.html": []byte("<p>hi</p>"), "site/.env": envFile(dave)}),
			keys: []iam.AccessKey{dave}},
		{key: "releases/app.tar.gz", body: tgzOf(t, map[string][]byte{"app/README": []byte("readme"), "app/conf/prod.env": envFile(carol)}),
			keys: []iam.AccessKey{carol}},
		{key: "releases/nested.tar.gz", body: tgzOf(t, map[string][]byte{"bundle/inner.zip": zipOf(t, map[string][]byte{"deep/keys.env": envFile(bob)})}),
			keys: []iam.AccessKey{bob}},
	}
	for i := range 11 {
		ups = append(ups, upload{key: fmt.Sprintf("exports/clean-%02d.csv", i), body: clean(i)})
	}
	ups = append(ups,
		upload{key: "releases/clean.zip", body: zipOf(t, map[string][]byte{"a.txt": clean(100), "b/c.txt": clean(101)})},
		upload{key: "releases/clean.tar.gz", body: tgzOf(t, map[string][]byte{"x.csv": clean(102)})},
		upload{key: "releases/clean-nested.zip", body: zipOf(t, map[string][]byte{"in.tar.gz": tgzOf(t, map[string][]byte{"y.txt": clean(103)})})},
	)
	if len(ups) != 20 {
		t.Fatalf("corpus has %d objects", len(ups))
	}
	return ups, []iam.AccessKey{alice, bob, carol, dave}
}

// TestEveryEventThreeTimes uploads 20 objects, delivers every OSS event
// two more times (through the trigger and through the FC API), and kills
// the respond instance while it is attaching the deny policy. Each leak
// must still end with exactly one finding record per (fingerprint, ETag),
// one successful containment per user and one notification per incident;
// clean objects with nothing.
func TestEveryEventThreeTimes(t *testing.T) {
	// FC's retry of the killed attempt comes after the stalled attach
	// below has completed on the server.
	// One instance per function: the kill below must hit the respond
	// process that is stalled in AttachPolicyToUser, not one that is in the
	// middle of publishing (a crash between SMQ's 201 and the result record
	// is the one window where a notification can repeat: SMQ publishing has
	// no idempotency key, so akguard chooses at-least-once there and every
	// message carries the incident ID for subscribers to de-duplicate).
	f := start(t, fc.Options{RetryBase: 4 * time.Second, MaxInstances: 1}, nil)
	ups, users := corpus(t, f)
	// The first AttachPolicyToUser stalls for 3 s on the server, which
	// then completes it: respond is killed while waiting, so the policy
	// is attached but respond never learned it, the worst moment to die.
	// Its retry must find the attachment, not attach twice, and notify
	// once.
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "ram", Operation: "AttachPolicyToUser", Rate: 1, Kind: "latency",
		Latency: 3 * time.Second, Remaining: 1})
	for i := range ups {
		ups[i].etag = f.put(ups[i].key, ups[i].body)
	}
	killed := make(chan int, 1)
	go func() {
		defer close(killed)
		for f.ctx.Err() == nil {
			if f.env.Cloud.Env.Faults.Fired()["ram/AttachPolicyToUser/latency"] > 0 {
				time.Sleep(300 * time.Millisecond) // well inside the stall
				first := 0
				for _, pid := range f.pids("respond") {
					if err := kill(pid); err == nil && first == 0 {
						first = pid
					}
				}
				if first != 0 {
					killed <- first
				}
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for _, u := range ups {
		size := int64(len(u.body))
		ev := core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: f.upload, Key: u.key, ETag: u.etag, Size: size, EventTime: time.Now()}
		f.env.Cloud.FC.ObjectCreated(f.ctx, ev)
		if _, err := f.env.Cloud.FC.Invoke(f.ctx, scanFn, ossEvent(f.upload, u.key, u.etag, size), true); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := f.settle(3 * len(ups))
	pid, wasKilled := <-killed
	if !wasKilled {
		t.Fatal("respond was never killed mid-attach: the crash path was not exercised")
	}
	t.Logf("killed respond instance %d mid-AttachPolicyToUser; pipeline idle %v after the last delivery", pid, elapsed.Round(time.Millisecond))

	checkScans(t, f, 3*len(ups))
	respond := f.finalStatus(respondFn)
	crashes := 0
	for _, i := range f.env.Cloud.FC.Invocations(respondFn) {
		if i.Status != "success" {
			crashes++
		}
	}
	for id, i := range respond {
		if i.Status != "success" {
			t.Errorf("respond invocation %s ended %s after %d retries: %s", id, i.Status, i.RetryCount, i.Error)
		}
	}
	if crashes == 0 {
		t.Error("no failed respond attempt recorded for the killed instance")
	}

	// One record per (fingerprint, ETag), for exactly the leaked keys.
	type objKey struct{ obj, key string }
	want := map[objKey]bool{}
	for _, u := range ups {
		for _, k := range u.keys {
			want[objKey{u.key, k.AccessKeyID}] = true
		}
	}
	recs := f.findings()
	seen := map[string]int{}
	got := map[objKey]int{}
	for _, r := range recs {
		seen[ossscan.FindingKey(r.Object.Bucket, r.Finding.Fingerprint, r.Object.ETag)]++
		got[objKey{r.Object.Key, r.Finding.AccessKeyID}]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("finding %s recorded %d times", k, n)
		}
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("%s in %s: %d finding records, want 1", k.key, k.obj, got[k])
		}
	}
	for k, n := range got {
		if !want[k] {
			t.Errorf("unexpected finding: %s in %s (%d records)", k.key, k.obj, n)
		}
	}

	// One containment per user, one notification per incident.
	attached := f.attachSuccesses()
	for _, u := range users {
		if attached[u.UserName] != 1 {
			t.Errorf("user %s: %d successful AttachPolicyToUser, want 1", u.UserName, attached[u.UserName])
		}
		if st, _ := f.env.Cloud.Env.IAM.ListPoliciesForUser(u.UserName); !slices.ContainsFunc(st, func(a iam.Attachment) bool {
			return a.PolicyName == "akguard-deny-high-risk"
		}) {
			t.Errorf("user %s: deny policy not attached", u.UserName)
		}
	}
	msgs, _ := f.inbox()
	perIncident := map[string]int{}
	for _, m := range msgs {
		perIncident[m.IncidentID]++
		if m.Source != "scan" {
			t.Errorf("unexpected %s notification: %s", m.Source, m.Text)
		}
		if m.Outcome != notify.OutcomeContained {
			t.Errorf("incident %s: outcome %s, want contained", m.IncidentID, m.Outcome)
		}
	}
	for k := range want {
		var etag string
		for _, u := range ups {
			if u.key == k.obj {
				etag = u.etag
			}
		}
		id := ossscan.IncidentID(f.upload, k.obj, etag, k.key)
		if perIncident[id] != 1 {
			t.Errorf("incident %s (%s in %s): %d notifications, want 1", id, k.key, k.obj, perIncident[id])
		}
		delete(perIncident, id)
	}
	for id, n := range perIncident {
		t.Errorf("notification for unexpected incident %s (%d)", id, n)
	}
	if n := f.distinct(respondFn); n != len(want) {
		t.Errorf("respond ran for %d incidents, want %d", n, len(want))
	}
	t.Logf("duplicates survived: %d deliveries of %d objects (%d with keys, %d incidents), respond attempts %d (%d failed), %d notifications",
		3*len(ups), len(ups), 6, len(want), len(f.env.Cloud.FC.Invocations(respondFn)), crashes, len(msgs))
}

// checkScans requires n distinct scan invocations, each finally
// successful.
func checkScans(t *testing.T, f *fixture, n int) {
	t.Helper()
	final := f.finalStatus(scanFn)
	if len(final) != n {
		t.Errorf("scan ran for %d deliveries, want %d", len(final), n)
	}
	for id, i := range final {
		if i.Status != "success" {
			t.Errorf("scan invocation %s ended %s after %d retries: %s", id, i.Status, i.RetryCount, i.Error)
		}
	}
}

// ossEvent is the OSS trigger event FC would deliver, as a retry through
// the API would carry it.
func ossEvent(bucket, key, etag string, size int64) []byte {
	return []byte(fmt.Sprintf(`{"events":[{"eventName":"ObjectCreated:PutObject","eventSource":"acs:oss","eventTime":%q,"eventVersion":"1.0",
"oss":{"bucket":{"arn":"acs:oss:cn-hangzhou:1234567890123456:%[2]s","name":"%[2]s","ownerIdentity":"1234567890123456","virtualBucket":""},
"object":{"deltaSize":%[5]d,"eTag":"%[4]s","key":"%[3]s","objectMeta":{"mimeType":"application/octet-stream"},"size":%[5]d},"ossSchemaVersion":"1.0","ruleId":"e2e"},
"region":"cn-hangzhou","requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"requestId":"e2e"},"userIdentity":{"principalId":"1234567890123456"}}]}`,
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), bucket, key, etag, size))
}

// TestScanKilledMidRecord kills the scan instance while its first state
// write (the finding record) stalls on the server, which then completes
// it. FC's retry finds the record already there and must still hand the
// incident to respond: one record, one containment, one notification.
func TestScanKilledMidRecord(t *testing.T) {
	f := start(t, fc.Options{RetryBase: 4 * time.Second}, nil)
	k := f.user("nina")
	f.env.Cloud.Env.Faults.Add(fault.Rule{Service: "oss", Operation: "PutObject", Rate: 1, Kind: "latency",
		Latency: 3 * time.Second, Remaining: 1})
	etag := f.putDirect("deploy/nina.env", envFile(k)) // no HTTP: only the scan's own PutObject stalls
	for f.env.Cloud.Env.Faults.Fired()["oss/PutObject/latency"] == 0 {
		select {
		case <-f.ctx.Done():
			t.Fatal("scan never wrote to the state bucket")
		case <-time.After(5 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond)
	ps := f.pids("scan")
	if len(ps) == 0 {
		t.Fatal("no scan instance to kill")
	}
	for _, pid := range ps {
		if err := kill(pid); err != nil {
			t.Fatal(err)
		}
	}
	f.settle(1)
	attempts := f.env.Cloud.FC.Invocations(scanFn)
	if len(attempts) < 2 || attempts[0].Status == "success" {
		t.Fatalf("scan attempts %+v: want the killed one and its retry", attempts)
	}
	checkScans(t, f, 1)
	recs := f.findings()
	if len(recs) != 1 || recs[0].Finding.AccessKeyID != k.AccessKeyID || recs[0].Object.ETag != etag {
		t.Fatalf("finding records %+v, want one for %s", recs, k.AccessKeyID)
	}
	if n := f.attachSuccesses()["nina"]; n != 1 {
		t.Errorf("nina: %d successful AttachPolicyToUser, want 1", n)
	}
	msgs, _ := f.inbox()
	if len(msgs) != 1 || msgs[0].IncidentID != recs[0].IncidentID || msgs[0].Outcome != notify.OutcomeContained {
		t.Errorf("notifications %+v, want one 'contained' for incident %s", msgs, recs[0].IncidentID)
	}
	for _, e := range f.trailEvents("Oss", "PutObject") {
		if strings.HasPrefix(e.UserIdentity.UserName, "akguard-scan:") {
			t.Logf("the stalled write: %s (%s)", e.ResourceName, e.EventTime)
			break
		}
	}
	t.Logf("scan killed mid-write (%d attempts), retry recorded %d finding, contained once, %d notification", len(attempts), len(recs), len(msgs))
}
