package config

import (
	"strings"
	"testing"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

func TestLoadRespond(t *testing.T) {
	crit, high := finding.SeverityCritical, finding.SeverityHigh
	tests := []struct {
		name    string
		env     map[string]string
		check   func(r Respond) bool
		wantErr string
	}{
		{"defaults", map[string]string{"AKGUARD_STATE_BUCKET": "b"}, func(r Respond) bool {
			return r.Topic == "akguard-alerts" && r.DryRun && *r.DisableKeyAt == crit && r.PolicyName == DefaultDenyPolicyName &&
				r.MaxContainmentsPerHour == 10 && !r.KMSRotate && r.NotifyAttempts == 5 && r.NotifyBackoff == 200*time.Millisecond && r.AsyncRetries == 3
		}, ""},
		{"no async retries", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_ASYNC_RETRY_ATTEMPTS": "0"},
			func(r Respond) bool { return r.AsyncRetries == 0 }, ""},
		{"too many async retries", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_ASYNC_RETRY_ATTEMPTS": "9"}, nil, "AKGUARD_ASYNC_RETRY_ATTEMPTS"},
		{"set", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_SMQ_TOPIC": "t", "AKGUARD_DRY_RUN": "false",
			"AKGUARD_DISABLE_KEY_AT": "high", "AKGUARD_ALLOW_USERS": "a, b,,", "AKGUARD_PROTECTED_ROLES": "akguard-respond",
			"AKGUARD_MAX_CONTAINMENTS_PER_HOUR": "0", "AKGUARD_PROTECTED_KEYS": "LTAI5tX"}, func(r Respond) bool {
			return r.Topic == "t" && !r.DryRun && *r.DisableKeyAt == high && strings.Join(r.AllowUsers, "|") == "a|b" &&
				r.ProtectedRoles[0] == "akguard-respond" && r.MaxContainmentsPerHour == 0 && r.ProtectedKeys[0] == "LTAI5tX"
		}, ""},
		{"never disable", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_DISABLE_KEY_AT": "never"},
			func(r Respond) bool { return r.DisableKeyAt == nil }, ""},
		{"bad severity", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_DISABLE_KEY_AT": "urgent"}, nil, "AKGUARD_DISABLE_KEY_AT"},
		{"bad dry run", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_DRY_RUN": "maybe"}, nil, "AKGUARD_DRY_RUN"},
		{"negative breaker", map[string]string{"AKGUARD_STATE_BUCKET": "b", "AKGUARD_MAX_CONTAINMENTS_PER_HOUR": "-1"}, nil, "AKGUARD_MAX_CONTAINMENTS_PER_HOUR"},
		{"no bucket", map[string]string{}, nil, "AKGUARD_STATE_BUCKET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := LoadRespond(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(r) {
				t.Fatalf("unexpected config %+v", r)
			}
		})
	}
}
