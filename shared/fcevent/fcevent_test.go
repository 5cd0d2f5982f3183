package fcevent

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The samples in events/ are what `make invoke-*` and the README use; they
// must decode, validate and survive a round trip unchanged.
func TestSampleEventsRoundTrip(t *testing.T) {
	data, err := os.ReadFile("../../events/oss-object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseOSS(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal(data, &a)
	_ = json.Unmarshal(out, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the event:\n%s", out)
	}
	if got := ev.Events[0].OSS.Object.Keys(); !reflect.DeepEqual(got, []string{"uploads/config backup.env", "uploads/config%20backup.env"}) {
		t.Fatalf("Keys() = %q", got)
	}

	tdata, err := os.ReadFile("../../events/timer-audit.json")
	if err != nil {
		t.Fatal(err)
	}
	tev, err := ParseTimer(tdata)
	if err != nil {
		t.Fatal(err)
	}
	if tev.Payload != `{"overlapMinutes":10}` {
		t.Fatalf("payload %q", tev.Payload)
	}
}

func TestKeys(t *testing.T) {
	cases := map[string][]string{
		"plain/key.txt": {"plain/key.txt"},
		"a%2Fb%20c.txt": {"a/b c.txt", "a%2Fb%20c.txt"},
		"100%.txt":      {"100%.txt"}, // not decodable: only as delivered
		"a+b.txt":       {"a b.txt", "a+b.txt"},
		"%E4%B8%AD.txt": {"中.txt", "%E4%B8%AD.txt"},
	}
	for in, want := range cases {
		if got := (Object{Key: in}).Keys(); !reflect.DeepEqual(got, want) {
			t.Errorf("Keys(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMalformed(t *testing.T) {
	valid := `{"eventName":"ObjectCreated:PutObject","eventSource":"acs:oss","oss":{"bucket":{"name":"bkt"},"object":{"key":"k","size":1}}}`
	cases := map[string]string{
		"not json":       `{"events":`,
		"no records":     `{"events":[]}`,
		"wrong source":   `{"events":[{"eventName":"ObjectCreated:PutObject","eventSource":"acs:mns","oss":{"bucket":{"name":"bkt"},"object":{"key":"k"}}}]}`,
		"removal event":  `{"events":[{"eventName":"ObjectRemoved:DeleteObject","eventSource":"acs:oss","oss":{"bucket":{"name":"bkt"},"object":{"key":"k"}}}]}`,
		"bad bucket":     `{"events":[{"eventName":"ObjectCreated:PutObject","eventSource":"acs:oss","oss":{"bucket":{"name":"Bad_Bucket"},"object":{"key":"k"}}}]}`,
		"empty key":      `{"events":[{"eventName":"ObjectCreated:PutObject","eventSource":"acs:oss","oss":{"bucket":{"name":"bkt"},"object":{"key":""}}}]}`,
		"one bad of two": `{"events":[` + valid + `,{"eventSource":"acs:oss"}]}`,
		"timer as oss":   `{"triggerTime":"2026-11-23T06:25:00Z","triggerName":"t"}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseOSS([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseOSS = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := ParseOSS([]byte(`{"events":[` + valid + `]}`)); err != nil {
		t.Fatalf("valid event rejected: %v", err)
	}
	for _, in := range []string{`[]`, `{"triggerName":"t","triggerTime":"yesterday"}`, `{"triggerTime":"2026-11-23T06:25:00Z"}`} {
		if _, err := ParseTimer([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTimer(%s) = %v, want ErrMalformed", in, err)
		}
	}
}

func FuzzParseOSS(f *testing.F) {
	if data, err := os.ReadFile("../../events/oss-object-created.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"events":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseOSS(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not marked malformed: %v", err)
			}
			if len(err.Error()) > maxErrLen {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		for _, r := range ev.Events {
			if len(r.OSS.Object.Keys()) == 0 {
				t.Fatal("valid record without key candidates")
			}
		}
	})
}

// maxErrLen bounds an error message: errors end up in logs and FC error
// responses, so one must not carry a megabyte of attacker-chosen input.
const maxErrLen = 1024

func FuzzParseTimer(f *testing.F) {
	for _, name := range []string{"timer-audit.json", "timer-audit-dry-run.json", "timer-audit-slow-delivery.json"} {
		if data, err := os.ReadFile("../../events/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"triggerName":"t","triggerTime":"2026-11-23T06:25:00+08:00"}`))
	f.Add([]byte(`{"triggerName":"t","triggerTime":"` + strings.Repeat("9", 4096) + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseTimer(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not marked malformed: %v", err)
			}
			if len(err.Error()) > maxErrLen {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		if ev.TriggerName == "" {
			t.Fatal("accepted an event without triggerName")
		}
		if _, err := ev.Time(); err != nil {
			t.Fatalf("accepted event has no time: %v", err)
		}
		// What FC would deliver again after a retry must decode the same.
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseTimer(out)
		if err != nil {
			t.Fatalf("re-encoded event rejected: %v\n%s", err, out)
		}
		if again != ev {
			t.Fatalf("round trip changed the event: %+v -> %+v", ev, again)
		}
	})
}
