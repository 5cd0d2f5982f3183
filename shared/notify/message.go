// Package notify tells people about a leaked AccessKey: it builds the
// versioned akguard.notify/v1 message respond publishes to an SMQ topic and
// publishes it with retries. A message never holds a secret.
package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
)

// Version is the schema of Message; subscribers switch on it.
const Version = "akguard.notify/v1"

// Outcomes of a response, from the most to the least that was done.
const (
	OutcomeContained      = "contained"       // deny policy attached (and key disabled per config)
	OutcomePartial        = "partial"         // some containment steps failed
	OutcomeFailed         = "failed"          // containment was due but no step succeeded
	OutcomeWouldContain   = "would-contain"   // dry run: nothing changed
	OutcomeEscalated      = "escalated"       // root or STS key: a person must act
	OutcomeNotifyOnly     = "notify-only"     // guardrail (allowlist, protected, circuit breaker)
	OutcomeReported       = "reported"        // key not in this account or already deleted
	OutcomeReleased       = "released"        // deny policy detached
	OutcomeWouldRelease   = "would-release"   // dry-run release
	OutcomeReleaseRefused = "release-refused" // the leaked key is still active
)

// Step statuses.
const (
	StatusDone    = "done"    // the call succeeded and changed something
	StatusAlready = "already" // the call found the desired state in place
	StatusDryRun  = "dry-run" // would have been done
	StatusSkipped = "skipped" // deliberately not done; Reason says why
	StatusFailed  = "failed"  // the call failed; Error says how
)

// Message is what respond publishes for one incident.
type Message struct {
	Version    string `json:"version"`
	IncidentID string `json:"incident_id"`
	Source     string `json:"source"`
	// Action is contain or release.
	Action   string `json:"action"`
	Severity string `json:"severity"`
	Outcome  string `json:"outcome"`
	DryRun   bool   `json:"dry_run"`
	// Text is a one-paragraph summary for chat and e-mail subscribers.
	Text        string    `json:"text"`
	AccountID   string    `json:"account_id"`
	Region      string    `json:"region"`
	AccessKeyID string    `json:"access_key_id"`
	Owner       Owner     `json:"owner"`
	Exposure    string    `json:"exposure"`
	Where       Where     `json:"where"`
	Actions     []Step    `json:"actions"`
	Evidence    Evidence  `json:"evidence"`
	NextSteps   []string  `json:"next_steps"`
	KMS         *KMS      `json:"kms,omitempty"`
	DetectedAt  time.Time `json:"detected_at"`
	RespondedAt time.Time `json:"responded_at"`
}

// Owner kinds.
const (
	OwnerRAMUser = "ram-user"
	OwnerRoot    = "root-account"
	OwnerSTS     = "sts-session"
	OwnerUnknown = "unknown"
)

// Owner is who the AccessKey belongs to, and how respond learnt it.
type Owner struct {
	Type          string `json:"type"`
	UserName      string `json:"user_name,omitempty"`
	PrincipalName string `json:"principal_name,omitempty"`
	RoleName      string `json:"role_name,omitempty"`
	AccountID     string `json:"account_id,omitempty"`
	// LookedUpBy names the API that answered: ims:GetUser,
	// actiontrail:GetAccessKeyLastUsedInfo, ram:ListAccessKeys, record.
	LookedUpBy string `json:"looked_up_by,omitempty"`
	// KeyStatus is Active, Inactive, or deleted when the owner no longer has it.
	KeyStatus string `json:"key_status,omitempty"`
}

// Where says where the key was seen.
type Where struct {
	Object   *incident.Object `json:"object,omitempty"`
	Reporter string           `json:"reporter,omitempty"`
	Reason   string           `json:"reason,omitempty"`
	// Trail is the audit incident (ActionTrail events), forwarded as is.
	Trail json.RawMessage `json:"trail,omitempty"`
}

