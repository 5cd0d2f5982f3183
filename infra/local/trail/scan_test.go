package trail

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestScan(t *testing.T) {
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 6; i++ {
		e := Event{EventID: fmt.Sprintf("E%d", i), EventName: "GetObject", AcsRegion: "cn-hangzhou",
			EventTime: base.Add(time.Duration(i) * time.Minute).Format(TimeLayout)}
		if i == 2 {
			e.AcsRegion = "cn-shanghai"
		}
		if i == 4 {
			e.EventName = "PutObject"
		}
		if err := s.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		q     Query
		limit int
		want  string
	}{
		{"forward all regions", Query{Start: base, End: base.Add(time.Hour), Forward: true}, 0, "[E0 E1 E2 E3 E4 E5]"},
		{"backward one region", Query{Start: base, End: base.Add(time.Hour), Region: "cn-hangzhou"}, 0, "[E5 E4 E3 E1 E0]"},
		{"early stop", Query{Start: base, End: base.Add(time.Hour)}, 2, "[E5 E4]"},
		{"attribute and window", Query{Start: base.Add(time.Minute), End: base.Add(4 * time.Minute), AttrKey: "EventName", AttrValue: "GetObject", Forward: true}, 0, "[E1 E2 E3]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := s.Scan(tc.q, func(e *Event) bool {
				got = append(got, e.EventID)
				return tc.limit == 0 || len(got) < tc.limit
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
	if err := s.Scan(Query{AttrKey: "Colour"}, func(*Event) bool { return true }); err == nil {
		t.Fatal("unknown attribute must fail")
	}
}
