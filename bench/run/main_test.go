package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/bench/internal/corpus"
	"github.com/akguard/akguard/shared/finding"
)

func TestScore(t *testing.T) {
	m := &corpus.Manifest{
		Planted: []corpus.Plant{
			{Path: "a/x.env", Line: 2, ID: "LTAIaaaa", SecretSHA256: "s1"},
			{Path: "a/y.zip!in.env", Line: 5, ID: "LTAIbbbb", SecretSHA256: "s2"},
			{Path: "a/z.env", Line: 9, ID: "LTAIcccc", SecretSHA256: "s3"},
		},
		Decoys: []corpus.Decoy{{Path: "a/d.txt", Line: 10, Kind: "masked-full", Text: "LTAI****"}},
	}
	pair := func(p, id, sha string, line int) finding.Finding {
		return finding.Finding{Path: p, Line: line, Rule: "alibaba-access-key-pair", AccessKeyID: id, SecretSHA256: sha}
	}
	fs := []finding.Finding{
		pair("corp/a/x.env", "LTAIaaaa", "s1", 2),
		pair("corp/a/x.env", "LTAIaaaa", "s1", 2), // duplicate report, still one plant
		pair("corp/a/y.zip!in.env", "LTAIbbbb", "wrong", 5),
		{Path: "corp/a/z.env", Line: 10, Rule: "alibaba-access-key-secret", SecretSHA256: "s3"},
		{Path: "corp/a/d.txt", Line: 11, Rule: "alibaba-access-key-id", AccessKeyID: "LTAIzzzz"},
		{Path: "corp/a/other.txt", Line: 1, Rule: "alibaba-access-key-id", AccessKeyID: "LTAIyyyy"},
	}
	sc := score(m, "corp", fs)
	if sc.found != 1 || len(sc.missed) != 2 || sc.partial != 2 || len(sc.decoys) != 1 || len(sc.unexplained) != 1 {
		t.Fatalf("found %d missed %d partial %d decoys %d unexplained %d", sc.found, len(sc.missed), sc.partial, len(sc.decoys), len(sc.unexplained))
	}
	if sc.unexplained[0].AccessKeyID != "LTAIyyyy" {
		t.Errorf("unexplained %+v", sc.unexplained[0])
	}
}

// The floor must count a needle split across its read windows.
func TestFloorCountsAcrossWindows(t *testing.T) {
	dir := t.TempDir()
	b := bytes.Repeat([]byte("x"), 3<<20)
	for _, at := range []int{0, 256<<10 - 2, 512<<10 - 3, 768<<10 - 1, len(b) - 4} {
		copy(b[at:], "LTAI")
	}
	for _, name := range []string{"f", "sub/g", corpus.ManifestName} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, workers := range []int{1, 3} {
		// The manifest at the top is not part of the corpus.
		hits, err := floor(context.Background(), dir, workers)
		if err != nil {
			t.Fatal(err)
		}
		if hits != 10 {
			t.Errorf("workers %d: %d hits, want 10", workers, hits)
		}
	}
}

func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if rss := peakRSS(); rss < 1<<20 || rss > 64<<30 {
		t.Fatalf("peak RSS %d is implausible", rss)
	}
}

func TestRunCorpusSmall(t *testing.T) {
	dir := t.TempDir()
	if _, err := corpus.Generate(context.Background(), dir, 2<<20, 1, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := runCorpus(context.Background(), &out, dir, 2, 2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"corpus ", "floor ", "engine ", "ratio ", "recall ", "decoys ", "false positives ", "peak RSS ", "targets "} {
		if !strings.Contains(out.String(), "\n"+want) && !strings.HasPrefix(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunHugeSmall(t *testing.T) {
	var out bytes.Buffer
	ok, err := runHuge(context.Background(), &out, "8MiB", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "recall           3/3") {
		t.Errorf("huge stream did not find its plants:\n%s", out.String())
	}
	_ = ok // RSS of a test binary says nothing about the target
}
