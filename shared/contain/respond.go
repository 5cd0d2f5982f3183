// Package contain responds to one leaked AccessKey: it finds the key's
// owner without using the leaked secret, quarantines the owner with the
// deny-high-risk RAM policy, disables the key when configured, and tells
// people through SMQ — behind guardrails (dry run, allowlists, akguard's
// own identities, a circuit breaker) and with every action recorded in the
// state bucket before and after it is taken, so a crashed run resumes and
// a duplicate delivery changes nothing.
//
// State bucket layout (under AKGUARD_STATE_PREFIX):
//
//	locks/incidents/<id>                  lease: one delivery of an incident at a time
//	actions/<id>/owner.json               the owner lookup's answer, reused on resume
//	actions/<id>/<step>-intent.json       written before a step acts (who, what, why)
//	actions/<id>/<step>-result.json       written after (status, detail or error)
//	responses/<id>.json                   the notified message; its presence ends the incident
//	contained/<access-key-id>.json        user and policy, for release
//	breaker/<yyyymmddhh>/<unix>-<id>.json one containment slot of the circuit breaker
//	locks/breaker                         lease around counting and taking a slot
//
// An incident ends (responses/<id>.json) only in a terminal outcome. A
// failure another attempt may fix — the owner lookup or a RAM step
// throttled, a 5xx, no answer; the circuit breaker's bookkeeping — fails
// the invocation instead, so FC's async retry runs and resumes from the
// recorded steps; the attempt whose retry count reaches
// config.Respond.AsyncRetries is the last, and records and notifies
// whatever it could not do. So people are told once, and a throttled
// RAM does not close an incident with the leaked key still active.
package contain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/store"
)

// ErrBusy reports that another invocation holds the incident's lease; FC's
// retry will find its result.
var ErrBusy = errors.New("incident is being handled by another invocation")

// ErrTransient marks a failure another attempt may fix (see the package
// comment): Handle returns it, without ending the incident, before the
// last attempt.
var ErrTransient = errors.New("transient failure, to be retried")

// lastAttempt reports whether no FC retry follows this invocation.
func (r *Responder) lastAttempt() bool { return r.Invocation.RetryCount >= r.Config.AsyncRetries }

// Responder handles incidents for one invocation.
type Responder struct {
	Config config.Respond
	// Clients are signed with the respond role's credentials.
	Clients   aliyun.Clients
	Store     *store.Store
	Publisher *notify.Publisher
	// Invocation identifies this run in records ("who") and names the
	// caller key that must never be contained.
	Invocation aliyun.Invocation
	// PolicyDocument is the deny policy (policies.DenyHighRisk).
	PolicyDocument string
	Log            *slog.Logger
	Now            func() time.Time
	// StepBackoff is the first retry delay of a throttled or failed RAM
	// call (default 200ms; three tries).
	StepBackoff time.Duration
	// LeaseWait bounds how long a delivery waits for a concurrent delivery
	// of the same incident before failing with ErrBusy (default 20s).
	LeaseWait time.Duration
}

// Result is what Handle returns to FC.
type Result struct {
	IncidentID string `json:"incident_id"`
	Outcome    string `json:"outcome"`
	DryRun     bool   `json:"dry_run"`
	Duplicate  bool   `json:"duplicate,omitempty"`
	MessageID  string `json:"message_id,omitempty"`
}

// Response is the record kept at responses/<incident-id>.json once an
// incident is fully handled; its presence makes later deliveries no-ops.
type Response struct {
	Message      notify.Message `json:"message"`
	Notification notify.Receipt `json:"notification"`
	RequestID    string         `json:"request_id"`
}

// Contained is kept at contained/<access-key-id>.json so a release finds
// the user even after the key was deleted.
type Contained struct {
	AccessKeyID string    `json:"access_key_id"`
	UserName    string    `json:"user_name"`
	PolicyName  string    `json:"policy_name"`
	IncidentID  string    `json:"incident_id"`
	At          time.Time `json:"at"`
	Released    bool      `json:"released,omitempty"`
	ReleasedBy  string    `json:"released_by,omitempty"`
}

