package ossscan

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/akguard/akguard/shared/fcevent"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/golden"
	"github.com/akguard/akguard/shared/incident"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// synthetic returns a random-looking AccessKey ID and secret from a seeded
// PRNG: synthetic test material, never issued by anyone.
func synthetic(seed uint64) (string, string) {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	rng := rand.New(rand.NewPCG(seed, seed+1))
	s := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alnum[rng.IntN(len(alnum))]
		}
		return string(b)
	}
	return "LTAI5t" + s(18), s(30)
}

func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	golden.JSON(t, filepath.Join("testdata", "golden", name), v, *update)
}

func sampleFindings(akid, secret string, path string, n int) []finding.Finding {
	var fs []finding.Finding
	for i := range n {
		f := finding.Finding{Path: path, Line: 3 + i, Column: 29, Rule: "alibaba-access-key-pair", Severity: finding.SeverityHigh,
			AccessKeyID: akid, SecretRedacted: finding.Redact(secret), SecretSHA256: finding.HashSecret(secret), Encoding: "plain",
			Description: "Alibaba Cloud AccessKey ID with its AccessKey secret"}
		if i > 0 {
			f.Path = path + "!member-" + string(rune('a'+i)) + ".env"
		}
		f.SetFingerprint()
		fs = append(fs, f)
	}
	return fs
}

func TestGoldenRecordsAndIncidents(t *testing.T) {
	at := time.Date(2026, 11, 23, 6, 21, 35, 0, time.UTC)
	akid, secret := synthetic(7)
	for _, tc := range []struct {
		name   string
		where  incident.Object
		n      int
		public bool
	}{
		{"private", incident.Object{Bucket: "akguard-demo-uploads", Key: "deploy/prod.env", ETag: "7D73E1052AF595535DE90994F4C3E6D5", Size: 512, ACL: "private"}, 1, false},
		{"public-many", incident.Object{Bucket: "akguard-demo-uploads", Key: "www/bundle.zip", ETag: "5B1E7A4F0C2D3E4F5A6B7C8D9E0F1A2B-3", Size: 25 << 20, ACL: "public-read", Public: true}, 25, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := sampleFindings(akid, secret, "oss://"+tc.where.Bucket+"/"+tc.where.Key, tc.n)
			if tc.public {
				for i := range fs {
					fs[i].Severity = finding.SeverityCritical
				}
			}
			in := buildIncident(tc.where, akid, fs, at)
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(in.Findings) != min(tc.n, maxFindingsPerIncident) {
				t.Errorf("incident carries %d findings", len(in.Findings))
			}
			rec := Record{Version: RecordVersion, Finding: fs[0], Object: tc.where, IncidentID: in.ID, DetectedAt: at, RequestID: "req-1"}
			for _, v := range []any{in, rec} {
				data, _ := json.Marshal(v)
				if bytes.Contains(data, []byte(secret)) {
					t.Fatal("the secret leaked into the output")
				}
			}
			checkGolden(t, "incident-"+tc.name+".json", in)
			checkGolden(t, "record-"+tc.name+".json", rec)
			checkGolden(t, "keys-"+tc.name+".json", map[string]string{
				"finding":  FindingKey(tc.where.Bucket, fs[0].Fingerprint, `"`+strings.ToLower(tc.where.ETag)+`"`),
				"dispatch": DispatchKey(in.ID),
				"skip":     SkipKey(tc.where.Bucket, tc.where.Key, tc.where.ETag),
			})
		})
	}
}

// FuzzSyntheticEvent checks that every backfill event the CLI builds is
// accepted by the function's decoder and names the same objects.
func FuzzSyntheticEvent(f *testing.F) {
	f.Add("uploads/config backup.env", "akguard-demo-uploads", int64(512))
	f.Add("a%20b+c", "b-1", int64(0))
	f.Add("日本語/ファイル.txt", "abc", int64(1<<40))
	f.Fuzz(func(t *testing.T, key, bucket string, size int64) {
		if key == "" || len(key) > 1023 || !utf8.ValidString(key) || size < 0 {
			t.Skip()
		}
		ev, err := SyntheticEvent("cn-hangzhou", "1234567890123456", bucket, []Listed{{Key: key, ETag: "E", Size: size}}, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		got, err := fcevent.ParseOSS(ev)
		if err != nil {
			// Only an invalid bucket name may be refused.
			if !strings.Contains(err.Error(), "bucket name") {
				t.Fatalf("event for %q refused: %v", key, err)
			}
			return
		}
		o := got.Events[0].OSS.Object
		if o.Key != key || o.Size != size || got.Events[0].OSS.Bucket.Name != bucket {
			t.Fatalf("round trip: %+v", got.Events[0].OSS)
		}
	})
}
