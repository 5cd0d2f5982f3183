package scan

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// IgnoreFileName is looked up in each scanned root directory.
const IgnoreFileName = ".akguardignore"

// ParseIgnore reads an ignore file: the fingerprints of findings that were
// reviewed and accepted (test fixtures, revoked keys).
//
// Format, one entry per line:
//
//	# comment lines start with "#"
//	0e012cee54ff896c109dcf036277b883
//	a57281732fd29e6afa78643f188c9b8b  # note: fixture, key revoked 2026-03
//
// Blank lines are ignored. A fingerprint is the 32 hex digits akguard prints
// as "fingerprint"; anything after it must be a "#" comment. Any other line
// is an error naming its line number: a typo must not silently un-ignore,
// or worse, appear to ignore, a finding.
func ParseIgnore(r io.Reader) (map[string]bool, error) {
	set := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fp, rest, _ := strings.Cut(line, "#")
		if len(rest) == len(line) {
			rest = ""
		}
		fields := strings.Fields(fp)
		if len(fields) != 1 {
			return nil, fmt.Errorf("line %d: want one fingerprint, optionally followed by # comment", n)
		}
		fp = strings.ToLower(fields[0])
		if b, err := hex.DecodeString(fp); err != nil || len(b) != 16 {
			return nil, fmt.Errorf("line %d: %q is not a fingerprint (32 hex digits)", n, truncate(fields[0], 40))
		}
		set[fp] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ignore file: %w", err)
	}
	return set, nil
}

// LoadIgnore parses the ignore file at path. A missing file is an error
// here; callers probing a root for an optional file check os.ErrNotExist.
func LoadIgnore(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open ignore file: %w", err)
	}
	defer f.Close()
	// Bound the read: an ignore file is hand-written, megabytes mean a mistake.
	set, err := ParseIgnore(io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return set, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
