package trail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/audit"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/store"
)

// Records of the audit function in the state bucket (under the store's
// prefix).
const (
	StateRecord  = "audit/state.json"  // State: checkpoint, judged events, baseline
	LockRecord   = "audit/lock.json"   // store.Lock held by the running audit
	ConfigRecord = "audit/config.json" // optional audit.Config (rules, working hours, allow list)
	// IncidentPrefix holds one IncidentRecord per incident:
	// audit/incidents/<window start, YYYY-MM-DD>/<incident ID>.json.
	IncidentPrefix = "audit/incidents/"
)

// Batch adaptation bounds: fewer events than sparseBatch in a read double
// the next span (up to maxBatch); more than denseBatch halve it back
// towards Options.Batch.
const (
	sparseBatch = 1000
	denseBatch  = 20000
	maxBatch    = 24 * time.Hour
)

// MaxLookback is how far back LookupEvents serves events (90 days).
const MaxLookback = 90 * 24 * time.Hour

// Options tune a Watcher run. Zero values mean the documented defaults.
type Options struct {
	// Overlap is how far before the checkpoint each read starts, to catch
	// events ActionTrail delivers late (default 10m).
	Overlap time.Duration
	// Lag keeps the newest, still-filling minutes out of the run: a window
	// is judged once it ended Lag ago (default 2m).
	Lag time.Duration
	// InitialLookback is where the first run starts (default 1h before now).
	InitialLookback time.Duration
	// Batch is the span read per LookupEvents sweep (default 1h): a
	// backlog is read in Batch-sized pieces and the state saved after each.
	Batch time.Duration
	// DeadlineMargin is kept free before the invocation's deadline to save
	// the state (default 20s).
	DeadlineMargin time.Duration
	// MaxJudged bounds the judged-event set (default 50000, about 2 MB of
	// state; the API's quota reads at most 60000 events in 10 minutes).
	MaxJudged int
	// DryRun records incidents without invoking respond.
	DryRun bool
	// Owner names the lock holder (the FC request ID).
	Owner string
}

func (o Options) withDefaults() Options {
	if o.Overlap <= 0 {
		o.Overlap = 10 * time.Minute
	}
	if o.Lag < 0 {
		o.Lag = 0
	} else if o.Lag == 0 {
		o.Lag = 2 * time.Minute
	}
	if o.InitialLookback <= 0 {
		o.InitialLookback = time.Hour
	}
	if o.Batch <= 0 {
		o.Batch = time.Hour
	}
	if o.DeadlineMargin <= 0 {
		o.DeadlineMargin = 20 * time.Second
	}
	if o.MaxJudged <= 0 {
		o.MaxJudged = 50000
	}
	if o.Owner == "" {
		o.Owner = fmt.Sprintf("audit-%d", time.Now().UnixNano())
	}
	return o
}

// Escalator hands an incident to the respond function.
type Escalator func(ctx context.Context, in incident.Incident) error

