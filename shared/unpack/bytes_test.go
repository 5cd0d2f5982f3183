package unpack

import (
	"context"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

// TestLeafBytes checks the in-memory fast path: a plain input reaches the
// callback as the caller's own slice, while anything the walker has to
// open (or may have to, like a zip-family name) is streamed as before.
func TestLeafBytes(t *testing.T) {
	text := []byte("AKGUARD_REGION=cn-hangzhou\n")
	tests := []struct {
		name      string
		src       string
		data      []byte
		wantAlias bool // Leaf.Bytes is the Source.Bytes slice itself
	}{
		{name: "plain text", src: "app.env", data: text, wantAlias: true},
		{name: "empty", src: "empty.env", data: []byte{}, wantAlias: true},
		{name: "gzip", src: "app.env.gz", data: gz(t, text)},
		{name: "zip", src: "a.zip", data: zipOf(t, deflated("a.env", string(text)))},
		{name: "plain text with a jar name", src: "launcher.jar", data: text},
	}
	w := New(Limits{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var leaves, aliased int
			err := w.Walk(context.Background(), Source{Name: tc.src, Bytes: tc.data}, func(_ context.Context, l Leaf) error {
				leaves++
				if l.Bytes != nil && len(l.Bytes) == len(tc.data) && (len(tc.data) == 0 || &l.Bytes[0] == &tc.data[0]) {
					aliased++
				}
				return nil
			}, func(s finding.Skip) { t.Errorf("unexpected skip %+v", s) })
			if err != nil {
				t.Fatal(err)
			}
			if leaves != 1 {
				t.Fatalf("got %d leaves, want 1", leaves)
			}
			if got := aliased == 1; got != tc.wantAlias {
				t.Errorf("leaf handed over in place: %v, want %v", got, tc.wantAlias)
			}
		})
	}
}
