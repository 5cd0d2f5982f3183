package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/golden"
	"github.com/akguard/akguard/shared/report"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRun(t *testing.T) {
	stdinPair := readFile(t, "testdata/stdin.env")
	cases := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		golden     string   // compare stdout with testdata/golden/<golden>
		wantOut    []string // substrings of stdout
		wantErr    []string // substrings of stderr
		wantNotOut []string
	}{
		{name: "no arguments prints usage", args: nil, wantCode: exitError, wantErr: []string{"usage: akguard", "scan"}},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantOut: []string{"usage: akguard", "scan "}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: exitError, wantErr: []string{`akguard: error: unknown command "frobnicate"`, "akguard: hint:"}},
		{name: "scan help", args: []string{"scan", "-h"}, wantCode: exitOK, wantErr: []string{"usage: akguard scan", "-allow-path"}},
		{name: "scan without paths", args: []string{"scan"}, wantCode: exitError, wantErr: []string{"no path to scan"}},
		{name: "bad flag", args: []string{"scan", "--colour", "x", "."}, wantCode: exitError, wantErr: []string{"flag provided but not defined: -colour"}},
		{name: "bad format", args: []string{"scan", "--format", "xml", "."}, wantCode: exitError, wantErr: []string{`unknown format "xml"`}},
		{name: "bad glob", args: []string{"scan", "--allow-path", "a/[b", "."}, wantCode: exitError, wantErr: []string{`path glob "a/[b"`}},
		{name: "bad size", args: []string{"scan", "--max-size", "lots", "."}, wantCode: exitError, wantErr: []string{`invalid size "lots"`}},
		{name: "missing path", args: []string{"scan", "testdata/nope"}, wantCode: exitError, wantErr: []string{"akguard: error: scan path:", "no such file"}},
		{name: "oss path needs credentials", args: []string{"scan", "oss://bucket/prefix"}, wantCode: exitError, wantErr: []string{"no credentials"}},
		{name: "stdin twice", args: []string{"scan", "-", "-"}, wantCode: exitError, wantErr: []string{"given twice"}},
		{name: "clean tree exits 0", args: []string{"scan", "testdata/clean"}, wantCode: exitOK, wantErr: []string{"0 findings, 0 skipped, 2 files"}},
		{name: "text", args: []string{"scan", "testdata/tree"}, wantCode: exitFound, golden: "tree.txt", wantErr: []string{"3 findings (3 high), 0 skipped, 4 files"}},
		{name: "json", args: []string{"scan", "--format", "json", "testdata/tree"}, wantCode: exitFound, golden: "tree.json"},
		{name: "sarif", args: []string{"scan", "--format=sarif", "testdata/tree"}, wantCode: exitFound, golden: "tree.sarif"},
		{name: "jsonl streams in walk order with one worker", args: []string{"scan", "--format", "jsonl", "--workers", "1", "testdata/tree"}, wantCode: exitFound, golden: "tree.jsonl"},
		{name: "flags after paths", args: []string{"scan", "testdata/tree", "--format", "json", "--allow-path", "vendor/**"}, wantCode: exitFound, golden: "tree-allow.json"},
		{name: "double dash ends flags", args: []string{"scan", "--format", "jsonl", "--", "testdata/clean"}, wantCode: exitOK},
		{name: "stdin", args: []string{"scan", "-"}, stdin: stdinPair, wantCode: exitFound, wantOut: []string{"alibaba-access-key-pair stdin:2:"}},
		{name: "stdin and a folder", args: []string{"scan", "--format", "jsonl", "testdata/clean", "-"}, stdin: stdinPair, wantCode: exitFound, wantOut: []string{`"path":"stdin"`}},
		{name: "ignore file in scanned root", args: []string{"scan", "testdata/ignored"}, wantCode: exitOK, wantErr: []string{"0 findings"}},
		{name: "missing ignore file", args: []string{"scan", "--ignore", "testdata/no.akguardignore", "testdata/ignored"}, wantCode: exitError, wantErr: []string{"open ignore file"}},
		{name: "malformed ignore file", args: []string{"scan", "--ignore", "testdata/bad.akguardignore", "testdata/tree"}, wantCode: exitError, wantErr: []string{"testdata/bad.akguardignore: line 1:"}},
		{name: "max size skips everything", args: []string{"scan", "--max-size", "16", "testdata/tree"}, wantCode: exitOK, wantErr: []string{"skipped testdata/tree/config/prod.env: too_large", "0 findings, 4 skipped"}},
		{name: "verbose logs json to stderr", args: []string{"scan", "--verbose", "--format", "json", "testdata/clean"}, wantCode: exitOK, wantErr: []string{`"msg":"scanned"`, `"path":"testdata/clean/app.env"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			for _, s := range tc.wantOut {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tc.golden != "" {
				checkGolden(t, tc.golden, stdout.Bytes())
			}
		})
	}
}

// An explicit --ignore that does not list the finding brings it back.
func TestRunExplicitIgnore(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.ignore")
	if err := os.WriteFile(empty, []byte("# nothing accepted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"scan", "--ignore", empty, "testdata/ignored"}, nil, &stdout, &stderr); code != exitFound {
		t.Fatalf("exit %d, want %d: %s", code, exitFound, stderr.String())
	}
}

// --output writes the report to a file inside the scanned tree; the next
// scan must not report the report.
func TestRunOutputInsideTree(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prod.env"), []byte(readFile(t, "testdata/tree/config/prod.env")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.json")
	for range 2 {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"scan", "--format", "json", "--output", out, dir}, nil, &stdout, &stderr); code != exitFound {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Fatalf("stdout not empty with --output: %s", stdout.String())
		}
		var doc report.Document
		if err := json.Unmarshal([]byte(readFile(t, out)), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Findings) != 1 || filepath.Base(doc.Findings[0].Path) != "prod.env" {
			t.Fatalf("findings %+v", doc.Findings)
		}
	}
}

func TestRunUnwritableOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"scan", "--output", filepath.Join(t.TempDir(), "no", "such", "dir.json"), "testdata/clean"}, nil, &stdout, &stderr)
	if code != exitError || !strings.Contains(stderr.String(), "create report") {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
}

// No output format may carry a secret; the testdata secrets are the 30-
// character values after "SECRET=", "secret:" or in the Go call.
func TestRunNeverPrintsSecrets(t *testing.T) {
	var secrets []string
	for _, p := range []string{"testdata/tree/config/prod.env", "testdata/tree/vendor/lib/creds.yaml"} {
		for _, line := range strings.Split(readFile(t, p), "\n") {
			if i := strings.LastIndexAny(line, "=: "); i >= 0 && len(line)-i-1 == 30 {
				secrets = append(secrets, line[i+1:])
			}
		}
	}
	if len(secrets) != 2 {
		t.Fatalf("found %d test secrets, want 2", len(secrets))
	}
	for _, format := range report.Formats() {
		var stdout, stderr bytes.Buffer
		run([]string{"scan", "--verbose", "--format", format, "testdata/tree"}, nil, &stdout, &stderr)
		for _, s := range secrets {
			if strings.Contains(stdout.String()+stderr.String(), s[:8]) {
				t.Errorf("%s output contains a secret prefix", format)
			}
		}
	}
}

// The binary itself: exit status, stdout and the JSON document, end to end.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// go test puts its own GOROOT/bin first in PATH, so this is the go
	// that runs the test.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not available")
	}
	bin := filepath.Join(t.TempDir(), "akguard")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "scan", "--format", "json", "testdata/tree")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFound {
		t.Fatalf("exit: %v, want status %d\n%s", err, exitFound, stderr.String())
	}
	var doc report.Document
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != 3 || doc.Stats.Files != 4 {
		t.Fatalf("findings %d files %d", len(doc.Findings), doc.Stats.Files)
	}
	for _, f := range doc.Findings {
		if f.Severity != finding.SeverityHigh || f.Fingerprint == "" {
			t.Errorf("finding %+v", f)
		}
	}
	if out, err := exec.Command(bin, "scan", "testdata/clean").CombinedOutput(); err != nil {
		t.Fatalf("clean tree: %v\n%s", err, out)
	}
}