// Watcher runs the audit: it reads ActionTrail from its checkpoint, judges
// each window with the audit engine and escalates the incidents.
type Watcher struct {
	Store  *store.Store
	Reader *Reader
	// Rules is the rule configuration; a ConfigRecord in the state bucket
	// replaces it, and the leaked-key index is added to its LeakedKeys.
	Rules audit.Config
	// Escalate invokes respond; required unless every run is a dry run.
	Escalate Escalator
	// SelfAllow is appended to the rules' Allow list (SelfAllowances).
	SelfAllow []audit.Allow
	// Enrich adds the AccessKey audit APIs' view of a leaked key; optional.
	Enrich  func(ctx context.Context, accessKeyID string) (*LastUsed, error)
	Options Options
	Log     *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// RunResult is what one run did.
type RunResult struct {
	// Locked is false when another run held the lock and this one did nothing.
	Locked bool      `json:"locked"`
	From   time.Time `json:"from"` // checkpoint before the run
	To     time.Time `json:"to"`   // checkpoint after it
	// Backlog is true when the run stopped at its deadline with complete
	// windows left for the next run.
	Backlog   bool        `json:"backlog"`
	Windows   int         `json:"windows"`
	Events    int         `json:"events"`    // read (after cross-region dedup)
	Judged    int         `json:"judged"`    // passed to the engine
	Rejudged  int         `json:"rejudged"`  // dropped: judged by an earlier read
	Incidents int         `json:"incidents"` // raised in this run
	Escalated int         `json:"escalated"` // respond invocations made
	Repeats   int         `json:"repeats"`   // incidents already handled by an earlier run
	DryRun    bool        `json:"dryRun"`
	Engine    audit.Stats `json:"engine"`
	Read      ReadStats   `json:"read"`
	LeakedKey int         `json:"leakedKeys"`
}

// IncidentRecord is the stored form of one incident.
type IncidentRecord struct {
	Incident    incident.Incident `json:"incident"`
	DryRun      bool              `json:"dryRun,omitempty"`
	RecordedAt  time.Time         `json:"recordedAt"`
	EscalatedAt time.Time         `json:"escalatedAt,omitzero"`
	// NotEscalated says why an incident was recorded but not sent.
	NotEscalated string `json:"notEscalated,omitempty"`
}

// Evidence is the incident's Audit document: the engine's incident, plus
// the AccessKey audit APIs' view for leaked keys.
type Evidence struct {
	audit.Incident
	LastUsed *LastUsed `json:"lastUsed,omitempty"`
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *Watcher) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Run judges every complete window since the checkpoint, or as many as fit
// before ctx's deadline. It returns an error only when retrying can help
// (the state bucket, ActionTrail or respond failed); the state saved
// before the error stays valid, so a retry resumes where this run stopped.
func (w *Watcher) Run(ctx context.Context) (RunResult, error) {
	o := w.Options.withDefaults()
	res := RunResult{DryRun: o.DryRun}
	now := w.now()

	// The lease outlives this invocation (FC kills it at its deadline),
	// so an overlapping run waits for it rather than sharing a window.
	ttl := 15 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		ttl = time.Until(dl) + time.Minute
	}
	ok, err := w.Store.Acquire(ctx, LockRecord, o.Owner, ttl, now)
	if err != nil {
		return res, fmt.Errorf("acquire audit lock: %w", err)
	}
	if !ok {
		// Store.Acquire already hands a lease back to its own owner, which is
		// how FC's retry under the same request ID resumes a killed run.
		w.log().InfoContext(ctx, "audit lock held by another run; skipping")
		return res, nil
	}
	res.Locked = true
	defer func() {
		// Release even when ctx is spent, or the next run waits a whole TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := w.Store.Release(rctx, LockRecord, o.Owner); err != nil {
			w.log().WarnContext(ctx, "release audit lock", "err", err.Error())
		}
	}()

	rules, err := w.rules(ctx)
	if err != nil {
		return res, err
	}
	res.LeakedKey = len(rules.LeakedKeys)
	eng, err := audit.NewEngine(rules)
	if err != nil {
		return res, fmt.Errorf("audit rules: %w", err)
	}
	win := rules.Window
	if win <= 0 {
		win = audit.DefaultConfig().Window
	}

	st, err := w.loadState(ctx, now, o, win)
	if err != nil {
		return res, err
	}
	res.From, res.To = st.Checkpoint, st.Checkpoint
	judged := st.judged()

	horizon := now.Add(-o.Lag).Truncate(win)
	stop := time.Time{} // zero: no deadline
	if dl, ok := ctx.Deadline(); ok {
		stop = dl.Add(-o.DeadlineMargin)
	}
	past := func() bool { return !stop.IsZero() && time.Now().After(stop) }

	save := func() error {
		st.Saves++
		st.UpdatedAt = w.now()
		st.setJudged(judged, st.Checkpoint.Add(-o.Overlap), o.MaxJudged)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := w.Store.Put(sctx, StateRecord, st); err != nil {
			return fmt.Errorf("save audit state: %w", err)
		}
		res.To = st.Checkpoint
		return nil
	}

	// The span read at once adapts to the traffic: quiet stretches (a
	// catch-up over a holiday) go in few calls, busy ones in bounded memory.
	span := o.Batch
	for st.Checkpoint.Before(horizon) {
		if past() {
			res.Backlog = true
			break
		}
		end := st.Checkpoint.Add(span).Truncate(win)
		if end.After(horizon) {
			end = horizon
		}
		if !end.After(st.Checkpoint) {
			end = st.Checkpoint.Add(win)
		}
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if !stop.IsZero() {
			rctx, cancel = context.WithDeadline(ctx, stop)
		}
		evs, complete, rs, readErr := w.Reader.Read(rctx, st.Checkpoint.Add(-o.Overlap), end)
		cancel()
		res.Read.add(rs)
		if readErr != nil {
			// Judge the windows the read did complete, then stop.
			end = complete.Truncate(win)
		}
		res.Events += len(evs)
		switch {
		case len(evs) < sparseBatch && span < maxBatch:
			span = min(2*span, maxBatch)
		case len(evs) > denseBatch && span > o.Batch:
			span = max(span/2, o.Batch)
		}
		slices.SortStableFunc(evs, func(a, b audit.Event) int { return a.EventTime.Compare(b.EventTime) })

		i := 0
		for ws := st.Checkpoint; ws.Before(end); ws = ws.Add(win) {
			we := ws.Add(win)
			var batch []audit.Event
			for ; i < len(evs) && evs[i].EventTime.Before(we); i++ {
				if _, done := judged[evs[i].EventID]; done {
					res.Rejudged++
					continue
				}
				batch = append(batch, evs[i])
			}
			if len(batch) > 0 {
				r := eng.Evaluate(st.Baseline, audit.Window{Start: ws, End: we}, batch)
				res.Engine = addStats(res.Engine, r.Stats)
				for _, ai := range r.Incidents {
					res.Incidents++
					sent, repeat, err := w.handle(ctx, ai, o)
					if err != nil {
						// The window is not done: keep the state at its start.
						if serr := save(); serr != nil {
							err = errors.Join(err, serr)
						}
						return res, err
					}
					if sent {
						res.Escalated++
					}
					if repeat {
						res.Repeats++
					}
				}
				st.Baseline = r.Baseline
				for _, e := range batch {
					judged[e.EventID] = e.EventTime
				}
				res.Judged += len(batch)
			}
			st.Checkpoint = we
			res.Windows++
			if past() && we.Before(end) {
				res.Backlog = true
				break
			}
		}
		if err := save(); err != nil {
			return res, errors.Join(readErr, err)
		}
		if readErr != nil {
			if past() && errors.Is(readErr, context.DeadlineExceeded) {
				// Out of time, not out of luck: the next run goes on from here.
				res.Backlog = true
				break
			}
			return res, fmt.Errorf("read trail: %w", readErr)
		}
		if res.Backlog {
			break
		}
	}
	if res.Windows == 0 {
		// Nothing complete yet: keep the state as it is.
		return res, nil
	}
	if res.To != st.Checkpoint {
		if err := save(); err != nil {
			return res, err
		}
	}
	return res, nil
}

