package oss

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/trail"
)

var bg = context.Background()

func quotedMD5(b []byte) string { return fmt.Sprintf(`"%X"`, md5.Sum(b)) }

func TestObjectLifecycle(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		c    *sdk.Client
	}{{"v4", f.root()}, {"v1", f.root(v1())}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			bucket := "life-" + tc.name
			f.mkBucket(c, bucket)
			body := payload(1, 300_000)
			res, err := c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("dir/a b+c.txt"),
				Body: bytes.NewReader(body), ContentType: sdk.Ptr("text/plain"),
				Metadata: map[string]string{"Owner": "akguard"}, Tagging: sdk.Ptr("env=test&team=sec")})
			if err != nil {
				t.Fatal(err)
			}
			if got := sdk.ToString(res.ETag); got != quotedMD5(body) {
				t.Errorf("ETag = %s, want %s", got, quotedMD5(body))
			}
			if got := f.get(c, bucket, "dir/a b+c.txt"); !bytes.Equal(got, body) {
				t.Fatalf("GetObject returned %d bytes that differ from the %d put", len(got), len(body))
			}
			head, err := c.HeadObject(bg, &sdk.HeadObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("dir/a b+c.txt")})
			if err != nil {
				t.Fatal(err)
			}
			if head.ContentLength != int64(len(body)) || sdk.ToString(head.ContentType) != "text/plain" ||
				head.Metadata["owner"] != "akguard" || head.TaggingCount != 2 || sdk.ToString(head.ObjectType) != "Normal" {
				t.Errorf("HeadObject = len %d type %q meta %v tags %d objtype %q", head.ContentLength,
					sdk.ToString(head.ContentType), head.Metadata, head.TaggingCount, sdk.ToString(head.ObjectType))
			}

			_, err = c.CopyObject(bg, &sdk.CopyObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("copy"),
				SourceKey: sdk.Ptr("dir/a b+c.txt")})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.get(c, bucket, "copy"); !bytes.Equal(got, body) {
				t.Fatal("copy differs from source")
			}

			for i := 0; i < 2; i++ { // DeleteObject is idempotent
				if _, err := c.DeleteObject(bg, &sdk.DeleteObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("copy")}); err != nil {
					t.Fatalf("delete #%d: %v", i+1, err)
				}
			}
			_, err = c.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("copy")})
			wantCode(t, err, 404, "NoSuchKey")

			_, err = c.DeleteBucket(bg, &sdk.DeleteBucketRequest{Bucket: sdk.Ptr(bucket)})
			wantCode(t, err, 409, "BucketNotEmpty")
			if _, err := c.DeleteObject(bg, &sdk.DeleteObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("dir/a b+c.txt")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.DeleteBucket(bg, &sdk.DeleteBucketRequest{Bucket: sdk.Ptr(bucket)}); err != nil {
				t.Fatal(err)
			}
			_, err = c.GetBucketInfo(bg, &sdk.GetBucketInfoRequest{Bucket: sdk.Ptr(bucket)})
			wantCode(t, err, 404, "NoSuchBucket")
		})
	}
}

func TestBucketOperations(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	_, err := c.PutBucket(bg, &sdk.PutBucketRequest{Bucket: sdk.Ptr("state"), Acl: sdk.BucketACLPublicRead})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutBucket(bg, &sdk.PutBucketRequest{Bucket: sdk.Ptr("state")})
	wantCode(t, err, 409, "BucketAlreadyExists")
	f.mkBucket(c, "another")

	list, err := c.ListBuckets(bg, &sdk.ListBucketsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, sdk.ToString(b.Name))
	}
	if strings.Join(names, ",") != "another,state" {
		t.Errorf("ListBuckets = %v", names)
	}

	info, err := c.GetBucketInfo(bg, &sdk.GetBucketInfoRequest{Bucket: sdk.Ptr("state")})
	if err != nil {
		t.Fatal(err)
	}
	if sdk.ToString(info.BucketInfo.ACL) != "public-read" || sdk.ToString(info.BucketInfo.Location) != "oss-"+region {
		t.Errorf("GetBucketInfo acl %q location %q", sdk.ToString(info.BucketInfo.ACL), sdk.ToString(info.BucketInfo.Location))
	}

	if _, err := c.PutBucketAcl(bg, &sdk.PutBucketAclRequest{Bucket: sdk.Ptr("state"), Acl: sdk.BucketACLPrivate}); err != nil {
		t.Fatal(err)
	}
	acl, err := c.GetBucketAcl(bg, &sdk.GetBucketAclRequest{Bucket: sdk.Ptr("state")})
	if err != nil {
		t.Fatal(err)
	}
	if sdk.ToString(acl.ACL) != "private" {
		t.Errorf("GetBucketAcl = %q", sdk.ToString(acl.ACL))
	}

	ver, err := c.GetBucketVersioning(bg, &sdk.GetBucketVersioningRequest{Bucket: sdk.Ptr("state")})
	if err != nil {
		t.Fatal(err)
	}
	if ver.VersionStatus != nil {
		t.Errorf("new bucket versioning = %q, want unset", sdk.ToString(ver.VersionStatus))
	}
	_, err = c.PutBucketVersioning(bg, &sdk.PutBucketVersioningRequest{Bucket: sdk.Ptr("state"),
		VersioningConfiguration: &sdk.VersioningConfiguration{Status: sdk.VersionEnabled}})
	if err != nil {
		t.Fatal(err)
	}
	ver, err = c.GetBucketVersioning(bg, &sdk.GetBucketVersioningRequest{Bucket: sdk.Ptr("state")})
	if err != nil {
		t.Fatal(err)
	}
	if sdk.ToString(ver.VersionStatus) != "Enabled" {
		t.Errorf("versioning = %q, want Enabled", sdk.ToString(ver.VersionStatus))
	}
}

