package oss

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	sdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/core"
)

// TestCrashLeftovers simulates a crash at each point of a write: an
// in-flight temp file, a data file renamed but never named by a sidecar,
// and a torn sidecar temp. Start-up must show only committed objects and
// remove the garbage.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	c := f.root()
	f.mkBucket(c, "crash")
	f.put(c, "crash", "kept", []byte("committed"))
	f.close()

	ossDir := filepath.Join(dir, "oss")
	bdir := filepath.Join(ossDir, "buckets", "crash")
	leftovers := []string{
		filepath.Join(ossDir, "tmp", "obj-123"),                                            // upload in flight
		filepath.Join(bdir, "data", "00112233445566778899aabbccddeeff"),                    // renamed data, no sidecar
		filepath.Join(bdir, "objects", "ab", strings.Repeat("ab", 32)+".json.tmp0a0b0c0d"), // torn sidecar
	}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(`{"key":"half`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A bucket whose creation crashed before bucket.json was committed.
	if err := os.MkdirAll(filepath.Join(ossDir, "buckets", "halfmade", "data"), 0o700); err != nil {
		t.Fatal(err)
	}

	g := openFixture(t, dir)
	c = g.root()
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived start-up (%v)", p, err)
		}
	}
	if got := g.get(c, "crash", "kept"); string(got) != "committed" {
		t.Errorf("committed object = %q", got)
	}
	list, err := c.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("crash")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("listing after recovery: %v objects, %v", len(list.Contents), err)
	}
	buckets, err := c.ListBuckets(bg, &sdk.ListBucketsRequest{})
	if err != nil || len(buckets.Buckets) != 1 {
		t.Errorf("buckets after recovery: %d, %v", len(buckets.Buckets), err)
	}
}

func TestObjectCreatedHook(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var got []string
	f.env.Hooks.ObjectCreated = func(_ context.Context, ev core.ObjectEvent) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev.EventName+" "+ev.Bucket+"/"+ev.Key+" "+ev.SourceIP+" "+ev.Principal.Type)
	}
	c := f.root()
	f.mkBucket(c, "hooks")
	f.put(c, "hooks", "a", []byte("1"))
	if _, err := c.CopyObject(bg, &sdk.CopyObjectRequest{Bucket: sdk.Ptr("hooks"), Key: sdk.Ptr("b"), SourceKey: sdk.Ptr("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendObject(bg, &sdk.AppendObjectRequest{Bucket: sdk.Ptr("hooks"), Key: sdk.Ptr("c"), Position: sdk.Ptr(int64(0)), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.PutSynthetic(bg, "hooks", "d", Synthetic{Size: 10, Notify: true}); err != nil {
		t.Fatal(err)
	}
	// A refused write notifies nobody.
	_, _ = c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("hooks"), Key: sdk.Ptr("a"), Body: strings.NewReader("2"), ForbidOverwrite: sdk.Ptr("true")})
	f.srv.hooks.Wait()
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(got)
	want := []string{
		"ObjectCreated:AppendObject hooks/c 127.0.0.1 root-account",
		"ObjectCreated:CopyObject hooks/b 127.0.0.1 root-account",
		"ObjectCreated:PutObject hooks/a 127.0.0.1 root-account",
		"ObjectCreated:PutObject hooks/d 127.0.0.1 root-account",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDeleteMultipleObjects(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "multi")
	for _, k := range []string{"a", "b c", "d/e"} {
		f.put(c, "multi", k, []byte(k))
	}
	res, err := c.DeleteMultipleObjects(bg, &sdk.DeleteMultipleObjectsRequest{Bucket: sdk.Ptr("multi"),
		Objects: []sdk.DeleteObject{{Key: sdk.Ptr("a")}, {Key: sdk.Ptr("b c")}, {Key: sdk.Ptr("missing")}}})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, d := range res.DeletedObjects {
		deleted = append(deleted, sdk.ToString(d.Key))
	}
	if strings.Join(deleted, ",") != "a,b c,missing" {
		t.Errorf("deleted = %v", deleted)
	}
	list, err := c.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("multi")})
	if err != nil || len(list.Contents) != 1 || sdk.ToString(list.Contents[0].Key) != "d/e" {
		t.Errorf("remaining objects: %+v %v", list.Contents, err)
	}
	if got := f.get(c, "multi", "d/e"); !bytes.Equal(got, []byte("d/e")) {
		t.Errorf("survivor content = %q", got)
	}
}
