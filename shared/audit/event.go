package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Event is one ActionTrail record, reduced to the fields the rules read.
// Field names follow the record schema (cloud-apis.md B2.2).
type Event struct {
	EventID         string    `json:"eventId"`
	EventName       string    `json:"eventName"`
	ServiceName     string    `json:"serviceName"`
	EventTime       time.Time `json:"eventTime"`
	AcsRegion       string    `json:"acsRegion,omitempty"`
	IsGlobal        bool      `json:"isGlobal,omitempty"`
	SourceIPAddress string    `json:"sourceIpAddress,omitempty"`
	UserAgent       string    `json:"userAgent,omitempty"`
	EventRW         string    `json:"eventRW,omitempty"`
	ErrorCode       string    `json:"errorCode,omitempty"`
	ErrorMessage    string    `json:"errorMessage,omitempty"`
	ResourceName    string    `json:"resourceName,omitempty"`
	ResourceType    string    `json:"resourceType,omitempty"`
	// ReferencedResources maps a resource type to names, e.g.
	// {"ACS::OSS::Bucket":["test-123"]} (ActionTrail's OSS event samples,
	// help doc 293590, carry the bucket only here).
	ReferencedResources map[string][]string `json:"referencedResources,omitempty"`
	RequestParameters   json.RawMessage     `json:"requestParameters,omitempty"`
	UserIdentity        UserIdentity        `json:"userIdentity"`
}

// UserIdentity is the caller of an event.
type UserIdentity struct {
	// Type is root-account, ram-user or assumed-role (others pass through).
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	// AccessKeyID is LTAI… for long-term keys, STS.… for tokens, and empty
	// for console sessions, which no AccessKey rule can be about.
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext json.RawMessage `json:"sessionContext,omitempty"`
}

// wireEvent accepts what the service and its SDKs actually send: the Go
// SDK hands back Events as []map[string]any, so after a re-marshal numbers
// and booleans may arrive where the documentation shows strings and vice
// versa (cloud-apis.md B2.1: eventVersion is 1 or "1").
type wireEvent struct {
	EventID           flexString      `json:"eventId"`
	EventName         flexString      `json:"eventName"`
	ServiceName       flexString      `json:"serviceName"`
	EventTime         flexString      `json:"eventTime"`
	AcsRegion         flexString      `json:"acsRegion"`
	IsGlobal          flexString      `json:"isGlobal"`
	SourceIPAddress   flexString      `json:"sourceIpAddress"`
	UserAgent         flexString      `json:"userAgent"`
	EventRW           flexString      `json:"eventRW"`
	ErrorCode         flexString      `json:"errorCode"`
	ErrorMessage      flexString      `json:"errorMessage"`
	ResourceName      flexString      `json:"resourceName"`
	ResourceType      flexString      `json:"resourceType"`
	RequestParameters json.RawMessage `json:"requestParameters"`
	// Values are lists in the samples; a lone string is taken as one.
	ReferencedResources map[string]flexList `json:"referencedResources"`
	UserIdentity        struct {
		Type           flexString      `json:"type"`
		PrincipalID    flexString      `json:"principalId"`
		AccountID      flexString      `json:"accountId"`
		AccessKeyID    flexString      `json:"accessKeyId"`
		UserName       flexString      `json:"userName"`
		SessionContext json.RawMessage `json:"sessionContext"`
	} `json:"userIdentity"`
}

// flexString decodes a JSON string, number, boolean or null as text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a scalar, got %.20s", b)
	default: // number or boolean, kept as written
		*f = flexString(b)
	}
	return nil
}

// UnmarshalJSON decodes an ActionTrail record leniently (see wireEvent).
// A record without a parseable eventTime is an error: no rule can place it.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t, err := parseEventTime(string(w.EventTime))
	if err != nil {
		return fmt.Errorf("event %q: %w", w.EventID, err)
	}
	global, _ := strconv.ParseBool(string(w.IsGlobal))
	*e = Event{
		EventID:             string(w.EventID),
		EventName:           string(w.EventName),
		ServiceName:         string(w.ServiceName),
		EventTime:           t,
		AcsRegion:           string(w.AcsRegion),
		IsGlobal:            global,
		SourceIPAddress:     string(w.SourceIPAddress),
		UserAgent:           string(w.UserAgent),
		EventRW:             string(w.EventRW),
		ErrorCode:           string(w.ErrorCode),
		ErrorMessage:        string(w.ErrorMessage),
		ResourceName:        string(w.ResourceName),
		ResourceType:        string(w.ResourceType),
		RequestParameters:   nullToNil(w.RequestParameters),
		ReferencedResources: refs(w.ReferencedResources),
		UserIdentity: UserIdentity{
			Type:           string(w.UserIdentity.Type),
			PrincipalID:    string(w.UserIdentity.PrincipalID),
			AccountID:      string(w.UserIdentity.AccountID),
			AccessKeyID:    string(w.UserIdentity.AccessKeyID),
			UserName:       string(w.UserIdentity.UserName),
			SessionContext: nullToNil(w.UserIdentity.SessionContext),
		},
	}
	return nil
}

