package scan

import (
	"fmt"
	"path"
	"strings"
)

// PathMatcher matches slash-separated paths against allowlist globs.
//
// Glob syntax is path.Match per segment, plus "**" as a whole segment that
// matches zero or more segments. A glob without a "/" matches a name at any
// depth, as in .gitignore ("*.min.js" = "**/*.min.js"). Because "**" may
// match nothing, "vendor/**" matches the directory "vendor" itself, which
// lets a walk skip the whole tree at once.
type PathMatcher struct {
	globs []glob
}

type glob struct {
	text string
	segs []string
}

// NewPathMatcher compiles globs, rejecting malformed ones.
func NewPathMatcher(globs []string) (*PathMatcher, error) {
	m := &PathMatcher{}
	for _, g := range globs {
		text := g
		g = strings.TrimPrefix(strings.TrimSpace(g), "./")
		if g == "" {
			return nil, fmt.Errorf("empty path glob")
		}
		if !strings.Contains(g, "/") {
			g = "**/" + g
		}
		segs := strings.Split(strings.Trim(g, "/"), "/")
		for _, s := range segs {
			if s == "**" {
				continue
			}
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("path glob %q: %w", text, err)
			}
		}
		m.globs = append(m.globs, glob{text: text, segs: segs})
	}
	return m, nil
}

// Match reports whether p (slash-separated, relative) matches any glob and
// returns the first glob that did, for the skip detail.
func (m *PathMatcher) Match(p string) (string, bool) {
	if m == nil || len(m.globs) == 0 {
		return "", false
	}
	p = strings.Trim(strings.TrimPrefix(p, "./"), "/")
	if p == "" || p == "." {
		return "", false
	}
	segs := strings.Split(p, "/")
	for _, g := range m.globs {
		if matchSegs(g.segs, segs) {
			return g.text, true
		}
	}
	return "", false
}

// matchSegs is the classic wildcard dynamic programme over segments, so a
// pattern with many "**" stays O(len(pat)*len(segs)) instead of exponential.
func matchSegs(pat, segs []string) bool {
	// ok[j]: pat[:i] matches segs[:j]
	ok := make([]bool, len(segs)+1)
	ok[0] = true
	for _, p := range pat {
		next := make([]bool, len(segs)+1)
		if p == "**" {
			seen := false
			for j := range ok {
				seen = seen || ok[j]
				next[j] = seen
			}
		} else {
			for j := 1; j <= len(segs); j++ {
				if ok[j-1] {
					matched, _ := path.Match(p, segs[j-1])
					next[j] = matched
				}
			}
		}
		ok = next
	}
	return ok[len(segs)]
}
