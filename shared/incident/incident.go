// Package incident is the contract between the detectors (scan, audit, a
// person with `s invoke`) and the respond function: one suspected leak of
// one AccessKey, with the evidence, in a versioned JSON document that never
// holds a secret.
package incident

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

// Version is the schema of this document; respond rejects others.
const Version = "akguard.incident/v1"

// Sources of an incident.
const (
	SourceScan   = "scan"   // plaintext key found in an OSS object
	SourceAudit  = "audit"  // abnormal use seen in ActionTrail
	SourceManual = "manual" // reported by a person
)

// Actions a manual event may request.
const (
	ActionContain = "contain" // default: attach the deny policy (and disable per config)
	ActionRelease = "release" // detach the deny policy after the key was rotated
)

// ErrInvalid marks a document respond can never act on (no retry helps).
var ErrInvalid = errors.New("invalid incident")

// Incident is one suspected leak of one AccessKey.
type Incident struct {
	Version string `json:"version"`
	// ID is the idempotency key: the same leak reported twice (duplicate
	// trigger delivery, FC retry) carries the same ID.
	ID          string           `json:"id"`
	Source      string           `json:"source"`
	Action      string           `json:"action,omitempty"`
	AccessKeyID string           `json:"access_key_id"`
	Severity    finding.Severity `json:"severity"`
	DetectedAt  time.Time        `json:"detected_at"`
	Summary     string           `json:"summary,omitempty"`
	// Object is where scan found the key.
	Object *Object `json:"object,omitempty"`
	// Findings are the redacted findings for this key (scan).
	Findings []finding.Finding `json:"findings,omitempty"`
	// Audit carries the ActionTrail evidence (audit): the audit package's
	// incident JSON, kept raw so respond forwards it unchanged.
	Audit json.RawMessage `json:"audit,omitempty"`
	// Reporter and Reason are set on manual incidents.
	Reporter string `json:"reporter,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// DryRun forces a dry run of this incident whatever the configuration.
	DryRun bool `json:"dry_run,omitempty"`
	// Force lets a manual release detach the deny policy while the leaked
	// key is still Active (the responder takes responsibility).
	Force bool `json:"force,omitempty"`
}

// Object locates a scanned object and its exposure.
type Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag,omitempty"`
	Size   int64  `json:"size,omitempty"`
	// ACL is the effective ACL: private, public-read, public-read-write.
	ACL string `json:"acl,omitempty"`
	// Public is true when anyone on the internet could read the object.
	Public bool `json:"public,omitempty"`
}

// ID derives a stable incident ID from its parts (e.g. source, bucket,
// key, ETag, AccessKey ID).
func ID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

var keyIDRE = regexp.MustCompile(`^(LTAI[A-Za-z0-9]{12,28}|STS\.[A-Za-z0-9]{8,64}|[A-Za-z0-9]{16})$`)

// Parse decodes and validates an incident; unknown fields are rejected
// because a typo in a hand-written `s invoke` event must not silently
// change what respond does.
func Parse(data []byte) (Incident, error) {
	var in Incident
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("%w: decode: %v", ErrInvalid, err)
	}
	return in, in.Validate()
}

// Validate checks the fields respond relies on.
func (in Incident) Validate() error {
	switch {
	case in.Version != Version:
		return fmt.Errorf("%w: version is not %q", ErrInvalid, Version)
	case in.ID == "":
		return fmt.Errorf("%w: id is required", ErrInvalid)
	case in.Source != SourceScan && in.Source != SourceAudit && in.Source != SourceManual:
		return fmt.Errorf("%w: source is not scan, audit or manual", ErrInvalid)
	case in.Action != "" && in.Action != ActionContain && in.Action != ActionRelease:
		return fmt.Errorf("%w: action is not contain or release", ErrInvalid)
	case !keyIDRE.MatchString(in.AccessKeyID):
		// The value is not echoed: a person may paste a secret where the ID goes.
		return fmt.Errorf("%w: access_key_id is not an AccessKey ID", ErrInvalid)
	}
	for _, f := range in.Findings {
		if len(strings.TrimRight(f.SecretRedacted, "*")) > 4 {
			return fmt.Errorf("%w: a finding carries more than 4 characters of a secret", ErrInvalid)
		}
	}
	return nil
}