func (r *Responder) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Handle responds to one incident. It returns an error only when FC
// should retry: a lease held by a concurrent delivery, an unreachable state
// bucket, a transient failure before the last attempt (ErrTransient), or a
// notification that could not be sent.
func (r *Responder) Handle(ctx context.Context, in incident.Incident) (Result, error) {
	log := r.Log.With("incident_id", in.ID, "access_key_id", in.AccessKeyID)
	lease := "locks/incidents/" + in.ID
	owner := r.Invocation.RequestID
	if owner == "" {
		owner = "respond-" + r.now().Format(time.RFC3339Nano)
	}
	// The lease outlives this invocation only briefly, so a retry after a
	// crash (FC's async retry) can break it and resume.
	ttl := 3 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		ttl = time.Until(dl) + 30*time.Second
	}
	// A concurrent delivery of the same incident usually finishes within
	// a second or two: wait for it rather than spend one of FC's few
	// async retries.
	wait := time.Now().Add(r.leaseWait())
	for {
		ok, err := r.Store.Acquire(ctx, lease, owner, ttl, r.now())
		if err != nil {
			return Result{}, fmt.Errorf("acquire incident lease: %w", err)
		}
		if ok {
			break
		}
		if time.Now().After(wait) || !sleep(ctx, 200*time.Millisecond) {
			return Result{}, ErrBusy
		}
	}
	defer func() {
		// A fresh context: the lease must go even if the invocation's
		// context ended.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := r.Store.Release(rctx, lease, owner); err != nil {
			log.WarnContext(ctx, "release incident lease", "err", err)
		}
	}()

	var prev Response
	switch err := r.Store.Get(ctx, responseKey(in.ID), &prev); {
	case err == nil:
		log.InfoContext(ctx, "duplicate incident: already handled", "outcome", prev.Message.Outcome)
		return Result{IncidentID: in.ID, Outcome: prev.Message.Outcome, DryRun: prev.Message.DryRun, Duplicate: true,
			MessageID: prev.Notification.MessageID}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Result{}, fmt.Errorf("read response record: %w", err)
	}

	cl, err := r.cloud()
	if err != nil {
		return Result{}, err
	}
	ru := &run{r: r, in: in, c: cl, log: log, dry: r.Config.DryRun || in.DryRun}
	ru.msg = notify.Message{
		IncidentID: in.ID, Source: in.Source, Action: orDefault(in.Action, incident.ActionContain),
		Severity: in.Severity.String(), DryRun: ru.dry, AccountID: r.Clients.AccountID, Region: r.Clients.Region,
		AccessKeyID: in.AccessKeyID, Exposure: notify.Exposure(in),
		Where:    notify.Where{Object: in.Object, Reporter: in.Reporter, Reason: in.Reason, Trail: in.Audit},
		Evidence: notify.Evidence{Summary: in.Summary, Findings: in.Findings}, DetectedAt: in.DetectedAt.UTC(),
		RespondedAt: r.now(),
	}
	if ru.msg.Action == incident.ActionRelease {
		err = ru.release(ctx)
	} else {
		if reason := unproven(in); reason == "" {
			r.markLeaked(ctx, in, log)
		}
		err = ru.contain(ctx)
	}
	if err != nil {
		return Result{}, err
	}
	ru.msg.Finish()

	step, err := ru.step(ctx, "notify", r.Publisher.Topic, "tell responders through SMQ", false, func() (string, string, error) {
		rc, err := r.Publisher.Publish(ctx, &ru.msg)
		if err != nil {
			return "", "", err
		}
		ru.receipt = rc
		return notify.StatusDone, fmt.Sprintf("message %s (attempt %d, tag %s)", rc.MessageID, rc.Attempts, ru.msg.Tag()), nil
	})
	if err != nil {
		return Result{}, err
	}
	if step.Status == notify.StatusFailed {
		// The containment records stay; FC's retry resumes here and only
		// the notification is attempted again.
		return Result{}, fmt.Errorf("notify incident %s: %s", in.ID, step.Error)
	}
	if ru.receipt.MessageID == "" {
		// Published by an earlier run: the id is in the recorded detail.
		if f := strings.Fields(step.Detail); len(f) > 1 {
			ru.receipt.MessageID = f[1]
		}
	}
	if _, err := r.Store.Create(ctx, responseKey(in.ID), Response{Message: ru.msg, Notification: ru.receipt,
		RequestID: r.Invocation.RequestID}); err != nil {
		return Result{}, fmt.Errorf("write response record: %w", err)
	}
	log.InfoContext(ctx, "incident handled", "outcome", ru.msg.Outcome, "dry_run", ru.dry, "owner_type", ru.msg.Owner.Type,
		"user", ru.msg.Owner.UserName)
	return Result{IncidentID: in.ID, Outcome: ru.msg.Outcome, DryRun: ru.dry, MessageID: ru.receipt.MessageID}, nil
}

