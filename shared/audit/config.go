package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config tunes the rules. The zero value of every field means "use the
// default" (see DefaultConfig), so a config file only names what it changes.
type Config struct {
	// WorkingHours is when people work; the off-hours rule fires only for
	// keys whose baseline shows they keep to it.
	WorkingHours WorkingHours `json:"workingHours"`
	// Window is the length of the windows the audit function evaluates
	// (default 5m). Baseline volumes are counted per Window, and a window
	// of another length is compared pro rata.
	Window time.Duration `json:"window"`
	// SpikeFactor and SpikeMinExtra set the volume-spike threshold: more
	// calls in a window than max(SpikeFactor × p95, p95 + SpikeMinExtra) of
	// the key's own clean windows (defaults 3 and 50). The additive floor
	// keeps quiet keys (p95 of 3 calls) from firing on a busy afternoon.
	SpikeFactor   float64 `json:"spikeFactor"`
	SpikeMinExtra int     `json:"spikeMinExtra"`
	// DeniedBurst fires on Count or more permission errors within Window
	// (defaults 10 within 5m).
	DeniedBurst DeniedBurst `json:"deniedBurst"`
	// OffHoursMaxShare: a key whose baseline has more than this share of
	// its active time outside working hours is automation, or keeps odd
	// hours, and is not judged by the clock (default 0.05).
	OffHoursMaxShare float64 `json:"offHoursMaxShare"`
	// BaselineMinDays and BaselineMinWindows make a baseline mature: the
	// key was first seen this many days before the window and has this many
	// clean active windows learned (defaults 7 days, 24 windows). Rules
	// about the unusual need a mature baseline: an unseen source means
	// nothing for a key a day old.
	BaselineMinDays    int `json:"baselineMinDays"`
	BaselineMinWindows int `json:"baselineMinWindows"`
	// LeakedKeys are AccessKey IDs the scan function or an operator
	// reported as leaked.
	LeakedKeys map[string]LeakInfo `json:"leakedKeys,omitempty"`
	// Allow silences rules for known keys or principals.
	Allow []Allow `json:"allow,omitempty"`
	// MaxSubjects caps the baseline; the longest-unseen subjects are
	// dropped first (default 10000).
	MaxSubjects int `json:"maxSubjects"`
}

// WorkingHours is a daily span on given weekdays in one time zone.
type WorkingHours struct {
	// Start and End are "HH:MM", End exclusive (defaults 08:00 and 20:00).
	// End before Start spans midnight.
	Start string `json:"start"`
	End   string `json:"end"`
	// Weekdays defaults to Monday to Friday.
	Weekdays []time.Weekday `json:"weekdays,omitempty"`
	// TimeZone is an IANA name (default UTC). Programs that run where
	// no zoneinfo is installed should import time/tzdata.
	TimeZone string `json:"timeZone"`
}

// DeniedBurst parameters: Count errors within Window.
type DeniedBurst struct {
	Count  int           `json:"count"`
	Window time.Duration `json:"window"`
}

// LeakInfo says where and when a key was reported leaked.
type LeakInfo struct {
	Source     string    `json:"source"`             // "scan", "manual", ...
	Location   string    `json:"location,omitempty"` // e.g. oss://bucket/key
	ReportedAt time.Time `json:"reportedAt,omitzero"`
}