func TestRangeGet(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "ranges")
	body := payload(2, 1000)
	f.put(c, "ranges", "obj", body)
	for _, tc := range []struct {
		rng      string
		behavior string
		status   int
		want     []byte
		cr       string
	}{
		{"bytes=0-9", "", 206, body[:10], "bytes 0-9/1000"},
		{"bytes=990-", "", 206, body[990:], "bytes 990-999/1000"},
		{"bytes=-5", "", 206, body[995:], "bytes 995-999/1000"},
		{"bytes=900-5000", "", 206, body[900:], "bytes 900-999/1000"},
		{"bytes=2000-3000", "", 200, body, ""}, // OSS ignores an unsatisfiable range
		{"bytes=5-2", "", 200, body, ""},
		{"bytes=2000-3000", "standard", 416, nil, ""},
	} {
		t.Run(tc.rng+tc.behavior, func(t *testing.T) {
			req := &sdk.GetObjectRequest{Bucket: sdk.Ptr("ranges"), Key: sdk.Ptr("obj"), Range: sdk.Ptr(tc.rng)}
			if tc.behavior != "" {
				req.RangeBehavior = sdk.Ptr(tc.behavior)
			}
			res, err := c.GetObject(bg, req)
			if tc.status == 416 {
				wantCode(t, err, 416, "InvalidRange")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status || !bytes.Equal(got, tc.want) || sdk.ToString(res.ContentRange) != tc.cr {
				t.Errorf("status %d len %d range %q; want %d len %d range %q", res.StatusCode, len(got),
					sdk.ToString(res.ContentRange), tc.status, len(tc.want), tc.cr)
			}
		})
	}
	etag := quotedMD5(body)
	_, err := c.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("ranges"), Key: sdk.Ptr("obj"), IfMatch: sdk.Ptr(`"0000"`)})
	wantCode(t, err, 412, "PreconditionFailed")
	_, err = c.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("ranges"), Key: sdk.Ptr("obj"), IfNoneMatch: sdk.Ptr(etag)})
	if se := serviceError(t, err); se.StatusCode != 304 {
		t.Errorf("If-None-Match status = %d, want 304", se.StatusCode)
	}
}

