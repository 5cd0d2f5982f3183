package ossscan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
)

// RecordVersion is the schema of a finding record in the state bucket.
const RecordVersion = "akguard.finding/v1"

// Record is one finding in one object version, as stored in the state
// bucket. Like the finding it wraps, it never holds a secret.
type Record struct {
	Version    string          `json:"version"`
	Finding    finding.Finding `json:"finding"`
	Object     incident.Object `json:"object"`
	IncidentID string          `json:"incident_id,omitempty"`
	DetectedAt time.Time       `json:"detected_at"`
	// RequestID is the FC request that created the record.
	RequestID string `json:"request_id,omitempty"`
	// Remediation lists what was done to the object: "acl:private",
	// "tag:<key>=<value>".
	Remediation []string `json:"remediation,omitempty"`
}

// SkipRecord notes an object that could not be scanned at all (too large,
// unreadable), so a gap in coverage is visible in the state bucket.
type SkipRecord struct {
	Version    string          `json:"version"`
	Skip       finding.Skip    `json:"skip"`
	Object     incident.Object `json:"object"`
	RecordedAt time.Time       `json:"recorded_at"`
	RequestID  string          `json:"request_id,omitempty"`
}

// Dispatch states of an incident handed to the respond function.
const (
	DispatchClaimed = "claimed" // an invocation is sending it now
	DispatchSent    = "sent"    // respond accepted it (async 202)
	DispatchFailed  = "failed"  // FC refused it for good (e.g. no such function)
)

// Dispatch records that an incident was (being) sent to respond, so that
// duplicate deliveries and retries send each incident once.
type Dispatch struct {
	IncidentID  string    `json:"incident_id"`
	AccessKeyID string    `json:"access_key_id"`
	State       string    `json:"state"`
	At          time.Time `json:"at"`
	RequestID   string    `json:"request_id,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// NormalizeETag strips the quotes HeadObject puts around an ETag (events
// carry it bare) so both spell the same record key.
func NormalizeETag(etag string) string { return strings.ToUpper(strings.Trim(etag, `"`)) }

// FindingKey is where a finding record lives: one per fingerprint and
// object version.
func FindingKey(bucket, fingerprint, etag string) string {
	return "findings/" + bucket + "/" + fingerprint + "-" + NormalizeETag(etag) + ".json"
}

// SkipKey is where an object-level skip is noted.
func SkipKey(bucket, key, etag string) string {
	sum := sha256.Sum256([]byte(key))
	return "skips/" + bucket + "/" + hex.EncodeToString(sum[:8]) + "-" + NormalizeETag(etag) + ".json"
}

// DispatchKey is the incident's dispatch record.
func DispatchKey(incidentID string) string { return "dispatch/scan/" + incidentID + ".json" }

// takeoverKey names the right to replace one stale dispatch claim (the
// holder's request and time) within one claimTTL window.
func takeoverKey(incidentID string, stale Dispatch, now time.Time) string {
	sum := sha256.Sum256([]byte(stale.RequestID + "\x00" + stale.At.UTC().Format(time.RFC3339Nano)))
	return fmt.Sprintf("dispatch/scan/takeover/%s-%s-%d.json", incidentID, hex.EncodeToString(sum[:8]), now.Unix()/int64(claimTTL/time.Second))
}

// CapRecord notes an object holding more leaked keys than
// MaxIncidentsPerObject: which were sent to respond and which were not.
type CapRecord struct {
	Version    string          `json:"version"`
	Object     incident.Object `json:"object"`
	Limit      int             `json:"limit"`
	Sent       []string        `json:"sent"`
	NotSent    []string        `json:"not_sent"`
	RecordedAt time.Time       `json:"recorded_at"`
	RequestID  string          `json:"request_id,omitempty"`
}

// CapKey is where an object's CapRecord lives.
func CapKey(bucket, key, etag string) string {
	sum := sha256.Sum256([]byte(key))
	return "dispatch/scan/capped/" + bucket + "/" + hex.EncodeToString(sum[:8]) + "-" + NormalizeETag(etag) + ".json"
}

// IncidentID is the stable ID of the leak of one AccessKey in one object
// version: duplicate deliveries of the same upload carry the same ID.
func IncidentID(bucket, key, etag, accessKeyID string) string {
	return incident.ID(incident.SourceScan, bucket, key, NormalizeETag(etag), accessKeyID)
}