// flexList decodes a JSON array of scalars, or one scalar, as text.
type flexList []string

func (f *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []flexString
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		*f = make(flexList, 0, len(items))
		for _, it := range items {
			*f = append(*f, string(it))
		}
		return nil
	}
	var one flexString
	if err := one.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = nil
	if one != "" {
		*f = flexList{string(one)}
	}
	return nil
}

func refs(m map[string]flexList) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

func nullToNil(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	return b
}

// eventTimeLayout is ActionTrail's eventTime (UTC, second precision);
// RFC 3339 with fractions or an offset is accepted too, for exported files.
const eventTimeLayout = "2006-01-02T15:04:05Z"

func parseEventTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing eventTime")
	}
	if t, err := time.Parse(eventTimeLayout, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse eventTime: %w", err)
	}
	t = t.UTC()
	// An offset can push year 0000 or 9999 out of what time.Time encodes
	// as JSON; such an event would parse here and then fail every export
	// and incident that quotes it (found by FuzzParseEvents).
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("parse eventTime: %q is outside years 0000-9999 in UTC", s)
	}
	return t, nil
}

// ParseEvents decodes events from a JSON array of records, a LookupEvents
// response ({"Events":[...]}), JSON lines of records, or a concatenation of
// any of these (e.g. every page of a LookupEvents query saved in one file).
func ParseEvents(data []byte) ([]Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []Event
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("parse events: value %d: %w", n, err)
		}
		evs, err := decodeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("parse events: value %d: %w", n, err)
		}
		out = append(out, evs...)
	}
}

func decodeValue(raw json.RawMessage) ([]Event, error) {
	switch raw[0] {
	case '[':
		return decodeArray(raw)
	case '{':
		var page struct {
			Events json.RawMessage `json:"Events"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, err
		}
		if page.Events != nil {
			if bytes.Equal(page.Events, []byte("null")) {
				return nil, nil
			}
			return decodeArray(page.Events)
		}
		var e Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		return []Event{e}, nil
	default:
		return nil, fmt.Errorf("want an event, an array or a LookupEvents response, got %.20s", raw)
	}
}

func decodeArray(raw json.RawMessage) ([]Event, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]Event, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &out[i]); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
	}
	return out, nil
}

// DecodeEventMaps converts the Events of a LookupEvents response as the Go
// SDK returns them ([]map[string]interface{}) into Events.
func DecodeEventMaps(maps []map[string]any) ([]Event, error) {
	out := make([]Event, len(maps))
	for i, m := range maps {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode event %d: %w", i, err)
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", i, err)
		}
	}
	return out, nil
}

// Principal types as ActionTrail names them.
const (
	TypeRootAccount = "root-account"
	TypeRAMUser     = "ram-user"
	TypeAssumedRole = "assumed-role"
)

// subjectOf names who an event's AccessKey belongs to, which is what a
// baseline and an incident are about. STS tokens are short-lived and many
// per role, so they are attributed to the role: one baseline per role.
// ok is false for events signed with no AccessKey (console sessions).
func subjectOf(e *Event) (s subject, ok bool) {
	id := &e.UserIdentity
	if id.AccessKeyID == "" {
		return subject{}, false
	}
	if id.Type == TypeAssumedRole || strings.HasPrefix(id.AccessKeyID, "STS.") {
		// userName is "role:session" and principalId "roleId:session"
		// (cloud-apis.md B2.1 sample); the role is what persists.
		role, _, _ := strings.Cut(id.UserName, ":")
		if role == "" {
			role, _, _ = strings.Cut(id.PrincipalID, ":")
		}
		return subject{
			Key:       "role/" + id.AccountID + "/" + role,
			Principal: role,
			Type:      TypeAssumedRole,
			AccountID: id.AccountID,
		}, true
	}
	typ := id.Type
	if typ == "" {
		typ = TypeRAMUser
	}
	name := id.UserName
	if typ == TypeRootAccount && name == "" {
		name = "root"
	}
	return subject{
		Key:       "key/" + id.AccessKeyID,
		Principal: name,
		Type:      typ,
		AccountID: id.AccountID,
	}, true
}

// subject is the owner of a baseline and of an incident.
type subject struct {
	Key       string // "key/<AccessKeyId>" or "role/<account>/<role>"
	Principal string
	Type      string
	AccountID string
}
