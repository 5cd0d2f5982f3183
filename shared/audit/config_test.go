package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(c *Config)
		wantErr []string // every substring must appear; none = valid
	}{
		{name: "defaults", mod: func(c *Config) {}},
		{name: "zero config takes defaults", mod: func(c *Config) { *c = Config{} }},
		{name: "overnight shift", mod: func(c *Config) { c.WorkingHours.Start, c.WorkingHours.End = "22:00", "06:00" }},
		{name: "bad clock", mod: func(c *Config) { c.WorkingHours.Start = "9am" }, wantErr: []string{`workingHours.start: "9am" is not HH:MM`}},
		{name: "empty span", mod: func(c *Config) { c.WorkingHours.Start, c.WorkingHours.End = "09:00", "09:00" }, wantErr: []string{"start equals end"}},
		{name: "bad zone", mod: func(c *Config) { c.WorkingHours.TimeZone = "Mars/Olympus" }, wantErr: []string{"workingHours.timeZone"}},
		{name: "bad weekday", mod: func(c *Config) { c.WorkingHours.Weekdays = []time.Weekday{9} }, wantErr: []string{"9 is not a weekday"}},
		{name: "tiny window", mod: func(c *Config) { c.Window = time.Second }, wantErr: []string{"shorter than 10s"}},
		{name: "spike factor below 1", mod: func(c *Config) { c.SpikeFactor = 0.5 }, wantErr: []string{"spikeFactor 0.5"}},
		{name: "burst of one", mod: func(c *Config) { c.DeniedBurst.Count = 1 }, wantErr: []string{"deniedBurst.count 1"}},
		{name: "share of 1", mod: func(c *Config) { c.OffHoursMaxShare = 1 }, wantErr: []string{"offHoursMaxShare 1"}},
		{name: "allow nobody", mod: func(c *Config) { c.Allow = []Allow{{Rules: []string{RuleOffHours}}} }, wantErr: []string{"allow[0]: needs accessKeyId or principal"}},
		{name: "allow unknown rule", mod: func(c *Config) { c.Allow = []Allow{{Principal: "ci", Rules: []string{"nap-time"}}} }, wantErr: []string{`unknown rule "nap-time"`}},
		{name: "allow leaked key use", mod: func(c *Config) { c.Allow = []Allow{{Principal: "ci", Rules: []string{RuleLeakedKeyInUse}}} }, wantErr: []string{"cannot be silenced"}},
		{name: "allow bad operation", mod: func(c *Config) { c.Allow = []Allow{{Principal: "ci", Operations: []string{"DeleteObject"}}} }, wantErr: []string{`"DeleteObject" is not Service:EventName`}},
		{name: "errors are joined", mod: func(c *Config) { c.SpikeFactor, c.MaxSubjects = 0.1, -1 }, wantErr: []string{"spikeFactor", "maxSubjects -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
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

// TestConfigJSON: a config file names only what it changes.
func TestConfigJSON(t *testing.T) {
	var c Config
	in := `{"workingHours":{"start":"09:30","timeZone":"Asia/Shanghai"},"leakedKeys":{"` + tKey + `":{"source":"scan"}}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	cc, err := c.compile()
	if err != nil {
		t.Fatal(err)
	}
	if cc.start != 9*60+30 || cc.end != 20*60 || cc.loc.String() != "Asia/Shanghai" || cc.SpikeFactor != 3 || cc.LeakedKeys[tKey].Source != "scan" {
		t.Errorf("compiled %+v", cc)
	}
}

func TestWorking(t *testing.T) {
	sh := func(d, h, m int) time.Time { // October 2026 in Shanghai; the 19th is a Monday
		loc, _ := time.LoadLocation("Asia/Shanghai")
		return time.Date(2026, 10, d, h, m, 0, 0, loc)
	}
	tests := []struct {
		name       string
		start, end string
		at         time.Time
		want       bool
	}{
		{"monday morning", "09:00", "19:00", sh(19, 9, 0), true},
		{"one minute early", "09:00", "19:00", sh(19, 8, 59), false},
		{"end is exclusive", "09:00", "19:00", sh(19, 19, 0), false},
		{"saturday", "09:00", "19:00", sh(24, 11, 0), false},
		{"UTC instant, local judgement", "09:00", "19:00", time.Date(2026, 10, 19, 1, 30, 0, 0, time.UTC), true},
		{"night shift, friday evening", "22:00", "06:00", sh(23, 23, 0), true},
		{"night shift, into saturday", "22:00", "06:00", sh(24, 3, 0), true},
		{"night shift, into monday from sunday", "22:00", "06:00", sh(19, 3, 0), false},
		{"night shift, midday", "22:00", "06:00", sh(20, 12, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.WorkingHours.Start, c.WorkingHours.End, c.WorkingHours.TimeZone = tt.start, tt.end, "Asia/Shanghai"
			cc, err := c.compile()
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.working(tt.at); got != tt.want {
				t.Errorf("working(%v) = %v", tt.at, got)
			}
		})
	}
}
