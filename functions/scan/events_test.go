package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/fcevent"
)

// The OSS samples in events/ (for `s invoke --event-file`) must be events
// the function accepts.
func TestSampleEventsDecode(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(localtest.Root(), "events", "oss-*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no events/oss-*.json samples: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := fcevent.ParseOSS(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		for _, r := range ev.Events {
			if len(r.OSS.Object.Keys()) == 0 {
				t.Errorf("%s: no key candidates", filepath.Base(p))
			}
		}
	}
}
