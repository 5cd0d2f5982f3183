package ossscan

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/fcevent"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/scan"
	"github.com/akguard/akguard/shared/store"
	"github.com/akguard/akguard/shared/unpack"
)

// maxFindingsPerObject bounds what one object can make the function
// record: a log file repeating thousands of different keys is still
// reported, up to this many distinct findings.
const maxFindingsPerObject = 1000

// maxFindingsPerIncident keeps the async payload far below FC's limit.
const maxFindingsPerIncident = 20

// MaxIncidentsPerObject bounds how many keys one object can hand to
// respond: a crafted upload listing many key pairs must not turn into a
// flood of containments. The keys beyond it are recorded as findings and
// named in one cap record (CapKey) instead.
const MaxIncidentsPerObject = 5

// claimTTL is how long a claimed or failed dispatch blocks others: after
// it, a crashed dispatcher's claim is taken over and a failed one retried.
const claimTTL = 5 * time.Minute

// Scanner scans the objects named by OSS trigger events. It holds no
// per-invocation state and is safe for concurrent use.
type Scanner struct {
	Config config.Scan
	Engine *scan.Engine
	Log    *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// createOnce remembers that the state bucket honours
	// x-oss-forbid-overwrite (checked on the first event of an instance).
	createOnce store.CreateOnceGuard
}

// Summary is the function's response: what happened to each object.
type Summary struct {
	Malformed string         `json:"malformed,omitempty"`
	Objects   []ObjectResult `json:"objects,omitempty"`
}

// Object outcomes.
const (
	StatusScanned = "scanned"
	StatusSkipped = "skipped"
	StatusIgnored = "ignored" // a bucket akguard writes to
	StatusFailed  = "failed"  // a retry may help; the handler returns an error
)

// ObjectResult reports one object.
type ObjectResult struct {
	Bucket string             `json:"bucket"`
	Key    string             `json:"key"`
	ETag   string             `json:"etag,omitempty"`
	Size   int64              `json:"size,omitempty"`
	Status string             `json:"status"`
	Skip   finding.SkipReason `json:"skip,omitempty"`
	// Findings counts distinct findings; Recorded those this call stored
	// first (the rest were stored by an earlier delivery).
	Findings  int      `json:"findings"`
	Recorded  int      `json:"recorded"`
	Incidents []string `json:"incidents,omitempty"` // dispatched by this call
	// IDOnly counts AccessKey IDs found without any secret or token: they
	// are recorded but not sent to respond, since a mention of an ID is no
	// proof that the key leaked.
	IDOnly int `json:"id_only,omitempty"`
	// Capped counts keys with a secret beyond MaxIncidentsPerObject: they
	// are recorded and named in the object's cap record, not sent.
	Capped int    `json:"capped,omitempty"`
	ACL    string `json:"acl,omitempty"`
	Public bool   `json:"public,omitempty"`
	// Remediation lists what this call did to the object.
	Remediation []string `json:"remediation,omitempty"`
	Error       string   `json:"error,omitempty"`
	Bytes       int64    `json:"bytes,omitempty"`
	DurationMS  int64    `json:"duration_ms"`
}

func (s *Scanner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scanner) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// HandleEvent scans every object of an OSS trigger event with clients
// signed by the invocation's credentials. A malformed event is logged and
// acknowledged (nil error: FC must not retry it); the error is non-nil only
// when a retry can help, after every record was attempted.
func (s *Scanner) HandleEvent(ctx context.Context, cl aliyun.Clients, payload []byte) (Summary, error) {
	ev, err := fcevent.ParseOSS(payload)
	if err != nil {
		s.log().ErrorContext(ctx, "rejected malformed oss event", "err", err, "bytes", len(payload))
		return Summary{Malformed: err.Error()}, nil
	}
	run := &run{s: s, cl: cl, oss: cl.OSS(), bucketACL: map[string]string{}}
	run.store = &store.Store{Client: run.oss, Bucket: s.Config.StateBucket, Prefix: s.Config.StatePrefix, Guard: &s.createOnce}
	if inv, ok := aliyun.FromContext(ctx); ok {
		run.requestID = inv.RequestID
	}
	var sum Summary
	var errs []error
	for _, rec := range ev.Events {
		res, err := run.object(ctx, rec.EventName, rec.OSS.Bucket.Name, rec.OSS.Object)
		if err != nil {
			res.Status, res.Error = StatusFailed, err.Error()
			errs = append(errs, err)
			s.log().ErrorContext(ctx, "scan object failed, will be retried", "bucket", res.Bucket, "key", res.Key, "err", err)
		}
		sum.Objects = append(sum.Objects, res)
	}
	return sum, errors.Join(errs...)
}

