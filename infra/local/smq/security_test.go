package smq

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/trail"
)

// lastEvent returns the newest trail event for an event name.
func lastEvent(t *testing.T, f *fixture, name string) trail.Event {
	t.Helper()
	all := f.env.Trail.All()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].EventName == name {
			return all[i]
		}
	}
	t.Fatalf("no trail event %s", name)
	return trail.Event{}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, "")
	root := f.env.IAM.RootKey()
	f.createQueue(f.rootClient(), "guarded")
	cases := []struct {
		name     string
		keyID    string
		secret   string
		want     func(error) bool
		wantCode string
	}{
		{"wrong secret", root.AccessKeyID, syntheticSecret(1), ali_mns.ERR_MNS_SIGNATURE_DOES_NOT_MATCH.IsEqual, "SignatureDoesNotMatch"},
		{"unknown key", "LTAI5t" + syntheticSecret(2)[:18], syntheticSecret(3), ali_mns.ERR_MNS_INVALID_ACCESS_KEY_ID.IsEqual, "InvalidAccessKeyId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := ali_mns.NewMNSQueue("guarded", f.client(tc.keyID, tc.secret, ""))
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
			if !tc.want(err) {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
			ev := lastEvent(t, f, "SendMessage")
			if ev.ErrorCode != tc.wantCode || ev.UserIdentity.AccessKeyID != tc.keyID || ev.ServiceName != "Mns" {
				t.Errorf("trail event = %+v, want errorCode %s for key %s", ev, tc.wantCode, tc.keyID)
			}
			if strings.Contains(ev.ErrorMessage, tc.secret) {
				t.Error("secret leaked into the trail")
			}
		})
	}

	t.Run("disabled user key", func(t *testing.T) {
		c, keyID := f.userClient("departed", [2]string{"System", "AliyunMNSFullAccess"})
		if err := f.env.IAM.UpdateAccessKey("departed", keyID, "Inactive"); err != nil {
			t.Fatal(err)
		}
		_, err := ali_mns.NewMNSQueue("guarded", c).SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
		if !ali_mns.ERR_MNS_INVALID_ACCESS_KEY_ID.IsEqual(err) {
			t.Errorf("err = %v, want InvalidAccessKeyId", err)
		}
	})

	t.Run("clock skew", func(t *testing.T) {
		f.env.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
		defer func() { f.env.Now = time.Now }()
		_, err := ali_mns.NewMNSQueueManager(f.rootClient()).GetQueueAttributes("guarded")
		if !ali_mns.ERR_MNS_TIME_EXPIRED.IsEqual(err) {
			t.Errorf("err = %v, want TimeExpired", err)
		}
	})
}

// TestRequestWithoutSDK covers what the SDK cannot produce: requests with
// missing or malformed authentication headers, and a body altered after
// signing.
func TestRequestWithoutSDK(t *testing.T) {
	f := newFixture(t, "")
	f.createQueue(f.rootClient(), "raw")
	root := f.env.IAM.RootKey()
	sign := func(r *http.Request) {
		// The server signs over the request URI it receives.
		sr := r.Clone(r.Context())
		sr.RequestURI = r.URL.RequestURI()
		r.Header.Set("Authorization", "MNS "+root.AccessKeyID+":"+Sign(root.AccessKeySecret, stringToSign(sr)))
	}
	cases := []struct {
		name     string
		prepare  func(r *http.Request)
		wantCode string
		status   int
	}{
		{"no authorization", func(r *http.Request) {}, "MissingAuthorizationHeader", 400},
		{"malformed authorization", func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, "InvalidAuthorizationHeader", 400},
		{"no version", func(r *http.Request) { r.Header.Del("x-mns-version"); sign(r) }, "MissingVersionHeader", 400},
		{"bad content md5", func(r *http.Request) { r.Header.Set("Content-MD5", "AAAA"); sign(r) }, "InvalidDegist", 400},
		{"valid", sign, "", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, f.hs.URL+"/queues/raw", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = Endpoint(f.env.AccountID, f.env.Region)[len("http://"):]
			req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
			req.Header.Set("x-mns-version", apiVersion)
			req.Header.Set("Content-Type", "application/xml")
			tc.prepare(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.wantCode != "" && lastEvent(t, f, "GetQueueAttributes").ErrorCode != tc.wantCode {
				t.Errorf("trail errorCode = %q, want %s", lastEvent(t, f, "GetQueueAttributes").ErrorCode, tc.wantCode)
			}
		})
	}
}