func (r *Responder) cloud() (*cloud, error) {
	rc, err := r.Clients.RAM()
	if err != nil {
		return nil, err
	}
	ic, err := r.Clients.IMS()
	if err != nil {
		return nil, err
	}
	tc, err := r.Clients.ActionTrail()
	if err != nil {
		return nil, err
	}
	return &cloud{ram: rc, ims: ic, trail: tc, accountID: r.Clients.AccountID}, nil
}

func responseKey(id string) string { return "responses/" + id + ".json" }

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// run is one incident's response in progress.
type run struct {
	r       *Responder
	in      incident.Incident
	c       *cloud
	log     *slog.Logger
	dry     bool
	msg     notify.Message
	receipt notify.Receipt
	// lookupErr is set when the owner could not be looked up (not
	// recorded, so a later delivery tries again).
	lookupErr string
}

// ownerStep looks the owner up once per incident; a resumed run reuses the
// recorded answer so a key disabled by the first run still counts as this
// incident's key.
func (ru *run) owner(ctx context.Context) error {
	key := "actions/" + ru.in.ID + "/owner.json"
	var o notify.Owner
	err := ru.r.Store.Get(ctx, key, &o)
	if err == nil {
		ru.msg.Owner = o
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read owner record: %w", err)
	}
	var lerr error
	for i, d := 0, ru.r.backoff(); i < 3; i, d = i+1, d*2 {
		if o, lerr = ru.c.lookupOwner(ctx, ru.in.AccessKeyID); lerr == nil || !Retryable(lerr) {
			break
		}
		if !sleep(ctx, d) {
			break
		}
	}
	if lerr != nil && (Retryable(lerr) || ctx.Err() != nil) && !ru.r.lastAttempt() {
		ru.log.WarnContext(ctx, "owner lookup failed, FC will retry", "err", brief(lerr), "retry", ru.r.Invocation.RetryCount)
		return fmt.Errorf("%w: look up owner: %s", ErrTransient, brief(lerr))
	}
	if lerr != nil {
		// The owner is unknown, so nothing can be contained; people are
		// still told, with the lookup error.
		ru.log.WarnContext(ctx, "owner lookup failed", "err", brief(lerr))
		ru.msg.Owner = notify.Owner{Type: notify.OwnerUnknown}
		ru.lookupErr = brief(lerr)
		ru.msg.Actions = append(ru.msg.Actions, notify.Step{Step: "lookup-owner", Status: notify.StatusFailed, Error: ru.lookupErr})
		return nil
	}
	ru.msg.Owner = o
	if err := ru.r.Store.Put(ctx, key, o); err != nil {
		return fmt.Errorf("write owner record: %w", err)
	}
	return nil
}

// guard returns why the owner must not be touched ("" when it may be).
func (ru *run) guard() string {
	cfg := ru.r.Config
	o := ru.msg.Owner
	switch {
	case o.Type == notify.OwnerSTS && slices.Contains(cfg.ProtectedRoles, o.RoleName):
		return "the key is a session of akguard's own role " + o.RoleName
	case o.UserName != "" && slices.Contains(cfg.ProtectedUsers, o.UserName):
		return "the owner " + o.UserName + " is protected (AKGUARD_PROTECTED_USERS)"
	case o.UserName != "" && slices.Contains(cfg.AllowUsers, o.UserName):
		return "the owner " + o.UserName + " is allowlisted (AKGUARD_ALLOW_USERS)"
	}
	return ""
}

