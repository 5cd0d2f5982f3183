package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/akguard/akguard/shared/finding"
)

// Text renders findings for a terminal: one block per finding, then the
// skipped inputs, then a one-line summary.
type Text struct {
	Scanned Scanned
	// Summary, when set, receives the skips and the summary line instead of
	// the main writer, so that the CLI can keep stdout to findings only and
	// still always tell the user what it could not scan (on stderr).
	Summary io.Writer
}

var _ Reporter = (*Text)(nil)

func (t *Text) Write(w io.Writer, fs []finding.Finding, skips []finding.Skip) error {
	fs, skips = Sorted(fs, skips)
	out := &errWriter{w: w}
	for _, f := range fs {
		writeTextFinding(out, f)
	}
	if out.err != nil {
		return fmt.Errorf("write text report: %w", out.err)
	}
	sum := out
	if t.Summary != nil {
		sum = &errWriter{w: t.Summary}
	}
	for _, s := range skips {
		sum.printf("skipped %s: %s", s.Path, s.Reason)
		if s.Detail != "" {
			sum.printf(" (%s)", s.Detail)
		}
		sum.printf("\n")
	}
	sum.printf("%s\n", summaryLine(fs, len(skips), t.Scanned))
	if sum.err != nil {
		return fmt.Errorf("write text summary: %w", sum.err)
	}
	return nil
}

func writeTextFinding(out *errWriter, f finding.Finding) {
	loc := fmt.Sprintf("%s:%d", f.Path, f.Line)
	if f.Column > 0 {
		loc += fmt.Sprintf(":%d", f.Column)
	}
	out.printf("%-8s %s %s\n", f.Severity, f.Rule, loc)
	if f.AccessKeyID != "" {
		out.printf("         access key id  %s\n", f.AccessKeyID)
	}
	if f.SecretRedacted != "" {
		out.printf("         secret         %s  sha256:%s\n", f.SecretRedacted, shortHash(f.SecretSHA256))
	}
	if f.TokenSHA256 != "" {
		out.printf("         sts token      sha256:%s\n", shortHash(f.TokenSHA256))
	}
	out.printf("         encoding       %s\n", f.Encoding)
	out.printf("         fingerprint    %s\n\n", f.Fingerprint)
}

// shortHash is enough of a SHA-256 for a person to compare two findings; the
// machine formats carry the whole hash.
func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func summaryLine(fs []finding.Finding, skips int, sc Scanned) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", len(fs), plural(len(fs), "finding", "findings"))
	if len(fs) > 0 {
		var counts [finding.SeverityCritical + 1]int
		for _, f := range fs {
			if f.Severity >= 0 && f.Severity <= finding.SeverityCritical {
				counts[f.Severity]++
			}
		}
		var parts []string
		for s := finding.SeverityCritical; s >= finding.SeverityInfo; s-- {
			if counts[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			}
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %d skipped", skips)
	if sc.Files > 0 || sc.Bytes > 0 {
		fmt.Fprintf(&b, ", %d %s, %s scanned", sc.Files, plural(int(sc.Files), "file", "files"), HumanBytes(sc.Bytes))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// HumanBytes formats a byte count with binary units ("1.5 MiB").
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