// partial reports the ObjectCreated events OSS sends for parts of a
// multipart upload (cloud-apis.md B1.1 lists them among the trigger's
// event names).
func partial(eventName string) bool {
	switch eventName {
	case "ObjectCreated:InitiateMultipartUpload", "ObjectCreated:UploadPart", "ObjectCreated:UploadPartCopy":
		return true
	}
	return false
}

// run is the state of one invocation.
type run struct {
	s         *Scanner
	cl        aliyun.Clients
	oss       *oss.Client
	store     *store.Store
	requestID string
	bucketACL map[string]string
}

// object scans one object; the error is non-nil only when retryable.
func (r *run) object(ctx context.Context, eventName, bucket string, obj fcevent.Object) (res ObjectResult, err error) {
	start := time.Now()
	log := r.s.log()
	res = ObjectResult{Bucket: bucket, Key: obj.Key, ETag: obj.ETag, Size: obj.Size}
	defer func() { res.DurationMS = time.Since(start).Milliseconds() }()
	if partial(eventName) {
		// Multipart progress events fire before the object exists; the
		// CompleteMultipartUpload event that follows names the object.
		log.DebugContext(ctx, "ignored multipart progress event", "event", eventName, "bucket", bucket, "key", obj.Key)
		res.Status = StatusIgnored
		return res, nil
	}
	if r.s.Config.Ignored(bucket) {
		log.WarnContext(ctx, "ignored event from a bucket akguard writes to", "bucket", bucket, "key", obj.Key)
		res.Status = StatusIgnored
		return res, nil
	}
	if !r.s.Config.Listed(bucket) {
		// A trigger added by hand or a forged invocation: scanning it would
		// hand another bucket's content to respond.
		log.InfoContext(ctx, "ignored event from a bucket not in AKGUARD_SCAN_BUCKETS", "bucket", bucket, "key", obj.Key)
		res.Status = StatusIgnored
		return res, nil
	}
	o, err := r.locate(ctx, bucket, obj.Keys())
	if errors.Is(err, ErrGone) {
		log.InfoContext(ctx, "object gone before it was read", "bucket", bucket, "key", obj.Key)
		res.Status, res.Skip = StatusSkipped, finding.SkipMissing
		return res, nil
	}
	if err != nil {
		return r.failed(ctx, &res, "head object", err)
	}
	res.Key, res.ETag, res.Size = o.Key, NormalizeETag(o.ETag), o.Size
	where := incident.Object{Bucket: bucket, Key: o.Key, ETag: res.ETag, Size: o.Size}
	if o.Size > r.s.Config.MaxObjectBytes {
		res.Status, res.Skip = StatusSkipped, finding.SkipTooLarge
		log.WarnContext(ctx, "object too large to scan", "bucket", bucket, "key", o.Key, "size", o.Size, "max", r.s.Config.MaxObjectBytes)
		return res, r.recordSkip(ctx, where, finding.Skip{Path: path(bucket, o.Key), Reason: finding.SkipTooLarge,
			Detail: fmt.Sprintf("size %d exceeds %d bytes", o.Size, r.s.Config.MaxObjectBytes)})
	}

	sink := &collector{}
	src, trap, closeSrc := r.source(ctx, o)
	err = r.s.Engine.Scan(ctx, src, sink)
	closeSrc()
	res.Bytes = sink.bytes
	if err != nil {
		// Only the context ending stops a scan: the deadline is near, and
		// another attempt (FC retry) is the only way to finish.
		return r.failed(ctx, &res, "scan object", err)
	}
	if cause := trap.cause(); errors.Is(cause, ErrGone) {
		log.InfoContext(ctx, "object deleted or replaced while being read", "bucket", bucket, "key", o.Key)
		res.Status, res.Skip = StatusSkipped, finding.SkipMissing
		return res, nil
	} else if cause != nil && Retryable(cause) {
		return r.failed(ctx, &res, "read object", cause)
	}
	for _, sk := range sink.skips {
		log.InfoContext(ctx, "part of object not scanned", "path", sk.Path, "reason", string(sk.Reason), "detail", sk.Detail)
	}
	if sk, ok := sink.unreadable(src.Name); ok && len(sink.findings) == 0 {
		res.Status, res.Skip = StatusSkipped, sk.Reason
		return res, r.recordSkip(ctx, where, sk)
	}
	res.Status, res.Findings = StatusScanned, len(sink.findings)
	log.InfoContext(ctx, "scanned object", "bucket", bucket, "key", o.Key, "size", o.Size, "bytes", sink.bytes,
		"findings", len(sink.findings), "skips", len(sink.skips), "duration_ms", time.Since(start).Milliseconds())
	if sink.dropped > 0 {
		log.WarnContext(ctx, "too many findings in one object, only the first recorded", "bucket", bucket, "key", o.Key,
			"recorded", len(sink.findings), "dropped", sink.dropped)
	}
	if len(sink.findings) == 0 {
		return res, nil
	}
	if err := r.found(ctx, &res, where, sink.findings); err != nil {
		return r.failed(ctx, &res, "handle findings", err)
	}
	return res, nil
}

