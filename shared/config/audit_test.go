package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadAudit(t *testing.T) {
	base := map[string]string{"AKGUARD_STATE_BUCKET": "state", "FC_REGION": "cn-hangzhou"}
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, a Audit)
		wantErr []string
	}{
		{name: "defaults", check: func(t *testing.T, a Audit) {
			if !slices.Equal(a.Regions, []string{"cn-hangzhou"}) || a.Overlap != 10*time.Minute || a.Lag != 2*time.Minute ||
				a.InitialLookback != time.Hour || a.Batch != time.Hour || a.DeadlineMargin != 20*time.Second ||
				a.LookupQPS != 2 || a.DryRun || !a.Enrich || a.StatePrefix != "akguard/" {
				t.Fatalf("%+v", a)
			}
		}},
		{name: "everything set", env: map[string]string{"AKGUARD_AUDIT_REGIONS": "cn-hangzhou, cn-shanghai,,", "AKGUARD_AUDIT_OVERLAP": "15m",
			"AKGUARD_AUDIT_LAG": "0s", "AKGUARD_AUDIT_INITIAL_LOOKBACK": "72h", "AKGUARD_AUDIT_BATCH": "30m",
			"AKGUARD_AUDIT_DEADLINE_MARGIN": "45s", "AKGUARD_AUDIT_LOOKUP_QPS": "1", "AKGUARD_AUDIT_DRY_RUN": "true", "AKGUARD_AUDIT_ENRICH": "false"},
			check: func(t *testing.T, a Audit) {
				if !slices.Equal(a.Regions, []string{"cn-hangzhou", "cn-shanghai"}) || a.Overlap != 15*time.Minute || a.Lag != 0 ||
					a.InitialLookback != 72*time.Hour || a.Batch != 30*time.Minute || a.DeadlineMargin != 45*time.Second ||
					a.LookupQPS != 1 || !a.DryRun || a.Enrich {
					t.Fatalf("%+v", a)
				}
			}},
		{name: "no region", env: map[string]string{"FC_REGION": ""}, wantErr: []string{"AKGUARD_AUDIT_REGIONS or FC_REGION is required"}},
		{name: "no bucket", env: map[string]string{"AKGUARD_STATE_BUCKET": ""}, wantErr: []string{"AKGUARD_STATE_BUCKET is required"}},
		{name: "bad values, all reported", env: map[string]string{"AKGUARD_AUDIT_OVERLAP": "ten", "AKGUARD_AUDIT_LOOKUP_QPS": "0",
			"AKGUARD_AUDIT_DRY_RUN": "maybe", "AKGUARD_AUDIT_INITIAL_LOOKBACK": "2400h"},
			wantErr: []string{"AKGUARD_AUDIT_OVERLAP", "AKGUARD_AUDIT_LOOKUP_QPS", "AKGUARD_AUDIT_DRY_RUN", "more than 2160h0m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			a, err := LoadAudit(func(k string) string { return env[k] })
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, a)
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