func addStats(a, b audit.Stats) audit.Stats {
	a.Events += b.Events
	a.Duplicates += b.Duplicates
	a.OutsideWindow += b.OutsideWindow
	a.Late += b.Late
	a.NoAccessKey += b.NoAccessKey
	a.Evaluated += b.Evaluated
	a.Windows += b.Windows
	a.Subjects += b.Subjects
	a.Learned += b.Learned
	return a
}

// rules is w.Rules, or the ConfigRecord when present, plus the leaked-key
// index.
func (w *Watcher) rules(ctx context.Context) (audit.Config, error) {
	cfg := w.Rules
	var stored audit.Config
	switch err := w.Store.Get(ctx, ConfigRecord, &stored); {
	case err == nil:
		cfg = stored
	case errors.Is(err, store.ErrNotFound):
	default:
		return cfg, fmt.Errorf("read audit config: %w", err)
	}
	leaked, bad, err := w.Store.LeakedKeys(ctx)
	if err != nil {
		return cfg, err
	}
	if len(bad) > 0 {
		w.log().WarnContext(ctx, "unreadable leaked-key records skipped", "records", bad)
	}
	merged := make(map[string]audit.LeakInfo, len(cfg.LeakedKeys)+len(leaked))
	maps.Copy(merged, cfg.LeakedKeys)
	for id, k := range leaked {
		if _, ok := merged[id]; !ok {
			merged[id] = audit.LeakInfo{Source: k.Source, Location: k.Location, ReportedAt: k.ReportedAt}
		}
	}
	cfg.LeakedKeys = merged
	cfg.Allow = append(slices.Clip(cfg.Allow), w.SelfAllow...)
	return cfg, nil
}

func (w *Watcher) loadState(ctx context.Context, now time.Time, o Options, win time.Duration) (*State, error) {
	var st State
	switch err := w.Store.Get(ctx, StateRecord, &st); {
	case errors.Is(err, store.ErrNotFound):
		st = State{Version: StateVersion, Checkpoint: now.Add(-o.InitialLookback).Truncate(win)}
		w.log().InfoContext(ctx, "no audit state; starting", "checkpoint", st.Checkpoint)
	case err != nil:
		return nil, fmt.Errorf("load audit state: %w", err)
	default:
		if err := st.validate(); err != nil {
			return nil, fmt.Errorf("load audit state: %w", err)
		}
	}
	if oldest := now.Add(-MaxLookback).Truncate(win).Add(win); st.Checkpoint.Before(oldest) {
		// LookupEvents serves the last 90 days only: what is older is gone.
		w.log().WarnContext(ctx, "audit checkpoint older than ActionTrail keeps events; skipping ahead",
			"checkpoint", st.Checkpoint, "to", oldest)
		st.Checkpoint = oldest
	}
	if t := st.Checkpoint.Truncate(win); !t.Equal(st.Checkpoint) {
		// The window length changed: re-align backwards, the judged set
		// keeps the re-read events from being judged twice.
		st.Checkpoint = t
	}
	return &st, nil
}

