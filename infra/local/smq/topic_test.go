package smq

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func subscribeQueue(t *testing.T, topic ali_mns.AliMNSTopic, name, queue, tag string, format ali_mns.NotifyContentFormatType) {
	t.Helper()
	err := topic.Subscribe(name, ali_mns.MessageSubsribeRequest{
		Endpoint: topic.GenerateQueueEndpoint(queue), FilterTag: tag, NotifyContentFormat: format,
	})
	if err != nil {
		t.Fatalf("subscribe %s: %v", name, err)
	}
}

func drain(t *testing.T, q ali_mns.AliMNSQueue) []string {
	t.Helper()
	var out []string
	for {
		m, err := receive(q, 0)
		if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.MessageBody)
		if err := q.DeleteMessage(m.ReceiptHandle); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTopicFanOutWithFilterTag(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	if err := ali_mns.NewMNSTopicManager(c).CreateSimpleTopic("ak-alerts"); err != nil {
		t.Fatal(err)
	}
	topic := ali_mns.NewMNSTopic("ak-alerts", c)
	leaks := f.createQueue(c, "leaks")
	all := f.createQueue(c, "all")
	audit := f.createQueue(c, "audit")
	subscribeQueue(t, topic, "leaks-only", "leaks", "ak-leak", ali_mns.SIMPLIFIED)
	subscribeQueue(t, topic, "everything", "all", "", "JSON")
	subscribeQueue(t, topic, "audit-xml", "audit", "", "") // default format is XML

	published := map[string]string{} // tag -> message ID
	for _, m := range []ali_mns.MessagePublishRequest{
		{MessageBody: "bGVhaw==", MessageTag: "ak-leak"},
		{MessageBody: "aGVhcnRiZWF0", MessageTag: "heartbeat"},
	} {
		r, err := topic.PublishMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if r.MessageBodyMD5 != bodyMD5(m.MessageBody) || r.MessageId == "" {
			t.Errorf("publish response %+v", r)
		}
		published[m.MessageTag] = r.MessageId
	}

	if got := drain(t, leaks); len(got) != 1 || got[0] != "bGVhaw==" {
		t.Errorf("filtered subscription got %q, want only the ak-leak body, unwrapped", got)
	}
	got := drain(t, all)
	if len(got) != 2 {
		t.Fatalf("unfiltered JSON subscription got %d messages, want 2", len(got))
	}
	var n notificationJSON
	if err := json.Unmarshal([]byte(got[0]), &n); err != nil {
		t.Fatalf("JSON notification %q: %v", got[0], err)
	}
	if n.Message != "bGVhaw==" || n.MessageTag != "ak-leak" || n.TopicName != "ak-alerts" || n.SubscriptionName != "everything" ||
		n.TopicOwner != f.env.AccountID || n.MessageID != published["ak-leak"] || n.MessageMD5 != bodyMD5("bGVhaw==") || n.PublishTime == "" {
		t.Errorf("JSON notification = %+v", n)
	}
	gotXML := drain(t, audit)
	if len(gotXML) != 2 {
		t.Fatalf("XML subscription got %d messages, want 2", len(gotXML))
	}
	var x notificationXML
	if err := xml.Unmarshal([]byte(gotXML[1]), &x); err != nil {
		t.Fatalf("XML notification %q: %v", gotXML[1], err)
	}
	if x.Message != "aGVhcnRiZWF0" || x.MessageTag != "heartbeat" || x.SubscriptionName != "audit-xml" || x.PublishTime == 0 {
		t.Errorf("XML notification = %+v", x)
	}
}

func TestTopicManagement(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	tm := ali_mns.NewMNSTopicManager(c)
	if err := tm.CreateTopic("t1", 4096, false); err != nil {
		t.Fatal(err)
	}
	topic := ali_mns.NewMNSTopic("t1", c)
	missing := ali_mns.NewMNSTopic("no-such-topic", c)
	f.createQueue(c, "q1")
	subscribeQueue(t, topic, "s1", "q1", "tag", ali_mns.SIMPLIFIED)

	cases := []struct {
		name string
		call func() error
		ok   func(error) bool
	}{
		{"publish to missing topic", func() error {
			_, err := missing.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "x"})
			return err
		}, ali_mns.ERR_MNS_TOPIC_NOT_EXIST.IsEqual},
		{"create identical topic", func() error { return tm.CreateTopic("t1", 4096, false) }, ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST_AND_HAVE_SAME_ATTR.IsEqual},
		{"create conflicting topic", func() error { return tm.CreateTopic("t1", 8192, false) }, ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST.IsEqual},
		{"subscribe identically", func() error {
			return topic.Subscribe("s1", ali_mns.MessageSubsribeRequest{Endpoint: topic.GenerateQueueEndpoint("q1"), FilterTag: "tag", NotifyContentFormat: ali_mns.SIMPLIFIED})
		}, ali_mns.ERR_MNS_SUBSCRIPTION_ALREADY_EXIST_AND_HAVE_SAME_ATTR.IsEqual},
		{"subscribe conflicting", func() error {
			return topic.Subscribe("s1", ali_mns.MessageSubsribeRequest{Endpoint: topic.GenerateQueueEndpoint("q1"), FilterTag: "other"})
		}, ali_mns.ERR_MNS_SUBSCRIPTION_ALREADY_EXIST.IsEqual},
		{"subscribe queue of another account", func() error {
			return topic.Subscribe("s2", ali_mns.MessageSubsribeRequest{Endpoint: "acs:mns:cn-hangzhou:999:queues/q1"})
		}, ali_mns.ERR_MNS_INVALID_ENDPOINT.IsEqual},
		{"subscribe to missing topic", func() error {
			return missing.Subscribe("s1", ali_mns.MessageSubsribeRequest{Endpoint: topic.GenerateQueueEndpoint("q1")})
		}, ali_mns.ERR_MNS_TOPIC_NOT_EXIST.IsEqual},
		{"publish body above topic limit", func() error {
			_, err := topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: strings.Repeat("x", 4097)})
			return err
		}, ali_mns.ERR_MNS_INVALID_ARGUMENT.IsEqual},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !tc.ok(err) {
				t.Errorf("err = %v", err)
			}
		})
	}

	attrs, err := tm.GetTopicAttributes("t1")
	if err != nil || attrs.TopicName != "t1" || attrs.MaxMessageSize != 4096 {
		t.Errorf("GetTopicAttributes = %+v, %v", attrs, err)
	}
	sub, err := topic.GetSubscriptionAttributes("s1")
	if err != nil || sub.Endpoint != topic.GenerateQueueEndpoint("q1") || sub.FilterTag != "tag" ||
		sub.NotifyContentFormat != ali_mns.SIMPLIFIED || sub.NotifyStrategy != ali_mns.BACKOFF_RETRY || sub.TopicOwner != f.env.AccountID {
		t.Errorf("GetSubscriptionAttributes = %+v, %v", sub, err)
	}
	if err := topic.SetSubscriptionAttributes("s1", ali_mns.EXPONENTIAL_DECAY_RETRY); err != nil {
		t.Fatal(err)
	}
	if sub, _ := topic.GetSubscriptionAttributes("s1"); sub.NotifyStrategy != ali_mns.EXPONENTIAL_DECAY_RETRY {
		t.Errorf("NotifyStrategy = %s after SetSubscriptionAttributes", sub.NotifyStrategy)
	}
	subs, err := topic.ListSubscriptionByTopic("", 0, "")
	if err != nil || len(subs.Subscriptions) != 1 || !strings.HasSuffix(subs.Subscriptions[0].SubscriptionURL, "/topics/t1/subscriptions/s1") {
		t.Errorf("ListSubscriptionByTopic = %+v, %v", subs, err)
	}
	topics, err := tm.ListTopic("", 0, "")
	if err != nil || len(topics.Topics) != 1 || topics.Topics[0].TopicURL != Endpoint(f.env.AccountID, f.env.Region)+"/topics/t1" {
		t.Errorf("ListTopic = %+v, %v", topics, err)
	}
	if err := topic.Unsubscribe("s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := topic.GetSubscriptionAttributes("s1"); err == nil {
		t.Error("subscription still exists after Unsubscribe")
	}
	if err := tm.DeleteTopic("t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.GetTopicAttributes("t1"); !ali_mns.ERR_MNS_TOPIC_NOT_EXIST.IsEqual(err) {
		t.Errorf("deleted topic: %v", err)
	}
}

