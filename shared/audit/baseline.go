package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"time"
)

// BaselineVersion is the schema version written into Baseline.Version.
const BaselineVersion = 1

// Size bounds that keep a baseline small enough to live in one state
// object however long the audit runs.
const (
	maxIPs      = 256
	maxNetworks = 256
	maxRegions  = 64
	// volumeBuckets covers per-window counts up to 2^24.
	volumeBuckets = 48
	// volumeDecayAt halves the histograms once they hold two weeks of
	// 5-minute windows, so old habits fade and counters stay bounded.
	volumeDecayAt = 4032
)

// Baseline is what the engine has learned about each subject: one profile
// per long-term AccessKey ("key/<id>") and per role ("role/<account>/<role>").
// It is JSON-serialisable and lives in the state bucket between runs.
type Baseline struct {
	Version  int                 `json:"version"`
	Subjects map[string]*Profile `json:"subjects"`
}

// Profile is one subject's normal behaviour, learned only from windows in
// which no rule fired for it: an attacker's activity never becomes normal.
type Profile struct {
	Principal     string    `json:"principal"`
	PrincipalType string    `json:"principalType"`
	AccountID     string    `json:"accountId,omitempty"`
	FirstSeen     time.Time `json:"firstSeen"`
	LastSeen      time.Time `json:"lastSeen"`
	// Events and Windows count what was learned (clean active windows).
	Events  int64 `json:"events"`
	Windows int64 `json:"windows"`
	// Volume is a histogram of calls per window over clean active
	// windows, two buckets per power of two (see volumeBucket).
	Volume [volumeBuckets]uint32 `json:"volume"`
	// HourOfWeek counts clean active windows by UTC hour of the week
	// (0 = Sunday 00:00 UTC). UTC keeps it valid when the configured time
	// zone changes.
	HourOfWeek [168]uint32 `json:"hourOfWeek"`
	// IPs, Networks and Regions map each value to when it was last seen;
	// when full, the longest-unseen entry goes.
	IPs      map[string]time.Time `json:"ips,omitempty"`
	Networks map[string]time.Time `json:"networks,omitempty"`
	Regions  map[string]time.Time `json:"regions,omitempty"`
}

// ParseBaseline decodes a stored baseline. Empty input is an empty
// baseline (the first run); a baseline of another schema version is an
// error rather than silently re-learned, which would mute the history
// rules for BaselineMinDays.
func ParseBaseline(data []byte) (Baseline, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Baseline{Version: BaselineVersion, Subjects: map[string]*Profile{}}, nil
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return Baseline{}, fmt.Errorf("parse baseline: %w", err)
	}
	if b.Version != BaselineVersion {
		return Baseline{}, fmt.Errorf("parse baseline: schema version %d, want %d", b.Version, BaselineVersion)
	}
	for k, p := range b.Subjects {
		if p == nil {
			delete(b.Subjects, k)
		}
	}
	if b.Subjects == nil {
		b.Subjects = map[string]*Profile{}
	}
	return b, nil
}

func (p *Profile) clone() *Profile {
	q := *p
	q.IPs = maps.Clone(p.IPs)
	q.Networks = maps.Clone(p.Networks)
	q.Regions = maps.Clone(p.Regions)
	return &q
}

// mature reports whether p has seen enough to judge the unusual at t.
func (p *Profile) mature(c *compiled, t time.Time) bool {
	return p != nil && p.Windows >= int64(c.BaselineMinWindows) &&
		!p.FirstSeen.After(t.Add(-time.Duration(c.BaselineMinDays)*24*time.Hour))
}

// volumeBucket places n ≥ 1: [1], [2], [3], [4,5], [6,7], [8,11], [12,15], ...
func volumeBucket(n int) int {
	if n < 1 {
		n = 1
	}
	k := 0
	for v := n; v > 1; v >>= 1 {
		k++
	}
	i := 2 * k
	if n >= (1<<k)+(1<<k)/2 && k > 0 {
		i++
	}
	return min(i, volumeBuckets-1)
}

// volumeBucketMax is the largest count in bucket i.
func volumeBucketMax(i int) int {
	k := i / 2
	if i%2 == 0 {
		if k == 0 {
			return 1
		}
		return (1 << k) + (1<<k)/2 - 1
	}
	return (1 << (k + 1)) - 1
}

