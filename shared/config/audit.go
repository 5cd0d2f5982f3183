package config

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Audit is the audit function's configuration (on top of Common).
type Audit struct {
	Common
	// Regions whose ActionTrail is read (AKGUARD_AUDIT_REGIONS, comma
	// separated; default FC_REGION). ActionTrail is regional: list every
	// region the account uses.
	Regions []string
	// Overlap re-reads this much before the checkpoint to catch events
	// ActionTrail delivers late (AKGUARD_AUDIT_OVERLAP, default 10m).
	Overlap time.Duration
	// Lag leaves the newest minutes for the next run, while ActionTrail
	// still fills them (AKGUARD_AUDIT_LAG, default 2m; "0s" for none).
	Lag time.Duration
	// InitialLookback is how far back the very first run starts
	// (AKGUARD_AUDIT_INITIAL_LOOKBACK, default 1h, at most 90 days, the
	// age limit of LookupEvents).
	InitialLookback time.Duration
	// Batch is the span of one LookupEvents sweep; a backlog is worked
	// through in batches with the checkpoint saved after each
	// (AKGUARD_AUDIT_BATCH, default 1h).
	Batch time.Duration
	// DeadlineMargin is left before the function's timeout to save state
	// (AKGUARD_AUDIT_DEADLINE_MARGIN, default 20s).
	DeadlineMargin time.Duration
	// LookupQPS caps ActionTrail calls per second (AKGUARD_AUDIT_LOOKUP_QPS,
	// default 2, the documented LookupEvents limit).
	LookupQPS int
	// DryRun records incidents without invoking respond
	// (AKGUARD_AUDIT_DRY_RUN, default false; a timer payload
	// {"dryRun":true} forces it for one run).
	DryRun bool
	// Enrich asks the AccessKey audit APIs (GetAccessKeyLastUsed*) about
	// leaked keys in use (AKGUARD_AUDIT_ENRICH, default true).
	Enrich bool
}

// LoadAudit reads the audit function's variables.
func LoadAudit(getenv Getenv) (Audit, error) {
	c, err := LoadCommon(getenv)
	if getenv == nil {
		getenv = os.Getenv
	}
	a := Audit{Common: c}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	a.Regions = List(getenv, "AKGUARD_AUDIT_REGIONS")
	if len(a.Regions) == 0 && c.Region != "" {
		a.Regions = []string{c.Region}
	}
	if len(a.Regions) == 0 {
		errs = append(errs, errors.New("AKGUARD_AUDIT_REGIONS or FC_REGION is required"))
	}
	dur := func(name string, def, max time.Duration) time.Duration {
		d, err := Duration(getenv, name, def)
		if err != nil {
			errs = append(errs, err)
		} else if max > 0 && d > max {
			errs = append(errs, fmt.Errorf("%s=%s is more than %s", name, d, max))
		}
		return d
	}
	a.Overlap = dur("AKGUARD_AUDIT_OVERLAP", 10*time.Minute, 24*time.Hour)
	a.Lag = dur("AKGUARD_AUDIT_LAG", 2*time.Minute, time.Hour)
	a.InitialLookback = dur("AKGUARD_AUDIT_INITIAL_LOOKBACK", time.Hour, 90*24*time.Hour)
	a.Batch = dur("AKGUARD_AUDIT_BATCH", time.Hour, 24*time.Hour)
	a.DeadlineMargin = dur("AKGUARD_AUDIT_DEADLINE_MARGIN", 20*time.Second, 0)
	if a.LookupQPS, err = Int(getenv, "AKGUARD_AUDIT_LOOKUP_QPS", 2, 1); err != nil {
		errs = append(errs, err)
	}
	if a.DryRun, err = Bool(getenv, "AKGUARD_AUDIT_DRY_RUN", false); err != nil {
		errs = append(errs, err)
	}
	if a.Enrich, err = Bool(getenv, "AKGUARD_AUDIT_ENRICH", true); err != nil {
		errs = append(errs, err)
	}
	return a, errors.Join(errs...)
}