func (ru *run) contain(ctx context.Context) error {
	r := ru.r
	policy := r.Config.PolicyName
	if reason := ru.preGuard(); reason != "" {
		return ru.skipAll(ctx, notify.OutcomeNotifyOnly, reason)
	}
	// The breaker comes before the owner lookup: the lookup's last resort
	// lists every user's keys, and a flood of incidents about unknown keys
	// must not repeat it without bound. A slot is taken per incident acted
	// on, whatever the lookup then finds.
	if !ru.dry {
		st, err := ru.step(ctx, "circuit-breaker", "breaker/", fmt.Sprintf("at most %d containments per hour", r.Config.MaxContainmentsPerHour), false,
			func() (string, string, error) { return ru.breaker(ctx) })
		if err != nil {
			return err
		}
		if st.Status != notify.StatusDone {
			reason := "circuit breaker open: " + st.Reason
			if st.Status == notify.StatusFailed {
				reason = "circuit breaker unavailable: " + st.Error
			}
			return ru.skipAll(ctx, notify.OutcomeNotifyOnly, reason)
		}
	}
	if err := ru.owner(ctx); err != nil {
		return err
	}
	o := ru.msg.Owner
	switch {
	case ru.lookupErr != "":
		return ru.skipAll(ctx, notify.OutcomeFailed, "the owner could not be looked up: "+ru.lookupErr)
	case o.Type == notify.OwnerUnknown:
		return ru.skipAll(ctx, notify.OutcomeReported, "the key is not in account "+r.Clients.AccountID+" (another account's key, or deleted)")
	case o.Type == notify.OwnerRoot:
		return ru.skipAll(ctx, notify.OutcomeEscalated, "the account owner's key cannot carry a RAM policy")
	case o.Type == notify.OwnerSTS:
		reason := "temporary STS credentials cannot be disabled; they expire"
		if g := ru.guard(); g != "" {
			reason = g
		}
		return ru.skipAll(ctx, notify.OutcomeEscalated, reason)
	case o.KeyStatus == "deleted":
		return ru.skipAll(ctx, notify.OutcomeReported, "the key was already deleted")
	}
	if reason := ru.guard(); reason != "" {
		return ru.skipAll(ctx, notify.OutcomeNotifyOnly, reason)
	}
	why := fmt.Sprintf("%s incident %s (%s)", ru.in.Severity, ru.in.ID, ru.in.Source)
	ensure, err := ru.step(ctx, "ensure-policy", policy, "the deny policy must exist with the reviewed document", true,
		func() (string, string, error) { return ru.c.ensurePolicy(policy, r.PolicyDocument) })
	if err != nil {
		return err
	}
	attach := notify.Step{Step: "attach-policy", Status: notify.StatusSkipped, Target: o.UserName, Reason: "the policy could not be ensured"}
	if ensure.Status != notify.StatusFailed {
		if attach, err = ru.step(ctx, "attach-policy", o.UserName, why, true,
			func() (string, string, error) { return ru.c.attachPolicy(policy, o.UserName) }); err != nil {
			return err
		}
	} else {
		ru.msg.Actions = append(ru.msg.Actions, attach)
	}
	contained := attach.Status == notify.StatusDone || attach.Status == notify.StatusAlready
	// Rotate before disabling: applications reading the secret move to the
	// new key while the leaked one is switched off.
	if contained || ru.dry {
		if err := ru.kmsRotate(ctx, why); err != nil {
			return err
		}
	}
	disable, err := ru.disable(ctx, why)
	if err != nil {
		return err
	}
	if contained && !ru.dry {
		if err := r.Store.Put(ctx, "contained/"+ru.in.AccessKeyID+".json", Contained{AccessKeyID: ru.in.AccessKeyID,
			UserName: o.UserName, PolicyName: policy, IncidentID: ru.in.ID, At: r.now()}); err != nil {
			return fmt.Errorf("write contained record: %w", err)
		}
	}
	failed := ensure.Status == notify.StatusFailed || attach.Status == notify.StatusFailed || disable.Status == notify.StatusFailed
	switch {
	case ru.dry:
		ru.msg.Outcome = notify.OutcomeWouldContain
	case contained && !failed:
		ru.msg.Outcome = notify.OutcomeContained
	case contained || disable.Status == notify.StatusDone:
		ru.msg.Outcome = notify.OutcomePartial
	default:
		ru.msg.Outcome = notify.OutcomeFailed
	}
	return nil
}

// preGuard checks what needs no owner lookup.
func (ru *run) preGuard() string {
	cfg := ru.r.Config
	k := ru.in.AccessKeyID
	switch {
	case k == ru.r.Clients.Creds.AccessKeyID || k == ru.r.Invocation.Creds.AccessKeyID:
		return "the key is the respond function's own credential"
	case slices.Contains(cfg.ProtectedKeys, k):
		return "the key is protected (AKGUARD_PROTECTED_KEYS)"
	case slices.Contains(cfg.AllowKeys, k):
		return "the key is allowlisted (AKGUARD_ALLOW_KEYS)"
	}
	return unproven(ru.in)
}

