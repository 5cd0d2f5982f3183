package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// On a versioned (or suspended) bucket OSS ignores x-oss-forbid-overwrite,
// so a second Create of the same record "wins" and overwrites the first:
// the local OSS does the same, and CheckCreateOnce refuses such a bucket.
func TestCheckCreateOnce(t *testing.T) {
	ctx := context.Background()
	cl := rootClients(startCloud(t)).OSS()
	cases := []struct {
		bucket string
		status oss.VersioningStatusType // "" = never enabled
	}{
		{"state-plain", ""},
		{"state-versioned", oss.VersionEnabled},
		{"state-suspended", oss.VersionSuspended},
	}
	for _, tc := range cases {
		t.Run(tc.bucket, func(t *testing.T) {
			if _, err := cl.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(tc.bucket)}); err != nil {
				t.Fatal(err)
			}
			if tc.status != "" {
				if _, err := cl.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr(tc.bucket),
					VersioningConfiguration: &oss.VersioningConfiguration{Status: tc.status}}); err != nil {
					t.Fatal(err)
				}
			}
			s := &Store{Client: cl, Bucket: tc.bucket, Prefix: "akguard/"}
			first, err := s.Create(ctx, "responses/inc-1.json", rec{N: 1})
			if err != nil || !first {
				t.Fatalf("first create: %v %v", first, err)
			}
			second, err := s.Create(ctx, "responses/inc-1.json", rec{N: 2})
			if err != nil {
				t.Fatal(err)
			}
			var got rec
			if err := s.Get(ctx, "responses/inc-1.json", &got); err != nil {
				t.Fatal(err)
			}
			check := s.CheckCreateOnce(ctx)
			if tc.status == "" {
				if second || got.N != 1 {
					t.Errorf("unversioned bucket: second create won %v, record %d", second, got.N)
				}
				if check != nil {
					t.Errorf("CheckCreateOnce on an unversioned bucket: %v", check)
				}
				guarded := &Store{Client: cl, Bucket: tc.bucket, Prefix: "akguard/", Guard: &CreateOnceGuard{}}
				if ok, err := guarded.Create(ctx, "responses/inc-2.json", rec{N: 3}); err != nil || !ok {
					t.Errorf("guarded Create on an unversioned bucket: %v %v", ok, err)
				}
				return
			}
			// Create-once is broken here: both writers think they won.
			if !second || got.N != 2 {
				t.Errorf("versioning %s: second create won %v, record %d; the local OSS should overwrite", tc.status, second, got.N)
			}
			if !errors.Is(check, ErrVersionedBucket) || !strings.Contains(check.Error(), string(tc.status)) {
				t.Errorf("CheckCreateOnce on a %s bucket = %v, want ErrVersionedBucket naming the status", tc.status, check)
			}
			// With a guard, the store refuses create-once writes instead of
			// silently letting a duplicate through.
			guarded := &Store{Client: cl, Bucket: tc.bucket, Prefix: "akguard/", Guard: &CreateOnceGuard{}}
			if _, err := guarded.Create(ctx, "responses/inc-2.json", rec{N: 3}); !errors.Is(err, ErrVersionedBucket) {
				t.Errorf("guarded Create on a %s bucket = %v, want ErrVersionedBucket", tc.status, err)
			}
		})
	}
	missing := &Store{Client: cl, Bucket: "no-such-bucket", Prefix: "akguard/"}
	if err := missing.CheckCreateOnce(ctx); err == nil || errors.Is(err, ErrVersionedBucket) {
		t.Errorf("missing bucket: %v, want the request's error", err)
	}
}
