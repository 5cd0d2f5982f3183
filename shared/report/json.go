package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/akguard/akguard/shared/finding"
)

// JSON writes one document:
//
//	{"findings":[...],"skips":[...],"stats":{...}}
//
// Both arrays are always present, empty rather than null, so consumers can
// iterate without a nil check.
type JSON struct {
	Scanned Scanned
}

var _ Reporter = (*JSON)(nil)

// Document is the shape of the json format, exported so that consumers in
// Go (tests, the bench runner) decode exactly what is written.
type Document struct {
	Findings []finding.Finding `json:"findings"`
	Skips    []finding.Skip    `json:"skips"`
	Stats    Stats             `json:"stats"`
}

// Stats summarises a result set. Map keys are rendered sorted by
// encoding/json, which keeps the output deterministic.
type Stats struct {
	Findings   int            `json:"findings"`
	Skips      int            `json:"skips"`
	BySeverity map[string]int `json:"by_severity"`
	ByRule     map[string]int `json:"by_rule"`
	BySkip     map[string]int `json:"by_skip_reason"`
	Files      int64          `json:"files_scanned,omitempty"`
	Bytes      int64          `json:"bytes_scanned,omitempty"`
}

// NewStats counts a result set.
func NewStats(fs []finding.Finding, skips []finding.Skip, sc Scanned) Stats {
	st := Stats{
		Findings:   len(fs),
		Skips:      len(skips),
		BySeverity: map[string]int{},
		ByRule:     map[string]int{},
		BySkip:     map[string]int{},
		Files:      sc.Files,
		Bytes:      sc.Bytes,
	}
	for _, f := range fs {
		st.BySeverity[f.Severity.String()]++
		st.ByRule[f.Rule]++
	}
	for _, s := range skips {
		st.BySkip[string(s.Reason)]++
	}
	return st
}

func (j *JSON) Write(w io.Writer, fs []finding.Finding, skips []finding.Skip) error {
	fs, skips = Sorted(fs, skips)
	doc := Document{
		Findings: fs,
		Skips:    skips,
		Stats:    NewStats(fs, skips, j.Scanned),
	}
	if doc.Findings == nil {
		doc.Findings = []finding.Finding{}
	}
	if doc.Skips == nil {
		doc.Skips = []finding.Skip{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