// handle records one incident and escalates it unless an earlier run did.
// sent: respond was invoked; repeat: an earlier run already handled it.
func (w *Watcher) handle(ctx context.Context, ai audit.Incident, o Options) (sent, repeat bool, err error) {
	id := incident.ID(incident.SourceAudit, ai.ID)
	key := IncidentPrefix + ai.Window.Start.UTC().Format("2006-01-02") + "/" + id + ".json"
	var rec IncidentRecord
	err = w.Store.Get(ctx, key, &rec)
	switch {
	case err == nil:
		if !rec.EscalatedAt.IsZero() || rec.DryRun || rec.NotEscalated != "" {
			return false, true, nil
		}
		// Recorded, but the run stopped before respond took it: send it now.
	case errors.Is(err, store.ErrNotFound):
		in, err := w.build(ctx, id, ai, o)
		if err != nil {
			return false, false, err
		}
		rec = IncidentRecord{Incident: in, DryRun: o.DryRun, RecordedAt: w.now()}
		if verr := in.Validate(); verr != nil {
			rec.NotEscalated = verr.Error()
		}
		if err := w.Store.Put(ctx, key, rec); err != nil {
			return false, false, fmt.Errorf("record incident: %w", err)
		}
	default:
		return false, false, fmt.Errorf("read incident record: %w", err)
	}
	lg := w.log().With("incident_id", id, "access_key_id", ai.AccessKeyID, "principal", ai.Principal,
		"severity", ai.Severity.String(), "rules", ruleNames(ai), "window_start", ai.Window.Start)
	switch {
	case rec.DryRun:
		lg.InfoContext(ctx, "incident (dry run, not escalated)")
		return false, false, nil
	case rec.NotEscalated != "":
		lg.WarnContext(ctx, "incident recorded but cannot be escalated", "reason", rec.NotEscalated)
		return false, false, nil
	case w.Escalate == nil:
		return false, false, errors.New("escalate incident: no respond function configured")
	}
	if err := w.Escalate(ctx, rec.Incident); err != nil {
		return false, false, fmt.Errorf("escalate incident %s: %w", id, err)
	}
	rec.EscalatedAt = w.now()
	if err := w.Store.Put(ctx, key, rec); err != nil {
		// respond has it and deduplicates by ID; a retry re-sends at most once more.
		return true, false, fmt.Errorf("record incident escalation: %w", err)
	}
	lg.InfoContext(ctx, "incident escalated")
	return true, false, nil
}

func ruleNames(ai audit.Incident) []string {
	out := make([]string, 0, len(ai.Rules))
	for _, h := range ai.Rules {
		out = append(out, h.Rule)
	}
	return out
}

// build turns an engine incident into the respond contract.
func (w *Watcher) build(ctx context.Context, id string, ai audit.Incident, o Options) (incident.Incident, error) {
	ev := Evidence{Incident: ai}
	if ai.Leak != nil && w.Enrich != nil && !strings.HasPrefix(ai.AccessKeyID, "STS.") {
		lu, err := w.Enrich(ctx, ai.AccessKeyID)
		if err != nil {
			w.log().WarnContext(ctx, "access key last-used lookup unavailable", "access_key_id", ai.AccessKeyID, "err", err.Error())
		} else {
			ev.LastUsed = lu
		}
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("encode incident evidence: %w", err)
	}
	return incident.Incident{
		Version:     incident.Version,
		ID:          id,
		Source:      incident.SourceAudit,
		AccessKeyID: ai.AccessKeyID,
		Severity:    ai.Severity,
		DetectedAt:  w.now(),
		Summary:     summary(ai),
		Audit:       raw,
		DryRun:      o.DryRun,
	}, nil
}

func summary(ai audit.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s) in %s–%s UTC:", ai.Severity, ai.Principal, ai.AccessKeyID,
		ai.Window.Start.UTC().Format("2006-01-02 15:04"), ai.Window.End.UTC().Format("15:04"))
	for i, h := range ai.Rules {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s", h.Rule)
	}
	return b.String()
}
