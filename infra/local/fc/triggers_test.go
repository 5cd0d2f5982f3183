package fc

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

const okDestination = "acs:mns:cn-hangzhou:1234567890123456:/queues/results/messages"

func ossFn(name string) Function {
	return echoFn(name, func(f *Function) {
		f.Async.OnSuccess = okDestination
		f.Triggers = []Trigger{{Name: "uploads", Type: "oss", SourceArn: "acs:oss:cn-hangzhou:1234567890123456:ak-uploads",
			OSS: &OSSTrigger{Events: []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:CompleteMultipartUpload"}, Prefix: "in/", Suffix: ".zip"}}}
	})
}

func TestOSSTrigger(t *testing.T) {
	env := newEnv(t, "")
	rec := &recorder{}
	env.Hooks.Deliver = rec.deliver
	s := startServer(t, env, Options{}, ossFn("scan"), echoFn("other"))
	env.Hooks.ObjectCreated = s.ObjectCreated
	env.Hooks.Invoke = s.Invoke

	put := core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: "ak-uploads", Key: "in/a.zip", ETag: `"5EB63BBBE01EEED093CB22BB8F5ACDC3"`,
		Size: 11, MimeType: "application/zip", SourceIP: "203.0.113.9", RequestID: "REQ-1", Principal: iam.Principal{PrincipalID: "200000000000000001"}}
	tests := []struct {
		name  string
		mod   func(*core.ObjectEvent)
		fires bool
	}{
		{name: "match", fires: true},
		{name: "multipart", mod: func(e *core.ObjectEvent) { e.EventName = "ObjectCreated:CompleteMultipartUpload" }, fires: true},
		{name: "event not subscribed", mod: func(e *core.ObjectEvent) { e.EventName = "ObjectCreated:AppendObject" }},
		{name: "removal", mod: func(e *core.ObjectEvent) { e.EventName = "ObjectRemoved:DeleteObject" }},
		{name: "other bucket", mod: func(e *core.ObjectEvent) { e.Bucket = "elsewhere" }},
		{name: "prefix", mod: func(e *core.ObjectEvent) { e.Key = "out/a.zip" }},
		{name: "suffix", mod: func(e *core.ObjectEvent) { e.Key = "in/a.tar" }},
	}
	want := 0
	for _, tt := range tests {
		ev := put
		if tt.mod != nil {
			tt.mod(&ev)
		}
		ids := s.fireOSS(context.Background(), ev)
		if (len(ids) == 1) != tt.fires || len(ids) > 1 {
			t.Errorf("%s: fired %d invocations, want fires=%v", tt.name, len(ids), tt.fires)
		}
		if tt.fires {
			want++
		}
	}
	env.Hooks.ObjectCreated(context.Background(), put)
	want++
	waitIdle(t, s)
	if n := len(s.Invocations("other")); n != 0 {
		t.Errorf("function without trigger invoked %d times", n)
	}
	msgs := rec.all()
	if len(msgs) != want {
		t.Fatalf("%d results, want %d", len(msgs), want)
	}
	// The function decoded each event with fc-runtime-go-sdk events.OssEvent.
	names := map[any]int{}
	for _, m := range msgs {
		var out struct {
			OSS map[string]any `json:"oss"`
		}
		if err := json.Unmarshal([]byte(m.ev.ResponsePayload), &out); err != nil {
			t.Fatal(err)
		}
		if out.OSS["bucket"] != "ak-uploads" || out.OSS["key"] != "in/a.zip" || out.OSS["size"] != 11.0 {
			t.Errorf("function saw %v", out.OSS)
		}
		names[out.OSS["eventName"]]++
	}
	if names["ObjectCreated:PutObject"] != 2 || names["ObjectCreated:CompleteMultipartUpload"] != 1 {
		t.Errorf("event names %v", names)
	}
}

func TestOSSEventGolden(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{}, ossFn("scan"))
	f := s.fns["scan"]
	ev := core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: "ak-uploads", Key: "in/a.zip", ETag: `"5EB63BBBE01EEED093CB22BB8F5ACDC3"`,
		Size: 29203, MimeType: "application/zip", SourceIP: "203.0.113.9", RequestID: "62A2E2EFD0DEFE3930847A6E",
		Principal: iam.Principal{PrincipalID: "200000000000000001"}, EventTime: time.Date(2026, 6, 10, 6, 21, 35, 0, time.UTC)}
	got, err := json.MarshalIndent(s.ossEventFor(f, &f.cfg.Triggers[0], ev), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "oss_event.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("OSS event differs from %s (run with -update):\n%s", path, got)
	}
	var sdkEv events.OssEvent
	if err := json.Unmarshal(got, &sdkEv); err != nil {
		t.Fatalf("events.OssEvent: %v", err)
	}
	r := sdkEv.Events[0]
	if *r.EventSource != "acs:oss" || *r.EventVersion != "1.0" || !r.EventTime.Equal(ev.EventTime) || *r.Oss.Object.ETag != "5EB63BBBE01EEED093CB22BB8F5ACDC3" ||
		*r.Oss.Bucket.Arn != "acs:oss:cn-hangzhou:"+env.AccountID+":ak-uploads" || *r.RequestParameters.SourceIPAddress != "203.0.113.9" ||
		*r.UserIdentity.PrincipalID != "200000000000000001" || len(*r.Oss.RuleID) != 40 {
		t.Errorf("decoded event %+v", r)
	}
}

