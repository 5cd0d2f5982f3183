// Command audit is the akguard-audit function: on each timer tick it reads
// ActionTrail from its checkpoint, judges every complete window with the
// audit rules and hands incidents to akguard-respond. The work is in
// shared/trail (reading, checkpoint, escalation) and shared/audit (rules).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // working hours name IANA zones; FC images may lack zoneinfo

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/fcevent"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/logx"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/trail"
)

// payload is the timer trigger's payload (s.yaml triggerConfig.payload, or
// a manual `s invoke`); every field is optional.
type payload struct {
	// DryRun records incidents without invoking respond, for this run.
	DryRun bool `json:"dryRun"`
	// OverlapMinutes overrides AKGUARD_AUDIT_OVERLAP for this run.
	OverlapMinutes int `json:"overlapMinutes"`
	// LagMinutes overrides AKGUARD_AUDIT_LAG for this run, e.g. to hold
	// back more while ActionTrail delivery is known to be slow.
	LagMinutes *int `json:"lagMinutes"`
}

// parsePayload decodes a JSON object payload strictly; any other text (the
// console's "TestPayload", "") means the defaults. An invalid object
// returns a dry-run payload with the error.
func parsePayload(text string) (payload, error) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "{") {
		return payload{}, nil
	}
	var p payload
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return payload{DryRun: true}, fmt.Errorf("decode timer payload: %w", err)
	}
	if p.OverlapMinutes < 0 || p.OverlapMinutes > 24*60 || (p.LagMinutes != nil && (*p.LagMinutes < 0 || *p.LagMinutes > 24*60)) {
		return payload{DryRun: true}, errors.New("timer payload: overlapMinutes and lagMinutes must be between 0 and 1440")
	}
	return p, nil
}

type handler struct {
	cfg        config.Audit
	log        *slog.Logger
	createOnce store.CreateOnceGuard
}

func main() {
	log := logx.New(nil)
	cfg, err := config.LoadAudit(nil)
	if err != nil {
		log.Error("load configuration", "err", err.Error())
		os.Exit(1)
	}
	h := &handler{cfg: cfg, log: log}
	fc.Start(h.handle)
}

func (h *handler) handle(ctx context.Context, event json.RawMessage) (*trail.RunResult, error) {
	ev, err := fcevent.ParseTimer(event)
	if err != nil {
		// A malformed event never becomes well-formed: acknowledge it.
		h.log.WarnContext(ctx, "not a timer event; ignored", "err", err.Error())
		return nil, nil
	}
	p, err := parsePayload(ev.Payload)
	if err != nil {
		// A typo ("dry_run") must not turn an intended dry run into
		// containment: judge, record, but escalate nothing.
		h.log.ErrorContext(ctx, "invalid timer payload; running as a dry run", "err", err.Error())
	}
	inv, ok := aliyun.FromContext(ctx)
	if !ok || inv.Creds.AccessKeyID == "" {
		return nil, errors.New("no role credentials in the invocation context")
	}
	clients := aliyun.Clients{Region: h.cfg.Region, AccountID: h.cfg.AccountID, Creds: inv.Creds,
		Endpoints: h.cfg.Endpoints, Internal: true, Timeout: 10 * time.Second}
	if clients.Region == "" {
		clients.Region = inv.Region
	}
	if clients.AccountID == "" {
		clients.AccountID = inv.AccountID
	}
	reader := &trail.Reader{Interval: time.Second / time.Duration(h.cfg.LookupQPS), Log: h.log}
	for _, r := range h.cfg.Regions {
		c := clients
		c.Region = r
		at, err := c.ActionTrail()
		if err != nil {
			return nil, fmt.Errorf("actiontrail client for %s: %w", r, err)
		}
		reader.Regions = append(reader.Regions, trail.Region{Name: r, Client: at})
	}
	opts := trail.Options{Overlap: h.cfg.Overlap, Lag: h.cfg.Lag, InitialLookback: h.cfg.InitialLookback,
		Batch: h.cfg.Batch, DeadlineMargin: h.cfg.DeadlineMargin, DryRun: h.cfg.DryRun || p.DryRun, Owner: inv.RequestID}
	if h.cfg.Lag == 0 {
		opts.Lag = -1 // explicitly none
	}
	if p.LagMinutes != nil {
		opts.Lag = time.Duration(*p.LagMinutes) * time.Minute
		if opts.Lag == 0 {
			opts.Lag = -1
		}
	}
	if p.OverlapMinutes > 0 {
		opts.Overlap = time.Duration(p.OverlapMinutes) * time.Minute
	}
	w := &trail.Watcher{
		Store:  &store.Store{Client: clients.OSS(), Bucket: h.cfg.StateBucket, Prefix: h.cfg.StatePrefix, Guard: &h.createOnce},
		Reader: reader,
		Escalate: func(ctx context.Context, in incident.Incident) error {
			body, err := json.Marshal(in)
			if err != nil {
				return fmt.Errorf("encode incident: %w", err)
			}
			if _, err := clients.InvokeFunction(ctx, h.cfg.RespondFunction, body, true); err != nil {
				return fmt.Errorf("invoke %s: %w", h.cfg.RespondFunction, trail.CleanError(err))
			}
			return nil
		},
		SelfAllow: trail.SelfAllowances(),
		Options:   opts,
		Log:       h.log,
	}
	if h.cfg.Enrich {
		w.Enrich = reader.LastUsed
	}
	res, err := w.Run(ctx)
	attrs := []any{"locked", res.Locked, "from", res.From, "to", res.To, "windows", res.Windows, "backlog", res.Backlog,
		"events", res.Events, "judged", res.Judged, "rejudged", res.Rejudged, "incidents", res.Incidents,
		"escalated", res.Escalated, "repeats", res.Repeats, "dry_run", res.DryRun,
		"lookup_calls", res.Read.Calls, "throttled", res.Read.Throttled, "retries", res.Read.Retries}
	if err != nil {
		h.log.ErrorContext(ctx, "audit run failed", append(attrs, "err", err.Error())...)
		return &res, err
	}
	h.log.InfoContext(ctx, "audit run done", attrs...)
	return &res, nil
}
