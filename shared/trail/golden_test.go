package trail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Times and the IDs derived from them depend on when the test runs.
var (
	rfc3339RE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	summaryRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d–\d\d:\d\d`)
	idRE      = regexp.MustCompile(`"id": "[0-9a-f]{24}"`)
)

func normalize(b []byte) []byte {
	b = rfc3339RE.ReplaceAll(b, []byte("<time>"))
	b = summaryRE.ReplaceAll(b, []byte("<window>"))
	return idRE.ReplaceAll(b, []byte(`"id": "<id>"`))
}

// The stored incident record of the seed scenario: what respond receives
// (incident) and what an operator reads in the state bucket.
func TestIncidentRecordGolden(t *testing.T) {
	f := newFixture(t, 11)
	ctx := context.Background()
	T := f.clock
	key := "LTAI5tJjjjjjjjjjjjjjjjjj"
	root := &store.Store{Client: f.env.Root.OSS(), Bucket: f.env.Vars["stateBucket"], Prefix: "akguard/"}
	if _, err := root.MarkLeaked(ctx, store.LeakedKey{AccessKeyID: key, Source: "scan", Location: "oss://uploads/deploy/.env"}); err != nil {
		t.Fatal(err)
	}
	f.record(t, key, "Oss:GetObject", T.Add(-30*time.Minute))
	f.record(t, key, "Oss:PutBucketAcl", T.Add(-29*time.Minute))
	f.record(t, key, "Oss:DeleteBucket", T.Add(-28*time.Minute))
	f.w.Enrich = f.w.Reader.LastUsed
	res := f.run(t, ctx)
	if res.Escalated != 1 {
		t.Fatalf("run: %+v", res)
	}
	keys, err := f.st.List(ctx, trail.IncidentPrefix)
	if err != nil || len(keys) != 1 {
		t.Fatalf("records %v %v", keys, err)
	}
	var rec trail.IncidentRecord
	if err := f.st.Get(ctx, keys[0], &rec); err != nil {
		t.Fatal(err)
	}
	// rec.Incident.Audit (raw JSON) prints inline: the golden shows the
	// evidence respond forwards.
	out, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := normalize(append(out, '\n'))
	path := filepath.Join("testdata", "incident-record.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (go test -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("incident record differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}
