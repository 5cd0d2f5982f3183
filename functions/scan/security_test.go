package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/shared/detect"
	"github.com/akguard/akguard/shared/ossscan"
)

// A public object that only mentions another user's AccessKey ID (a
// support ticket, a log line) is recorded, but nobody is contained: no
// secret was found, so there is no proof the key leaked, and anyone able
// to upload could otherwise have any user quarantined.
func TestLoneAccessKeyIDIsNotSentToRespond(t *testing.T) {
	// Out of dry run, so a respond that acted would really contain.
	f := start(t, map[string]string{"AKGUARD_DRY_RUN": "false"})
	body := []byte("customer says key " + f.key.AccessKeyID + " is not working\n")
	etag := f.put("tickets/4711.txt", body, oss.ObjectACLPublicRead)
	f.settle(1)
	f.scanInvocations()
	recs := f.findingRecords()
	if len(recs) != 1 || recs[0].Finding.Rule != detect.RuleAccessKeyID || recs[0].Finding.AccessKeyID != f.key.AccessKeyID {
		t.Fatalf("records = %+v, want the lone ID recorded", recs)
	}
	if recs[0].IncidentID != "" || recs[0].Finding.SecretSHA256 != "" {
		t.Errorf("record = %+v, want no incident and no secret", recs[0])
	}
	if trail, inv := f.respondCalls(); trail != 0 || inv != 0 {
		t.Errorf("respond invoked %d times (%d runs) for a lone ID, want 0", trail, inv)
	}
	if d := f.records("dispatch/"); len(d) != 0 {
		t.Errorf("dispatch records for a lone ID: %v", keys(d))
	}
	atts, err := f.env.Cloud.Env.IAM.ListPoliciesForUser("ci-deployer")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		if strings.HasPrefix(a.PolicyName, "akguard") {
			t.Errorf("the user named in the ticket got %s attached", a.PolicyName)
		}
	}
	if k, _ := f.env.Cloud.Env.IAM.GetAccessKey(f.key.AccessKeyID); k.Status != "Active" {
		t.Errorf("the named key is %s, want Active", k.Status)
	}
	s := f.invokeSync(f.event("tickets/4711.txt", etag, int64(len(body))))
	if len(s.Objects) != 1 || s.Objects[0].IDOnly != 1 || len(s.Objects[0].Incidents) != 0 {
		t.Errorf("summary = %+v, want one id-only key and no incident", s)
	}
}

// One object listing many key pairs sends at most MaxIncidentsPerObject
// incidents; the rest are recorded and named in the object's cap record.
func TestKeysPerObjectAreCapped(t *testing.T) {
	f := start(t, nil)
	const n = ossscan.MaxIncidentsPerObject + 2
	rng := rand.New(rand.NewPCG(7, 8))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	word := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = alnum[rng.IntN(len(alnum))]
		}
		return string(b)
	}
	var body strings.Builder
	for i := range n {
		// Synthetic pairs from a seeded PRNG: never issued by anyone.
		fmt.Fprintf(&body, "[profile-%d]\nALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5t%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n\n", i, word(18), word(30))
	}
	etag := f.put("dumps/credentials.ini", []byte(body.String()), "")
	f.settle(1)
	f.scanInvocations()
	if recs := f.findingRecords(); len(recs) != n {
		t.Fatalf("got %d finding records, want %d", len(recs), n)
	}
	if trail, inv := f.respondCalls(); trail != ossscan.MaxIncidentsPerObject || (withRespond(t) && inv != ossscan.MaxIncidentsPerObject) {
		t.Errorf("respond invoked %d times (%d runs), want %d", trail, inv, ossscan.MaxIncidentsPerObject)
	}
	b, ok := f.records("dispatch/scan/capped/")[prefix+ossscan.CapKey(f.upload, "dumps/credentials.ini", etag)]
	var c ossscan.CapRecord
	if !ok || json.Unmarshal(b, &c) != nil {
		t.Fatal("no cap record for the object")
	}
	if len(c.Sent) != ossscan.MaxIncidentsPerObject || len(c.NotSent) != n-ossscan.MaxIncidentsPerObject || c.Limit != ossscan.MaxIncidentsPerObject {
		t.Errorf("cap record = %+v", c)
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
