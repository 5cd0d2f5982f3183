// Package report renders scan results for people and machines: text for a
// terminal, JSON Lines for streaming pipelines, one JSON document, and SARIF
// 2.1.0 for code-scanning dashboards.
//
// Every format carries only what a finding carries, so no output ever holds
// a secret: AccessKey IDs whole (they are identifiers), secrets redacted to
// at most four characters plus their SHA-256.
//
// Batch output (text, json, sarif) is sorted by path, line, rule, column and
// fingerprint so the same scan always renders byte for byte the same.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/akguard/akguard/shared/finding"
)

// Reporter writes a complete result set.
type Reporter interface {
	Write(w io.Writer, fs []finding.Finding, skips []finding.Skip) error
}

// Rule is the metadata SARIF needs about a detection rule. The CLI fills it
// from detect.Rules(); report does not import detect so that reporters can
// render findings from any producer (the scan function, stored state).
type Rule struct {
	ID          string
	Description string
	Severity    finding.Severity
}

// Scanned describes how much input a scan read; it feeds the stats of the
// json format and the summary of the text format. Zero means unknown.
type Scanned struct {
	Files int64 // top-level inputs opened
	Bytes int64 // decoded bytes handed to the detector
}

// Options configure New.
type Options struct {
	Rules       []Rule // sarif: tool.driver.rules
	ToolVersion string // sarif: tool.driver.version; omitted when empty
	Scanned     Scanned
}

// Formats lists the names New accepts, in the order help text shows them.
func Formats() []string { return []string{"text", "jsonl", "json", "sarif"} }

// New returns the reporter for a format name.
func New(format string, o Options) (Reporter, error) {
	switch format {
	case "text":
		return &Text{Scanned: o.Scanned}, nil
	case "jsonl":
		return JSONL{}, nil
	case "json":
		return &JSON{Scanned: o.Scanned}, nil
	case "sarif":
		return &SARIF{Rules: o.Rules, ToolVersion: o.ToolVersion}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
}

// Sorted returns copies of fs and skips in report order; the inputs are left
// untouched because callers may still be appending to them elsewhere.
func Sorted(fs []finding.Finding, skips []finding.Skip) ([]finding.Finding, []finding.Skip) {
	fs = slices.Clone(fs)
	slices.SortStableFunc(fs, compareFindings)
	skips = slices.Clone(skips)
	slices.SortStableFunc(skips, func(a, b finding.Skip) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Reason, b.Reason),
			cmp.Compare(a.Detail, b.Detail),
		)
	})
	return fs, skips
}

func compareFindings(a, b finding.Finding) int {
	return cmp.Or(
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Fingerprint, b.Fingerprint),
	)
}

// errWriter keeps the first write error so renderers can write freely and
// check once at the end, the way bufio.Writer does.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}