// unproven returns why a scan incident is no proof of a leak ("" when it
// is): scan sends a key only when a finding holds its secret or STS token
// (as a hash); an incident without one — a forged or older payload —
// names an ID someone merely mentioned, and acting on it would let anyone
// who can upload a file have any user contained.
func unproven(in incident.Incident) string {
	if in.Source != incident.SourceScan {
		return ""
	}
	for _, f := range in.Findings {
		if f.SecretSHA256 != "" || f.TokenSHA256 != "" {
			return ""
		}
	}
	return "no secret or token was found with the AccessKey ID: a mention of an ID is no proof of a leak, so nothing is contained"
}

func (ru *run) disable(ctx context.Context, why string) (notify.Step, error) {
	at := ru.r.Config.DisableKeyAt
	o := ru.msg.Owner
	switch {
	case at == nil:
		return ru.skip(ctx, "disable-key", ru.in.AccessKeyID, "disabling keys is off (AKGUARD_DISABLE_KEY_AT=never)")
	case ru.in.Severity < *at:
		return ru.skip(ctx, "disable-key", ru.in.AccessKeyID, fmt.Sprintf("severity %s is below AKGUARD_DISABLE_KEY_AT=%s", ru.in.Severity, *at))
	}
	return ru.step(ctx, "disable-key", ru.in.AccessKeyID, why, true, func() (string, string, error) {
		if o.KeyStatus == "Inactive" {
			return notify.StatusAlready, ru.in.AccessKeyID + " was already Inactive", nil
		}
		return ru.c.disableKey(o.UserName, ru.in.AccessKeyID)
	})
}

// skipAll records that nothing is done and why.
func (ru *run) skipAll(ctx context.Context, outcome, reason string) error {
	ru.msg.Outcome = outcome
	target := ru.msg.Owner.UserName
	if target == "" {
		target = ru.in.AccessKeyID
	}
	step := "contain"
	if ru.msg.Action == incident.ActionRelease {
		step = "release"
	}
	_, err := ru.skip(ctx, step, target, reason)
	return err
}