// TestNotificationGolden pins the push formats; run with -update to
// rewrite testdata/notification.* after a deliberate change.
func TestNotificationGolden(t *testing.T) {
	for _, format := range []string{"XML", "JSON", "SIMPLIFIED"} {
		t.Run(format, func(t *testing.T) {
			got, err := renderNotification(notification{
				Format: format, Owner: "1234567890123456", Topic: "ak-alerts", Subscription: "to-responder",
				MessageID: "6CC4D900CA59A2CD-1-15180534A8F-200000001", Body: `{"akid":"LTAI5t****","action":"contained"} <&>`,
				MD5: bodyMD5(`{"akid":"LTAI5t****","action":"contained"} <&>`), Tag: "ak-leak", PublishMS: 1449556920975,
			})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "notification."+strings.ToLower(format))
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("notification mismatch\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestDeliver(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "fc-failures")
	if err := ali_mns.NewMNSTopicManager(c).CreateSimpleTopic("fc-events"); err != nil {
		t.Fatal(err)
	}
	topic := ali_mns.NewMNSTopic("fc-events", c)
	subscribeQueue(t, topic, "to-queue", "fc-failures", "", ali_mns.SIMPLIFIED)
	arn := func(kind, name string) string {
		return "acs:mns:" + f.env.Region + ":" + f.env.AccountID + ":/" + kind + "/" + name + "/messages"
	}
	ctx := context.Background()
	cases := []struct {
		name    string
		arn     string
		body    string
		wantErr bool
	}{
		{"queue destination", arn("queues", "fc-failures"), `{"requestContext":1}`, false},
		{"topic destination", arn("topics", "fc-events"), `{"requestContext":2}`, false},
		{"missing queue", arn("queues", "nope"), "x", true},
		{"missing topic", arn("topics", "nope"), "x", true},
		{"other account", "acs:mns:" + f.env.Region + ":42:/queues/fc-failures/messages", "x", true},
		{"function ARN is not SMQ", "acs:fc:" + f.env.Region + ":" + f.env.AccountID + ":functions/x", "x", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.srv.Deliver(ctx, tc.arn, []byte(tc.body)); (err != nil) != tc.wantErr {
				t.Errorf("Deliver err = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
	got := drain(t, q)
	if strings.Join(got, "|") != `{"requestContext":1}|{"requestContext":2}` {
		t.Errorf("queue got %q", got)
	}
}

func TestPushToFunction(t *testing.T) {
	f := newFixture(t, "")
	type call struct {
		function, payload string
		async             bool
	}
	var mu sync.Mutex
	var calls []call
	f.env.Hooks.Invoke = func(_ context.Context, function string, payload []byte, async bool) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{function, string(payload), async})
		return nil, nil
	}
	c := f.rootClient()
	if err := ali_mns.NewMNSTopicManager(c).CreateSimpleTopic("ak-alerts"); err != nil {
		t.Fatal(err)
	}
	topic := ali_mns.NewMNSTopic("ak-alerts", c)
	fn := func(name string) string {
		return "acs:fc:" + f.env.Region + ":" + f.env.AccountID + ":functions/" + name
	}
	for _, s := range []ali_mns.MessageSubsribeRequest{
		{Endpoint: fn("ak-guard-respond"), FilterTag: "ak-leak", NotifyContentFormat: ali_mns.SIMPLIFIED},
		{Endpoint: fn("ak-guard-audit"), NotifyContentFormat: "JSON"},
	} {
		if err := topic.Subscribe(strings.TrimPrefix(s.Endpoint, fn("")), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := topic.Subscribe("foreign", ali_mns.MessageSubsribeRequest{Endpoint: "acs:fc:" + f.env.Region + ":42:functions/x"}); !ali_mns.ERR_MNS_INVALID_ENDPOINT.IsEqual(err) {
		t.Errorf("function of another account: err = %v", err)
	}
	for _, tag := range []string{"ak-leak", "heartbeat"} {
		if _, err := topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "body-" + tag, MessageTag: tag}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	got := map[string][]string{}
	for _, c := range calls {
		if !c.async {
			t.Errorf("synchronous invocation of %s", c.function)
		}
		got[c.function] = append(got[c.function], c.payload)
	}
	if r := got["ak-guard-respond"]; len(r) != 1 || r[0] != "body-ak-leak" {
		t.Errorf("respond got %q, want the ak-leak body only", r)
	}
	if a := got["ak-guard-audit"]; len(a) != 2 || !strings.Contains(a[1], `"Message":"body-heartbeat"`) {
		t.Errorf("audit got %q, want two JSON notifications", a)
	}
}