func TestRAMAuthorization(t *testing.T) {
	f := newFixture(t, "")
	root := f.rootClient()
	for _, name := range []string{"ak-alerts", "other"} {
		if err := ali_mns.NewMNSTopicManager(root).CreateSimpleTopic(name); err != nil {
			t.Fatal(err)
		}
	}
	f.createQueue(root, "inbox")
	user, keyID := f.userClient("responder", [2]string{"System", "AliyunMNSFullAccess"})
	readOnly, _ := f.userClient("reader")
	publish := func(c ali_mns.MNSClient, topic string) error {
		_, err := ali_mns.NewMNSTopic(topic, c).PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "eyJrIjoidiJ9", MessageTag: "ak-leak"})
		return err
	}
	if err := publish(user, "ak-alerts"); err != nil {
		t.Fatalf("publish before containment: %v", err)
	}
	if err := publish(readOnly, "ak-alerts"); !ali_mns.ERR_MNS_ACCESS_DENIED.IsEqual(err) {
		t.Errorf("user without policies: err = %v, want AccessDenied", err)
	}

	doc, err := os.ReadFile(filepath.Join("testdata", "deny-publish-ak-alerts.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc = []byte(strings.ReplaceAll(string(doc), "${ACCOUNT}", f.env.AccountID))
	if _, err := f.env.IAM.CreatePolicy("deny-publish", string(doc), ""); err != nil {
		t.Fatal(err)
	}
	if err := f.env.IAM.AttachPolicyToUser("Custom", "deny-publish", "responder"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		call   func() error
		denied bool
	}{
		{"publish to denied topic", func() error { return publish(user, "ak-alerts") }, true},
		{"publish to other topic", func() error { return publish(user, "other") }, false},
		{"send to queue", func() error {
			_, err := ali_mns.NewMNSQueue("inbox", user).SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
			return err
		}, false},
		{"root is never restricted", func() error { return publish(root, "ak-alerts") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.denied != ali_mns.ERR_MNS_ACCESS_DENIED.IsEqual(err) || (!tc.denied && err != nil) {
				t.Errorf("err = %v, denied want %v", err, tc.denied)
			}
		})
	}
	var denied *trail.Event
	for _, ev := range f.env.Trail.All() {
		if ev.EventName == "PublishMessage" && ev.ErrorCode == "AccessDenied" && ev.UserIdentity.AccessKeyID == keyID {
			denied = &ev
		}
	}
	if denied == nil || denied.UserIdentity.UserName != "responder" || denied.ResourceName != "ak-alerts" ||
		denied.RequestParameters["notRecordedByActionTrail"] != true {
		t.Errorf("denied publish trail event = %+v", denied)
	}
}

func TestSTSCredentials(t *testing.T) {
	f := newFixture(t, "")
	f.createQueue(f.rootClient(), "sts-queue")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`
	if _, err := f.env.IAM.CreateRole("responder-role", trust, "", 3600); err != nil {
		t.Fatal(err)
	}
	if err := f.env.IAM.AttachPolicyToRole("System", "AliyunMNSFullAccess", "responder-role"); err != nil {
		t.Fatal(err)
	}
	sess, err := f.env.IAM.IssueSession("responder-role", "respond", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	q := ali_mns.NewMNSQueue("sts-queue", f.client(sess.AccessKeyID, sess.AccessKeySecret, sess.SecurityToken))
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "via sts", Priority: 8}); err != nil {
		t.Fatalf("send with STS credentials: %v", err)
	}
	ev := lastEvent(t, f, "SendMessage")
	if ev.UserIdentity.Type != "assumed-role" || ev.UserIdentity.AccessKeyID != sess.AccessKeyID || ev.ErrorCode != "" {
		t.Errorf("trail identity = %+v", ev.UserIdentity)
	}
	bad := ali_mns.NewMNSQueue("sts-queue", f.client(sess.AccessKeyID, sess.AccessKeySecret, "CAIS"+syntheticSecret(4)))
	if _, err := bad.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8}); !ali_mns.ERR_MNS_ACCESS_DENIED.IsEqual(err) {
		t.Errorf("wrong security token: err = %v, want AccessDenied", err)
	}
}

func TestFaultInjection(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "flaky")
	cases := []struct {
		rule fault.Rule
		want func(error) bool
		code string
	}{
		{fault.Rule{Service: "smq", Operation: "SendMessage", Rate: 1, Kind: "throttle", Remaining: 1}, ali_mns.ERR_MNS_QPS_LIMIT_EXCEEDED.IsEqual, "QpsLimitExceeded"},
		{fault.Rule{Service: "smq", Operation: "Send*", Rate: 1, Kind: "error", Remaining: 1}, ali_mns.ERR_MNS_INTERNAL_ERROR.IsEqual, "InternalError"},
		// fasthttp retries a request whose connection closed without a
		// response, so only a persistent drop reaches the caller.
		{fault.Rule{Service: "smq", Operation: "SendMessage", Rate: 1, Kind: "drop"}, ali_mns.ERR_SEND_REQUEST_FAILED.IsEqual, ""},
	}
	for _, tc := range cases {
		t.Run(tc.rule.Kind, func(t *testing.T) {
			f.env.Faults.Set([]fault.Rule{tc.rule})
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
			if !tc.want(err) {
				t.Fatalf("err = %v", err)
			}
			if tc.code != "" && lastEvent(t, f, "SendMessage").ErrorCode != tc.code {
				t.Errorf("trail errorCode = %q, want %s", lastEvent(t, f, "SendMessage").ErrorCode, tc.code)
			}
			f.env.Faults.Clear()
			if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8}); err != nil {
				t.Errorf("send after the fault cleared: %v", err)
			}
		})
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "durable", ali_mns.WithVisibilityTimeout(600))
	if err := ali_mns.NewMNSTopicManager(c).CreateSimpleTopic("durable-topic"); err != nil {
		t.Fatal(err)
	}
	subscribeQueue(t, ali_mns.NewMNSTopic("durable-topic", c), "keep", "durable", "", ali_mns.SIMPLIFIED)
	for _, b := range []string{"one", "two", "three"} {
		send(t, q, b)
	}
	inflight, err := receive(q, 0) // "one": Inactive across the restart
	if err != nil {
		t.Fatal(err)
	}
	consumed, err := receive(q, 0) // "two": deleted before the restart
	if err != nil {
		t.Fatal(err)
	}
	if err := q.DeleteMessage(consumed.ReceiptHandle); err != nil {
		t.Fatal(err)
	}

	f = f.restart()
	c = f.rootClient()
	q = ali_mns.NewMNSQueue("durable", c)
	attrs, err := ali_mns.NewMNSQueueManager(c).GetQueueAttributes("durable")
	if err != nil || attrs.VisibilityTimeout != 600 || attrs.ActiveMessages != 1 || attrs.InactiveMessages != 1 {
		t.Fatalf("after restart: attrs %+v, %v; want visibility 600, 1 active, 1 inactive", attrs, err)
	}
	// A message sent after the restart must queue behind older ones.
	send(t, q, "four")
	if got := drain(t, q); strings.Join(got, ",") != "three,four" {
		t.Errorf("after restart drained %q, want [three four]", got)
	}
	if err := q.DeleteMessage(inflight.ReceiptHandle); err != nil {
		t.Errorf("receipt handle from before the restart: %v", err)
	}
	if _, err := ali_mns.NewMNSTopic("durable-topic", c).PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "pushed"}); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, q); len(got) != 1 || got[0] != "pushed" {
		t.Errorf("subscription after restart delivered %q", got)
	}
}

func TestJournalSkipsTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "q.jsonl")
	content := `{"op":"put","m":{"id":"A","body":"kept","md5":"x","pri":8,"seq":1,"et":1,"nv":1}}
{"op":"put","m":{"id":"B","body":"deleted","md5":"x","pri":8,"seq":2,"et":1,"nv":1}}
{"op":"upd","id":"A","h":"1-QTox","nv":99,"dc":1,"fd":5}
{"op":"del","id":"B"}
{"op":"put","m":{"id":"C","bo`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	j, msgs, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if len(msgs) != 1 || msgs["A"] == nil || msgs["A"].Handle != "1-QTox" || msgs["A"].DequeueCount != 1 || msgs["A"].NextVisible != 99 {
		t.Fatalf("replayed %+v", msgs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Errorf("compacted journal has %d lines, want 1:\n%s", n, data)
	}
}