func TestListObjectsV2Pages(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "many")
	const n = 2500
	// Listing is under test, not durability: skip the fsyncs of 2,500 puts.
	f.srv.SetDurable(false)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32) // file creation waits on the disk, not the CPU
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("logs/%04d.txt", i)
			if i%5 == 0 {
				key = fmt.Sprintf("dirs/%03d/x.txt", i/5)
			}
			_, err := f.srv.PutSynthetic(bg, "many", key, Synthetic{Size: 3, Gen: strings.NewReader("abc")})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	var pages []int
	var keys []string
	var token *string
	for {
		res, err := c.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("many"), MaxKeys: 1000, ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(res.Contents))
		for _, o := range res.Contents {
			keys = append(keys, sdk.ToString(o.Key))
		}
		if !res.IsTruncated {
			break
		}
		token = res.NextContinuationToken
	}
	if fmt.Sprint(pages) != "[1000 1000 500]" || len(keys) != n {
		t.Fatalf("pages = %v, %d keys", pages, len(keys))
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("keys out of order at %d: %q >= %q", i, keys[i-1], keys[i])
		}
	}

	// Delimiter with small pages: common prefixes never repeat across pages.
	seen := map[string]bool{}
	objects := 0
	token = nil
	for {
		res, err := c.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("many"), Prefix: sdk.Ptr("dirs/"),
			Delimiter: sdk.Ptr("/"), MaxKeys: 70, ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		objects += len(res.Contents)
		for _, p := range res.CommonPrefixes {
			if seen[sdk.ToString(p.Prefix)] {
				t.Fatalf("prefix %q listed twice", sdk.ToString(p.Prefix))
			}
			seen[sdk.ToString(p.Prefix)] = true
		}
		if !res.IsTruncated {
			break
		}
		token = res.NextContinuationToken
	}
	if len(seen) != n/5 || objects != 0 {
		t.Errorf("delimiter listing: %d prefixes, %d objects; want %d, 0", len(seen), objects, n/5)
	}

	// The same with ListObjects (v1) markers.
	seenV1 := 0
	var marker *string
	for {
		res, err := c.ListObjects(bg, &sdk.ListObjectsRequest{Bucket: sdk.Ptr("many"), Prefix: sdk.Ptr("dirs/"),
			Delimiter: sdk.Ptr("/"), MaxKeys: 70, Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		seenV1 += len(res.CommonPrefixes) + len(res.Contents)
		if !res.IsTruncated {
			break
		}
		marker = res.NextMarker
	}
	if seenV1 != n/5 {
		t.Errorf("v1 delimiter listing returned %d entries, want %d", seenV1, n/5)
	}

	res, err := c.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("many"), StartAfter: sdk.Ptr("logs/2497.txt"), FetchOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 2 || res.Contents[0].Owner == nil || sdk.ToString(res.Contents[0].Key) != "logs/2498.txt" {
		t.Errorf("start-after listing = %+v", res.Contents)
	}

	v1res, err := c.ListObjects(bg, &sdk.ListObjectsRequest{Bucket: sdk.Ptr("many"), Prefix: sdk.Ptr("logs/"), Marker: sdk.Ptr("logs/0001.txt"), MaxKeys: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(v1res.Contents) != 3 || !v1res.IsTruncated || sdk.ToString(v1res.NextMarker) != "logs/0004.txt" {
		t.Errorf("ListObjects v1 = %d objects truncated %v next %q", len(v1res.Contents), v1res.IsTruncated, sdk.ToString(v1res.NextMarker))
	}
}

func TestSignatures(t *testing.T) {
	f := newFixture(t)
	f.mkBucket(f.root(), "sig")
	f.put(f.root(), "sig", "k", []byte("hello"))
	root := f.env.IAM.RootKey()
	user, err := f.env.IAM.CreateUser("leaky", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.IAM.AttachPolicyToUser("System", "AliyunOSSFullAccess", user.UserName); err != nil {
		t.Fatal(err)
	}
	key, err := f.env.IAM.CreateAccessKey(user.UserName)
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := f.env.IAM.CreateAccessKey(user.UserName)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.IAM.UpdateAccessKey(user.UserName, disabled.AccessKeyID, "Inactive"); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []struct {
		name string
		opts []clientOpt
	}{{"v4", nil}, {"v1", []clientOpt{v1()}}} {
		for _, tc := range []struct {
			name, id, secret string
			status           int
			code             string
		}{
			{"root", root.AccessKeyID, root.AccessKeySecret, 200, ""},
			{"ram-user", key.AccessKeyID, key.AccessKeySecret, 200, ""},
			{"wrong-secret", key.AccessKeyID, strings.Repeat("x", 30), 403, "SignatureDoesNotMatch"},
			{"unknown-key", "LTAI5tUnknownKeyId0000000", root.AccessKeySecret, 403, "InvalidAccessKeyId"},
			{"disabled-key", disabled.AccessKeyID, disabled.AccessKeySecret, 403, "InvalidAccessKeyId"},
		} {
			t.Run(sig.name+"/"+tc.name, func(t *testing.T) {
				c := f.client(tc.id, tc.secret, "", sig.opts...)
				_, err := c.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("sig"), Key: sdk.Ptr("k")})
				if tc.status == 200 {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				se := wantCode(t, err, tc.status, tc.code)
				if tc.code == "SignatureDoesNotMatch" && !bytes.Contains(se.Snapshot, []byte("<StringToSign>")) {
					t.Errorf("SignatureDoesNotMatch body lacks StringToSign: %s", se.Snapshot)
				}
				if bytes.Contains(se.Snapshot, []byte(tc.secret)) {
					t.Error("error body contains the secret")
				}
			})
		}
	}
}

func TestPresignedURLs(t *testing.T) {
	f := newFixture(t)
	f.mkBucket(f.root(), "pre")
	f.put(f.root(), "pre", "secret/report.csv", []byte("id,key\n"))
	for _, tc := range []struct {
		name string
		opts []clientOpt
	}{{"v1", []clientOpt{v1()}}, {"v4", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.root(tc.opts...)
			req := &sdk.GetObjectRequest{Bucket: sdk.Ptr("pre"), Key: sdk.Ptr("secret/report.csv")}
			res, err := c.Presign(bg, req, sdk.PresignExpires(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "v1" && !strings.Contains(res.URL, "OSSAccessKeyId=") {
				t.Fatalf("V1 presigned URL lacks OSSAccessKeyId: %s", res.URL)
			}
			status, body := httpGet(t, res.URL)
			if status != 200 || body != "id,key\n" {
				t.Fatalf("presigned GET = %d %q", status, body)
			}
			tampered := strings.Replace(res.URL, "report.csv", "report.csv2", 1)
			if status, body := httpGet(t, tampered); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
				t.Errorf("tampered URL = %d %s", status, body)
			}
		})
	}
	// An expired V1 URL (the form leaked URLs take).
	c := f.root(v1())
	res, err := c.Presign(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("pre"), Key: sdk.Ptr("secret/report.csv")},
		sdk.PresignExpiration(time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, res.URL); status != 403 || !strings.Contains(body, "Request has expired") {
		t.Errorf("expired URL = %d %s", status, body)
	}
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestACLs(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "acl")
	f.put(c, "acl", "pub.txt", []byte("public"))
	url := f.http.URL + "/acl/pub.txt"
	if status, _ := httpGet(t, url); status != 403 {
		t.Fatalf("anonymous GET of private object = %d, want 403", status)
	}
	acl, err := c.GetObjectAcl(bg, &sdk.GetObjectAclRequest{Bucket: sdk.Ptr("acl"), Key: sdk.Ptr("pub.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if sdk.ToString(acl.ACL) != "default" {
		t.Errorf("new object ACL = %q, want default", sdk.ToString(acl.ACL))
	}
	if _, err := c.PutObjectAcl(bg, &sdk.PutObjectAclRequest{Bucket: sdk.Ptr("acl"), Key: sdk.Ptr("pub.txt"), Acl: sdk.ObjectACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, url); status != 200 || body != "public" {
		t.Fatalf("anonymous GET of public-read object = %d %q", status, body)
	}
	if status, body := httpGet(t, f.http.URL+"/acl/?list-type=2"); status != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("anonymous list of private bucket = %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodPut, f.http.URL+"/acl/anon.txt", strings.NewReader("x"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("anonymous PUT into private bucket: %v %v", resp.StatusCode, err)
	}
	if _, err := c.PutObjectAcl(bg, &sdk.PutObjectAclRequest{Bucket: sdk.Ptr("acl"), Key: sdk.Ptr("pub.txt"), Acl: sdk.ObjectACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, url); status != 403 || !strings.Contains(body, "You have no right to access this object because of bucket acl.") {
		t.Fatalf("anonymous GET after private = %d %s", status, body)
	}
}

func TestTaggingAndForbidOverwrite(t *testing.T) {
	f := newFixture(t)
	c := f.root(v1())
	f.mkBucket(c, "tags")
	f.put(c, "tags", "k", []byte("1"))
	_, err := c.PutObjectTagging(bg, &sdk.PutObjectTaggingRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("k"),
		Tagging: &sdk.Tagging{TagSet: &sdk.TagSet{Tags: []sdk.Tag{{Key: sdk.Ptr("leak"), Value: sdk.Ptr("suspected")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObjectTagging(bg, &sdk.GetObjectTaggingRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("k")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != 1 || sdk.ToString(got.Tags[0].Key) != "leak" || sdk.ToString(got.Tags[0].Value) != "suspected" {
		t.Errorf("tags = %+v", got.Tags)
	}
	if _, err := c.DeleteObjectTagging(bg, &sdk.DeleteObjectTaggingRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("k")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetObjectTagging(bg, &sdk.GetObjectTaggingRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("k")})
	if err != nil || len(got.Tags) != 0 {
		t.Errorf("after delete: %v %v", got.Tags, err)
	}

	put := func(body string) error {
		_, err := c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("once"),
			Body: strings.NewReader(body), ForbidOverwrite: sdk.Ptr("true")})
		return err
	}
	if err := put("first"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, put("second"), 409, "FileAlreadyExists")
	if got := f.get(c, "tags", "once"); string(got) != "first" {
		t.Errorf("object after refused overwrite = %q", got)
	}

	_, err = c.CopyObject(bg, &sdk.CopyObjectRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("once"), SourceKey: sdk.Ptr("k"),
		ForbidOverwrite: sdk.Ptr("true")})
	wantCode(t, err, 409, "FileAlreadyExists")

	_, err = c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("tags"), Key: sdk.Ptr("md5"),
		Body: strings.NewReader("data"), ContentMD5: sdk.Ptr("1B2M2Y8AsgTpgAmY7PhCfg==")})
	wantCode(t, err, 400, "InvalidDigest")
}

func TestRAMPolicies(t *testing.T) {
	f := newFixture(t)
	f.mkBucket(f.root(), "ram")
	f.put(f.root(), "ram", "k", []byte("v"))
	m := f.env.IAM
	if _, err := m.CreateUser("alice", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := m.AttachPolicyToUser("System", "AliyunOSSFullAccess", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreatePolicy("deny-delete-bucket", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:DeleteBucket","Resource":"acs:oss:*:*:ram"}]}`, ""); err != nil {
		t.Fatal(err)
	}
	if err := m.AttachPolicyToUser("Custom", "deny-delete-bucket", "alice"); err != nil {
		t.Fatal(err)
	}
	ak, err := m.CreateAccessKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := f.client(ak.AccessKeyID, ak.AccessKeySecret, "")
	if got := f.get(alice, "ram", "k"); string(got) != "v" {
		t.Errorf("GetObject = %q", got)
	}
	if _, err := alice.DeleteObject(bg, &sdk.DeleteObjectRequest{Bucket: sdk.Ptr("ram"), Key: sdk.Ptr("k")}); err != nil {
		t.Fatal(err)
	}
	_, err = alice.DeleteBucket(bg, &sdk.DeleteBucketRequest{Bucket: sdk.Ptr("ram")})
	se := wantCode(t, err, 403, "AccessDenied")
	if se.EC != "0003-00000201" || !bytes.Contains(se.Snapshot, []byte("<NoPermissionType>ExplicitDeny</NoPermissionType>")) {
		t.Errorf("explicit deny EC %q body %s", se.EC, se.Snapshot)
	}

	// A user with no OSS policy at all: implicit deny.
	if _, err := m.CreateUser("bob", "", ""); err != nil {
		t.Fatal(err)
	}
	bk, err := m.CreateAccessKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client(bk.AccessKeyID, bk.AccessKeySecret, "").ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("ram")})
	if se := wantCode(t, err, 403, "AccessDenied"); se.EC != "0003-00000202" {
		t.Errorf("implicit deny EC = %q", se.EC)
	}

	// Conditions see the caller's source IP.
	if _, err := m.CreatePolicy("deny-outside", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":["127.0.0.0/8"]}}}]}`, ""); err != nil {
		t.Fatal(err)
	}
	if err := m.AttachPolicyToUser("Custom", "deny-outside", "alice"); err != nil {
		t.Fatal(err)
	}
	f.put(f.root(), "ram", "k2", []byte("v"))
	if got := f.get(alice, "ram", "k2"); string(got) != "v" {
		t.Errorf("loopback GetObject = %q", got)
	}
	attacker := f.client(ak.AccessKeyID, ak.AccessKeySecret, "", func(c *sdk.Config) {
		c.WithDefaultRequestHeaders(map[string]string{"X-Forwarded-For": "203.0.113.9"})
	})
	_, err = attacker.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("ram"), Key: sdk.Ptr("k2")})
	wantCode(t, err, 403, "AccessDenied")
}

func TestSTSCredentials(t *testing.T) {
	f := newFixture(t)
	f.mkBucket(f.root(), "sts")
	m := f.env.IAM
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`
	if _, err := m.CreateRole("scanner", trust, "", 3600); err != nil {
		t.Fatal(err)
	}
	if err := m.AttachPolicyToRole("System", "AliyunOSSReadOnlyAccess", "scanner"); err != nil {
		t.Fatal(err)
	}
	sess, err := m.IssueSession("scanner", "fc-scan", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	f.put(f.root(), "sts", "k", []byte("v"))
	for _, opts := range [][]clientOpt{nil, {v1()}} {
		c := f.client(sess.AccessKeyID, sess.AccessKeySecret, sess.SecurityToken, opts...)
		if got := f.get(c, "sts", "k"); string(got) != "v" {
			t.Errorf("STS GetObject = %q", got)
		}
		_, err = c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("sts"), Key: sdk.Ptr("w"), Body: strings.NewReader("x")})
		wantCode(t, err, 403, "AccessDenied")
	}
	// A presigned V1 URL made with STS credentials carries security-token.
	pre, err := f.client(sess.AccessKeyID, sess.AccessKeySecret, sess.SecurityToken, v1()).Presign(bg,
		&sdk.GetObjectRequest{Bucket: sdk.Ptr("sts"), Key: sdk.Ptr("k")}, sdk.PresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, pre.URL); status != 200 || body != "v" || !strings.Contains(pre.URL, "security-token=") {
		t.Errorf("STS presigned GET = %d %q (%s)", status, body, pre.URL)
	}
	_, err = f.client(sess.AccessKeyID, sess.AccessKeySecret, "wrong-token").GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("sts"), Key: sdk.Ptr("k")})
	wantCode(t, err, 403, "InvalidSecurityToken")
	_, err = f.client(sess.AccessKeyID, sess.AccessKeySecret, "").GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("sts"), Key: sdk.Ptr("k")})
	wantCode(t, err, 403, "InvalidAccessKeyId")
}

func TestTrailRecordsCalls(t *testing.T) {
	f := newFixture(t)
	f.mkBucket(f.root(), "audit")
	m := f.env.IAM
	if _, err := m.CreateUser("eve", "", ""); err != nil {
		t.Fatal(err)
	}
	ak, err := m.CreateAccessKey("eve")
	if err != nil {
		t.Fatal(err)
	}
	eve := f.client(ak.AccessKeyID, ak.AccessKeySecret, "", noRetry())
	f.put(f.root(), "audit", "a/b.txt", []byte("x"))
	_, _ = eve.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("audit"), Key: sdk.Ptr("a/b.txt")})
	_, _ = eve.DeleteBucket(bg, &sdk.DeleteBucketRequest{Bucket: sdk.Ptr("audit")})
	_, _ = f.client(ak.AccessKeyID, "bad-secret", "", noRetry()).ListBuckets(bg, &sdk.ListBucketsRequest{})

	events, err := f.env.Trail.Lookup(trail.Query{Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour),
		AttrKey: "EventAccessKeyId", AttrValue: ak.AccessKeyID, Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s", e.ServiceName, e.EventName, e.EventRW, e.ResourceType, e.ResourceName, e.ErrorCode))
	}
	want := []string{
		"Oss GetObject Read ACS::OSS::Object audit/a/b.txt AccessDenied",
		"Oss DeleteBucket Write ACS::OSS::Bucket audit AccessDenied",
		"Oss ListBuckets Read   SignatureDoesNotMatch",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trail events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	puts, err := f.env.Trail.Lookup(trail.Query{Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour),
		AttrKey: "EventName", AttrValue: "PutObject"})
	if err != nil || len(puts) != 1 || puts[0].UserIdentity.Type != "root-account" || puts[0].ErrorCode != "" {
		t.Errorf("PutObject events = %+v, %v", puts, err)
	}
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	c := f.root()
	_, err := c.PutBucket(bg, &sdk.PutBucketRequest{Bucket: sdk.Ptr("keep"), Acl: sdk.BucketACLPublicRead})
	if err != nil {
		t.Fatal(err)
	}
	body := payload(3, 1<<20)
	put := f.put(c, "keep", "big", body)
	f.put(c, "keep", "gone", []byte("x"))
	if _, err := c.DeleteObject(bg, &sdk.DeleteObjectRequest{Bucket: sdk.Ptr("keep"), Key: sdk.Ptr("gone")}); err != nil {
		t.Fatal(err)
	}
	f.close()

	g := openFixture(t, dir)
	c = g.root()
	if got := g.get(c, "keep", "big"); !bytes.Equal(got, body) {
		t.Fatal("object content changed across restart")
	}
	head, err := c.HeadObject(bg, &sdk.HeadObjectRequest{Bucket: sdk.Ptr("keep"), Key: sdk.Ptr("big")})
	if err != nil {
		t.Fatal(err)
	}
	if sdk.ToString(head.ETag) != sdk.ToString(put.ETag) {
		t.Errorf("ETag %s, was %s", sdk.ToString(head.ETag), sdk.ToString(put.ETag))
	}
	_, err = c.HeadObject(bg, &sdk.HeadObjectRequest{Bucket: sdk.Ptr("keep"), Key: sdk.Ptr("gone")})
	wantCode(t, err, 404, "NoSuchKey")
	acl, err := c.GetBucketAcl(bg, &sdk.GetBucketAclRequest{Bucket: sdk.Ptr("keep")})
	if err != nil || sdk.ToString(acl.ACL) != "public-read" {
		t.Errorf("bucket ACL after restart = %q, %v", sdk.ToString(acl.ACL), err)
	}
}

func TestFaultInjection(t *testing.T) {
	f := newFixture(t)
	c := f.root(noRetry())
	f.mkBucket(c, "faulty")
	for _, tc := range []struct {
		rule   fault.Rule
		status int
		code   string
	}{
		{fault.Rule{Service: "oss", Operation: "PutObject", Kind: "throttle", Rate: 1, Remaining: 1}, 503, "ServiceUnavailable"},
		{fault.Rule{Service: "oss", Operation: "Put*", Kind: "error", Rate: 1, Remaining: 1}, 500, "InternalError"},
	} {
		f.env.Faults.Set([]fault.Rule{tc.rule})
		_, err := c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("faulty"), Key: sdk.Ptr("k"), Body: strings.NewReader("x")})
		wantCode(t, err, tc.status, tc.code)
		// The rule is spent: the next call succeeds.
		f.put(c, "faulty", "k", []byte("x"))
	}
	// A dropped connection reaches the SDK as a transport error, not a
	// service error.
	f.env.Faults.Set([]fault.Rule{{Service: "oss", Operation: "GetObject", Kind: "drop", Rate: 1, Remaining: 1}})
	_, err := c.GetObject(bg, &sdk.GetObjectRequest{Bucket: sdk.Ptr("faulty"), Key: sdk.Ptr("k")})
	var se *sdk.ServiceError
	if err == nil || errors.As(err, &se) {
		t.Errorf("dropped connection: err = %v", err)
	}
	if got := f.get(c, "faulty", "k"); string(got) != "x" {
		t.Errorf("after drop: %q", got)
	}
	events, _ := f.env.Trail.Lookup(trail.Query{Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), AttrKey: "EventName", AttrValue: "PutObject", Forward: true})
	if len(events) != 4 || events[0].ErrorCode != "ServiceUnavailable" {
		t.Errorf("faulted calls in trail: %d events, first error %q", len(events), events[0].ErrorCode)
	}
}

func TestMultipartUploader(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "mpu")
	body := payload(4, 64<<20)
	var events []core.ObjectEvent
	var mu sync.Mutex
	f.env.Hooks.ObjectCreated = func(_ context.Context, ev core.ObjectEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
	}
	up := c.NewUploader(func(o *sdk.UploaderOptions) { o.PartSize = 8 << 20; o.ParallelNum = 2 })
	res, err := up.UploadFrom(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr("mpu"), Key: sdk.Ptr("big.bin")}, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	etag := sdk.ToString(res.ETag)
	if !strings.HasSuffix(etag, `-8"`) {
		t.Errorf("multipart ETag = %s, want the -8 form", etag)
	}
	got := f.get(c, "mpu", "big.bin") // the SDK checks x-oss-hash-crc64ecma
	if !bytes.Equal(got, body) {
		t.Fatal("multipart object differs from upload")
	}
	f.srv.hooks.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].EventName != "ObjectCreated:CompleteMultipartUpload" || events[0].Size != int64(len(body)) ||
		`"`+events[0].ETag+`"` != etag {
		t.Errorf("ObjectCreated events = %+v", events)
	}

	// Abort leaves nothing behind; a completed upload ID is gone.
	init, err := c.InitiateMultipartUpload(bg, &sdk.InitiateMultipartUploadRequest{Bucket: sdk.Ptr("mpu"), Key: sdk.Ptr("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(bg, &sdk.UploadPartRequest{Bucket: sdk.Ptr("mpu"), Key: sdk.Ptr("aborted"), UploadId: init.UploadId,
		PartNumber: 1, Body: bytes.NewReader(body[:1000])}); err != nil {
		t.Fatal(err)
	}
	parts, err := c.ListParts(bg, &sdk.ListPartsRequest{Bucket: sdk.Ptr("mpu"), Key: sdk.Ptr("aborted"), UploadId: init.UploadId})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts.Parts) != 1 || parts.Parts[0].Size != 1000 || sdk.ToString(parts.Parts[0].ETag) != quotedMD5(body[:1000]) {
		t.Errorf("ListParts = %+v", parts.Parts)
	}
	if _, err := c.AbortMultipartUpload(bg, &sdk.AbortMultipartUploadRequest{Bucket: sdk.Ptr("mpu"), Key: sdk.Ptr("aborted"), UploadId: init.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(bg, &sdk.UploadPartRequest{Bucket: sdk.Ptr("mpu"), Key: sdk.Ptr("aborted"), UploadId: init.UploadId,
		PartNumber: 2, Body: bytes.NewReader(body[:10])})
	wantCode(t, err, 404, "NoSuchUpload")
}

func TestAppendObject(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "app")
	r1, err := c.AppendObject(bg, &sdk.AppendObjectRequest{Bucket: sdk.Ptr("app"), Key: sdk.Ptr("log"), Position: sdk.Ptr(int64(0)), Body: strings.NewReader("hello ")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendObject(bg, &sdk.AppendObjectRequest{Bucket: sdk.Ptr("app"), Key: sdk.Ptr("log"), Position: sdk.Ptr(r1.NextPosition), Body: strings.NewReader("world")}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(c, "app", "log"); string(got) != "hello world" {
		t.Errorf("appended object = %q", got)
	}
	_, err = c.AppendObject(bg, &sdk.AppendObjectRequest{Bucket: sdk.Ptr("app"), Key: sdk.Ptr("log"), Position: sdk.Ptr(int64(3)), Body: strings.NewReader("x")})
	wantCode(t, err, 409, "PositionNotEqualToLength")
	f.put(c, "app", "plain", []byte("x"))
	_, err = c.AppendObject(bg, &sdk.AppendObjectRequest{Bucket: sdk.Ptr("app"), Key: sdk.Ptr("plain"), Position: sdk.Ptr(int64(1)), Body: strings.NewReader("x")})
	wantCode(t, err, 409, "ObjectNotAppendable")
}

func TestVirtualHostedStyle(t *testing.T) {
	f := newFixture(t)
	k := f.env.IAM.RootKey()
	addr := strings.TrimPrefix(f.http.URL, "http://")
	for _, tc := range []struct {
		name string
		opts []clientOpt
	}{{"v4", nil}, {"v1", []clientOpt{v1()}}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]clientOpt{func(c *sdk.Config) {
				c.WithEndpoint("http://oss-" + region + ".aliyuncs.com").WithHttpClient(&http.Client{Transport: pinnedTransport(addr)})
			}}, tc.opts...)
			c := f.client(k.AccessKeyID, k.AccessKeySecret, "", opts...)
			bucket := "vhost-" + tc.name
			f.mkBucket(c, bucket)
			f.put(c, bucket, "x/y", []byte("z"))
			if got := f.get(f.root(), bucket, "x/y"); string(got) != "z" {
				t.Errorf("path-style read of a virtual-hosted write = %q", got)
			}
		})
	}
}

func TestPutSynthetic(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "synth")
	secret := []byte("LTAI5tSyntheticTestKey00 / synthetic test marker")
	const size = 3*syntheticChunk + 12345
	info, err := f.srv.PutSynthetic(bg, "synth", "huge.bin", Synthetic{Size: size,
		Patches: []Patch{{Offset: 2*syntheticChunk - 10, Data: secret}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, `-4"`) {
		t.Errorf("sparse ETag = %s, want the -4 form", info.ETag)
	}
	// Full download: the SDK verifies the CRC64 the server derived without
	// reading zero chunks.
	full := f.get(c, "synth", "huge.bin")
	want := make([]byte, size)
	copy(want[2*syntheticChunk-10:], secret)
	if !bytes.Equal(full, want) {
		t.Fatal("synthetic object content differs")
	}
	gen := payload(5, 100_000)
	info, err = f.srv.PutSynthetic(bg, "synth", "gen.bin", Synthetic{Size: int64(len(gen)), Gen: bytes.NewReader(gen)})
	if err != nil || info.ETag != quotedMD5(gen) {
		t.Errorf("generated object: %+v, %v", info, err)
	}
	_, err = f.srv.PutSynthetic(bg, "synth", "short", Synthetic{Size: 10, Gen: strings.NewReader("abc")})
	if err == nil {
		t.Error("short generator accepted")
	}
}

// TestClockSkew: a client whose clock is an hour off gets
// RequestTimeTooSkewed, and the SDK corrects its clock from the response
// Date header and retries successfully.
func TestClockSkew(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	f.mkBucket(c, "skew")
	f.env.Now = func() time.Time { return time.Now().Add(time.Hour) }
	for _, opts := range [][]clientOpt{nil, {v1()}} {
		strict := f.root(append([]clientOpt{noRetry()}, opts...)...)
		_, err := strict.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("skew")})
		wantCode(t, err, 403, "RequestTimeTooSkewed")
		if _, err := f.root(opts...).ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("skew")}); err != nil {
			t.Errorf("SDK did not recover from clock skew: %v", err)
		}
	}
	f.env.Now = time.Now
	other := f.root(func(c *sdk.Config) { c.WithRegion("cn-beijing") })
	_, err := other.ListObjectsV2(bg, &sdk.ListObjectsV2Request{Bucket: sdk.Ptr("skew")})
	wantCode(t, err, 403, "SignatureDoesNotMatch")
}

// On a bucket whose versioning is Enabled or Suspended, OSS ignores
// x-oss-forbid-overwrite and overwrites (PutObject, CopyObject and
// InitiateMultipartUpload API references): create-once code must not rely
// on the header there.
func TestForbidOverwriteIgnoredOnVersionedBucket(t *testing.T) {
	f := newFixture(t)
	c := f.root()
	cases := []struct {
		status    sdk.VersioningStatusType // "" = never enabled
		forbidden bool
	}{
		{"", true},
		{sdk.VersionEnabled, false},
		{sdk.VersionSuspended, false},
	}
	for _, tc := range cases {
		name := "off"
		if tc.status != "" {
			name = strings.ToLower(string(tc.status))
		}
		t.Run(name, func(t *testing.T) {
			bucket := "fo-" + name
			f.mkBucket(c, bucket)
			if tc.status != "" {
				if _, err := c.PutBucketVersioning(bg, &sdk.PutBucketVersioningRequest{Bucket: sdk.Ptr(bucket),
					VersioningConfiguration: &sdk.VersioningConfiguration{Status: tc.status}}); err != nil {
					t.Fatal(err)
				}
			}
			f.put(c, bucket, "src", []byte("source"))
			put := func(body string) error {
				_, err := c.PutObject(bg, &sdk.PutObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("once"),
					Body: strings.NewReader(body), ForbidOverwrite: sdk.Ptr("true")})
				return err
			}
			if err := put("first"); err != nil {
				t.Fatal(err)
			}
			_, copyErr := c.CopyObject(bg, &sdk.CopyObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("copied"), SourceKey: sdk.Ptr("src")})
			if copyErr != nil {
				t.Fatal(copyErr)
			}
			_, copyErr = c.CopyObject(bg, &sdk.CopyObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("copied"), SourceKey: sdk.Ptr("once"),
				ForbidOverwrite: sdk.Ptr("true")})
			_, initErr := c.InitiateMultipartUpload(bg, &sdk.InitiateMultipartUploadRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr("src"),
				ForbidOverwrite: sdk.Ptr("true")})
			putErr := put("second")
			if tc.forbidden {
				wantCode(t, putErr, 409, "FileAlreadyExists")
				wantCode(t, copyErr, 409, "FileAlreadyExists")
				wantCode(t, initErr, 409, "FileAlreadyExists")
				if got := f.get(c, bucket, "once"); string(got) != "first" {
					t.Errorf("object after refused overwrite = %q", got)
				}
				return
			}
			for _, err := range []error{putErr, copyErr, initErr} {
				if err != nil {
					t.Errorf("versioning %s: forbid-overwrite write refused: %v", tc.status, err)
				}
			}
			if got := f.get(c, bucket, "once"); string(got) != "second" {
				t.Errorf("versioning %s: object = %q, want the overwrite", tc.status, got)
			}
			if got := f.get(c, bucket, "copied"); string(got) != "first" {
				t.Errorf("versioning %s: copy target = %q, want the overwrite", tc.status, got)
			}
		})
	}
}
