package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/audit"
)

func TestRunAudit(t *testing.T) {
	const events = "testdata/audit/events.json"
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		golden   string
		wantErr  []string
	}{
		{name: "text", args: []string{"--events", events, "--config", "testdata/audit/config.json"}, wantCode: exitFound, golden: "audit.txt",
			wantErr: []string{"2 incidents"}}, // akguard-audit's own DeleteObject is allowed
		{name: "json", args: []string{"--events", events, "--config", "testdata/audit/config.json", "--format", "json"}, wantCode: exitFound, golden: "audit.json"},
		{name: "without the leak report the leaked key is only a dangerous operation", args: []string{"--events", events, "--format", "json"},
			wantCode: exitFound, golden: "audit-noleak.json"},
		{name: "stdin", args: []string{"--events", "-"}, stdin: `{"eventId":"X1","eventName":"GetObject","serviceName":"Oss","eventTime":"2026-11-20T10:00:00Z","userIdentity":{"type":"ram-user","accessKeyId":"LTAI5tQwErTyUiOpAsDfGhJk","userName":"alice"}}`,
			wantCode: exitOK, wantErr: []string{"0 incidents, 1 events in 1 windows"}},
		{name: "events required", args: nil, wantCode: exitError, wantErr: []string{"--events FILE is required"}},
		{name: "bad format", args: []string{"--events", events, "--format", "xml"}, wantCode: exitError, wantErr: []string{`unknown format "xml"`}},
		{name: "missing file", args: []string{"--events", "testdata/audit/nope.json"}, wantCode: exitError, wantErr: []string{"read events"}},
		{name: "config typo", args: []string{"--events", events, "--config", "testdata/audit/README.md"}, wantCode: exitError, wantErr: []string{"decode config"}},
		{name: "bad events", args: []string{"--events", "-"}, stdin: "{not json", wantCode: exitError, wantErr: []string{"events -"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runAudit(context.Background(), tc.args, stdio{in: strings.NewReader(tc.stdin), out: &stdout, err: &stderr})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tc.golden != "" {
				checkGolden(t, tc.golden, stdout.Bytes())
			}
			if strings.Contains(stdout.String(), "must never be printed") {
				t.Error("request parameters leaked into the report")
			}
		})
	}
}

func TestRunAuditSavesBaseline(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "baseline.json")
	var stdout, stderr bytes.Buffer
	args := []string{"--events", "testdata/audit/events.json", "--save-baseline", saved}
	if code := runAudit(context.Background(), args, stdio{in: strings.NewReader(""), out: &stdout, err: &stderr}); code != exitFound {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.ParseBaseline(data)
	if err != nil {
		t.Fatal(err)
	}
	// alice's clean window is learned; dave's and root's flagged ones are not.
	if p := b.Subjects["key/LTAI5tQwErTyUiOpAsDfGhJk"]; p == nil || p.Windows != 1 {
		t.Fatalf("alice not learned: %+v", b.Subjects)
	}
	if p := b.Subjects["key/LTAI5tZxCvBnMlKjHgFdSaPo"]; p != nil && p.Windows != 0 {
		t.Fatalf("dave's attacked window was learned: %+v", p)
	}
	// Feeding it back starts from what was learned.
	stdout.Reset()
	args = []string{"--events", "testdata/audit/events.json", "--baseline", saved, "--format", "json"}
	if code := runAudit(context.Background(), args, stdio{in: strings.NewReader(""), out: &stdout, err: &stderr}); code != exitFound {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
