package provision

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Action is what a step does to its resource.
type Action string

// Actions of a plan. OK and Warn change nothing.
const (
	ActionOK     Action = "ok"
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionAttach Action = "attach"
	ActionWarn   Action = "warn"
)

// changes reports whether the step writes to the account.
func (a Action) changes() bool {
	return a == ActionCreate || a == ActionUpdate || a == ActionAttach
}

// Status is what became of a step when the plan was applied.
type Status string

// Statuses of an applied step.
const (
	StatusPending Status = ""        // not applied (dry run) or nothing to do
	StatusDone    Status = "done"    // the change was made
	StatusFailed  Status = "failed"  // the change failed: Err says why
	StatusSkipped Status = "skipped" // an earlier step failed
)

// Step is one resource's difference from the desired state.
type Step struct {
	// Resource names the thing, service first: "oss bucket akguard-state",
	// "ram role akguard-scan".
	Resource string
	Action   Action
	Reason   string
	Status   Status
	Err      error
	apply    func(ctx context.Context) error
}

// Plan is the ordered list of steps of one run; later steps may depend
// on earlier ones (a policy is attached after the role is created).
type Plan struct {
	Steps []Step
}

func (p *Plan) add(resource string, a Action, reason string, apply func(context.Context) error) {
	p.Steps = append(p.Steps, Step{Resource: resource, Action: a, Reason: reason, apply: apply})
}

// Changes counts the steps that would write.
func (p *Plan) Changes() int {
	n := 0
	for _, s := range p.Steps {
		if s.Action.changes() {
			n++
		}
	}
	return n
}

// Count returns how many steps have the action.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == a {
			n++
		}
	}
	return n
}

// Apply executes the changing steps in order and stops at the first
// failure, marking the remaining changes skipped: they may depend on it.
func (p *Plan) Apply(ctx context.Context) error {
	var failed error
	for i := range p.Steps {
		s := &p.Steps[i]
		if !s.Action.changes() {
			continue
		}
		if failed != nil {
			s.Status = StatusSkipped
			continue
		}
		if err := ctx.Err(); err != nil {
			s.Status, s.Err = StatusFailed, err
			failed = fmt.Errorf("%s %s: %w", s.Action, s.Resource, err)
			continue
		}
		if err := s.apply(ctx); err != nil {
			s.Status, s.Err = StatusFailed, err
			failed = fmt.Errorf("%s %s: %w", s.Action, s.Resource, err)
			continue
		}
		s.Status = StatusDone
	}
	return failed
}

// WriteTable prints the plan, with each step's result once applied.
func (p *Plan) WriteTable(w io.Writer, applied bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if applied {
		fmt.Fprintln(tw, "ACTION\tRESOURCE\tREASON\tRESULT")
	} else {
		fmt.Fprintln(tw, "ACTION\tRESOURCE\tREASON")
	}
	for _, s := range p.Steps {
		reason := strings.ReplaceAll(s.Reason, "\t", " ")
		if !applied {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Action, s.Resource, reason)
			continue
		}
		res := string(s.Status)
		switch {
		case s.Status == StatusFailed && s.Err != nil:
			res = "failed: " + oneLine(s.Err.Error())
		case res == "":
			res = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Action, s.Resource, reason, res)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// Summary is one line: "2 to create, 1 to attach, 9 ok, 1 warning", or
// once applied "2 created, 1 attached, 9 ok, 1 warning" (with failed and
// skipped counts when a step failed).
func (p *Plan) Summary(applied bool) string {
	var parts []string
	if applied {
		for _, a := range []struct {
			a    Action
			verb string
		}{{ActionCreate, "created"}, {ActionUpdate, "updated"}, {ActionAttach, "attached"}} {
			if n := p.count(a.a, StatusDone); n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, a.verb))
			}
		}
		for _, st := range []Status{StatusFailed, StatusSkipped} {
			n := 0
			for _, s := range p.Steps {
				if s.Status == st {
					n++
				}
			}
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, st))
			}
		}
	} else {
		for _, a := range []Action{ActionCreate, ActionUpdate, ActionAttach} {
			if n := p.Count(a); n > 0 {
				parts = append(parts, fmt.Sprintf("%d to %s", n, a))
			}
		}
	}
	parts = append(parts, fmt.Sprintf("%d ok", p.Count(ActionOK)))
	switch n := p.Count(ActionWarn); n {
	case 0:
	case 1:
		parts = append(parts, "1 warning")
	default:
		parts = append(parts, fmt.Sprintf("%d warnings", n))
	}
	return strings.Join(parts, ", ")
}

func (p *Plan) count(a Action, st Status) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == a && s.Status == st {
			n++
		}
	}
	return n
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
