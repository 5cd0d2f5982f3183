package scan

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/akguard/akguard/shared/detect"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/unpack"
)

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// keyGen draws synthetic keys from a fixed seed: random base62 with every
// character class present, so they look like real keys without being any.
// These tests are about the engine, not about the detector's judgement of
// randomness, so keyGen keeps only pairs the detector alone reports as a
// pair: a detector change then cannot fail an engine test by accident.
type keyGen struct {
	r   *rand.Rand
	det *detect.Detector
}

func newKeyGen(seed uint64) *keyGen {
	det, err := detect.New(detect.Config{})
	if err != nil {
		panic(err)
	}
	return &keyGen{rand.New(rand.NewPCG(seed, 99)), det}
}

func (k *keyGen) token(n int) string {
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = base62[k.r.IntN(62)]
		}
		s := string(b)
		if strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(s, "0123456789") {
			return s
		}
	}
}

// envPair returns a .env snippet holding a fresh pair, and the pair's ID.
func (k *keyGen) envPair() (string, string) {
	for {
		id := "LTAI" + k.token(20)
		text := fmt.Sprintf("# synthetic test key\nALIBABA_CLOUD_ACCESS_KEY_ID=%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n", id, k.token(30))
		var got []finding.Finding
		k.det.ScanBytes(context.Background(), "probe", []byte(text), func(f finding.Finding) { got = append(got, f) })
		if len(got) == 1 && got[0].Rule == detect.RuleAccessKeyPair && got[0].AccessKeyID == id {
			return text, id
		}
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tree lays out a scan root; pairs maps a relative path to the ID planted
// there.
type tree struct {
	root  string
	pairs map[string]string
}

func makeTree(t *testing.T) tree {
	t.Helper()
	k := newKeyGen(1)
	tr := tree{root: t.TempDir(), pairs: map[string]string{}}
	plant := func(rel string) {
		text, id := k.envPair()
		writeFile(t, filepath.Join(tr.root, rel), []byte(text))
		tr.pairs[rel] = id
	}
	plant("app/.env")
	plant("vendor/lib/creds.env")
	plant("pkg/testdata/fixture.env")
	plant(".git/config")
	plant("deep/a/b/c/d/prod.env")
	writeFile(t, filepath.Join(tr.root, "README.md"), []byte("Set ALIBABA_CLOUD_ACCESS_KEY_ID=<your-access-key-id> first.\n"))
	text, id := k.envPair()
	writeFile(t, filepath.Join(tr.root, "dist/bundle.zip"), zipOf(t, map[string]string{"inner/creds.env": text, "inner/readme.txt": "nothing here\n"}))
	tr.pairs["dist/bundle.zip!inner/creds.env"] = id
	if err := os.Symlink(filepath.Join(tr.root, "app/.env"), filepath.Join(tr.root, "link.env")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(tr.root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr
}

// recorder is a Sink that also checks the Engine's promise never to call
// it concurrently.
type recorder struct {
	inFlight   atomic.Int32
	concurrent atomic.Bool
	findings   []finding.Finding
	skips      []finding.Skip
	scanned    map[string]int64
}

func (r *recorder) enter() func() {
	if r.inFlight.Add(1) > 1 {
		r.concurrent.Store(true)
	}
	return func() { r.inFlight.Add(-1) }
}

func (r *recorder) Finding(f finding.Finding) { defer r.enter()(); r.findings = append(r.findings, f) }
func (r *recorder) Skip(s finding.Skip)       { defer r.enter()(); r.skips = append(r.skips, s) }
func (r *recorder) Scanned(name string, n int64) {
	defer r.enter()()
	if r.scanned == nil {
		r.scanned = map[string]int64{}
	}
	r.scanned[name] += n
}

func (r *recorder) pairPaths(root string) []string {
	var out []string
	for _, f := range r.findings {
		if f.Rule == detect.RuleAccessKeyPair {
			rel, _ := filepath.Rel(root, f.Path)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	slices.Sort(out)
	return out
}

func (r *recorder) skipSet(root string) []string {
	var out []string
	for _, s := range r.skips {
		rel, _ := filepath.Rel(root, s.Path)
		out = append(out, filepath.ToSlash(rel)+" "+string(s.Reason))
	}
	slices.Sort(out)
	return out
}

func TestScanPaths(t *testing.T) {
	tr := makeTree(t)
	cases := []struct {
		name      string
		opts      Options
		wantPairs []string
		wantSkips []string
	}{
		{
			name:      "defaults skip vcs metadata and special files",
			wantPairs: []string{"app/.env", "deep/a/b/c/d/prod.env", "dist/bundle.zip!inner/creds.env", "pkg/testdata/fixture.env", "vendor/lib/creds.env"},
			wantSkips: []string{".git allowlisted_path", "link.env not_regular", "pipe not_regular"},
		},
		{
			name:      "path allowlist prunes whole trees",
			opts:      Options{PathAllow: []string{"vendor/**", "**/testdata/**"}},
			wantPairs: []string{"app/.env", "deep/a/b/c/d/prod.env", "dist/bundle.zip!inner/creds.env"},
			wantSkips: []string{".git allowlisted_path", "link.env not_regular", "pipe not_regular", "pkg/testdata allowlisted_path", "vendor allowlisted_path"},
		},
		{
			name:      "allowlist applies inside archives",
			opts:      Options{PathAllow: []string{"inner/creds.env"}},
			wantPairs: []string{"app/.env", "deep/a/b/c/d/prod.env", "pkg/testdata/fixture.env", "vendor/lib/creds.env"},
			wantSkips: []string{".git allowlisted_path", "dist/bundle.zip!inner/creds.env allowlisted_path", "link.env not_regular", "pipe not_regular"},
		},
		{
			name:      "file glob at any depth",
			opts:      Options{PathAllow: []string{"*.zip", "prod.env"}},
			wantPairs: []string{"app/.env", "pkg/testdata/fixture.env", "vendor/lib/creds.env"},
			wantSkips: []string{".git allowlisted_path", "deep/a/b/c/d/prod.env allowlisted_path", "dist/bundle.zip allowlisted_path", "link.env not_regular", "pipe not_regular"},
		},
		{
			name:      "vcs metadata on request",
			opts:      Options{ScanVCS: true, Workers: 1},
			wantPairs: []string{".git/config", "app/.env", "deep/a/b/c/d/prod.env", "dist/bundle.zip!inner/creds.env", "pkg/testdata/fixture.env", "vendor/lib/creds.env"},
			wantSkips: []string{"link.env not_regular", "pipe not_regular"},
		},
		{
			name:      "archive depth limit",
			opts:      Options{Limits: unpack.Limits{MaxDepth: 1}, PathAllow: []string{"vendor/**", "pkg/**", "deep/**"}},
			wantPairs: []string{"app/.env", "dist/bundle.zip!inner/creds.env"},
			wantSkips: []string{".git allowlisted_path", "deep allowlisted_path", "link.env not_regular", "pipe not_regular", "pkg allowlisted_path", "vendor allowlisted_path"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			if err := e.ScanPaths(context.Background(), []string{tr.root}, rec); err != nil {
				t.Fatal(err)
			}
			if got := rec.pairPaths(tr.root); !slices.Equal(got, tc.wantPairs) {
				t.Errorf("pairs\n got %q\nwant %q", got, tc.wantPairs)
			}
			if got := rec.skipSet(tr.root); !slices.Equal(got, tc.wantSkips) {
				t.Errorf("skips\n got %q\nwant %q", got, tc.wantSkips)
			}
			for _, f := range rec.findings {
				rel, _ := filepath.Rel(tr.root, f.Path)
				if want := tr.pairs[filepath.ToSlash(rel)]; f.AccessKeyID != want {
					t.Errorf("%s: reported %s, planted %s", rel, f.AccessKeyID, want)
				}
			}
			if rec.concurrent.Load() {
				t.Error("sink called concurrently")
			}
		})
	}
}

func TestScanPathsArguments(t *testing.T) {
	tr := makeTree(t)
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("missing path is an error", func(t *testing.T) {
		err := e.ScanPaths(context.Background(), []string{tr.root, filepath.Join(tr.root, "nope")}, &recorder{})
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error = %v, want not exist", err)
		}
	})
	t.Run("special file argument is an error", func(t *testing.T) {
		if err := e.ScanPaths(context.Background(), []string{filepath.Join(tr.root, "pipe")}, &recorder{}); err == nil {
			t.Fatal("no error for a fifo argument")
		}
	})
	t.Run("file and symlink arguments are followed", func(t *testing.T) {
		rec := &recorder{}
		args := []string{filepath.Join(tr.root, "link.env"), filepath.Join(tr.root, "deep/a/b/c/d/prod.env")}
		if err := e.ScanPaths(context.Background(), args, rec); err != nil {
			t.Fatal(err)
		}
		if got := rec.pairPaths(tr.root); !slices.Equal(got, []string{"deep/a/b/c/d/prod.env", "link.env"}) {
			t.Errorf("pairs %q", got)
		}
	})
	t.Run("symlinked root directory is walked", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "rootlink")
		if err := os.Symlink(filepath.Join(tr.root, "deep"), link); err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		if err := e.ScanPaths(context.Background(), []string{link}, rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.findings) != 1 || rec.findings[0].Path != filepath.Join(link, "a/b/c/d/prod.env") {
			t.Errorf("findings %+v", rec.findings)
		}
	})
	t.Run("repeated argument is scanned once", func(t *testing.T) {
		rec := &recorder{}
		if err := e.ScanPaths(context.Background(), []string{tr.root, tr.root + "/", filepath.Join(tr.root, "app/.env")}, rec); err != nil {
			t.Fatal(err)
		}
		got := rec.pairPaths(tr.root)
		if !slices.Equal(got, []string{"app/.env", "app/.env", "deep/a/b/c/d/prod.env", "dist/bundle.zip!inner/creds.env", "pkg/testdata/fixture.env", "vendor/lib/creds.env"}) {
			t.Errorf("pairs %q", got)
		}
	})
	t.Run("counter sees every input once", func(t *testing.T) {
		rec := &recorder{}
		if err := e.ScanPaths(context.Background(), []string{tr.root}, rec); err != nil {
			t.Fatal(err)
		}
		// app/.env, vendor, testdata, deep, README, bundle.zip
		if len(rec.scanned) != 6 {
			t.Errorf("scanned %d inputs: %v", len(rec.scanned), rec.scanned)
		}
		fi, _ := os.Stat(filepath.Join(tr.root, "app/.env"))
		if got := rec.scanned[filepath.Join(tr.root, "app/.env")]; got != fi.Size() {
			t.Errorf("app/.env counted %d bytes, size %d", got, fi.Size())
		}
	})
}

func TestIgnoredFingerprintsDropped(t *testing.T) {
	tr := makeTree(t)
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := &recorder{}
	if err := e.ScanPaths(context.Background(), []string{tr.root}, all); err != nil {
		t.Fatal(err)
	}
	if len(all.findings) < 2 {
		t.Fatalf("need findings to ignore, got %d", len(all.findings))
	}
	drop := all.findings[0].Fingerprint
	e, err = New(Options{Detect: detect.Config{Allow: detect.Allowlist{Fingerprints: map[string]bool{drop: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	some := &recorder{}
	if err := e.ScanPaths(context.Background(), []string{tr.root}, some); err != nil {
		t.Fatal(err)
	}
	if len(some.findings) != len(all.findings)-1 {
		t.Fatalf("%d findings with one ignored, %d without", len(some.findings), len(all.findings))
	}
	for _, f := range some.findings {
		if f.Fingerprint == drop {
			t.Fatal("ignored fingerprint reported")
		}
	}
}

func TestScanStream(t *testing.T) {
	k := newKeyGen(5)
	text, id := k.envPair()
	zipped := zipOf(t, map[string]string{"a/b.env": text})
	cases := []struct {
		name     string
		src      unpack.Source
		wantPath string
	}{
		{"plain stdin", unpack.Source{Name: "stdin", R: strings.NewReader("x\n" + text), Size: -1}, "stdin"},
		{"zip without random access is spooled", unpack.Source{Name: "stdin", R: bytes.NewReader(zipped), Size: -1}, "stdin!a/b.env"},
		{"zip with random access", unpack.Source{Name: "up.zip", R: bytes.NewReader(zipped), RA: bytes.NewReader(zipped), Size: int64(len(zipped))}, "up.zip!a/b.env"},
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			if err := e.Scan(context.Background(), tc.src, rec); err != nil {
				t.Fatal(err)
			}
			if len(rec.findings) != 1 || rec.findings[0].Path != tc.wantPath || rec.findings[0].AccessKeyID != id {
				t.Fatalf("findings %+v, want one at %s", rec.findings, tc.wantPath)
			}
		})
	}
}

type failingReader struct{ after int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("device unplugged")
	}
	n := min(len(p), r.after)
	for i := range n {
		p[i] = 'a'
	}
	r.after -= n
	return n, nil
}

func TestScanUnreadableStreamIsSkip(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := e.Scan(context.Background(), unpack.Source{Name: "flaky", R: &failingReader{after: 100 << 10}, Size: -1}, rec); err != nil {
		t.Fatalf("Scan returned %v; an unreadable stream must be a skip", err)
	}
	if len(rec.skips) != 1 || rec.skips[0].Reason != finding.SkipUnreadable || rec.skips[0].Path != "flaky" {
		t.Fatalf("skips %+v", rec.skips)
	}
}

func TestScanPathsMaxSize(t *testing.T) {
	root := t.TempDir()
	k := newKeyGen(9)
	small, _ := k.envPair()
	big, _ := k.envPair()
	writeFile(t, filepath.Join(root, "small.env"), []byte(small))
	writeFile(t, filepath.Join(root, "big.env"), append([]byte(big), bytes.Repeat([]byte("#\n"), 4096)...))
	e, err := New(Options{Limits: unpack.Limits{MaxMemberBytes: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := e.ScanPaths(context.Background(), []string{root}, rec); err != nil {
		t.Fatal(err)
	}
	if got := rec.skipSet(root); !slices.Equal(got, []string{"big.env too_large"}) {
		t.Errorf("skips %q", got)
	}
	if got := rec.pairPaths(root); !slices.Equal(got, []string{"small.env"}) {
		t.Errorf("pairs %q", got)
	}
}

func TestScanPathsExclude(t *testing.T) {
	root := t.TempDir()
	k := newKeyGen(11)
	a, _ := k.envPair()
	writeFile(t, filepath.Join(root, "report.json"), []byte(a))
	e, err := New(Options{Exclude: []string{filepath.Join(root, "report.json")}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := e.ScanPaths(context.Background(), []string{root}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.findings) != 0 || len(rec.skips) != 1 || rec.skips[0].Reason != finding.SkipAllowlistedPath {
		t.Fatalf("findings %v skips %v", rec.findings, rec.skips)
	}
}

// Many files over many workers: every planted pair once, sink never
// entered concurrently.
func TestScanPathsParallel(t *testing.T) {
	root := t.TempDir()
	k := newKeyGen(13)
	want := map[string]bool{}
	for i := range 200 {
		text, id := k.envPair()
		writeFile(t, filepath.Join(root, fmt.Sprintf("d%d/f%03d.env", i%7, i)), []byte(strings.Repeat("PORT=8080\n", i)+text))
		want[id] = true
	}
	e, err := New(Options{Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := e.ScanPaths(context.Background(), []string{root}, rec); err != nil {
		t.Fatal(err)
	}
	if rec.concurrent.Load() {
		t.Error("sink called concurrently")
	}
	got := map[string]bool{}
	for _, f := range rec.findings {
		if got[f.AccessKeyID] {
			t.Errorf("%s reported twice", f.AccessKeyID)
		}
		got[f.AccessKeyID] = true
	}
	if len(got) != len(want) {
		t.Errorf("found %d of %d pairs", len(got), len(want))
	}
}

func TestScanPathsCanceled(t *testing.T) {
	root := t.TempDir()
	for i := range 50 {
		writeFile(t, filepath.Join(root, fmt.Sprintf("f%d.txt", i)), bytes.Repeat([]byte("hello\n"), 1000))
	}
	e, err := New(Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.ScanPaths(ctx, []string{root}, &recorder{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.Scan(ctx, unpack.Source{Name: "x", R: strings.NewReader("abc"), Size: 3}, &recorder{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Scan error = %v, want context.Canceled", err)
		}
	})
	wg.Wait()
}

func TestNewRejectsBadGlob(t *testing.T) {
	if _, err := New(Options{PathAllow: []string{"a/[b"}}); err == nil {
		t.Fatal("bad glob accepted")
	}
}