// failed turns an error into the retry decision: retryable errors are
// returned, others are logged and acknowledged.
func (r *run) failed(ctx context.Context, res *ObjectResult, op string, err error) (ObjectResult, error) {
	err = fmt.Errorf("%s oss://%s/%s: %w", op, res.Bucket, res.Key, err)
	if Retryable(err) || ctx.Err() != nil {
		return *res, err
	}
	r.s.log().ErrorContext(ctx, "cannot scan object, not retrying", "bucket", res.Bucket, "key", res.Key, "err", err)
	res.Status, res.Skip, res.Error = StatusSkipped, finding.SkipUnreadable, err.Error()
	return *res, nil
}

// locate finds the object under one of the key spellings an event may use
// (URL-encoded or not) and pins its current version.
func (r *run) locate(ctx context.Context, bucket string, keys []string) (*Object, error) {
	for _, k := range keys {
		h, err := r.oss.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(k)})
		var se *oss.ServiceError
		if errors.As(err, &se) && (se.StatusCode == 404 || se.Code == "NoSuchKey") {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Object{Client: r.oss, Bucket: bucket, Key: k, ETag: oss.ToString(h.ETag), Size: h.ContentLength}, nil
	}
	return nil, ErrGone
}

// source opens an object for the engine, with a trap for the readers'
// errors.
func (r *run) source(ctx context.Context, o *Object) (unpack.Source, *trap, func()) {
	t := &trap{}
	src, closeSrc := Open(ctx, o, r.s.Config.PartBytes, r.s.Config.Readers)
	src.R = &trapReader{r: src.R, t: t}
	src.RA = &trapReaderAt{ra: src.RA.(*ReaderAt), t: t}
	return src, t, closeSrc
}

// Open turns an object into a scan source: one streaming GET when it fits
// in a part, parallel ranged GETs of partBytes (readers at once)
// otherwise, and random access through ranged GETs either way. The
// returned func releases it.
func Open(ctx context.Context, o *Object, partBytes int64, readers int) (unpack.Source, func()) {
	src := unpack.Source{Name: path(o.Bucket, o.Key), Size: o.Size, RA: NewReaderAt(ctx, o)}
	if o.Size <= partBytes {
		lr := &lazyRange{ctx: ctx, obj: o}
		src.R = lr
		return src, func() { lr.Close() }
	}
	pf := NewPrefetcher(ctx, o, partBytes, readers)
	src.R = pf
	return src, func() { pf.Close() }
}

