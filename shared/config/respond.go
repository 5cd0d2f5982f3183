package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

// DefaultDenyPolicyName is the RAM name of the containment policy; it
// equals policies.DenyHighRiskName (kept here as a literal so config does
// not depend on infra; a test pins the two together).
const DefaultDenyPolicyName = "akguard-deny-high-risk"

// Respond is the respond function's configuration.
type Respond struct {
	Common
	// Topic is the SMQ topic notifications go to (AKGUARD_SMQ_TOPIC,
	// default "akguard-alerts").
	Topic string
	// DryRun records and notifies what would be done without changing
	// RAM or KMS (AKGUARD_DRY_RUN, default true: containment is opt-in).
	DryRun bool
	// DisableKeyAt disables the leaked key itself (UpdateAccessKey
	// Inactive) for incidents of at least this severity; nil means never
	// (AKGUARD_DISABLE_KEY_AT: info..critical or "never"; default critical).
	DisableKeyAt *finding.Severity
	// PolicyName is the deny policy's name in RAM (AKGUARD_DENY_POLICY_NAME,
	// default "akguard-deny-high-risk").
	PolicyName string
	// AllowUsers and AllowKeys are never touched: incidents about them are
	// only notified (AKGUARD_ALLOW_USERS, AKGUARD_ALLOW_KEYS, comma-separated).
	AllowUsers []string
	AllowKeys  []string
	// ProtectedRoles are the roles akguard's functions run as; their STS
	// sessions are never acted on (AKGUARD_PROTECTED_ROLES).
	ProtectedRoles []string
	// ProtectedUsers and ProtectedKeys are identities akguard itself or its
	// operators depend on — break-glass users, the CLI's key
	// (AKGUARD_PROTECTED_USERS, AKGUARD_PROTECTED_KEYS).
	ProtectedUsers []string
	ProtectedKeys  []string
	// MaxContainmentsPerHour is the circuit breaker: beyond it incidents are
	// only notified (AKGUARD_MAX_CONTAINMENTS_PER_HOUR, default 10, 0 = notify only).
	MaxContainmentsPerHour int
	// KMSRotate rotates a KMS-managed RAM secret that hosts the leaked key
	// (AKGUARD_KMS_ROTATE, default false).
	KMSRotate bool
	// NotifyAttempts bounds SMQ publish attempts per invocation
	// (AKGUARD_NOTIFY_ATTEMPTS, default 5); FC's async retries add more.
	NotifyAttempts int
	// NotifyBackoff is the first retry delay, doubled per attempt
	// (AKGUARD_NOTIFY_BACKOFF, default 200ms).
	NotifyBackoff time.Duration
	// AsyncRetries is the function's maxAsyncRetryAttempts in s.yaml
	// (AKGUARD_ASYNC_RETRY_ATTEMPTS, default 3, 0-8). A transient failure
	// fails the invocation so FC retries it, until the attempt whose retry
	// count reaches this number: that one records the failure and
	// notifies. Set it no higher than the deployed value, or the last
	// attempt's failure goes to the dead-letter queue unnotified; 0 (the
	// zero value) makes every attempt the last.
	AsyncRetries int
}

// LoadRespond reads the respond function's variables.
func LoadRespond(getenv Getenv) (Respond, error) {
	c, err := LoadCommon(getenv)
	if getenv == nil {
		getenv = os.Getenv
	}
	r := Respond{Common: c}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	r.Topic = orDefault(getenv("AKGUARD_SMQ_TOPIC"), "akguard-alerts")
	r.PolicyName = orDefault(getenv("AKGUARD_DENY_POLICY_NAME"), DefaultDenyPolicyName)
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	r.DryRun, err = Bool(getenv, "AKGUARD_DRY_RUN", true)
	add(err)
	r.MaxContainmentsPerHour, err = Int(getenv, "AKGUARD_MAX_CONTAINMENTS_PER_HOUR", 10, 0)
	add(err)
	r.KMSRotate, err = Bool(getenv, "AKGUARD_KMS_ROTATE", false)
	add(err)
	r.NotifyAttempts, err = Int(getenv, "AKGUARD_NOTIFY_ATTEMPTS", 5, 1)
	add(err)
	r.NotifyBackoff, err = Duration(getenv, "AKGUARD_NOTIFY_BACKOFF", 200*time.Millisecond)
	add(err)
	r.AsyncRetries, err = Int(getenv, "AKGUARD_ASYNC_RETRY_ATTEMPTS", 3, 0)
	add(err)
	if r.AsyncRetries > 8 {
		// FC's own limit for maxAsyncRetryAttempts.
		add(fmt.Errorf("AKGUARD_ASYNC_RETRY_ATTEMPTS=%d is more than 8", r.AsyncRetries))
	}
	switch v := strings.TrimSpace(getenv("AKGUARD_DISABLE_KEY_AT")); v {
	case "never":
	case "":
		s := finding.SeverityCritical
		r.DisableKeyAt = &s
	default:
		s, ok := finding.ParseSeverity(v)
		if !ok {
			add(fmt.Errorf("AKGUARD_DISABLE_KEY_AT=%q is not a severity (info..critical) or never", v))
		} else {
			r.DisableKeyAt = &s
		}
	}
	r.AllowUsers = List(getenv, "AKGUARD_ALLOW_USERS")
	r.AllowKeys = List(getenv, "AKGUARD_ALLOW_KEYS")
	r.ProtectedRoles = List(getenv, "AKGUARD_PROTECTED_ROLES")
	r.ProtectedUsers = List(getenv, "AKGUARD_PROTECTED_USERS")
	r.ProtectedKeys = List(getenv, "AKGUARD_PROTECTED_KEYS")
	return r, errors.Join(errs...)
}
