package fc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadSYamlGolden(t *testing.T) {
	t.Setenv("AKGUARD_TEST_LOG_LEVEL", "debug")
	tests := []struct {
		name      string
		overrides map[string]string
		golden    string
	}{
		{name: "defaults", overrides: map[string]string{"config.AccountID": "1234567890123456"}, golden: "s.yaml.golden.json"},
		{name: "overrides win", overrides: map[string]string{"config.AccountID": "1234567890123456", "vars.region": "cn-shanghai",
			"scanTimeout": "30", "env.AKGUARD_TEST_LOG_LEVEL": "warn"}, golden: "s.yaml.overrides.golden.json"},
	}
	dir, err := filepath.Abs("testdata/syaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadSYaml(filepath.Join(dir, "s.yaml"), tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			// Code dirs are absolute; the golden file is machine-independent.
			got = bytes.ReplaceAll(got, []byte(dir), []byte("<s.yaml dir>"))
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parsed config differs from %s (run with -update):\n%s", path, got)
			}
		})
	}
}

func TestLoadSYamlErrors(t *testing.T) {
	const base = `edition: 3.0.0
name: t
resources:
  f:
    component: fc3
    props:
      region: cn-hangzhou
      functionName: fn
      runtime: go1
      handler: main
      code: ./target
`
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{name: "custom runtime", yaml: strings.Replace(base, "runtime: go1", "runtime: custom.debian10", 1), wantErr: "use runtime go1"},
		{name: "python runtime", yaml: strings.Replace(base, "runtime: go1", "runtime: python3.10", 1), wantErr: "not supported by the local FC"},
		{name: "missing function name", yaml: strings.Replace(base, "      functionName: fn\n", "", 1), wantErr: "functionName is required"},
		{name: "missing handler", yaml: strings.Replace(base, "      handler: main\n", "", 1), wantErr: "handler is required"},
		{name: "missing code", yaml: strings.Replace(base, "      code: ./target\n", "", 1), wantErr: "code is required"},
		{name: "missing region", yaml: strings.Replace(base, "      region: cn-hangzhou\n", "", 1), wantErr: "region is required"},
		{name: "unknown prop", yaml: base + "      timeOut: 3\n", wantErr: "field timeOut not found"},
		{name: "undefined var", yaml: strings.Replace(base, "handler: main", "handler: ${vars.nope}", 1), wantErr: "undefined variable vars.nope"},
		{name: "unset env", yaml: strings.Replace(base, "handler: main", "handler: ${env('AKGUARD_SURELY_UNSET_VAR')}", 1), wantErr: "AKGUARD_SURELY_UNSET_VAR is not set"},
		{name: "unsupported expression", yaml: strings.Replace(base, "handler: main", "handler: ${resources.x.props.y}", 1), wantErr: "unsupported expression"},
		{name: "bad role", yaml: base + "      role: my-role\n", wantErr: "not a RAM role ARN"},
		{name: "zip code", yaml: strings.Replace(base, "./target", "./code.zip", 1), wantErr: "archive"},
		{name: "oss code", yaml: strings.Replace(base, "code: ./target", "code: {ossBucketName: b, ossObjectName: o}", 1), wantErr: "stored in OSS"},
		{name: "bad cron", yaml: base + "      triggers:\n        - {triggerName: t, triggerType: timer, triggerConfig: {cronExpression: '0 * *', enable: true}}\n", wantErr: "want 6 fields"},
		{name: "timer without enable", yaml: base + "      triggers:\n        - {triggerName: t, triggerType: timer, triggerConfig: {cronExpression: '@every 5m'}}\n", wantErr: "enable is required"},
		{name: "oss without suffix", yaml: base + "      triggers:\n        - {triggerName: t, triggerType: oss, sourceArn: 'acs:oss:cn-hangzhou:1:b', triggerConfig: {events: ['oss:ObjectCreated:*'], filter: {key: {prefix: a/}}}}\n", wantErr: "both prefix and suffix"},
		{name: "oss bad arn", yaml: base + "      triggers:\n        - {triggerName: t, triggerType: oss, sourceArn: 'b', triggerConfig: {events: ['oss:ObjectCreated:*'], filter: {key: {prefix: '', suffix: ''}}}}\n", wantErr: "not an OSS bucket ARN"},
		{name: "http trigger", yaml: base + "      triggers:\n        - {triggerName: t, triggerType: http, triggerConfig: {authType: anonymous}}\n", wantErr: "not supported by the local FC (oss, timer)"},
		{name: "retries out of range", yaml: base + "      asyncInvokeConfig: {maxAsyncRetryAttempts: 9}\n", wantErr: "out of range 0-8"},
		{name: "no fc3 resources", yaml: "edition: 3.0.0\nname: t\nresources:\n  b:\n    component: oss\n    props: {}\n", wantErr: "no fc3 resources"},
		{name: "edition 2", yaml: strings.Replace(base, "3.0.0", "1.0.0", 1), wantErr: "edition 1.0.0 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSYaml(p, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr, from string
		want       []string
	}{
		{"@every 5m", "2026-01-01T00:00:00Z", []string{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"}},
		{"0 */5 * * * *", "2026-01-01T00:03:10Z", []string{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"}},
		{"0 0 4 * * *", "2026-01-01T04:00:00Z", []string{"2026-01-02T04:00:00Z", "2026-01-03T04:00:00Z"}},
		{"30 15 10 ? * MON-FRI", "2026-01-02T11:00:00Z", []string{"2026-01-05T10:15:30Z", "2026-01-06T10:15:30Z"}}, // Fri → Mon
		{"0 0 0 1 JAN,JUL *", "2026-02-10T00:00:00Z", []string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"0 0 12 * * 7", "2026-01-01T00:00:00Z", []string{"2026-01-04T12:00:00Z"}}, // 7 = Sunday
		{"CRON_TZ=Asia/Shanghai 0 0 9 * * *", "2026-01-01T00:00:00Z", []string{"2026-01-01T01:00:00Z", "2026-01-02T01:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			cur := at(tt.from)
			for _, w := range tt.want {
				cur = s.Next(cur)
				if !cur.Equal(at(w)) {
					t.Fatalf("next = %s, want %s", cur.UTC().Format(time.RFC3339), w)
				}
			}
		})
	}
	for _, bad := range []string{"", "@every 10s", "@every x", "61 * * * * *", "* * * * *", "0 0 0 0 * *", "*/0 * * * * *", "CRON_TZ=Nowhere/City 0 0 0 * * *"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}