func (ru *run) release(ctx context.Context) error {
	r := ru.r
	policy := r.Config.PolicyName
	var rec Contained
	err := r.Store.Get(ctx, "contained/"+ru.in.AccessKeyID+".json", &rec)
	switch {
	case err == nil:
		policy = orDefault(rec.PolicyName, policy)
		st, serr := ru.c.keyStatus(rec.UserName, ru.in.AccessKeyID)
		if serr != nil {
			return fmt.Errorf("read key status: %w", aliyun.CleanError(serr))
		}
		ru.msg.Owner = notify.Owner{Type: notify.OwnerRAMUser, UserName: rec.UserName, AccountID: r.Clients.AccountID,
			LookedUpBy: "record", KeyStatus: st}
	case errors.Is(err, store.ErrNotFound):
		if err := ru.owner(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("read contained record: %w", err)
	}
	o := ru.msg.Owner
	if ru.lookupErr != "" {
		return ru.skipAll(ctx, notify.OutcomeFailed, "the owner could not be looked up: "+ru.lookupErr)
	}
	if o.Type != notify.OwnerRAMUser {
		return ru.skipAll(ctx, notify.OutcomeReported, "no RAM user owns the key, so no policy is attached")
	}
	if o.KeyStatus == "Active" && !ru.in.Force {
		return ru.skipAll(ctx, notify.OutcomeReleaseRefused, "the leaked key is still Active: rotate and disable it first (or force)")
	}
	// The deny policy is per user: detaching it also releases every other
	// contained key of the user.
	others, err := ru.otherContained(ctx, o.UserName)
	if err != nil {
		return err
	}
	var active []string
	for _, c := range others {
		if c.status == "Active" {
			active = append(active, c.AccessKeyID)
		}
	}
	if len(active) > 0 && !ru.in.Force {
		return ru.skipAll(ctx, notify.OutcomeReleaseRefused, fmt.Sprintf("another leaked key of user %s is still Active and contained by the same deny policy (%s): rotate and disable it first (or force)",
			o.UserName, strings.Join(active, ", ")))
	}
	why := fmt.Sprintf("release requested by %s: %s (key %s)", orDefault(ru.in.Reporter, "-"), orDefault(ru.in.Reason, "-"), o.KeyStatus)
	if ru.in.Force && (o.KeyStatus == "Active" || len(active) > 0) {
		why += ", forced"
	}
	if len(others) > 0 {
		ids := make([]string, len(others))
		for i, c := range others {
			ids[i] = c.AccessKeyID + " (" + c.status + ")"
		}
		why += "; also releases " + strings.Join(ids, ", ")
	}
	st, err := ru.step(ctx, "detach-policy", o.UserName, why, true,
		func() (string, string, error) { return ru.c.detachPolicy(policy, o.UserName) })
	if err != nil {
		return err
	}
	switch {
	case st.Status == notify.StatusFailed:
		ru.msg.Outcome = notify.OutcomeFailed
	case ru.dry:
		ru.msg.Outcome = notify.OutcomeWouldRelease
	default:
		ru.msg.Outcome = notify.OutcomeReleased
		if rec.UserName != "" {
			rec.Released, rec.ReleasedBy = true, ru.in.ID
			if err := r.Store.Put(ctx, "contained/"+ru.in.AccessKeyID+".json", rec); err != nil {
				return fmt.Errorf("write contained record: %w", err)
			}
		}
		for _, c := range others {
			c.Released, c.ReleasedBy = true, ru.in.ID
			if err := r.Store.Put(ctx, "contained/"+c.AccessKeyID+".json", c.Contained); err != nil {
				return fmt.Errorf("write contained record: %w", err)
			}
		}
	}
	return nil
}

// containedKey is another contained key of a user and its status now.
type containedKey struct {
	Contained
	status string
}

// otherContained returns the user's contained keys other than this
// incident's that were not released, with their current status (Active,
// Inactive or deleted).
func (ru *run) otherContained(ctx context.Context, user string) ([]containedKey, error) {
	keys, err := ru.r.Store.List(ctx, "contained/")
	if err != nil {
		return nil, fmt.Errorf("list contained records: %w", err)
	}
	var out []containedKey
	for _, k := range keys {
		var c Contained
		if err := ru.r.Store.Get(ctx, k, &c); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("read contained record: %w", err)
		}
		if c.UserName != user || c.AccessKeyID == ru.in.AccessKeyID || c.Released {
			continue
		}
		out = append(out, containedKey{Contained: c})
	}
	if len(out) == 0 {
		return nil, nil
	}
	status := map[string]string{}
	live, err := ru.c.listKeys(user)
	switch {
	case code(err) == "EntityNotExist.User":
	case err != nil:
		return nil, fmt.Errorf("read key status: %w", aliyun.CleanError(err))
	}
	for _, k := range live {
		status[k.AccessKeyId] = k.Status
	}
	for i := range out {
		out[i].status = orDefault(status[out[i].AccessKeyID], "deleted")
	}
	return out, nil
}

func (r *Responder) leaseWait() time.Duration {
	if r.LeaseWait > 0 {
		return r.LeaseWait
	}
	return 20 * time.Second
}

func (r *Responder) backoff() time.Duration {
	if r.StepBackoff > 0 {
		return r.StepBackoff
	}
	return 200 * time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// markLeaked adds a key found in plaintext (scan) or reported by a person
// to the leaked-key index, so the audit function flags every later use of
// it — even in dry-run, and even when containment is skipped or fails.
// Audit's own incidents are suspicions, not leaks, and are not indexed.
func (r *Responder) markLeaked(ctx context.Context, in incident.Incident, log *slog.Logger) {
	if in.Source != incident.SourceScan && in.Source != incident.SourceManual {
		return
	}
	if strings.HasPrefix(in.AccessKeyID, "STS.") {
		return // temporary credentials expire; the index holds long-term keys
	}
	loc := ""
	if in.Object != nil {
		loc = "oss://" + in.Object.Bucket + "/" + in.Object.Key
	}
	if _, err := r.Store.MarkLeaked(ctx, store.LeakedKey{AccessKeyID: in.AccessKeyID, Source: in.Source, Location: loc,
		ReportedAt: in.DetectedAt.UTC(), IncidentID: in.ID, Reason: in.Reason}); err != nil {
		log.WarnContext(ctx, "index leaked key", "err", err)
	}
}
