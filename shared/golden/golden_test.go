package golden_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/golden"
)

// recorder keeps a check's failures instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, f) }
func (r *recorder) Fatalf(f string, a ...any) { r.errs = append(r.errs, f) }
func (r *recorder) Fatal(a ...any)            { r.errs = append(r.errs, "fatal") }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "out.json")
	r := &recorder{TB: t}
	golden.JSON(r, path, map[string]int{"a": 1}, true)
	if len(r.errs) != 0 {
		t.Fatalf("update: %v", r.errs)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "{\n  \"a\": 1\n}\n" {
		t.Fatalf("written %q, %v", b, err)
	}
	golden.JSON(r, path, map[string]int{"a": 1}, false)
	if len(r.errs) != 0 {
		t.Fatalf("same output reported: %v", r.errs)
	}
	golden.JSON(r, path, map[string]int{"a": 2}, false)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "differs") {
		t.Fatalf("changed output not reported: %v", r.errs)
	}
	golden.Check(r, filepath.Join(t.TempDir(), "missing"), []byte("x"), false)
	if len(r.errs) != 2 || !strings.Contains(r.errs[1], "read golden") {
		t.Fatalf("missing golden file not reported: %v", r.errs)
	}
}

func TestFirstDiff(t *testing.T) {
	if got := golden.FirstDiff([]byte("a\nb\nc"), []byte("a\nB\nc")); got != "line 2:\n- b\n+ B" {
		t.Errorf("FirstDiff = %q", got)
	}
	if got := golden.FirstDiff([]byte("a"), []byte("a")); got != "(no line differs)" {
		t.Errorf("FirstDiff = %q", got)
	}
}
