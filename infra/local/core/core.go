// Package core is what every local-cloud service shares: the account, its
// identities and policies (iam), the ActionTrail recorder (trail), fault
// injection (fault), persistence root and clock. Services take an *Env and
// expose an http.Handler; package cloud wires them to listeners.
package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/infra/local/trail"
)

// Env is the shared state of one local cloud.
type Env struct {
	AccountID string
	Region    string
	DataDir   string // each service keeps its state under DataDir/<service>
	IAM       *iam.IAM
	Trail     *trail.Store
	Faults    *fault.Injector
	Log       *slog.Logger
	Now       func() time.Time
	// Endpoints maps a service name ("oss", "ram", ...) to its base URL once
	// listeners are bound; services use it to build links (e.g. FC → OSS).
	Endpoints map[string]string
	// Hooks lets services reach each other without import cycles (OSS
	// notifies FC of object creation through it).
	Hooks Hooks
}

// Hooks are cross-service callbacks, set by package cloud.
type Hooks struct {
	// ObjectCreated is called after an object is stored in a bucket;
	// eventName is the OSS event name, e.g. "ObjectCreated:PutObject".
	ObjectCreated func(ctx context.Context, ev ObjectEvent)
	// Deliver sends a message body to an SMQ destination ARN
	// ("acs:mns:<region>:<uid>:/queues/<q>/messages" or ".../topics/<t>/messages");
	// FC uses it for async invocation destinations.
	Deliver func(ctx context.Context, destinationARN string, body []byte) error
	// Invoke runs an FC function asynchronously with a payload (used by the
	// SMQ topic→function push and by tests).
	Invoke func(ctx context.Context, function string, payload []byte, async bool) ([]byte, error)
}

// ObjectEvent describes a created object, enough to build the OSS trigger
// event JSON (fc-runtime-go-sdk events.OssEvent).
type ObjectEvent struct {
	EventName string // "ObjectCreated:PutObject"
	Bucket    string
	Key       string
	ETag      string
	Size      int64
	MimeType  string
	SourceIP  string
	RequestID string
	Principal iam.Principal
	EventTime time.Time
}

// Call describes one API call for the trail.
type Call struct {
	Service      string // trail serviceName: "Oss", "Ram", "Ims", "Sts", "Actiontrail", "Kms", "Mns", "Fc"
	Action       string // eventName
	ReadOnly     bool
	Global       bool   // RAM/IMS/STS are global services
	EventSource  string // host the call was made to
	APIVersion   string
	Principal    iam.Principal
	SourceIP     string
	UserAgent    string
	RequestID    string
	ErrorCode    string
	ErrorMessage string
	ResourceName string
	ResourceType string
	Params       map[string]any // never include secrets
}

// Record writes an ActionTrail event for a call. Calls with no
// authenticated principal (bad signatures, unknown keys) are recorded too,
// with whatever key ID was presented, because enumeration attempts with a
// leaked-then-disabled key are exactly what the audit must see.
func (e *Env) Record(ctx context.Context, c Call) {
	if e.Trail == nil {
		return
	}
	rw := "Write"
	if c.ReadOnly {
		rw = "Read"
	}
	ev := trail.Event{
		EventName: c.Action, EventSource: c.EventSource, EventRW: rw, ServiceName: c.Service,
		APIVersion: c.APIVersion, AcsRegion: e.Region, IsGlobal: c.Global, SourceIPAddress: c.SourceIP,
		UserAgent: c.UserAgent, RequestID: c.RequestID, RequestParameters: c.Params,
		ResourceName: c.ResourceName, ResourceType: c.ResourceType, ErrorCode: c.ErrorCode,
		ErrorMessage: c.ErrorMessage, UserIdentity: c.Principal.Identity(), RecipientAccountID: e.AccountID,
		EventTime: e.now().UTC().Format(trail.TimeLayout),
	}
	if ev.UserIdentity.AccountID == "" {
		ev.UserIdentity.AccountID = e.AccountID
	}
	if err := e.Trail.Record(ctx, ev); err != nil && e.Log != nil {
		e.Log.ErrorContext(ctx, "record trail event", "err", err, "event_name", c.Action)
	}
	if c.Principal.AccessKeyID != "" && c.ErrorCode == "" && e.IAM != nil {
		e.IAM.TouchKey(c.Principal.AccessKeyID)
	}
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// NewRequestID returns an upper-case UUID-like request ID, the form RAM and
// OSS responses carry.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// SourceIP is the caller's address. Tests simulate attackers from other
// networks with the X-Forwarded-For header, which the local cloud trusts
// because it only listens on loopback.
func SourceIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		return strings.TrimSpace(strings.Split(xff, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ApplyFault applies fault injection for one request. It returns true when
// the request was consumed (dropped, or answered by writeErr) and the
// handler must return.
func (e *Env) ApplyFault(w http.ResponseWriter, service, operation string, writeErr func(status int, code, msg string)) bool {
	d := e.Faults.Decide(service, operation)
	if d.Latency > 0 {
		time.Sleep(d.Latency)
	}
	switch d.Kind {
	case "drop":
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case "throttle":
		status := d.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		code := d.Code
		if code == "" {
			code = "Throttling"
		}
		writeErr(status, code, "Request was denied due to request throttling (injected).")
		return true
	case "error":
		status := d.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		code := d.Code
		if code == "" {
			code = "InternalError"
		}
		writeErr(status, code, "The request processing has failed due to some unknown error (injected).")
		return true
	}
	return false
}