// Step is one action respond took or deliberately did not take.
type Step struct {
	Step   string `json:"step"`
	Status string `json:"status"`
	Target string `json:"target,omitempty"`
	Detail string `json:"detail,omitempty"`
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Evidence is what the detector saw, redacted.
type Evidence struct {
	Summary  string            `json:"summary,omitempty"`
	Findings []finding.Finding `json:"findings,omitempty"`
}

// KMS reports a KMS-managed RAM secret hosting the leaked key.
type KMS struct {
	SecretName string `json:"secret_name"`
	Rotated    bool   `json:"rotated"`
	VersionID  string `json:"version_id,omitempty"`
}

// Tag is the SMQ MessageTag: the severity, so subscriptions can filter
// (e.g. page on "critical", mail the rest).
func (m *Message) Tag() string {
	if m.Severity == "" {
		return finding.SeverityInfo.String()
	}
	return m.Severity
}

// Exposure describes how widely the key was exposed.
func Exposure(in incident.Incident) string {
	switch {
	case in.Object != nil && in.Object.Public:
		return "public: anyone on the internet could read oss://" + in.Object.Bucket + "/" + in.Object.Key
	case in.Object != nil && in.Object.ACL != "":
		return in.Object.ACL + ": readable by identities with access to bucket " + in.Object.Bucket
	case in.Object != nil:
		return "stored in bucket " + in.Object.Bucket + " (ACL unknown)"
	case in.Source == incident.SourceAudit:
		return "in use: ActionTrail shows abnormal calls made with the key"
	default:
		return "reported by " + orDash(in.Reporter)
	}
}

// NextSteps lists what a responder must still do; respond never deletes a
// key or creates one, so rotation is always a person's job (or KMS's).
func NextSteps(m *Message) []string {
	if m.Action == incident.ActionRelease {
		switch m.Outcome {
		case OutcomeReleaseRefused:
			return []string{
				"Rotate the key first: create a new AccessKey, replace it in every application, then disable the old key " + m.AccessKeyID + ".",
				"Send the release event again once the old key is Inactive or deleted (or with force: true).",
			}
		default:
			return []string{
				"Delete the old AccessKey " + m.AccessKeyID + " once nothing uses it.",
				"Keep watching ActionTrail for calls made with the old key.",
			}
		}
	}
	var out []string
	switch m.Owner.Type {
	case OwnerRoot:
		out = append(out,
			"This is the account owner's (root) AccessKey: RAM policies cannot restrict it. Sign in as the account owner now.",
			"Create a RAM user with only the permissions the application needs and move the application to it; root keys should not exist.",
		)
	case OwnerSTS:
		out = append(out,
			"This is a temporary STS credential: it cannot be disabled and expires on its own. Find the role session (role "+orDash(m.Owner.RoleName)+") and where its token leaked.",
			"If the session must end now, attach a deny policy to the role with a condition on acs:TokenIssueTime, or tighten the role's trust policy.",
		)
	case OwnerUnknown:
		out = append(out,
			"The key is not in account "+m.AccountID+" (another account's key, or already deleted): tell its owner if you can identify them.",
		)
	}
	if m.KMS != nil && m.KMS.Rotated {
		out = append(out, "KMS rotated the managed RAM secret "+m.KMS.SecretName+": applications reading it get the new key; restart those that cache it.")
	} else if m.Owner.Type == OwnerRAMUser || m.Owner.Type == OwnerRoot {
		out = append(out,
			"Create a new AccessKey for "+orDash(ownerName(m.Owner))+" and replace the leaked one in every application and CI secret.",
		)
	}
	disable := "Disable the leaked key " + m.AccessKeyID + ", watch for failures, then delete it."
	for _, s := range m.Actions {
		if s.Step == "disable-key" && (s.Status == StatusDone || s.Status == StatusAlready) {
			disable = "The leaked key " + m.AccessKeyID + " is now Inactive: once applications run on the new key, delete it."
		}
	}
	out = append(out,
		disable,
		"Enable MFA for the owner's console logins and review the owner's permissions.",
		"Review ActionTrail (EventAccessKeyId="+m.AccessKeyID+") for the whole leak period for resources created, changed or read.",
		"Check billing for unexpected resources (ECS instances, bandwidth, SMS) created during the leak.",
	)
	if m.Where.Object != nil {
		out = append(out, "Remove the secret from oss://"+m.Where.Object.Bucket+"/"+m.Where.Object.Key+" (and older object versions) and from wherever it was copied from.")
	}
	return out
}

func ownerName(o Owner) string {
	switch {
	case o.UserName != "":
		return "RAM user " + o.UserName
	case o.Type == OwnerRoot:
		return "the account owner"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Summary renders Text: what, where, who, what was done.
func Summary(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] akguard: AccessKey %s", m.Tag(), m.AccessKeyID)
	if n := ownerName(m.Owner); n != "" {
		fmt.Fprintf(&b, " (%s)", n)
	} else if m.Owner.Type == OwnerSTS {
		fmt.Fprintf(&b, " (STS session of role %s)", orDash(m.Owner.RoleName))
	}
	switch {
	case m.Where.Object != nil:
		fmt.Fprintf(&b, " found in oss://%s/%s", m.Where.Object.Bucket, m.Where.Object.Key)
	case m.Source == incident.SourceAudit:
		b.WriteString(" used abnormally (ActionTrail)")
	case m.Source == incident.SourceManual:
		b.WriteString(" reported by " + orDash(m.Where.Reporter))
	}
	fmt.Fprintf(&b, " in account %s. Outcome: %s.", m.AccountID, m.Outcome)
	if m.DryRun {
		b.WriteString(" DRY RUN: nothing was changed.")
	}
	var done, skipped, failed []string
	for _, s := range m.Actions {
		switch s.Status {
		case StatusDone, StatusAlready, StatusDryRun:
			done = append(done, s.Step)
		case StatusSkipped:
			skipped = append(skipped, s.Step+" ("+s.Reason+")")
		case StatusFailed:
			failed = append(failed, s.Step)
		}
	}
	if len(done) > 0 {
		verb := " Done: "
		if m.DryRun {
			verb = " Would do: "
		}
		b.WriteString(verb + strings.Join(done, ", ") + ".")
	}
	if len(skipped) > 0 {
		b.WriteString(" Skipped: " + strings.Join(skipped, ", ") + ".")
	}
	if len(failed) > 0 {
		b.WriteString(" FAILED: " + strings.Join(failed, ", ") + " — act by hand.")
	}
	return b.String()
}

// Finish fills the derived fields (Version, Exposure defaults, NextSteps,
// Text) once the steps are known.
func (m *Message) Finish() {
	m.Version = Version
	if m.Actions == nil {
		m.Actions = []Step{}
	}
	m.NextSteps = NextSteps(m)
	m.Text = Summary(m)
}
