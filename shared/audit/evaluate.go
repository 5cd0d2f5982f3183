package audit

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/finding"
)

// Window is the span [Start, End) of event times one evaluation covers.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Result is the outcome of evaluating events.
type Result struct {
	// Incidents, most severe first, then by subject.
	Incidents []Incident `json:"incidents"`
	// Baseline is the input baseline updated with the window's clean
	// activity. The input is never modified.
	Baseline Baseline `json:"baseline"`
	Stats    Stats    `json:"stats"`
}

// Stats counts what happened to the input events.
type Stats struct {
	Events        int `json:"events"`
	Duplicates    int `json:"duplicates"`    // same eventId seen before
	OutsideWindow int `json:"outsideWindow"` // eventTime at or after the window's end
	Late          int `json:"late"`          // eventTime before the window's start: judged with it
	NoAccessKey   int `json:"noAccessKey"`   // console sessions and the like
	Evaluated     int `json:"evaluated"`
	Windows       int `json:"windows"`
	Subjects      int `json:"subjects"` // subject-windows evaluated
	Learned       int `json:"learned"`  // subject-windows that taught the baseline
}

func (s *Stats) add(o Stats) {
	s.Events += o.Events
	s.Duplicates += o.Duplicates
	s.OutsideWindow += o.OutsideWindow
	s.Late += o.Late
	s.NoAccessKey += o.NoAccessKey
	s.Evaluated += o.Evaluated
	s.Windows += o.Windows
	s.Subjects += o.Subjects
	s.Learned += o.Learned
}

// Incident is everything one subject did wrong in one window.
type Incident struct {
	// ID is stable for a subject and window, so a re-run after a crash
	// produces the same incident, which the respond side can deduplicate.
	ID string `json:"id"`
	// AccessKeyID is the key the calls were signed with; for a role, the
	// STS key used most (all are in Evidence.AccessKeyIDs).
	AccessKeyID   string           `json:"accessKeyId"`
	Principal     string           `json:"principal"`
	PrincipalType string           `json:"principalType"`
	AccountID     string           `json:"accountId,omitempty"`
	Window        Window           `json:"window"`
	Severity      finding.Severity `json:"severity"`
	Rules         []Hit            `json:"rules"`
	Leak          *LeakInfo        `json:"leak,omitempty"`
	Evidence      Evidence         `json:"evidence"`
}

// Hit is one rule that fired, with why.
type Hit struct {
	Rule     string           `json:"rule"`
	Severity finding.Severity `json:"severity"`
	Reason   string           `json:"reason"`
	Events   int              `json:"events"`
	EventIDs []string         `json:"eventIds"` // at most maxHitIDs
}

// Evidence summarises all of the subject's events in the window.
type Evidence struct {
	Events       int       `json:"events"`
	EventIDs     []string  `json:"eventIds"` // earliest first, at most maxEvidenceIDs
	First        time.Time `json:"first"`
	Last         time.Time `json:"last"`
	AccessKeyIDs []Count   `json:"accessKeyIds"`
	Operations   []Count   `json:"operations"` // "Service:EventName"
	SourceIPs    []Count   `json:"sourceIps,omitempty"`
	Regions      []Count   `json:"regions,omitempty"`
	UserAgents   []Count   `json:"userAgents,omitempty"`
	Resources    []Count   `json:"resources,omitempty"`
	Errors       []Count   `json:"errors,omitempty"`
}

// Count is a value and how often it occurred. A list longer than
// maxCounts ends with {"value":"(other)"} carrying the rest.
type Count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

const (
	maxHitIDs      = 10
	maxEvidenceIDs = 50
	maxCounts      = 20
	otherValue     = "(other)"
)

// Engine evaluates windows under one validated Config. It holds no state
// between calls and is safe for concurrent use.
type Engine struct {
	c     *compiled
	rules []Rule
	ops   map[[2]string]string // {RAM namespace, event name} -> family
}

