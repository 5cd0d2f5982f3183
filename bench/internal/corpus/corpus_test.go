package corpus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func hashTree(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	ma, err := Generate(context.Background(), a, 3<<20, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := Generate(context.Background(), b, 3<<20, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ha, hb := hashTree(t, a), hashTree(t, b); ha != hb {
		t.Fatal("same seed gave different corpora")
	}
	// Without its own go.mod the corpus's .go files would break go build ./...
	if _, err := os.Stat(filepath.Join(a, "go.mod")); err != nil {
		t.Fatal(err)
	}
	if len(ma.Planted) == 0 || len(ma.Decoys) == 0 || len(ma.Planted) != len(mb.Planted) {
		t.Fatalf("planted %d/%d decoys %d", len(ma.Planted), len(mb.Planted), len(ma.Decoys))
	}
	if ma.Bytes < 3<<20 || ma.Bytes > 4<<20 {
		t.Errorf("corpus is %d bytes for a 3 MiB target", ma.Bytes)
	}
	c := t.TempDir()
	mc, err := Generate(context.Background(), c, 3<<20, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mc.Planted[0].ID == ma.Planted[0].ID {
		t.Error("different seeds planted the same key")
	}
}

// Each plain plant outside archives must be on the line the manifest says.
func TestPlantsWhereManifestSays(t *testing.T) {
	dir := t.TempDir()
	m, err := Generate(context.Background(), dir, 16<<20, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range m.Planted {
		if p.Encoding != "plain" || strings.Contains(p.Path, "!") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for n := 1; sc.Scan(); n++ {
			if n == p.Line {
				if !bytes.Contains(sc.Bytes(), []byte(p.ID)) {
					t.Errorf("%s:%d (%s) does not hold %s", p.Path, p.Line, p.Context, p.ID)
				}
				checked++
				break
			}
		}
		f.Close()
	}
	if checked < 10 {
		t.Fatalf("only %d plants checked", checked)
	}
	// Every plant's container exists on disk.
	for _, p := range m.Planted {
		outer, _, _ := strings.Cut(p.Path, "!")
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(outer))); err != nil {
			t.Errorf("plant in missing file: %v", err)
		}
	}
}

// Filler must hold nothing credential-like by construction.
func TestFillerClean(t *testing.T) {
	f := newFiller(rand.New(rand.NewPCG(1, 2)))
	for _, kind := range []string{"log", "nginx", "jsonlog", "env", "yaml", "json", "ini", "properties", "go", "java", "py", "js", "csv"} {
		var b []byte
		for i := range 5000 {
			b = f.line(b, kind, i)
		}
		if bytes.Contains(b, []byte("LTAI")) {
			t.Errorf("%s filler contains LTAI", kind)
		}
		for _, tok := range bytes.FieldsFunc(b, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			if len(tok) == 30 {
				t.Errorf("%s filler has a 30-character token %q", kind, tok)
				break
			}
		}
	}
}

func TestGenerateInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, dir, 1<<20, 1, nil); err == nil {
		t.Fatal("canceled Generate succeeded")
	}
	m, err := ReadManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version == Version {
		t.Fatal("an interrupted corpus looks complete")
	}
	if _, err := Generate(context.Background(), dir, 1<<20, 1, nil); err != nil {
		t.Fatalf("could not replace an interrupted corpus: %v", err)
	}
}

func TestGenerateRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), dir, 1<<20, 1, nil); err == nil {
		t.Fatal("Generate replaced a directory that was not a corpus")
	}
}

func TestHuge(t *testing.T) {
	var buf bytes.Buffer
	plants, err := Huge(context.Background(), &buf, "huge.log", 9<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() < 9<<20 || buf.Len() > 9<<20+200 {
		t.Fatalf("wrote %d bytes", buf.Len())
	}
	if len(plants) != 3 {
		t.Fatalf("%d plants, want 3", len(plants))
	}
	lines := strings.Split(buf.String(), "\n")
	for _, p := range plants {
		if !strings.Contains(lines[p.Line-1], p.ID) {
			t.Errorf("plant %s not on line %d", p.ID, p.Line)
		}
	}
	if _, err := Huge(context.Background(), io.Discard, "x", 0, 1); err != nil {
		t.Fatal(err)
	}
}
