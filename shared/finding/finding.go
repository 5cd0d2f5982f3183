// Package finding defines what a scan reports: a credential found in a
// stream (always redacted) or a stream that could not be scanned (with a
// named reason). It is the contract between the detection engine, the
// container walker, the reporters and the cloud functions.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Severity orders findings; a higher value is more urgent.
type Severity int

const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "unknown"
	}
	return severityNames[s]
}

// ParseSeverity is the inverse of String.
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if strings.EqualFold(n, s) {
			return Severity(i), true
		}
	}
	return SeverityInfo, false
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return &UnknownSeverityError{Value: string(b)}
	}
	*s = v
	return nil
}

// UnknownSeverityError reports a severity name that is not one of ours.
type UnknownSeverityError struct{ Value string }

func (e *UnknownSeverityError) Error() string { return "unknown severity " + quote(e.Value) }

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return `"` + s + `"`
}

// Finding is one credential found in one stream. It never holds a secret:
// the secret is kept only as a redacted form (at most 4 characters) and a
// SHA-256, so a finding can be logged, stored and sent anywhere.
type Finding struct {
	// Path names the stream: a file path, an oss://bucket/key URL, with
	// archive members appended as "outer.zip!inner/path".
	Path string `json:"path"`
	// Line is 1-based, counted in the decoded member.
	Line int `json:"line"`
	// Column is the 1-based byte column of the AccessKey ID (or the secret
	// when there is no ID) on that line, in the decoded stream.
	Column   int      `json:"column,omitempty"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// AccessKeyID is an identifier, not a secret, and is reported whole.
	AccessKeyID    string `json:"access_key_id,omitempty"`
	SecretRedacted string `json:"secret_redacted,omitempty"`
	// SecretSHA256 is the hex SHA-256 of the secret exactly as found; empty
	// when the finding has no secret.
	SecretSHA256 string `json:"secret_sha256"`
	// TokenSHA256 is the hex SHA-256 of an STS security token found with an
	// STS key; empty otherwise.
	TokenSHA256 string `json:"token_sha256,omitempty"`
	// Encoding lists the decoding steps that revealed the credential,
	// outermost first, joined by ">" ("plain", "base64", "base64>utf16le").
	Encoding    string `json:"encoding"`
	Fingerprint string `json:"fingerprint"`
	Description string `json:"description,omitempty"`
}

// Redact keeps at most the first 4 characters of a secret, so a responder
// can tell two secrets apart without the finding becoming a secret itself.
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	n := 4
	if len(secret) < 12 {
		n = len(secret) / 4
	}
	return secret[:n] + strings.Repeat("*", 8)
}

// HashSecret returns the hex SHA-256 of a secret exactly as found.
func HashSecret(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Fingerprint identifies a finding across runs: the same credential in the
// same stream under the same rule has the same fingerprint even when lines
// move. It is the key in .akguardignore and in the state bucket.
func Fingerprint(path, rule, accessKeyID, secretSHA256 string) string {
	h := sha256.New()
	for _, part := range []string{"akguard/v1", rule, path, accessKeyID, secretSHA256} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// SetFingerprint fills Fingerprint from the finding's own fields.
func (f *Finding) SetFingerprint() {
	f.Fingerprint = Fingerprint(f.Path, f.Rule, f.AccessKeyID, f.SecretSHA256)
}

// SkipReason names why a stream (or part of one) was not scanned. Skips are
// reported, never dropped silently.
type SkipReason string

const (
	SkipTooLarge        SkipReason = "too_large"          // over the configured size cap
	SkipDepthLimit      SkipReason = "depth_limit"        // archive nested deeper than allowed
	SkipDecompressLimit SkipReason = "decompressed_limit" // expansion budget exhausted (zip bomb)
	SkipRatioLimit      SkipReason = "ratio_limit"        // compression ratio beyond what real data has
	SkipMemberLimit     SkipReason = "member_limit"       // archive holds too many members
	SkipEncrypted       SkipReason = "encrypted"          // encrypted archive member
	SkipCorrupt         SkipReason = "corrupt"            // malformed or truncated container
	SkipUnreadable      SkipReason = "unreadable"         // I/O error reading the stream
	SkipUnsupported     SkipReason = "unsupported"        // container method we cannot decode
	SkipNotRegular      SkipReason = "not_regular"        // symlink, device, directory entry
	SkipPathTraversal   SkipReason = "path_traversal"     // member name escaping the archive root
	SkipAllowlistedPath SkipReason = "allowlisted_path"   // path matched an allowlist glob
	SkipMissing         SkipReason = "missing"            // object or file gone before it was read
	SkipDeadline        SkipReason = "deadline"           // time budget exhausted
	SkipLineLimit       SkipReason = "line_limit"         // decoder input beyond its bound (e.g. huge base64 run)
)

// Skip reports a stream, or part of one, that was not (fully) scanned.
type Skip struct {
	Path   string     `json:"path"`
	Reason SkipReason `json:"reason"`
	// Detail is a short human explanation; it never contains file content.
	Detail string `json:"detail,omitempty"`
}