func path(bucket, key string) string { return "oss://" + bucket + "/" + key }

// lazyRange opens one GET of the whole object on first Read, so an object
// the walker reads only through its ReaderAt (a zip) costs no extra GET.
type lazyRange struct {
	ctx  context.Context
	obj  *Object
	body io.ReadCloser
	err  error
}

func (l *lazyRange) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.body == nil {
		if l.obj.Size == 0 {
			return 0, io.EOF
		}
		l.body, l.err = l.obj.Range(l.ctx, 0, l.obj.Size)
		if l.err != nil {
			return 0, l.err
		}
	}
	n, err := l.body.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("read object: %w", ErrGone)
	}
	return n, err
}

func (l *lazyRange) Close() error {
	if l.body != nil {
		return l.body.Close()
	}
	return nil
}

// recordSkip notes an object-level skip in the state bucket.
func (r *run) recordSkip(ctx context.Context, where incident.Object, sk finding.Skip) error {
	_, err := r.store.Create(ctx, SkipKey(where.Bucket, where.Key, where.ETag), SkipRecord{Version: RecordVersion,
		Skip: sk, Object: where, RecordedAt: r.s.now().UTC(), RequestID: r.requestID})
	if err != nil && !Retryable(err) {
		r.s.log().ErrorContext(ctx, "cannot record skip", "bucket", where.Bucket, "key", where.Key, "err", err)
		return nil
	}
	return err
}