// NewEngine validates cfg and prepares it for evaluation.
func NewEngine(cfg Config) (*Engine, error) {
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	ops := make(map[[2]string]string)
	for action, fam := range operations() {
		ns, name, _ := strings.Cut(action, ":")
		ops[[2]string{ns, name}] = fam
	}
	return &Engine{c: c, rules: Rules(), ops: ops}, nil
}

// Evaluate is NewEngine(cfg) then Evaluate.
func Evaluate(cfg Config, b Baseline, w Window, events []Event) (Result, error) {
	e, err := NewEngine(cfg)
	if err != nil {
		return Result{}, err
	}
	return e.Evaluate(b, w, events), nil
}

// subjectWindow is one subject's events in one window, with aggregates
// that the checks and the baseline share.
type subjectWindow struct {
	subject  subject
	window   Window
	events   []*Event // by time, then eventId
	profile  *Profile // as before the window; nil when never seen
	mature   bool
	ips      map[string]*agg
	networks map[string]*agg
	regions  map[string]*agg
	allows   bool // some Allow entry names this subject or one of its keys
	ops      map[[2]string]string
}

type agg struct {
	count   int
	last    time.Time
	example string // for networks: the first address seen in it
}

func bump(m map[string]*agg, k string, t time.Time) *agg {
	a := m[k]
	if a == nil {
		a = &agg{}
		m[k] = a
	}
	a.count++
	if t.After(a.last) {
		a.last = t
	}
	return a
}

// Evaluate runs every rule over the events of w, once per subject, and
// returns the incidents and the baseline updated from the clean subjects.
// Events are deduplicated by eventId. Events at or after w.End belong to a
// later window and events signed with no AccessKey to no rule: both are
// counted and ignored. Events before w.Start are late arrivals (ActionTrail
// delivers events minutes after they happen, so the audit function reads
// from its checkpoint minus an overlap) and are judged with this window;
// the caller drops the IDs it already judged in an earlier run. It is
// deterministic: the same inputs give the same Result in any event order.
func (e *Engine) Evaluate(b Baseline, w Window, events []Event) Result {
	st := Stats{Events: len(events), Windows: 1}
	seen := make(map[string]struct{}, len(events))
	byKey := make(map[string]*subjectWindow)
	bySubject := make(map[string]*subjectWindow)
	for i := range events {
		ev := &events[i]
		if id := ev.EventID; id != "" {
			if _, dup := seen[id]; dup {
				st.Duplicates++
				continue
			}
			seen[id] = struct{}{}
		}
		if !ev.EventTime.Before(w.End) {
			st.OutsideWindow++
			continue
		}
		if ev.EventTime.Before(w.Start) {
			st.Late++
		}
		ak := ev.UserIdentity.AccessKeyID
		if ak == "" {
			st.NoAccessKey++
			continue
		}
		sw := byKey[ak]
		if sw == nil {
			s, _ := subjectOf(ev)
			if sw = bySubject[s.Key]; sw == nil {
				sw = &subjectWindow{subject: s, window: w, ops: e.ops}
				bySubject[s.Key] = sw
			}
			byKey[ak] = sw
		}
		sw.events = append(sw.events, ev)
		st.Evaluated++
	}

	out := Result{Baseline: Baseline{Version: BaselineVersion, Subjects: maps.Clone(b.Subjects)}}
	if out.Baseline.Subjects == nil {
		out.Baseline.Subjects = make(map[string]*Profile)
	}
	for _, key := range slices.Sorted(maps.Keys(bySubject)) {
		sw := bySubject[key]
		st.Subjects++
		sw.prepare(e.c, b.Subjects[key])
		if inc, ok := e.judge(sw); ok {
			out.Incidents = append(out.Incidents, inc)
			continue
		}
		p := &Profile{Principal: sw.subject.Principal, PrincipalType: sw.subject.Type, AccountID: sw.subject.AccountID}
		if sw.profile != nil {
			p = sw.profile.clone()
		}
		p.learn(sw, e.scaledCount(len(sw.events), w))
		out.Baseline.Subjects[key] = p
		st.Learned++
	}
	trimSubjects(out.Baseline.Subjects, e.c.MaxSubjects)
	slices.SortStableFunc(out.Incidents, func(a, b Incident) int { return cmp.Compare(b.Severity, a.Severity) })
	out.Stats = st
	return out
}

