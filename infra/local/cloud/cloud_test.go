package cloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
)

func start(t *testing.T, dir string) *Cloud {
	t.Helper()
	c, err := Start(context.Background(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func clientsFor(c *Cloud, id, secret string) aliyun.Clients {
	return aliyun.Clients{Region: c.Env.Region, AccountID: c.Env.AccountID,
		Creds: aliyun.Credentials{AccessKeyID: id, AccessKeySecret: secret}, Endpoints: c.Endpoints}
}

// The whole story issue 3 asks to prove, through the real SDK clients only:
// a RAM user's key works, a deny policy attached to the user blocks exactly
// the denied calls, the trail shows it all, and everything survives a restart.
func TestContainedKeyEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := start(t, dir)

	lc, err := config.ReadLocalCloud(c.EndpointsFile())
	if err != nil {
		t.Fatal(err)
	}
	if lc.AccountID != c.Env.AccountID || lc.Endpoints.OSS == "" || lc.Endpoints.FC == "" || lc.Credentials.AccessKeySecret == "" {
		t.Fatalf("endpoints.json incomplete: %+v", lc.Endpoints)
	}
	root := clientsFor(c, lc.Credentials.AccessKeyID, lc.Credentials.AccessKeySecret)

	rc, err := root.RAM()
	if err != nil {
		t.Fatal(err)
	}
	cu := ram.CreateCreateUserRequest()
	cu.UserName = "app-uploader"
	if _, err := rc.CreateUser(cu); err != nil {
		t.Fatal(err)
	}
	ck := ram.CreateCreateAccessKeyRequest()
	ck.UserName = "app-uploader"
	key, err := rc.CreateAccessKey(ck)
	if err != nil {
		t.Fatal(err)
	}
	ap := ram.CreateAttachPolicyToUserRequest()
	ap.PolicyType, ap.PolicyName, ap.UserName = "System", "AliyunOSSFullAccess", "app-uploader"
	if _, err := rc.AttachPolicyToUser(ap); err != nil {
		t.Fatal(err)
	}

	ro := root.OSS()
	if _, err := ro.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr("customer-data")}); err != nil {
		t.Fatal(err)
	}
	user := clientsFor(c, key.AccessKey.AccessKeyId, key.AccessKey.AccessKeySecret)
	uo := user.OSS()
	if _, err := uo.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr("customer-data"), Key: oss.Ptr("customers.csv"),
		Body: strings.NewReader("id,name\n1,Ada\n")}); err != nil {
		t.Fatal(err)
	}

	cp := ram.CreateCreatePolicyRequest()
	cp.PolicyName, cp.PolicyDocument = policies.DenyHighRiskName, policies.DenyHighRisk
	if _, err := rc.CreatePolicy(cp); err != nil {
		t.Fatal(err)
	}
	ap2 := ram.CreateAttachPolicyToUserRequest()
	ap2.PolicyType, ap2.PolicyName, ap2.UserName = "Custom", policies.DenyHighRiskName, "app-uploader"
	if _, err := rc.AttachPolicyToUser(ap2); err != nil {
		t.Fatal(err)
	}
	// Attaching again is the documented 409, which a responder treats as done.
	if _, err := rc.AttachPolicyToUser(ap2); !isServerError(err, "EntityAlreadyExists.User.Policy", 409) {
		t.Fatalf("second attach: %v", err)
	}

	checkContained := func(t *testing.T, uo *oss.Client) {
		t.Helper()
		res, err := uo.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("customer-data"), Key: oss.Ptr("customers.csv")})
		if err != nil {
			t.Fatalf("allowed GetObject failed: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "id,name\n1,Ada\n" {
			t.Fatalf("object body %q", body)
		}
		_, err = uo.DeleteBucket(ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr("customer-data")})
		var se *oss.ServiceError
		if !errors.As(err, &se) || se.Code != "AccessDenied" || se.StatusCode != 403 {
			t.Fatalf("DeleteBucket by contained key: %v", err)
		}
		_, err = uo.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr("customer-data"), Acl: oss.BucketACLPublicRead})
		if !errors.As(err, &se) || se.Code != "AccessDenied" {
			t.Fatalf("PutBucketAcl by contained key: %v", err)
		}
	}
	checkContained(t, uo)

	// The attacker's calls are in the trail under the leaked key.
	at, err := root.ActionTrail()
	if err != nil {
		t.Fatal(err)
	}
	le := actiontrail.CreateLookupEventsRequest()
	le.StartTime = time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	le.EndTime = time.Now().Add(time.Minute).UTC().Format("2006-01-02T15:04:05Z")
	le.MaxResults = "50"
	le.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "EventAccessKeyId", Value: key.AccessKey.AccessKeyId}}
	resp, err := at.LookupEvents(le)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range resp.Events {
		name, _ := e["eventName"].(string)
		code, _ := e["errorCode"].(string)
		seen[name] = code
	}
	if code, ok := seen["DeleteBucket"]; !ok || code != "AccessDenied" {
		t.Fatalf("trail lacks the denied DeleteBucket: %v", seen)
	}
	if _, ok := seen["GetObject"]; !ok {
		t.Fatalf("trail lacks GetObject: %v", seen)
	}

	// SMQ through the real MNS SDK: publish to a topic, read from a
	// subscribed queue.
	mc, err := root.SMQ()
	if err != nil {
		t.Fatal(err)
	}
	qm := ali_mns.NewMNSQueueManager(mc)
	if err := qm.CreateQueue("alerts-inbox", 0, 65536, 345600, 30, 0, 3); err != nil {
		t.Fatal(err)
	}
	tm := ali_mns.NewMNSTopicManager(mc)
	if err := tm.CreateSimpleTopic("akguard-alerts"); err != nil {
		t.Fatal(err)
	}
	topic := ali_mns.NewMNSTopic("akguard-alerts", mc)
	qEndpoint := topic.GenerateQueueEndpoint("alerts-inbox")
	if err := topic.Subscribe("inbox", ali_mns.MessageSubsribeRequest{Endpoint: qEndpoint, NotifyContentFormat: ali_mns.SIMPLIFIED}); err != nil {
		t.Fatal(err)
	}
	body := base64.StdEncoding.EncodeToString([]byte(`{"type":"akguard.notify/v1"}`))
	if _, err := topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: body, MessageTag: "critical"}); err != nil {
		t.Fatal(err)
	}
	q := ali_mns.NewMNSQueue("alerts-inbox", mc)
	respChan, errChan := make(chan ali_mns.MessageReceiveResponse, 1), make(chan error, 1)
	go q.ReceiveMessage(respChan, errChan, 2)
	select {
	case m := <-respChan:
		if !bytes.Contains([]byte(m.MessageBody), []byte("akguard.notify/v1")) && m.MessageBody != body {
			t.Fatalf("unexpected message body %q", m.MessageBody)
		}
	case err := <-errChan:
		t.Fatalf("receive: %v", err)
	}

	// Restart on the same directory: identities, policies, objects and the
	// containment survive.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, dir)
	defer c2.Close()
	if c2.Env.IAM.RootKey().AccessKeyID != lc.Credentials.AccessKeyID {
		t.Fatal("root key changed across restart")
	}
	checkContained(t, clientsFor(c2, key.AccessKey.AccessKeyId, key.AccessKey.AccessKeySecret).OSS())
}

func isServerError(err error, code string, status int) bool {
	var se *sdkerrors.ServerError
	return errors.As(err, &se) && se.ErrorCode() == code && se.HttpStatus() == status
}
