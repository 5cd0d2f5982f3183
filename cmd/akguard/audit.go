package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // working hours name IANA zones

	"github.com/akguard/akguard/shared/audit"
	"github.com/akguard/akguard/shared/trail"
)

const auditUsage = `usage: akguard audit --events FILE [flags]

Runs the audit function's rules over an exported ActionTrail history, window
by window as the timer would have: a JSON array of events, LookupEvents
responses ({"Events":[...]}, several pages concatenated are fine) or JSON
lines. FILE "-" reads stdin.

Exit status: 0 no incident, 1 incidents, 2 error.
`

// maxEventFile bounds what the command reads: exports are JSON text, and a
// mistaken path to a disk image must not exhaust memory.
const maxEventFile = 1 << 30

type auditFlags struct {
	events, config, baseline, saveBaseline, format string
}

func runAudit(ctx context.Context, args []string, s stdio) int {
	f := auditFlags{}
	fs := flag.NewFlagSet("akguard audit", flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.StringVar(&f.events, "events", "", "read the ActionTrail events from `FILE` (\"-\" for stdin; required)")
	fs.StringVar(&f.config, "config", "", "read rule settings from `FILE` (the audit function's audit/config.json)")
	fs.StringVar(&f.baseline, "baseline", "", "start from the baseline in `FILE` (default: an empty one)")
	fs.StringVar(&f.saveBaseline, "save-baseline", "", "write the learned baseline to `FILE`")
	fs.StringVar(&f.format, "format", "text", "output format: text, json")
	fs.Usage = func() {
		io.WriteString(s.err, auditUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		errorf(s.err, "unexpected argument %q", fs.Arg(0))
		return exitError
	}
	if f.events == "" {
		errorf(s.err, "--events FILE is required")
		hintf(s.err, "export events with LookupEvents, or from the ActionTrail console, as JSON")
		return exitError
	}
	if f.format != "text" && f.format != "json" {
		errorf(s.err, "unknown format %q (text, json)", f.format)
		return exitError
	}
	res, err := auditFile(ctx, f, s.in)
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	if f.saveBaseline != "" {
		data, err := json.Marshal(res.Baseline)
		if err == nil {
			err = os.WriteFile(f.saveBaseline, append(data, '\n'), 0o600)
		}
		if err != nil {
			errorf(s.err, "save baseline: %v", err)
			return exitError
		}
	}
	if f.format == "json" {
		out := struct {
			Incidents []audit.Incident `json:"incidents"`
			Stats     audit.Stats      `json:"stats"`
		}{res.Incidents, res.Stats}
		if out.Incidents == nil {
			out.Incidents = []audit.Incident{}
		}
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			errorf(s.err, "write report: %v", err)
			return exitError
		}
	} else if err := writeAuditText(s.out, res); err != nil {
		errorf(s.err, "write report: %v", err)
		return exitError
	}
	fmt.Fprintf(s.err, "%d incidents, %d events in %d windows (%d subjects learned from)\n",
		len(res.Incidents), res.Stats.Evaluated, res.Stats.Windows, res.Stats.Learned)
	if len(res.Incidents) > 0 {
		return exitFound
	}
	return exitOK
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	data, err := io.ReadAll(io.LimitReader(r, maxEventFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEventFile {
		return nil, fmt.Errorf("larger than %d bytes", maxEventFile)
	}
	return data, nil
}

func auditFile(ctx context.Context, f auditFlags, stdin io.Reader) (audit.Result, error) {
	var cfg audit.Config
	if f.config != "" {
		data, err := os.ReadFile(f.config)
		if err != nil {
			return audit.Result{}, fmt.Errorf("read config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields() // a typo must not silently fall back to a default
		if err := dec.Decode(&cfg); err != nil {
			return audit.Result{}, fmt.Errorf("decode config %s: %w", f.config, err)
		}
	}
	// The same allowances as the function, so both judge alike.
	cfg.Allow = append(cfg.Allow, trail.SelfAllowances()...)
	eng, err := audit.NewEngine(cfg)
	if err != nil {
		return audit.Result{}, fmt.Errorf("config: %w", err)
	}
	var base audit.Baseline
	if f.baseline != "" {
		data, err := os.ReadFile(f.baseline)
		if err != nil {
			return audit.Result{}, fmt.Errorf("read baseline: %w", err)
		}
		if base, err = audit.ParseBaseline(data); err != nil {
			return audit.Result{}, fmt.Errorf("baseline %s: %w", f.baseline, err)
		}
	}
	data, err := readInput(f.events, stdin)
	if err != nil {
		return audit.Result{}, fmt.Errorf("read events: %w", err)
	}
	evs, err := audit.ParseEvents(data)
	if err != nil {
		return audit.Result{}, fmt.Errorf("events %s: %w", f.events, err)
	}
	if err := ctx.Err(); err != nil {
		return audit.Result{}, err
	}
	return eng.Replay(base, evs), nil
}

func writeAuditText(w io.Writer, res audit.Result) error {
	var b strings.Builder
	for _, in := range res.Incidents {
		fmt.Fprintf(&b, "%s  %s %s (%s)  %s – %s UTC\n", strings.ToUpper(in.Severity.String()), in.PrincipalType, in.Principal,
			in.AccessKeyID, in.Window.Start.UTC().Format("2006-01-02 15:04"), in.Window.End.UTC().Format("15:04"))
		for _, h := range in.Rules {
			fmt.Fprintf(&b, "  %-20s %s\n", h.Rule, h.Reason)
		}
		ev := in.Evidence
		fmt.Fprintf(&b, "  %d events %s – %s", ev.Events, ev.First.UTC().Format(time.TimeOnly), ev.Last.UTC().Format(time.TimeOnly))
		writeCounts(&b, "ips", ev.SourceIPs)
		writeCounts(&b, "operations", ev.Operations)
		writeCounts(&b, "errors", ev.Errors)
		b.WriteString("\n  event IDs: " + strings.Join(ev.EventIDs, " ") + "\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCounts(b *strings.Builder, label string, cs []audit.Count) {
	if len(cs) == 0 {
		return
	}
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s×%d", c.Value, c.Count))
	}
	fmt.Fprintf(b, "; %s %s", label, strings.Join(parts, ", "))
}