// found judges exposure, remediates, records the findings and hands one
// incident per leaked AccessKey (an ID with proof of its secret, at most
// MaxIncidentsPerObject) to respond.
func (r *run) found(ctx context.Context, res *ObjectResult, where incident.Object, fs []finding.Finding) error {
	log := r.s.log()
	acl, err := r.exposure(ctx, where.Bucket, where.Key)
	if err != nil {
		if Retryable(err) {
			return err
		}
		// Without ACL permissions the finding still matters; it is just
		// not known to be public.
		log.WarnContext(ctx, "cannot read object ACL", "bucket", where.Bucket, "key", where.Key, "err", err)
	}
	where.ACL, where.Public = acl, isPublic(acl)
	res.ACL, res.Public = where.ACL, where.Public
	if where.Public {
		for i := range fs {
			fs[i].Severity = finding.SeverityCritical
		}
	}
	remediation, err := r.remediate(ctx, where)
	res.Remediation = remediation
	if err != nil {
		return err
	}
	// The exposure is recorded as found: Public stays true in the records
	// and incidents even when the object was just made private, because it
	// was readable by anyone until now.

	now := r.s.now().UTC()
	plan := planIncidents(fs)
	res.IDOnly, res.Capped = len(plan.idOnly), len(plan.capped)
	send := map[string]bool{}
	for _, akid := range plan.send {
		send[akid] = true
	}
	for _, f := range fs {
		rec := Record{Version: RecordVersion, Finding: f, Object: where, DetectedAt: now, RequestID: r.requestID, Remediation: remediation}
		if send[f.AccessKeyID] {
			rec.IncidentID = IncidentID(where.Bucket, where.Key, where.ETag, f.AccessKeyID)
		}
		created, err := r.store.Create(ctx, FindingKey(where.Bucket, f.Fingerprint, where.ETag), rec)
		if err != nil {
			return err
		}
		if created {
			res.Recorded++
		}
		log.InfoContext(ctx, "finding", "new", created, "rule_id", f.Rule, "path", f.Path, "line", f.Line,
			"access_key_id", f.AccessKeyID, "severity", f.Severity.String(), "fingerprint", f.Fingerprint)
	}
	for _, akid := range plan.idOnly {
		log.InfoContext(ctx, "AccessKey ID found without a secret: recorded, not sent to respond", "bucket", where.Bucket,
			"key", where.Key, "access_key_id", akid)
	}
	if len(plan.capped) > 0 {
		log.WarnContext(ctx, "too many leaked keys in one object: only the first sent to respond", "bucket", where.Bucket,
			"key", where.Key, "sent", len(plan.send), "not_sent", len(plan.capped), "limit", MaxIncidentsPerObject)
		if _, err := r.store.Create(ctx, CapKey(where.Bucket, where.Key, where.ETag), CapRecord{Version: RecordVersion,
			Object: where, Limit: MaxIncidentsPerObject, Sent: plan.send, NotSent: plan.capped, RecordedAt: now,
			RequestID: r.requestID}); err != nil {
			return err
		}
	}
	var errs []error
	for _, akid := range plan.send {
		in := buildIncident(where, akid, plan.byKey[akid], now)
		sent, err := r.dispatch(ctx, in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sent {
			res.Incidents = append(res.Incidents, in.ID)
		}
	}
	return errors.Join(errs...)
}

// incidentPlan splits an object's findings by AccessKey ID into the keys
// sent to respond and those only recorded.
type incidentPlan struct {
	byKey map[string][]finding.Finding
	// send are the keys with proof of a secret, most severe first, at most
	// MaxIncidentsPerObject; capped are the rest of those.
	send, capped []string
	// idOnly are keys seen only as an ID.
	idOnly []string
}

func planIncidents(fs []finding.Finding) incidentPlan {
	p := incidentPlan{byKey: map[string][]finding.Finding{}}
	for _, f := range fs {
		if f.AccessKeyID != "" {
			p.byKey[f.AccessKeyID] = append(p.byKey[f.AccessKeyID], f)
		}
	}
	sev := map[string]finding.Severity{}
	var proven []string
	for akid, g := range p.byKey {
		if !SecretEvidence(g) {
			p.idOnly = append(p.idOnly, akid)
			continue
		}
		proven = append(proven, akid)
		for _, f := range g {
			sev[akid] = max(sev[akid], f.Severity)
		}
	}
	slices.Sort(p.idOnly)
	slices.SortFunc(proven, func(a, b string) int { return cmp.Or(cmp.Compare(sev[b], sev[a]), cmp.Compare(a, b)) })
	n := min(len(proven), MaxIncidentsPerObject)
	p.send, p.capped = proven[:n], proven[n:]
	return p
}

// SecretEvidence reports whether any of the findings carries a secret or
// an STS token (as its hash): only then is a key known to be usable by
// whoever reads the object. An ID alone is an identifier people quote in
// tickets and logs; acting on it would let anyone who can upload a file
// have another user contained.
func SecretEvidence(fs []finding.Finding) bool {
	for _, f := range fs {
		if f.SecretSHA256 != "" || f.TokenSHA256 != "" {
			return true
		}
	}
	return false
}

func buildIncident(where incident.Object, akid string, fs []finding.Finding, now time.Time) incident.Incident {
	sev := finding.SeverityInfo
	for _, f := range fs {
		sev = max(sev, f.Severity)
	}
	slices.SortFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line))
	})
	total := len(fs)
	if len(fs) > maxFindingsPerIncident {
		fs = fs[:maxFindingsPerIncident]
	}
	exposure := "private"
	if where.Public {
		exposure = "publicly readable (" + where.ACL + ")"
	}
	o := where
	return incident.Incident{
		Version: incident.Version, ID: IncidentID(where.Bucket, where.Key, where.ETag, akid),
		Source: incident.SourceScan, AccessKeyID: akid, Severity: sev, DetectedAt: now,
		Summary: fmt.Sprintf("AccessKey %s found %d time(s) in oss://%s/%s, %s", akid, total, where.Bucket, where.Key, exposure),
		Object:  &o, Findings: fs,
	}
}