// scaledCount expresses n calls in w as calls per configured window.
func (e *Engine) scaledCount(n int, w Window) int {
	d := w.End.Sub(w.Start)
	if d <= 0 || d == e.c.Window {
		return n
	}
	return int(float64(n)*float64(e.c.Window)/float64(d) + 0.5)
}

func (sw *subjectWindow) prepare(c *compiled, p *Profile) {
	slices.SortFunc(sw.events, func(a, b *Event) int {
		return cmp.Or(a.EventTime.Compare(b.EventTime), cmp.Compare(a.EventID, b.EventID))
	})
	sw.profile = p
	sw.mature = p.mature(c, sw.window.Start)
	sw.ips = make(map[string]*agg)
	sw.regions = make(map[string]*agg)
	for _, ev := range sw.events {
		if ev.SourceIPAddress != "" {
			bump(sw.ips, ev.SourceIPAddress, ev.EventTime)
		}
		// Global services (RAM, STS) report a nominal region that says
		// nothing about where the caller is.
		if ev.AcsRegion != "" && !ev.IsGlobal {
			bump(sw.regions, ev.AcsRegion, ev.EventTime)
		}
	}
	sw.networks = make(map[string]*agg)
	for _, ip := range slices.Sorted(maps.Keys(sw.ips)) {
		n := networkOf(ip)
		if n == "" {
			continue
		}
		a := sw.networks[n]
		if a == nil {
			a = &agg{example: ip}
			sw.networks[n] = a
		}
		a.count += sw.ips[ip].count
		if t := sw.ips[ip].last; t.After(a.last) {
			a.last = t
		}
	}
	for i := range c.Allow {
		a := &c.Allow[i]
		if a.Principal == sw.subject.Principal && a.AccessKeyID == "" {
			sw.allows = true
		}
		if a.AccessKeyID != "" && slices.ContainsFunc(sw.events, func(ev *Event) bool {
			return ev.UserIdentity.AccessKeyID == a.AccessKeyID
		}) {
			sw.allows = true
		}
	}
}

// judge runs the rules; ok is true when at least one fired.
func (e *Engine) judge(sw *subjectWindow) (Incident, bool) {
	var hits []Hit
	for _, r := range e.rules {
		if r.NeedsBaseline && !sw.mature {
			continue
		}
		evs := sw.events
		if sw.allows {
			evs = slices.DeleteFunc(slices.Clone(evs), func(ev *Event) bool {
				return e.c.allowed(r.ID, sw.subject, ev)
			})
			if len(evs) == 0 {
				continue
			}
		}
		reason, matched, ok := r.check(e.c, sw, evs)
		if !ok {
			continue
		}
		h := Hit{Rule: r.ID, Severity: r.Severity, Reason: reason, Events: len(matched)}
		for _, ev := range matched[:min(len(matched), maxHitIDs)] {
			h.EventIDs = append(h.EventIDs, ev.EventID)
		}
		hits = append(hits, h)
	}
	if len(hits) == 0 {
		return Incident{}, false
	}
	sev := finding.SeverityInfo
	for _, h := range hits {
		sev = max(sev, h.Severity)
	}
	// Rules that agree are stronger evidence than any one of them.
	if len(hits) >= 3 && sev < finding.SeverityCritical {
		sev++
	}
	sum := sha256.Sum256([]byte(sw.subject.Key + "|" + sw.window.Start.UTC().Format(time.RFC3339Nano)))
	inc := Incident{
		ID:            hex.EncodeToString(sum[:12]),
		Principal:     sw.subject.Principal,
		PrincipalType: sw.subject.Type,
		AccountID:     sw.subject.AccountID,
		Window:        Window{Start: sw.window.Start.UTC(), End: sw.window.End.UTC()},
		Severity:      sev,
		Rules:         hits,
		Evidence:      sw.evidence(),
	}
	inc.AccessKeyID = inc.Evidence.AccessKeyIDs[0].Value
	for _, k := range inc.Evidence.AccessKeyIDs {
		if li, ok := e.c.LeakedKeys[k.Value]; ok {
			inc.Leak = &li
			break
		}
	}
	return inc, true
}

