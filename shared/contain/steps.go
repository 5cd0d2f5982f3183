package contain

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/store"
)

// Record is one entry of the action log at
// actions/<incident-id>/<step>-{intent,result}.json: written before a step
// acts (intent) and after (result), so the bucket shows who did what, why,
// and how it ended even if the function died in between.
type Record struct {
	IncidentID string    `json:"incident_id"`
	Step       string    `json:"step"`
	Phase      string    `json:"phase"` // intent | result
	Who        Who       `json:"who"`
	Target     string    `json:"target,omitempty"`
	Why        string    `json:"why,omitempty"`
	DryRun     bool      `json:"dry_run"`
	Status     string    `json:"status,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// Who identifies the acting invocation; CallerKeyID is an AccessKey ID of
// the respond role's session, never a secret.
type Who struct {
	Function    string `json:"function,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
	CallerKeyID string `json:"caller_key_id,omitempty"`
}

func (ru *run) who() Who {
	inv := ru.r.Invocation
	return Who{Function: inv.Function, RequestID: inv.RequestID, CallerKeyID: ru.r.Clients.Creds.AccessKeyID}
}

func (ru *run) recordKey(step, phase string) string {
	return "actions/" + ru.in.ID + "/" + step + "-" + phase + ".json"
}

func (s Record) asStep() notify.Step {
	return notify.Step{Step: s.Step, Status: s.Status, Target: s.Target, Detail: s.Detail, Reason: s.Reason, Error: s.Error}
}

// step runs one action once per incident. A result recorded by an earlier
// run (a crash, an FC retry after a failed notification) is reused unless
// it failed; a mutating step only records its intent in a dry run.
// Throttling, 5xx and network errors are retried with backoff; any other
// failure is recorded and reported, not returned: the returned error means
// the action log itself could not be written.
func (ru *run) step(ctx context.Context, name, target, why string, mutating bool, fn func() (string, string, error)) (notify.Step, error) {
	st := ru.r.Store
	var prev Record
	err := st.Get(ctx, ru.recordKey(name, "result"), &prev)
	if err == nil && prev.Status != notify.StatusFailed {
		ru.msg.Actions = append(ru.msg.Actions, prev.asStep())
		return prev.asStep(), nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return notify.Step{}, fmt.Errorf("read %s result: %w", name, err)
	}
	rec := Record{IncidentID: ru.in.ID, Step: name, Phase: "intent", Who: ru.who(), Target: target, Why: why, DryRun: ru.dry, At: ru.r.now()}
	if err := st.Put(ctx, ru.recordKey(name, "intent"), rec); err != nil {
		return notify.Step{}, fmt.Errorf("record %s intent: %w", name, err)
	}
	rec.Phase = "result"
	if mutating && ru.dry {
		rec.Status, rec.Detail = notify.StatusDryRun, "would "+name+" "+target
	} else {
		var (
			status, detail string
			ferr           error
		)
		for i, d := 0, ru.r.backoff(); i < 3; i, d = i+1, d*2 {
			if status, detail, ferr = fn(); ferr == nil || !Retryable(ferr) {
				break
			}
			if i < 2 && !sleep(ctx, d) {
				break
			}
		}
		if ferr != nil {
			rec.Status, rec.Error = notify.StatusFailed, brief(ferr)
			ru.log.WarnContext(ctx, "step failed", "step", name, "target", target, "err", rec.Error)
			if ru.retryLater(ctx, name, ferr) {
				// The failed result is kept for the record; the retry runs
				// the step again (a failed result is never reused).
				rec.At = ru.r.now()
				if err := st.Put(ctx, ru.recordKey(name, "result"), rec); err != nil {
					return notify.Step{}, fmt.Errorf("record %s result: %w", name, err)
				}
				ru.log.WarnContext(ctx, "step failed, FC will retry", "step", name, "retry", ru.r.Invocation.RetryCount,
					"last_retry", ru.r.Config.AsyncRetries)
				return notify.Step{}, fmt.Errorf("%w: %s %s: %s", ErrTransient, name, target, rec.Error)
			}
		} else {
			rec.Status, rec.Detail = status, detail
			if status == notify.StatusSkipped {
				rec.Reason, rec.Detail = detail, ""
			}
		}
	}
	rec.At = ru.r.now()
	if err := st.Put(ctx, ru.recordKey(name, "result"), rec); err != nil {
		return notify.Step{}, fmt.Errorf("record %s result: %w", name, err)
	}
	ru.log.InfoContext(ctx, "step", "step", name, "target", target, "status", rec.Status, "dry_run", ru.dry)
	ru.msg.Actions = append(ru.msg.Actions, rec.asStep())
	return rec.asStep(), nil
}

