package trail

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"

	"github.com/akguard/akguard/shared/audit"
)

// TimeLayout is ActionTrail's StartTime/EndTime format (cloud-apis.md B2.1).
const TimeLayout = "2006-01-02T15:04:05Z"

// MaxResults is the largest page LookupEvents returns (API reference: 0–50).
const MaxResults = 50

// Region is one region's ActionTrail client. alibaba-cloud-sdk-go clients
// are not safe for concurrent use, so a Reader uses each from one
// goroutine at a time.
type Region struct {
	Name   string
	Client *actiontrail.Client
}

// Reader reads every event of a time span from ActionTrail in each
// configured region: LookupEvents with no LookupAttribute (every event,
// read or write, of every service), FORWARD, MaxResults 50, following
// NextToken to the end.
type Reader struct {
	Regions []Region
	// Interval is the least time between two calls (default 500ms):
	// ActionTrail allows LookupEvents about 2 QPS per account.
	Interval time.Duration
	// Backoff retries throttling, 5xx and network errors.
	Backoff Backoff
	Log     *slog.Logger

	last time.Time // when the last call was sent; a Reader is used by one goroutine
}

// ReadStats counts the API work of a read.
type ReadStats struct {
	Calls     int `json:"calls"`
	Retries   int `json:"retries"`
	Throttled int `json:"throttled"`
	Events    int `json:"events"` // as returned, before deduplication across regions
}

func (s *ReadStats) add(o ReadStats) {
	s.Calls += o.Calls
	s.Retries += o.Retries
	s.Throttled += o.Throttled
	s.Events += o.Events
}

// Read returns the events with start <= eventTime < end of every region,
// deduplicated by eventId (global services' events come back from every
// region's query).
//
// Regions are paged in turn, one page each, so they progress together. If
// a call fails for good or ctx ends, Read returns what it has with the
// error, and complete: every event before complete has been returned (each
// region is read in time order, so the events before the newest one seen
// are all in). complete is end when err is nil. Callers judge only windows
// that end by complete, and read the rest again later.
func (r *Reader) Read(ctx context.Context, start, end time.Time) (evs []audit.Event, complete time.Time, stats ReadStats, err error) {
	if !start.Before(end) {
		return nil, end, stats, nil
	}
	type cursor struct {
		reg   Region
		token string
		done  bool
		upTo  time.Time // every event of the region before upTo is read
	}
	curs := make([]*cursor, len(r.Regions))
	for i, reg := range r.Regions {
		curs[i] = &cursor{reg: reg, upTo: start}
	}
	seen := map[string]bool{}
	partial := func(err error) ([]audit.Event, time.Time, ReadStats, error) {
		c := end
		for _, cu := range curs {
			if !cu.done && cu.upTo.Before(c) {
				c = cu.upTo
			}
		}
		return evs, c, stats, err
	}
	// EndTime is inclusive at second precision: ask up to the last second
	// before end and drop anything at or after end.
	last := end.Add(-time.Second).Truncate(time.Second)
	if last.Before(start) {
		last = start
	}
	for pending := len(curs); pending > 0; {
		pending = 0
		for _, cu := range curs {
			if cu.done {
				continue
			}
			req := actiontrail.CreateLookupEventsRequest()
			req.RegionId = cu.reg.Name
			req.StartTime = start.UTC().Format(TimeLayout)
			req.EndTime = last.UTC().Format(TimeLayout)
			req.MaxResults = fmt.Sprint(MaxResults)
			req.Direction = "FORWARD"
			req.NextToken = cu.token
			resp, st, err := r.call(ctx, cu.reg, req)
			stats.add(st)
			if err != nil {
				return partial(fmt.Errorf("lookup events in %s: %w", cu.reg.Name, err))
			}
			page, err := audit.DecodeEventMaps(resp.Events)
			if err != nil {
				return partial(fmt.Errorf("decode events from %s: %w", cu.reg.Name, err))
			}
			stats.Events += len(page)
			for _, e := range page {
				if e.EventTime.After(cu.upTo) {
					cu.upTo = e.EventTime // FORWARD: times only grow
				}
				if e.EventTime.Before(start) || !e.EventTime.Before(end) {
					continue
				}
				if e.EventID != "" {
					if seen[e.EventID] {
						continue
					}
					seen[e.EventID] = true
				}
				evs = append(evs, e)
			}
			switch {
			case resp.NextToken == "":
				cu.done = true
			case resp.NextToken == cu.token:
				return partial(fmt.Errorf("lookup events in %s: NextToken did not advance", cu.reg.Name))
			default:
				cu.token = resp.NextToken
				pending++
			}
		}
	}
	return evs, end, stats, nil
}

// call sends one LookupEvents, paced and retried.
func (r *Reader) call(ctx context.Context, reg Region, req *actiontrail.LookupEventsRequest) (*actiontrail.LookupEventsResponse, ReadStats, error) {
	var resp *actiontrail.LookupEventsResponse
	st, err := r.do(ctx, reg.Name, "LookupEvents", func() (err error) {
		resp, err = reg.Client.LookupEvents(req)
		return err
	})
	return resp, st, err
}

// do runs one API call paced by Interval and retried by Backoff; the
// error it returns is cleaned of request details (CleanError).
func (r *Reader) do(ctx context.Context, region, op string, f func() error) (ReadStats, error) {
	var st ReadStats
	b := r.Backoff.withDefaults()
	for attempt := 0; ; attempt++ {
		if err := r.pace(ctx); err != nil {
			return st, err
		}
		st.Calls++
		err := f()
		if err == nil {
			return st, nil
		}
		err = CleanError(err)
		retry, throttled := Retryable(err)
		if throttled {
			st.Throttled++
		}
		if !retry || attempt >= b.MaxRetries {
			return st, err
		}
		d := b.Delay(attempt, throttled)
		if r.Log != nil {
			r.Log.DebugContext(ctx, "actiontrail retry", "op", op, "region", region, "attempt", attempt+1,
				"delay", d.String(), "err", err.Error())
		}
		st.Retries++
		if serr := sleep(ctx, d); serr != nil {
			return st, fmt.Errorf("%w (last error: %v)", serr, err)
		}
	}
}

func (r *Reader) pace(ctx context.Context) error {
	iv := r.Interval
	if iv == 0 {
		iv = 500 * time.Millisecond
	}
	if wait := time.Until(r.last.Add(iv)); wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
	r.last = time.Now()
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff is exponential backoff with full jitter.
type Backoff struct {
	Base       time.Duration // first delay (default 500ms)
	Max        time.Duration // cap (default 10s)
	MaxRetries int           // retries per call (default 8)
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	if b.MaxRetries <= 0 {
		b.MaxRetries = 8
	}
	return b
}

// Delay is the wait before retry attempt+1: uniformly random in
// [d/2, d] for d = min(Max, Base·2^attempt), so callers that were
// throttled together do not retry together, yet never retry at once.
// Throttling starts one step higher: the limit is per second, and
// retrying within it only spends quota.
func (b Backoff) Delay(attempt int, throttled bool) time.Duration {
	b = b.withDefaults()
	if throttled {
		attempt++
	}
	d := b.Base
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + rand.N(d/2+1)
}