func TestTimerTrigger(t *testing.T) {
	env := newEnv(t, "")
	rec := &recorder{}
	env.Hooks.Deliver = rec.deliver
	fn := echoFn("audit", func(f *Function) {
		f.Async.OnSuccess = okDestination
		f.Triggers = []Trigger{{Name: "every-15m", Type: "timer", Timer: &TimerTrigger{CronExpression: "@every 15m", Enable: false, Payload: `{"lookbackMinutes":20}`}}}
	})
	s := startServer(t, env, Options{}, fn)
	before := time.Now().UTC().Truncate(time.Second)
	if _, err := s.FireTimer(context.Background(), "audit", "every-15m"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FireTimer(context.Background(), "audit", "nope"); err == nil {
		t.Error("unknown trigger fired")
	}
	waitIdle(t, s)
	msgs := rec.all()
	if len(msgs) != 1 {
		t.Fatalf("%d results", len(msgs))
	}
	var req timerEvent
	if err := json.Unmarshal([]byte(msgs[0].ev.RequestPayload), &req); err != nil {
		t.Fatal(err)
	}
	fired, err := time.Parse("2006-01-02T15:04:05Z", req.TriggerTime)
	if err != nil || fired.Before(before) || req.TriggerName != "every-15m" || req.Payload != `{"lookbackMinutes":20}` {
		t.Errorf("timer event %+v (%v)", req, err)
	}
	var out struct {
		Timer map[string]any `json:"timer"`
	}
	if err := json.Unmarshal([]byte(msgs[0].ev.ResponsePayload), &out); err != nil {
		t.Fatal(err)
	}
	if out.Timer["name"] != "every-15m" || out.Timer["payload"] != `{"lookbackMinutes":20}` {
		t.Errorf("function saw %v", out.Timer)
	}
}

func TestFunctionDestination(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{}, echoFn("src", func(f *Function) {
		f.Async = AsyncConfig{MaxRetryAttempts: 0, OnFailure: "acs:fc:cn-hangzhou:" + env.AccountID + ":functions/dlq"}
	}), echoFn("dlq"))
	if _, err := s.Invoke(context.Background(), "src", []byte(`{"op":"fail"}`), true); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	inv := s.Invocations("dlq")
	if len(inv) != 1 || inv[0].Status != statusSuccess {
		t.Fatalf("dead-letter function invocations %+v", inv)
	}
}

func TestTimerScheduler(t *testing.T) {
	env := newEnv(t, "")
	rec := &recorder{}
	env.Hooks.Deliver = rec.deliver
	fn := echoFn("tick", func(f *Function) {
		f.Async.OnSuccess = okDestination
		f.Triggers = []Trigger{{Name: "every-second", Type: "timer", Timer: &TimerTrigger{CronExpression: "* * * * * *", Enable: true}},
			{Name: "disabled", Type: "timer", Timer: &TimerTrigger{CronExpression: "* * * * * *", Enable: false}}}
	})
	s, err := New(env, Config{Functions: []Function{fn}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	msgs := rec.all()
	if len(msgs) < 2 {
		t.Fatalf("%d timer invocations within 5 s of an every-second schedule", len(msgs))
	}
	for _, m := range msgs {
		var ev timerEvent
		if err := json.Unmarshal([]byte(m.ev.RequestPayload), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.TriggerName != "every-second" {
			t.Errorf("trigger %q fired", ev.TriggerName)
		}
	}
}
