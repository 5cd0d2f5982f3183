package trail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordLookupAndRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		e := Event{EventName: "GetObject", ServiceName: "Oss", AcsRegion: "cn-hangzhou",
			EventTime:    base.Add(time.Duration(i) * time.Minute).Format(TimeLayout),
			UserIdentity: UserIdentity{Type: "ram-user", AccessKeyID: fmt.Sprintf("LTAIkey%d", i%2), UserName: "alice"}}
		if i == 9 {
			e.EventName, e.ServiceName, e.IsGlobal, e.AcsRegion = "CreateUser", "Ram", true, "cn-shanghai"
		}
		if err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name string
		q    Query
		want int
	}{
		{"whole window", Query{Start: base, End: base.Add(time.Hour)}, 10},
		{"inclusive end", Query{Start: base, End: base.Add(4 * time.Minute)}, 5},
		{"by key", Query{Start: base, End: base.Add(time.Hour), AttrKey: "EventAccessKeyId", AttrValue: "LTAIkey1"}, 5},
		{"by service", Query{Start: base, End: base.Add(time.Hour), AttrKey: "ServiceName", AttrValue: "Ram"}, 1},
		{"region keeps global events", Query{Start: base, End: base.Add(time.Hour), Region: "cn-hangzhou"}, 10},
		{"other region only global", Query{Start: base, End: base.Add(time.Hour), Region: "cn-beijing"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Lookup(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("got %d events, want %d", len(got), tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i-1].EventTime < got[i].EventTime {
					t.Fatal("default order must be newest first")
				}
			}
		})
	}
	if _, err := s.Lookup(Query{AttrKey: "Nope"}); !errors.Is(err, ErrBadAttribute) {
		t.Fatalf("bad attribute: %v", err)
	}
}

func TestImportFormatsAndTornLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	// A crash mid-write leaves a torn last line; start-up must survive it.
	if err := os.WriteFile(path, []byte(`{"eventId":"A","eventTime":"2026-11-01T00:00:00Z"}`+"\n"+`{"eventId":"B","ev`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inputs := []string{
		`[{"eventId":"C","eventTime":"2026-11-01T00:00:01Z"}]`,
		`{"RequestId":"x","Events":[{"eventId":"D","eventTime":"2026-11-01T00:00:02Z","eventVersion":1}]}`,
		`{"eventId":"E","eventTime":"2026-11-01T00:00:03Z"}` + "\n" + `{"eventId":"A","eventTime":"2026-11-01T00:00:00Z"}`,
	}
	for _, in := range inputs {
		if _, err := s.Import(ctx, stringsReader(in)); err != nil {
			t.Fatalf("import %q: %v", in, err)
		}
	}
	if n := len(s.All()); n != 4 {
		t.Fatalf("got %d events, want 4 (A, C, D, E; duplicate A ignored)", n)
	}
}