// Allow silences Rules (all rules when empty) for events of AccessKeyID, or
// of Principal (a RAM user or role name) when AccessKeyID is empty.
// leaked-key-in-use is never silenced: a key on the leaked list is in
// use by whoever holds it, however trusted its owner. Operations narrows a
// dangerous-operation allowance to "Service:EventName" pairs (e.g. a deploy
// key that prunes objects: "Oss:DeleteObject"). Silenced events still count
// as evidence if another rule fires.
type Allow struct {
	AccessKeyID string   `json:"accessKeyId,omitempty"`
	Principal   string   `json:"principal,omitempty"`
	Rules       []string `json:"rules,omitempty"`
	Operations  []string `json:"operations,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		WorkingHours: WorkingHours{
			Start:    "08:00",
			End:      "20:00",
			Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
			TimeZone: "UTC",
		},
		Window:             5 * time.Minute,
		SpikeFactor:        3,
		SpikeMinExtra:      50,
		DeniedBurst:        DeniedBurst{Count: 10, Window: 5 * time.Minute},
		OffHoursMaxShare:   0.05,
		BaselineMinDays:    7,
		BaselineMinWindows: 24,
		MaxSubjects:        10000,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.WorkingHours.Start == "" {
		c.WorkingHours.Start = d.WorkingHours.Start
	}
	if c.WorkingHours.End == "" {
		c.WorkingHours.End = d.WorkingHours.End
	}
	if c.WorkingHours.Weekdays == nil {
		c.WorkingHours.Weekdays = d.WorkingHours.Weekdays
	}
	if c.WorkingHours.TimeZone == "" {
		c.WorkingHours.TimeZone = d.WorkingHours.TimeZone
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.SpikeFactor == 0 {
		c.SpikeFactor = d.SpikeFactor
	}
	if c.SpikeMinExtra == 0 {
		c.SpikeMinExtra = d.SpikeMinExtra
	}
	if c.DeniedBurst.Count == 0 {
		c.DeniedBurst.Count = d.DeniedBurst.Count
	}
	if c.DeniedBurst.Window == 0 {
		c.DeniedBurst.Window = d.DeniedBurst.Window
	}
	if c.OffHoursMaxShare == 0 {
		c.OffHoursMaxShare = d.OffHoursMaxShare
	}
	if c.BaselineMinDays == 0 {
		c.BaselineMinDays = d.BaselineMinDays
	}
	if c.BaselineMinWindows == 0 {
		c.BaselineMinWindows = d.BaselineMinWindows
	}
	if c.MaxSubjects == 0 {
		c.MaxSubjects = d.MaxSubjects
	}
	return c
}

// Validate reports every problem with c (after defaults), joined.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// compiled is a Config made ready for evaluation.
type compiled struct {
	Config
	loc        *time.Location
	start, end int // minutes after midnight
	weekdays   [7]bool
}

func (c Config) compile() (*compiled, error) {
	c = c.withDefaults()
	cc := &compiled{Config: c}
	var errs []error
	var err error
	if cc.start, err = parseClock(c.WorkingHours.Start); err != nil {
		errs = append(errs, fmt.Errorf("workingHours.start: %w", err))
	}
	if cc.end, err = parseClock(c.WorkingHours.End); err != nil {
		errs = append(errs, fmt.Errorf("workingHours.end: %w", err))
	}
	if len(errs) == 0 && cc.start == cc.end {
		errs = append(errs, errors.New("workingHours: start equals end"))
	}
	for _, d := range c.WorkingHours.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			errs = append(errs, fmt.Errorf("workingHours.weekdays: %d is not a weekday", d))
			continue
		}
		cc.weekdays[d] = true
	}
	if cc.loc, err = time.LoadLocation(c.WorkingHours.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("workingHours.timeZone: %w", err))
	}
	// Ten seconds is the floor: short windows serve demonstrations and
	// near-real-time accounts; below that ActionTrail's own delivery jitter
	// dominates what a window means.
	if c.Window < 10*time.Second {
		errs = append(errs, fmt.Errorf("window %v: shorter than 10s", c.Window))
	}
	if c.SpikeFactor < 1 {
		errs = append(errs, fmt.Errorf("spikeFactor %v: below 1 would call normal volume a spike", c.SpikeFactor))
	}
	if c.SpikeMinExtra < 0 {
		errs = append(errs, fmt.Errorf("spikeMinExtra %d: negative", c.SpikeMinExtra))
	}
	if c.DeniedBurst.Count < 2 {
		errs = append(errs, fmt.Errorf("deniedBurst.count %d: a burst needs at least 2 errors", c.DeniedBurst.Count))
	}
	if c.DeniedBurst.Window <= 0 {
		errs = append(errs, fmt.Errorf("deniedBurst.window %v: not positive", c.DeniedBurst.Window))
	}
	if c.OffHoursMaxShare < 0 || c.OffHoursMaxShare >= 1 {
		errs = append(errs, fmt.Errorf("offHoursMaxShare %v: not in [0,1)", c.OffHoursMaxShare))
	}
	if c.BaselineMinDays < 0 || c.BaselineMinWindows < 0 {
		errs = append(errs, errors.New("baselineMinDays/baselineMinWindows: negative"))
	}
	if c.MaxSubjects < 1 {
		errs = append(errs, fmt.Errorf("maxSubjects %d: below 1", c.MaxSubjects))
	}
	known := ruleIDs()
	for i, a := range c.Allow {
		if a.AccessKeyID == "" && a.Principal == "" {
			errs = append(errs, fmt.Errorf("allow[%d]: needs accessKeyId or principal", i))
		}
		for _, r := range a.Rules {
			if !slices.Contains(known, r) {
				errs = append(errs, fmt.Errorf("allow[%d]: unknown rule %q", i, r))
			}
			if r == RuleLeakedKeyInUse {
				errs = append(errs, fmt.Errorf("allow[%d]: %s cannot be silenced", i, r))
			}
		}
		for _, op := range a.Operations {
			if svc, ev, ok := strings.Cut(op, ":"); !ok || svc == "" || ev == "" {
				errs = append(errs, fmt.Errorf("allow[%d]: operation %q is not Service:EventName", i, op))
			}
		}
	}
	for id := range c.LeakedKeys {
		if id == "" {
			errs = append(errs, errors.New("leakedKeys: empty AccessKey ID"))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid audit config: %w", errors.Join(errs...))
	}
	return cc, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// working reports whether t falls in working hours.
func (c *compiled) working(t time.Time) bool {
	t = t.In(c.loc)
	m := t.Hour()*60 + t.Minute()
	day := t.Weekday()
	if c.start < c.end {
		return c.weekdays[day] && m >= c.start && m < c.end
	}
	// A span across midnight belongs to the day it starts on.
	if m >= c.start {
		return c.weekdays[day]
	}
	if m < c.end {
		return c.weekdays[(day+6)%7]
	}
	return false
}

// allowed reports whether rule is silenced for e (of subject s).
func (c *compiled) allowed(rule string, s subject, e *Event) bool {
	if rule == RuleLeakedKeyInUse {
		return false
	}
	for i := range c.Allow {
		a := &c.Allow[i]
		if a.AccessKeyID != "" {
			if a.AccessKeyID != e.UserIdentity.AccessKeyID {
				continue
			}
		} else if a.Principal != s.Principal {
			continue
		}
		if len(a.Rules) > 0 && !slices.Contains(a.Rules, rule) {
			continue
		}
		if rule == RuleDangerousOperation && len(a.Operations) > 0 &&
			!slices.ContainsFunc(a.Operations, func(op string) bool {
				svc, ev, _ := strings.Cut(op, ":")
				return strings.EqualFold(svc, e.ServiceName) && ev == e.EventName
			}) {
			continue
		}
		return true
	}
	return false
}
