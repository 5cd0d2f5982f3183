package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/akguard/akguard/shared/finding"
)

// SARIF writes a SARIF 2.1.0 log (OASIS standard,
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html) with one
// run. Findings become results; skipped inputs become tool execution
// notifications (§3.20.21) so that a dashboard shows what was not scanned.
//
// partialFingerprints carries "akguard/v1": the finding fingerprint, which
// does not depend on the line, so an alert survives unrelated edits.
type SARIF struct {
	Rules       []Rule
	ToolVersion string
}

var _ Reporter = (*SARIF)(nil)

const (
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion = "2.1.0"
	// FingerprintKey names our fingerprint in partialFingerprints; the
	// version suffix follows the SARIF convention (§3.27.17).
	FingerprintKey = "akguard/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	ShortDescription     sarifText         `json:"shortDescription"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

// sarifRuleProperty carries "security-severity", the property GitHub code
// scanning reads to rank security alerts (a number 0.0-10.0 as a string).
type sarifRuleProperty struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Descriptor sarifDescriptor `json:"descriptor"`
	Locations  []sarifLocation `json:"locations"`
}

type sarifDescriptor struct {
	ID string `json:"id"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifResultProps struct {
	Severity       string `json:"severity"`
	AccessKeyID    string `json:"accessKeyId,omitempty"`
	SecretRedacted string `json:"secretRedacted,omitempty"`
	SecretSHA256   string `json:"secretSha256,omitempty"`
	TokenSHA256    string `json:"tokenSha256,omitempty"`
	Encoding       string `json:"encoding"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

func (s *SARIF) Write(w io.Writer, fs []finding.Finding, skips []finding.Skip) error {
	fs, skips = Sorted(fs, skips)
	driver := sarifDriver{
		Name:           "akguard",
		InformationURI: "https://github.com/akguard/akguard",
		Version:        s.ToolVersion,
		Rules:          []sarifRule{},
	}
	index := map[string]int{}
	addRule := func(r Rule) int {
		if i, ok := index[r.ID]; ok {
			return i
		}
		index[r.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRule{
			ID:                   r.ID,
			ShortDescription:     sarifText{Text: r.Description},
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(r.Severity)},
			Properties: sarifRuleProperty{
				Tags:             []string{"security", "secret"},
				SecuritySeverity: securitySeverity(r.Severity),
			},
		})
		return index[r.ID]
	}
	for _, r := range s.Rules {
		addRule(r)
	}

	results := make([]sarifResult, 0, len(fs))
	for _, f := range fs {
		// A finding from a rule the caller did not list still gets a rule
		// entry: SARIF consumers reject a ruleIndex that points nowhere.
		desc := f.Description
		if desc == "" {
			desc = f.Rule
		}
		i := addRule(Rule{ID: f.Rule, Description: desc, Severity: f.Severity})
		results = append(results, sarifResult{
			RuleID:              f.Rule,
			RuleIndex:           i,
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{Text: resultMessage(f, driver.Rules[i].ShortDescription.Text)},
			Locations:           []sarifLocation{location(f.Path, f.Line, f.Column)},
			PartialFingerprints: map[string]string{FingerprintKey: f.Fingerprint},
			Properties: sarifResultProps{
				Severity:       f.Severity.String(),
				AccessKeyID:    f.AccessKeyID,
				SecretRedacted: f.SecretRedacted,
				SecretSHA256:   f.SecretSHA256,
				TokenSHA256:    f.TokenSHA256,
				Encoding:       f.Encoding,
			},
		})
	}

	notes := make([]sarifNotification, 0, len(skips))
	for _, sk := range skips {
		msg := "not scanned: " + string(sk.Reason)
		if sk.Detail != "" {
			msg += " (" + sk.Detail + ")"
		}
		notes = append(notes, sarifNotification{
			Level:      "warning",
			Message:    sarifText{Text: msg},
			Descriptor: sarifDescriptor{ID: string(sk.Reason)},
			Locations:  []sarifLocation{location(sk.Path, 0, 0)},
		})
	}

	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: driver},
			Invocations: []sarifInvocation{{ExecutionSuccessful: true, ToolExecutionNotifications: notes}},
			Results:     results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	return nil
}

// resultMessage never includes the secret, not even redacted: SARIF messages
// are shown in PR annotations and mails, where the ID alone is enough.
func resultMessage(f finding.Finding, desc string) string {
	var b strings.Builder
	b.WriteString(desc)
	if f.AccessKeyID != "" {
		b.WriteString(": AccessKey ID ")
		b.WriteString(f.AccessKeyID)
	}
	if f.Encoding != "" && f.Encoding != "plain" {
		b.WriteString(" (encoded: ")
		b.WriteString(f.Encoding)
		b.WriteString(")")
	}
	return b.String()
}

func location(path string, line, col int) sarifLocation {
	l := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: ArtifactURI(path)}}}
	if line > 0 {
		l.PhysicalLocation.Region = &sarifRegion{StartLine: line, StartColumn: col}
	}
	return l
}

// sarifLevel maps severities onto the three SARIF result levels (§3.27.10).
func sarifLevel(s finding.Severity) string {
	switch {
	case s >= finding.SeverityHigh:
		return "error"
	case s == finding.SeverityMedium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity follows GitHub's bands: >= 9.0 critical, 7.0-8.9 high,
// 4.0-6.9 medium, 0.1-3.9 low.
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "9.5"
	case finding.SeverityHigh:
		return "8.0"
	case finding.SeverityMedium:
		return "5.5"
	case finding.SeverityLow:
		return "3.0"
	default:
		return "0.0"
	}
}

// ArtifactURI turns a finding path into a SARIF artifactLocation.uri (§3.4.3
// requires a valid URI reference). Relative paths stay relative so that a
// dashboard resolves them against the repository root; absolute paths become
// file: URIs; oss://bucket/key stays as it is with its key escaped. The
// archive separator "!" is a legal sub-delim and is kept readable.
func ArtifactURI(p string) string {
	if scheme, rest, ok := strings.Cut(p, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, "/\\!") {
		return scheme + "://" + escapePath(rest)
	}
	p = filepath.ToSlash(p)
	if strings.HasPrefix(p, "/") {
		return "file://" + escapePath(p)
	}
	u := escapePath(p)
	// A colon before the first slash would read as a URI scheme.
	if first, _, _ := strings.Cut(u, "/"); strings.Contains(first, ":") {
		u = strings.Replace(u, ":", "%3A", strings.Count(first, ":"))
	}
	return u
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "%21", "!")
	}
	return strings.Join(segs, "/")
}