func (sw *subjectWindow) evidence() Evidence {
	ev := Evidence{
		Events: len(sw.events),
		First:  sw.events[0].EventTime,
		Last:   sw.events[len(sw.events)-1].EventTime,
	}
	keys, agents, errs := counter{}, counter{}, counter{}
	// Pairs are joined into one string per distinct value, not per event.
	opPairs, resPairs := map[[2]string]int{}, map[[2]string]int{}
	for i, e := range sw.events {
		if i < maxEvidenceIDs {
			ev.EventIDs = append(ev.EventIDs, e.EventID)
		}
		keys[e.UserIdentity.AccessKeyID]++
		opPairs[[2]string{e.ServiceName, e.EventName}]++
		if e.UserAgent != "" {
			agents[e.UserAgent]++
		}
		if e.ResourceName != "" {
			resPairs[[2]string{e.ResourceType, e.ResourceName}]++
		}
		for typ, names := range e.ReferencedResources {
			for _, n := range names {
				if typ != e.ResourceType || n != e.ResourceName {
					resPairs[[2]string{typ, n}]++
				}
			}
		}
		if e.ErrorCode != "" {
			errs[e.ErrorCode]++
		}
	}
	ops, res := counter{}, counter{}
	for p, n := range opPairs {
		ops[p[0]+":"+p[1]] += n
	}
	for p, n := range resPairs {
		res[strings.TrimSpace(p[0]+" "+p[1])] += n
	}
	ips, regions := counter{}, counter{}
	for k, a := range sw.ips {
		ips[k] = a.count
	}
	for k, a := range sw.regions {
		regions[k] = a.count
	}
	ev.AccessKeyIDs = keys.top()
	ev.Operations = ops.top()
	ev.SourceIPs = ips.top()
	ev.Regions = regions.top()
	ev.UserAgents = agents.top()
	ev.Resources = res.top()
	ev.Errors = errs.top()
	return ev
}

type counter map[string]int

// top lists the counts, largest first, folding the tail into "(other)".
func (c counter) top() []Count {
	if len(c) == 0 {
		return nil
	}
	out := make([]Count, 0, len(c))
	for v, n := range c {
		out = append(out, Count{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	if len(out) > maxCounts {
		rest := 0
		for _, x := range out[maxCounts-1:] {
			rest += x.Count
		}
		out = append(out[:maxCounts-1], Count{Value: otherValue, Count: rest})
	}
	return out
}

// Replay evaluates events window by window, as the audit function would
// have on its timer: windows of the configured length aligned to the UTC
// clock, in time order, each learning from the previous ones. It is how
// `akguard audit --events FILE` and the tests run a history.
func (e *Engine) Replay(b Baseline, events []Event) Result {
	byTime := func(a, b Event) int { return a.EventTime.Compare(b.EventTime) }
	sorted := events
	if !slices.IsSortedFunc(sorted, byTime) {
		sorted = slices.Clone(events)
		slices.SortStableFunc(sorted, byTime)
	}
	out := Result{Baseline: b}
	for i := 0; i < len(sorted); {
		start := sorted[i].EventTime.Truncate(e.c.Window)
		w := Window{Start: start, End: start.Add(e.c.Window)}
		j := i
		for j < len(sorted) && sorted[j].EventTime.Before(w.End) {
			j++
		}
		r := e.Evaluate(out.Baseline, w, sorted[i:j])
		out.Baseline = r.Baseline
		out.Incidents = append(out.Incidents, r.Incidents...)
		out.Stats.add(r.Stats)
		i = j
	}
	if out.Baseline.Subjects == nil {
		out.Baseline = Baseline{Version: BaselineVersion, Subjects: map[string]*Profile{}}
	}
	return out
}