// retryLater reports whether a failed step should fail the invocation so
// FC retries it, instead of ending the incident with the failure: a RAM
// step that failed transiently, or the breaker's bookkeeping in the state
// bucket — unless no retry follows.
func (ru *run) retryLater(ctx context.Context, name string, err error) bool {
	if ru.r.lastAttempt() {
		return false
	}
	switch name {
	case "circuit-breaker":
		return true
	case "ensure-policy", "attach-policy", "disable-key", "detach-policy":
		return Retryable(err) || ctx.Err() != nil
	}
	return false
}

// skip records a deliberate non-action and its reason.
func (ru *run) skip(ctx context.Context, name, target, reason string) (notify.Step, error) {
	rec := Record{IncidentID: ru.in.ID, Step: name, Phase: "result", Who: ru.who(), Target: target, DryRun: ru.dry,
		Status: notify.StatusSkipped, Reason: reason, At: ru.r.now()}
	if err := ru.r.Store.Put(ctx, ru.recordKey(name, "result"), rec); err != nil {
		return notify.Step{}, fmt.Errorf("record %s result: %w", name, err)
	}
	ru.log.InfoContext(ctx, "step", "step", name, "target", target, "status", rec.Status, "reason", reason)
	ru.msg.Actions = append(ru.msg.Actions, rec.asStep())
	return rec.asStep(), nil
}

// breaker takes a containment slot: at most MaxContainmentsPerHour
// containments in any sliding hour. Slots are objects
// breaker/<yyyymmddhh>/<unix>-<incident>.json, counted under a lease so
// two responders cannot both take the last slot.
func (ru *run) breaker(ctx context.Context) (string, string, error) {
	r := ru.r
	max := r.Config.MaxContainmentsPerHour
	if max <= 0 {
		return notify.StatusSkipped, "containment is off (AKGUARD_MAX_CONTAINMENTS_PER_HOUR=0)", nil
	}
	owner := "breaker-" + ru.in.ID
	const lease = "locks/breaker"
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := r.Store.Acquire(ctx, lease, owner, 30*time.Second, r.now())
		if err != nil {
			return "", "", fmt.Errorf("acquire breaker lease: %w", err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) || !sleep(ctx, 100*time.Millisecond) {
			return "", "", errors.New("acquire breaker lease: busy")
		}
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = r.Store.Release(rctx, lease, owner)
	}()
	now := r.now()
	since := now.Add(-time.Hour)
	count := 0
	for _, h := range []time.Time{since, now} {
		keys, err := r.Store.List(ctx, "breaker/"+h.Format("2006010215")+"/")
		if err != nil {
			return "", "", err
		}
		for _, k := range keys {
			ts, _, _ := strings.Cut(path.Base(k), "-")
			sec, err := strconv.ParseInt(ts, 10, 64)
			if err == nil && time.Unix(sec, 0).After(since) {
				count++
			}
		}
		if now.Format("2006010215") == since.Format("2006010215") {
			break
		}
	}
	if count >= max {
		return notify.StatusSkipped, fmt.Sprintf("%d containments in the last hour (limit %d)", count, max), nil
	}
	slot := fmt.Sprintf("breaker/%s/%d-%s.json", now.Format("2006010215"), now.Unix(), ru.in.ID)
	if _, err := r.Store.Create(ctx, slot, map[string]any{"incident_id": ru.in.ID, "at": now}); err != nil {
		return "", "", err
	}
	return notify.StatusDone, fmt.Sprintf("slot %d of %d this hour", count+1, max), nil
}