// p95 is the 95th percentile of clean per-window volume, rounded up to
// its bucket's top so the estimate errs towards fewer alarms.
func (p *Profile) p95() int {
	var total uint64
	for _, v := range p.Volume {
		total += uint64(v)
	}
	if total == 0 {
		return 0
	}
	need := uint64(math.Ceil(0.95 * float64(total)))
	var run uint64
	for i, v := range p.Volume {
		run += uint64(v)
		if run >= need {
			return volumeBucketMax(i)
		}
	}
	return volumeBucketMax(volumeBuckets - 1)
}

// offHoursShare is the share of the profile's active hours that fall
// outside c's working hours, judged in the week of t (so daylight saving
// is applied as it is now).
func (p *Profile) offHoursShare(c *compiled, t time.Time) float64 {
	week := weekStartUTC(t)
	var total, off uint64
	for h, v := range p.HourOfWeek {
		if v == 0 {
			continue
		}
		total += uint64(v)
		// Judge the middle of the hour: working hours on the half hour
		// then count the hour as half in, which rounds to the hour's side.
		if !c.working(week.Add(time.Duration(h)*time.Hour + 30*time.Minute)) {
			off += uint64(v)
		}
	}
	if total == 0 {
		return 0
	}
	return float64(off) / float64(total)
}

func weekStartUTC(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -int(d.Weekday()))
}

func hourOfWeek(t time.Time) int {
	t = t.UTC()
	return int(t.Weekday())*24 + t.Hour()
}

// learn folds a clean window into p. n is the window's call count scaled
// to the configured window length.
func (p *Profile) learn(w *subjectWindow, n int) {
	var hours [168]bool
	for _, e := range w.events {
		t := e.EventTime
		if p.FirstSeen.IsZero() || t.Before(p.FirstSeen) {
			p.FirstSeen = t
		}
		if t.After(p.LastSeen) {
			p.LastSeen = t
		}
		hours[hourOfWeek(t)] = true
	}
	for v, t := range w.ips {
		p.IPs = touch(p.IPs, v, t.last, maxIPs)
	}
	for v, t := range w.networks {
		p.Networks = touch(p.Networks, v, t.last, maxNetworks)
	}
	for v, t := range w.regions {
		p.Regions = touch(p.Regions, v, t.last, maxRegions)
	}
	p.Events += int64(len(w.events))
	p.Windows++
	p.Volume[volumeBucket(n)]++
	for h, ok := range hours {
		if ok {
			p.HourOfWeek[h]++
		}
	}
	var total uint64
	for _, v := range p.Volume {
		total += uint64(v)
	}
	if total > volumeDecayAt {
		for i := range p.Volume {
			p.Volume[i] = (p.Volume[i] + 1) / 2
		}
		for i := range p.HourOfWeek {
			p.HourOfWeek[i] = (p.HourOfWeek[i] + 1) / 2
		}
	}
}

// touch records v as seen at t, evicting the longest-unseen entry (the
// smallest value on a tie) when the set would exceed limit.
func touch(m map[string]time.Time, v string, t time.Time, limit int) map[string]time.Time {
	if m == nil {
		m = make(map[string]time.Time)
	}
	if old, ok := m[v]; ok {
		if t.After(old) {
			m[v] = t
		}
		return m
	}
	if len(m) >= limit {
		var victim string
		var vt time.Time
		first := true
		for k, kt := range m {
			if first || kt.Before(vt) || (kt.Equal(vt) && k < victim) {
				victim, vt, first = k, kt, false
			}
		}
		delete(m, victim)
	}
	m[v] = t
	return m
}

// trimSubjects drops the longest-unseen profiles beyond limit.
func trimSubjects(m map[string]*Profile, limit int) {
	if len(m) <= limit {
		return
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(m[a].LastSeen.Compare(m[b].LastSeen), cmp.Compare(a, b))
	})
	for _, k := range keys[:len(keys)-limit] {
		delete(m, k)
	}
}

// networkOf names the network an address belongs to: its /24 (IPv4) or
// /48 (IPv6), or its /16 for private and shared (100.64/10) space, where
// VPC callers move between vSwitch addresses. Masked or non-IP values
// ("10.10.**.**", service names) have no network and are never unfamiliar.
func networkOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() {
		return ""
	}
	bits := 24
	switch {
	case a.Is6():
		bits = 48
	case a.IsPrivate() || sharedSpace(a):
		bits = 16
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// sharedSpace reports RFC 6598 100.64.0.0/10, which Alibaba Cloud uses for
// internal service endpoints.
func sharedSpace(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] == 100 && b[1]&0xc0 == 64
}
