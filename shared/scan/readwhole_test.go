package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReadWhole checks that a file is taken in memory only when it still
// has the size it was listed with; otherwise the engine streams it.
func TestReadWhole(t *testing.T) {
	content := bytes.Repeat([]byte("line of text\n"), 1000)
	tests := []struct {
		name   string
		data   []byte
		listed int64 // size when the tree was walked
		ok     bool
	}{
		{name: "unchanged", data: content, listed: int64(len(content)), ok: true},
		{name: "grew since listed", data: content, listed: int64(len(content)) - 1},
		{name: "shrank since listed", data: content, listed: int64(len(content)) + 1},
		{name: "empty as listed", data: nil, listed: 0, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.txt")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 0, 16) // too small: must grow
			got, ok := readWhole(f, tc.listed, &buf)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && (!bytes.Equal(got, tc.data) || got == nil) {
				t.Errorf("read %d bytes, want the %d of the file", len(got), len(tc.data))
			}
		})
	}
}
