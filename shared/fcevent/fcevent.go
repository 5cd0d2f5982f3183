// Package fcevent decodes the Function Compute trigger events akguard
// receives — OSS object notifications and timer ticks — and validates them,
// so a malformed delivery is rejected once, at the boundary, with a clear
// error instead of failing somewhere deep in a handler.
//
// Shapes follow fc-runtime-go-sdk's events package and the OSS trigger
// sample in ../shared/reference/cloud-apis.md B1.1/B1.2; we redefine them
// with value types because the SDK's pointer-only structs make every field
// access a nil check.
package fcevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// ErrMalformed marks an event that can never be processed: the handler
// logs it and returns success so FC does not retry it.
var ErrMalformed = errors.New("malformed event")

// OSSEvent is the OSS trigger payload: one or more records.
type OSSEvent struct {
	Events []OSSRecord `json:"events"`
}

// OSSRecord is one object notification.
type OSSRecord struct {
	EventName         string            `json:"eventName"` // "ObjectCreated:PutObject"
	EventSource       string            `json:"eventSource"`
	EventTime         string            `json:"eventTime"`
	EventVersion      string            `json:"eventVersion"`
	OSS               OSSEntity         `json:"oss"`
	Region            string            `json:"region"`
	RequestParameters RequestParameters `json:"requestParameters"`
	ResponseElements  ResponseElements  `json:"responseElements"`
	UserIdentity      UserIdentity      `json:"userIdentity"`
}

// OSSEntity carries the bucket and object.
type OSSEntity struct {
	Bucket           Bucket `json:"bucket"`
	Object           Object `json:"object"`
	OSSSchemaVersion string `json:"ossSchemaVersion"`
	RuleID           string `json:"ruleId"`
}

// Bucket identifies the bucket.
type Bucket struct {
	Arn           string `json:"arn"`
	Name          string `json:"name"`
	OwnerIdentity string `json:"ownerIdentity"`
	VirtualBucket string `json:"virtualBucket"`
}

// Object identifies the object. Key is exactly as delivered; OSS may
// URL-encode keys with special characters, so use Keys() to try both forms.
type Object struct {
	DeltaSize  int64      `json:"deltaSize"`
	ETag       string     `json:"eTag"`
	Key        string     `json:"key"`
	Size       int64      `json:"size"`
	ObjectMeta ObjectMeta `json:"objectMeta"`
}

// ObjectMeta holds the content type.
type ObjectMeta struct {
	MimeType string `json:"mimeType"`
}

// RequestParameters holds the uploader's address.
type RequestParameters struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

// ResponseElements holds the OSS request ID of the upload.
type ResponseElements struct {
	RequestID string `json:"requestId"`
}

// UserIdentity is who uploaded the object.
type UserIdentity struct {
	PrincipalID string `json:"principalId"`
}

// Keys returns the object key candidates, most likely first: the
// URL-decoded form when it differs and decodes cleanly, then the key as
// delivered. A key that merely contains '%' is thereby still found.
func (o Object) Keys() []string {
	if !strings.ContainsAny(o.Key, "%+") {
		return []string{o.Key}
	}
	dec, err := url.QueryUnescape(o.Key)
	if err != nil || dec == o.Key || dec == "" {
		return []string{o.Key}
	}
	return []string{dec, o.Key}
}

// Bucket names: 3-63 lower-case letters, digits and hyphens, starting and
// ending with a letter or digit (OSS bucket naming rules).
var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// ParseOSS decodes and validates an OSS trigger event. Every record must be
// an ObjectCreated event from acs:oss with a valid bucket and a key.
func ParseOSS(payload []byte) (OSSEvent, error) {
	var ev OSSEvent
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&ev); err != nil {
		return ev, fmt.Errorf("%w: decode oss event: %v", ErrMalformed, err)
	}
	if len(ev.Events) == 0 {
		return ev, fmt.Errorf("%w: oss event has no records", ErrMalformed)
	}
	for i, r := range ev.Events {
		if err := r.validate(); err != nil {
			return ev, fmt.Errorf("%w: record %d: %v", ErrMalformed, i, err)
		}
	}
	return ev, nil
}

func (r OSSRecord) validate() error {
	if r.EventSource != "acs:oss" {
		return fmt.Errorf("eventSource %q is not acs:oss", clip(r.EventSource))
	}
	if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
		return fmt.Errorf("eventName %q is not an ObjectCreated event", clip(r.EventName))
	}
	if !bucketRE.MatchString(r.OSS.Bucket.Name) {
		return fmt.Errorf("bucket name %q is invalid", clip(r.OSS.Bucket.Name))
	}
	if r.OSS.Object.Key == "" || len(r.OSS.Object.Key) > 1023 {
		return fmt.Errorf("object key is empty or longer than 1023 bytes")
	}
	if r.OSS.Object.Size < 0 {
		return fmt.Errorf("object size %d is negative", r.OSS.Object.Size)
	}
	return nil
}

// clip keeps hostile input from flooding logs.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// TimerEvent is the timer trigger payload. Payload is the trigger's
// configured string verbatim (akguard puts JSON in it).
type TimerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// Time parses TriggerTime (RFC 3339).
func (t TimerEvent) Time() (time.Time, error) {
	tt, err := time.Parse(time.RFC3339, t.TriggerTime)
	if err != nil {
		// Not err itself: time.ParseError quotes the whole value, which
		// would undo clip for a hostile multi-megabyte triggerTime.
		return time.Time{}, fmt.Errorf("%w: triggerTime %q is not RFC 3339", ErrMalformed, clip(t.TriggerTime))
	}
	return tt, nil
}

// ParseTimer decodes a timer event; an empty payload is allowed.
func ParseTimer(payload []byte) (TimerEvent, error) {
	var ev TimerEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, fmt.Errorf("%w: decode timer event: %v", ErrMalformed, err)
	}
	if ev.TriggerName == "" {
		return ev, fmt.Errorf("%w: timer event has no triggerName", ErrMalformed)
	}
	if _, err := ev.Time(); err != nil {
		return ev, err
	}
	return ev, nil
}
