package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Action is what a step does to its resource.
type Action string

// Actions of a plan. OK, Warn and Error change nothing.
const (
	ActionOK     Action = "ok"
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionAttach Action = "attach"
	ActionWarn   Action = "warn"
	// ActionError is a difference setup cannot fix: the run stops after
	// planning and changes nothing until the user resolves it.
	ActionError Action = "error"
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

// ErrUnfixable reports a plan holding ActionError steps.
var ErrUnfixable = errors.New("setup cannot fix")

// Unfixable returns an ErrUnfixable naming every ActionError step, or nil.
func (p *Plan) Unfixable() error {
	var reasons []string
	for _, s := range p.Steps {
		if s.Action == ActionError {
			reasons = append(reasons, s.Resource+": "+s.Reason)
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnfixable, strings.Join(reasons, "; "))
}

// Apply executes the changing steps in order and stops at the first
// failure, marking the remaining changes skipped: they may depend on it.
// A plan with an ActionError step changes nothing: the user's fix (such
// as another bucket name) changes the plan.
func (p *Plan) Apply(ctx context.Context) error {
	if err := p.Unfixable(); err != nil {
		return err
	}
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
	for _, c := range []struct {
		a          Action
		one, other string
	}{{ActionWarn, "warning", "warnings"}, {ActionError, "error", "errors"}} {
		switch n := p.Count(c.a); n {
		case 0:
		case 1:
			parts = append(parts, "1 "+c.one)
		default:
			parts = append(parts, fmt.Sprintf("%d %s", n, c.other))
		}
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