// dispatch invokes respond with the incident once across duplicate
// deliveries: a dispatch record created with forbid-overwrite elects the
// sender. It reports whether this call sent it.
func (r *run) dispatch(ctx context.Context, in incident.Incident) (bool, error) {
	log := r.s.log()
	if err := in.Validate(); err != nil {
		log.ErrorContext(ctx, "incident not sent: invalid", "incident_id", in.ID, "access_key_id", in.AccessKeyID, "err", err)
		return false, nil
	}
	key := DispatchKey(in.ID)
	claim := Dispatch{IncidentID: in.ID, AccessKeyID: in.AccessKeyID, State: DispatchClaimed, At: r.s.now().UTC(), RequestID: r.requestID}
	won, err := r.store.Create(ctx, key, claim)
	if err != nil {
		return false, err
	}
	if !won {
		var cur Dispatch
		if err := r.store.Get(ctx, key, &cur); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				// The holder gave up (retryable failure) between our two
				// calls; its retry or ours will send it.
				return false, &retryError{fmt.Errorf("dispatch incident %s: claim released concurrently", in.ID)}
			}
			return false, err
		}
		if cur.State == DispatchSent || r.s.now().Sub(cur.At) < claimTTL {
			log.InfoContext(ctx, "incident already dispatched", "incident_id", in.ID, "state", cur.State)
			return false, nil
		}
		// A stale claim (its holder crashed) or an old permanent failure:
		// take over. Deleting and re-creating the claim would let two
		// takers that both read the stale claim both win (the second
		// deletes the first's fresh claim). Instead the takers race to
		// create a marker named after the stale claim they read: one wins
		// and overwrites the claim; a taker that read it later sees a
		// fresh claim. The claimTTL window in the name lets a later taker
		// proceed if the winner died before overwriting.
		won, err := r.store.Create(ctx, takeoverKey(in.ID, cur, r.s.now()), claim)
		if err != nil {
			return false, err
		}
		if !won {
			log.InfoContext(ctx, "incident already taken over by another delivery", "incident_id", in.ID)
			return false, nil
		}
		if err := r.store.Put(ctx, key, claim); err != nil {
			return false, err
		}
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return false, fmt.Errorf("encode incident %s: %w", in.ID, err)
	}
	// A throttled or failed hand-off is retried here first: FC's own async
	// retries re-run the whole scan, and a key whose hand-off fails on the
	// last of them would stay uncontained with only a dead letter to show.
	for attempt := 0; ; attempt++ {
		_, err = r.cl.InvokeFunction(ctx, r.s.Config.RespondFunction, payload, true)
		if err == nil || !invokeRetryable(err) || attempt == dispatchAttempts-1 {
			break
		}
		delay := dispatchBackoff << attempt
		log.WarnContext(ctx, "hand-off to respond failed, retrying", "incident_id", in.ID, "attempt", attempt+1,
			"delay_ms", delay.Milliseconds(), "err", aliyun.CleanError(err))
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		if invokeRetryable(err) || ctx.Err() != nil {
			// Release the claim so the retry sends it.
			if derr := r.store.Delete(ctx, key); derr != nil {
				log.ErrorContext(ctx, "cannot release dispatch claim", "incident_id", in.ID, "err", derr)
			}
			return false, &retryError{fmt.Errorf("dispatch incident %s: %w", in.ID, err)}
		}
		log.ErrorContext(ctx, "respond refused the incident, not retrying", "incident_id", in.ID,
			"function", r.s.Config.RespondFunction, "err", err)
		claim.State, claim.Error, claim.At = DispatchFailed, clip(aliyun.CleanError(err).Error()), r.s.now().UTC()
		if perr := r.store.Put(ctx, key, claim); perr != nil {
			log.ErrorContext(ctx, "cannot record dispatch failure", "incident_id", in.ID, "err", perr)
		}
		return false, nil
	}
	claim.State, claim.At = DispatchSent, r.s.now().UTC()
	if err := r.store.Put(ctx, key, claim); err != nil {
		// Sent but not marked: the claim still blocks duplicates for
		// claimTTL and respond deduplicates by incident ID after that.
		log.WarnContext(ctx, "cannot mark incident sent", "incident_id", in.ID, "err", err)
	}
	log.InfoContext(ctx, "incident sent to respond", "incident_id", in.ID, "access_key_id", in.AccessKeyID,
		"severity", in.Severity.String(), "function", r.s.Config.RespondFunction)
	return true, nil
}

// dispatchAttempts and dispatchBackoff bound the in-process retries of
// the hand-off to respond (200 ms, 400 ms, 800 ms, 1.6 s).
const (
	dispatchAttempts = 5
	dispatchBackoff  = 200 * time.Millisecond
)

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
