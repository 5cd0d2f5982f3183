package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/akguard/akguard/shared/fcevent"
)

func TestParsePayload(t *testing.T) {
	ten := 10
	tests := []struct {
		in      string
		want    payload
		wantErr bool
	}{
		{in: "", want: payload{}},
		{in: "TestPayload", want: payload{}},
		{in: "{}", want: payload{}},
		{in: `{"dryRun":true}`, want: payload{DryRun: true}},
		{in: `{"overlapMinutes":10,"lagMinutes":10}`, want: payload{OverlapMinutes: 10, LagMinutes: &ten}},
		{in: `{"dry_run":false}`, want: payload{DryRun: true}, wantErr: true},
		{in: `{"dryrun":true}`, want: payload{DryRun: true}}, // encoding/json matches names case-insensitively
		{in: `{"dryRun":"yes"}`, want: payload{DryRun: true}, wantErr: true},
		{in: `{"lagMinutes":-1}`, want: payload{DryRun: true}, wantErr: true},
		{in: `{"overlapMinutes":100000}`, want: payload{DryRun: true}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parsePayload(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parsePayload(%q) error %v, want error %v", tt.in, err, tt.wantErr)
		}
		if got.DryRun != tt.want.DryRun || got.OverlapMinutes != tt.want.OverlapMinutes ||
			(got.LagMinutes == nil) != (tt.want.LagMinutes == nil) || (got.LagMinutes != nil && *got.LagMinutes != *tt.want.LagMinutes) {
			t.Errorf("parsePayload(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// The sample timer events are what `s invoke --event-file` sends.
func TestSampleTimerEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "timer-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := fcevent.ParseTimer(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, err := parsePayload(ev.Payload); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	for _, s := range []string{"", "{}", `{"dryRun":true}`, `{"overlapMinutes":10,"lagMinutes":0}`, `{"x":1}`, "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePayload(s)
		if err != nil && !p.DryRun {
			t.Fatalf("an invalid payload %q must fall back to a dry run", s)
		}
		if err == nil && (p.OverlapMinutes < 0 || (p.LagMinutes != nil && *p.LagMinutes < 0)) {
			t.Fatalf("accepted negative minutes: %q", s)
		}
	})
}
