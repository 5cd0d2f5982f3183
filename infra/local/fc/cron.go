package fc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed timer trigger cronExpression. FC timer triggers
// accept "@every <duration>" and six-field cron "sec min hour dom mon dow"
// evaluated in UTC unless prefixed with CRON_TZ=<zone> (FC "Timer
// triggers" docs).
type Schedule struct {
	every time.Duration
	loc   *time.Location
	// bit sets of allowed values
	sec, min, hour, dom, mon, dow uint64
	domAny, dowAny                bool
}

// ParseSchedule parses a timer trigger cronExpression.
func ParseSchedule(expr string) (*Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("cronExpression is required")
	}
	if rest, ok := strings.CutPrefix(expr, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("cronExpression %q: %w", expr, err)
		}
		// FC rejects intervals under a minute.
		if d < time.Minute {
			return nil, fmt.Errorf("cronExpression %q: interval must be at least 1m", expr)
		}
		return &Schedule{every: d}, nil
	}
	s := &Schedule{loc: time.UTC}
	if strings.HasPrefix(expr, "CRON_TZ=") {
		tz, rest, _ := strings.Cut(expr, " ")
		loc, err := time.LoadLocation(strings.TrimPrefix(tz, "CRON_TZ="))
		if err != nil {
			return nil, fmt.Errorf("cronExpression %q: %w", expr, err)
		}
		s.loc = loc
		expr = strings.TrimSpace(rest)
	}
	f := strings.Fields(expr)
	if len(f) != 6 {
		return nil, fmt.Errorf("cronExpression %q: want 6 fields (sec min hour day month weekday) or @every", expr)
	}
	var err error
	parse := func(field string, lo, hi int, names []string) uint64 {
		if err != nil {
			return 0
		}
		var bits uint64
		bits, err = parseField(field, lo, hi, names)
		return bits
	}
	s.sec = parse(f[0], 0, 59, nil)
	s.min = parse(f[1], 0, 59, nil)
	s.hour = parse(f[2], 0, 23, nil)
	s.dom = parse(f[3], 1, 31, nil)
	s.mon = parse(f[4], 1, 12, monthNames)
	s.dow = parse(f[5], 0, 7, dayNames)
	if err != nil {
		return nil, fmt.Errorf("cronExpression %q: %w", expr, err)
	}
	if s.dow&(1<<7) != 0 { // 7 is Sunday too
		s.dow |= 1
	}
	s.domAny = f[3] == "*" || f[3] == "?"
	s.dowAny = f[5] == "*" || f[5] == "?"
	return s, nil
}

var (
	monthNames = []string{"", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

func parseField(field string, lo, hi int, names []string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(field, ",") {
		step := 1
		if rng, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step in %q", part)
			}
			step, part = n, rng
		}
		start, end := lo, hi
		switch {
		case part == "*" || part == "?":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err error
			if start, err = fieldValue(a, names); err != nil {
				return 0, err
			}
			if end, err = fieldValue(b, names); err != nil {
				return 0, err
			}
		default:
			v, err := fieldValue(part, names)
			if err != nil {
				return 0, err
			}
			start = v
			if step == 1 {
				end = v
			}
		}
		if start < lo || end > hi || start > end {
			return 0, fmt.Errorf("%q out of range %d-%d", part, lo, hi)
		}
		for v := start; v <= end; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func fieldValue(s string, names []string) (int, error) {
	for i, n := range names {
		if n != "" && strings.EqualFold(s, n) {
			return i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad value %q", s)
	}
	return v, nil
}

// Next returns the first activation strictly after t. For @every the
// interval counts from t (the previous firing or the scheduler start).
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every)
	}
	in := t.In(s.loc)
	c := in.Truncate(time.Second).Add(time.Second)
	limit := in.AddDate(5, 0, 0)
	for c.Before(limit) {
		switch {
		case s.mon&(1<<uint(c.Month())) == 0:
			c = time.Date(c.Year(), c.Month()+1, 1, 0, 0, 0, 0, s.loc)
		case !s.dayMatches(c):
			c = time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, s.loc)
		case s.hour&(1<<uint(c.Hour())) == 0:
			c = time.Date(c.Year(), c.Month(), c.Day(), c.Hour()+1, 0, 0, 0, s.loc)
		case s.min&(1<<uint(c.Minute())) == 0:
			c = time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute()+1, 0, 0, s.loc)
		case s.sec&(1<<uint(c.Second())) == 0:
			c = c.Add(time.Second)
		default:
			return c.In(t.Location())
		}
	}
	return time.Time{}
}

// dayMatches follows cron: when both day-of-month and day-of-week are
// restricted, either may match.
func (s *Schedule) dayMatches(c time.Time) bool {
	dom := s.dom&(1<<uint(c.Day())) != 0
	dow := s.dow&(1<<uint(c.Weekday())) != 0
	if s.domAny || s.dowAny {
		return dom && dow
	}
	return dom || dow
}
