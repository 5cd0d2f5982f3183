package scan

import (
	"strings"
	"testing"
)

func TestPathMatcher(t *testing.T) {
	cases := []struct {
		name  string
		globs []string
		path  string
		want  bool
	}{
		{"double star dir anywhere", []string{"**/testdata/**"}, "shared/detect/testdata/a.env", true},
		{"double star dir itself", []string{"**/testdata/**"}, "shared/detect/testdata", true},
		{"double star at root", []string{"**/testdata/**"}, "testdata/x", true},
		{"not a prefix of a name", []string{"**/testdata/**"}, "shared/testdata2/x", false},
		{"rooted vendor tree", []string{"vendor/**"}, "vendor/github.com/x/y.go", true},
		{"rooted vendor dir", []string{"vendor/**"}, "vendor", true},
		{"rooted vendor not nested", []string{"vendor/**"}, "pkg/vendor/x.go", false},
		{"bare name any depth", []string{"*.min.js"}, "web/static/app.min.js", true},
		{"bare name at root", []string{"*.min.js"}, "app.min.js", true},
		{"bare name no match", []string{"*.min.js"}, "app.js", false},
		{"single star one segment", []string{"docs/*.md"}, "docs/a/b.md", false},
		{"single star", []string{"docs/*.md"}, "docs/b.md", true},
		{"leading dot slash", []string{"./vendor/**"}, "./vendor/a", true},
		{"middle double star", []string{"a/**/z.txt"}, "a/b/c/d/z.txt", true},
		{"middle double star zero", []string{"a/**/z.txt"}, "a/z.txt", true},
		{"second glob", []string{"x/**", "*.lock"}, "deep/yarn.lock", true},
		{"no globs", nil, "anything", false},
		{"empty path", []string{"**"}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewPathMatcher(tc.globs)
			if err != nil {
				t.Fatal(err)
			}
			if _, got := m.Match(tc.path); got != tc.want {
				t.Errorf("Match(%q) with %q = %v, want %v", tc.path, tc.globs, got, tc.want)
			}
		})
	}
}

func TestPathMatcherBadGlob(t *testing.T) {
	for _, g := range []string{"[", "a/[b", ""} {
		if _, err := NewPathMatcher([]string{g}); err == nil {
			t.Errorf("NewPathMatcher(%q) accepted a bad glob", g)
		}
	}
}

// A pathological glob must not take exponential time.
func TestPathMatcherManyDoubleStars(t *testing.T) {
	m, err := NewPathMatcher([]string{strings.Repeat("**/a/", 30) + "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Match(strings.Repeat("a/", 200) + "c"); ok {
		t.Fatal("unexpected match")
	}
}

func TestParseIgnore(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# header\n\n   \n# another\n", nil, ""},
		{"plain", "0e012cee54ff896c109dcf036277b883\n", []string{"0e012cee54ff896c109dcf036277b883"}, ""},
		{"trailing note", "a57281732fd29e6afa78643f188c9b8b  # fixture, revoked\n", []string{"a57281732fd29e6afa78643f188c9b8b"}, ""},
		{"upper case folded", "A57281732FD29E6AFA78643F188C9B8B", []string{"a57281732fd29e6afa78643f188c9b8b"}, ""},
		{"crlf and indent", "  0e012cee54ff896c109dcf036277b883\r\n", []string{"0e012cee54ff896c109dcf036277b883"}, ""},
		{"note without hash", "a57281732fd29e6afa78643f188c9b8b fixture\n", nil, "line 1: want one fingerprint"},
		{"too short", "# ok\na5728173\n", nil, "line 2:"},
		{"not hex", "z57281732fd29e6afa78643f188c9b8b\n", nil, "not a fingerprint"},
		{"gitleaks style", "abc:file.go:rule:12\n", nil, "not a fingerprint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIgnore(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, fp := range tc.want {
				if !got[fp] {
					t.Errorf("missing %s in %v", fp, got)
				}
			}
		})
	}
}
