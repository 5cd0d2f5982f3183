// Tests of the resource scope of the role policies in this directory. The
// function e2e tests (functions/*) prove each policy grants the actions
// its code calls and nothing unused; these prove the resources are tight:
// a compromised function cannot delete records it only ever writes.
package ram_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/aliyun"
)

// TestStateBucketScope signs real OSS calls with each role's session
// against the local cloud, which evaluates infra/ram/<role>.json the way
// RAM does, and checks which ones the policy lets through.
func TestStateBucketScope(t *testing.T) {
	const lease = "00000000000000000001" // a lease generation (shared/store)
	tests := []struct {
		role, op, key string
		allowed       bool
	}{
		// respond deletes only lease generations (store.Acquire/Release).
		{"akguard-respond", "delete", "akguard/locks/incidents/inc-1/" + lease, true},
		{"akguard-respond", "delete", "akguard/locks/breaker/" + lease, true},
		{"akguard-respond", "put", "akguard/locks/breaker/" + lease, true},
		{"akguard-respond", "get", "akguard/locks/breaker/" + lease, true},
		{"akguard-respond", "delete", "akguard/responses/inc-1.json", false},
		{"akguard-respond", "delete", "akguard/actions/inc-1/attach-policy-result.json", false},
		{"akguard-respond", "delete", "akguard/contained/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", false},
		{"akguard-respond", "delete", "akguard/leaked/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", false},
		{"akguard-respond", "delete", "akguard/breaker/2026112317/inc-1.json", false},
		{"akguard-respond", "put", "akguard/responses/inc-1.json", true},
		{"akguard-respond", "put", "akguard/actions/inc-1/attach-policy-result.json", true},
		{"akguard-respond", "put", "akguard/contained/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", true},
		{"akguard-respond", "put", "akguard/leaked/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", true},
		{"akguard-respond", "put", "akguard/breaker/2026112317/inc-1.json", true},
		{"akguard-respond", "get", "akguard/responses/inc-1.json", true},
		{"akguard-respond", "put", "akguard/findings/b/x.json", false},
		{"akguard-respond", "put", "akguard/audit/checkpoint.json", false},
		// scan deletes only its own dispatch claims (ossscan releases a
		// claim when the invocation of respond failed).
		{"akguard-scan", "delete", "akguard/dispatch/scan/inc-1.json", true},
		{"akguard-scan", "put", "akguard/dispatch/scan/inc-1.json", true},
		{"akguard-scan", "delete", "akguard/findings/uploads/fp-etag.json", false},
		{"akguard-scan", "delete", "akguard/skips/uploads/ab-etag.json", false},
		{"akguard-scan", "put", "akguard/findings/uploads/fp-etag.json", true},
		{"akguard-scan", "put", "akguard/skips/uploads/ab-etag.json", true},
		{"akguard-scan", "get", "akguard/findings/uploads/fp-etag.json", true},
		{"akguard-scan", "put", "akguard/responses/inc-1.json", false},
		{"akguard-scan", "put", "akguard/leaked/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", false},
		// audit owns audit/ (checkpoint, baselines, its lease) and reads
		// the leaked-key index.
		{"akguard-audit", "put", "akguard/audit/checkpoint.json", true},
		{"akguard-audit", "delete", "akguard/audit/lock.json/" + lease, true},
		{"akguard-audit", "get", "akguard/leaked/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", true},
		{"akguard-audit", "put", "akguard/leaked/LTAI5tQk3x9Vb2Lm8Zr4Wq7N.json", false},
		{"akguard-audit", "delete", "akguard/responses/inc-1.json", false},
	}
	env := localtest.Start(t, localtest.Options{})
	bucket := env.Vars["stateBucket"]
	ctx := context.Background()
	clients := map[string]*oss.Client{}
	for _, tt := range tests {
		if clients[tt.role] != nil {
			continue
		}
		sess, err := env.Cloud.Env.IAM.IssueSession(tt.role, "scope-test", time.Hour, "")
		if err != nil {
			t.Fatal(err)
		}
		cl := env.Root
		cl.Creds = aliyun.Credentials{AccessKeyID: sess.AccessKeyID, AccessKeySecret: sess.AccessKeySecret, SecurityToken: sess.SecurityToken}
		clients[tt.role] = cl.OSS()
	}
	for _, tt := range tests {
		t.Run(tt.role+" "+tt.op+" "+tt.key, func(t *testing.T) {
			c := clients[tt.role]
			var err error
			switch tt.op {
			case "get":
				_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(tt.key)})
			case "put":
				_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(tt.key), Body: bytes.NewReader([]byte("{}"))})
			case "delete":
				_, err = c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(tt.key)})
			default:
				t.Fatalf("unknown op %s", tt.op)
			}
			var se *oss.ServiceError
			denied := errors.As(err, &se) && se.Code == "AccessDenied"
			if err != nil && !denied && !(errors.As(err, &se) && se.Code == "NoSuchKey") {
				t.Fatalf("unexpected error: %v", err)
			}
			if denied == tt.allowed {
				t.Fatalf("allowed = %v, want %v (err: %v)", !denied, tt.allowed, err)
			}
		})
	}
}
