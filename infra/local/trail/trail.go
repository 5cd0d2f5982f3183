// Package trail records every API call made to the local cloud as an
// ActionTrail event and answers LookupEvents-style queries over them.
//
// The event schema follows ActionTrail's documented record fields (see
// ../shared/reference/cloud-apis.md B2.1/B2.2 and the "ActionTrail event
// structure" documentation): eventId, eventName, serviceName, eventTime,
// acsRegion, sourceIpAddress, userAgent, userIdentity{type, principalId,
// accountId, accessKeyId, userName}, errorCode, eventRW, ...
package trail

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// TimeLayout is ActionTrail's eventTime format (UTC, second precision).
const TimeLayout = "2006-01-02T15:04:05Z"

// UserIdentity is the caller of an event.
type UserIdentity struct {
	Type           string          `json:"type"` // root-account | ram-user | assumed-role
	PrincipalID    string          `json:"principalId"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext carries STS session attributes for assumed-role callers.
type SessionContext struct {
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Event is one ActionTrail record.
type Event struct {
	EventID             string              `json:"eventId"`
	EventVersion        int                 `json:"eventVersion"`
	EventName           string              `json:"eventName"`
	EventSource         string              `json:"eventSource"`
	EventType           string              `json:"eventType"` // ApiCall | ConsoleOperation | ...
	EventCategory       string              `json:"eventCategory,omitempty"`
	EventRW             string              `json:"eventRW"` // Read | Write
	EventTime           string              `json:"eventTime"`
	ServiceName         string              `json:"serviceName"` // Oss, Ram, Sts, Actiontrail, Kms, Mns, Fc
	APIVersion          string              `json:"apiVersion,omitempty"`
	AcsRegion           string              `json:"acsRegion"`
	IsGlobal            bool                `json:"isGlobal"`
	SourceIPAddress     string              `json:"sourceIpAddress"`
	UserAgent           string              `json:"userAgent"`
	RequestID           string              `json:"requestId"`
	RequestParameters   map[string]any      `json:"requestParameters,omitempty"`
	ResourceName        string              `json:"resourceName,omitempty"`
	ResourceType        string              `json:"resourceType,omitempty"`
	ReferencedResources map[string][]string `json:"referencedResources,omitempty"`
	ErrorCode           string              `json:"errorCode,omitempty"`
	ErrorMessage        string              `json:"errorMessage,omitempty"`
	UserIdentity        UserIdentity        `json:"userIdentity"`
	RecipientAccountID  string              `json:"recipientAccountId,omitempty"`
}

// Time parses EventTime; the zero time when malformed.
func (e *Event) Time() time.Time {
	t, _ := time.Parse(TimeLayout, e.EventTime)
	return t
}

// NewEventID returns an ActionTrail-style event ID (24 upper-case hex digits,
// like "68D4BC64B29A8D36369698D9" in the documented samples).
func NewEventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// Store keeps events in memory (sorted by time) and appends each one to a
// JSON-lines file, so a restart of the local cloud loses nothing.
type Store struct {
	mu     sync.RWMutex
	events []Event // ascending by eventTime, then insertion
	ids    map[string]bool
	file   *os.File
	now    func() time.Time
}

// Open loads path (creating it if absent) and appends new events to it.
// An empty path keeps events in memory only.
func Open(path string) (*Store, error) {
	s := &Store{ids: map[string]bool{}, now: time.Now}
	if path == "" {
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create trail dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open trail file: %w", err)
	}
	if err := s.load(f); err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

func (s *Store) load(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var e Event
		// A torn last line after a crash is skipped rather than failing start-up.
		if err := json.Unmarshal(line, &e); err != nil {
			continue
		}
		s.insert(e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read trail file: %w", err)
	}
	return nil
}

// Close closes the backing file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

func (s *Store) insert(e Event) bool {
	if s.ids[e.EventID] {
		return false
	}
	s.ids[e.EventID] = true
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].EventTime > e.EventTime })
	s.events = append(s.events, Event{})
	copy(s.events[i+1:], s.events[i:])
	s.events[i] = e
	return true
}

// Record stores one event, filling EventID, EventTime and EventVersion when
// empty. Events with an ID already stored are ignored (imports are idempotent).
func (s *Store) Record(_ context.Context, e Event) error {
	if e.EventID == "" {
		e.EventID = NewEventID()
	}
	if e.EventTime == "" {
		e.EventTime = s.now().UTC().Format(TimeLayout)
	}
	if e.EventVersion == 0 {
		e.EventVersion = 1
	}
	if e.EventType == "" {
		e.EventType = "ApiCall"
	}
	if e.EventCategory == "" {
		e.EventCategory = "Management"
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode trail event: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.insert(e) {
		return nil
	}
	if s.file != nil {
		if _, err := s.file.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("append trail event: %w", err)
		}
	}
	return nil
}

// Import loads a recorded or generated history: a JSON array of events, a
// LookupEvents response ({"Events":[...]}), or JSON lines.
func (s *Store) Import(ctx context.Context, r io.Reader) (int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, fmt.Errorf("read event history: %w", err)
	}
	events, err := ParseEvents(data)
	if err != nil {
		return 0, err
	}
	for _, e := range events {
		if err := s.Record(ctx, e); err != nil {
			return 0, err
		}
	}
	return len(events), nil
}

// ParseEvents decodes the three accepted history formats.
func ParseEvents(data []byte) ([]Event, error) {
	trimmed := strings.TrimSpace(string(data))
	switch {
	case trimmed == "":
		return nil, nil
	case strings.HasPrefix(trimmed, "["):
		var es []Event
		if err := json.Unmarshal([]byte(trimmed), &es); err != nil {
			return nil, fmt.Errorf("decode event array: %w", err)
		}
		return es, nil
	case strings.HasPrefix(trimmed, "{") && strings.Contains(trimmed[:min(len(trimmed), 4096)], `"Events"`):
		var resp struct{ Events []Event }
		if err := json.Unmarshal([]byte(trimmed), &resp); err == nil && resp.Events != nil {
			return resp.Events, nil
		}
	}
	var es []Event
	for i, line := range strings.Split(trimmed, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("decode event on line %d: %w", i+1, err)
		}
		es = append(es, e)
	}
	return es, nil
}

// Query selects events for LookupEvents.
type Query struct {
	Start, End time.Time // inclusive start, inclusive end (second precision)
	// Attribute is the single LookupAttribute ActionTrail allows per query:
	// ServiceName, EventName, User, EventId, ResourceType, ResourceName,
	// EventRW, EventAccessKeyId.
	AttrKey, AttrValue string
	Region             string // events of this region plus global ones; empty = all
	Forward            bool   // ascending (Direction=FORWARD); default newest first
}

// ErrBadAttribute reports a LookupAttribute key ActionTrail does not know.
var ErrBadAttribute = errors.New("unsupported lookup attribute")

// Lookup returns matching events in the requested order.
func (s *Store) Lookup(q Query) ([]Event, error) {
	match, err := matcher(q.AttrKey, q.AttrValue)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	startS := q.Start.UTC().Format(TimeLayout)
	endS := q.End.UTC().Format(TimeLayout)
	lo := sort.Search(len(s.events), func(i int) bool { return s.events[i].EventTime >= startS })
	hi := sort.Search(len(s.events), func(i int) bool { return s.events[i].EventTime > endS })
	var out []Event
	for i := lo; i < hi; i++ {
		e := &s.events[i]
		if q.Region != "" && e.AcsRegion != q.Region && !e.IsGlobal {
			continue
		}
		if match(e) {
			out = append(out, *e)
		}
	}
	if !q.Forward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// All returns a copy of every stored event, oldest first.
func (s *Store) All() []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Event(nil), s.events...)
}

func matcher(key, value string) (func(*Event) bool, error) {
	switch key {
	case "":
		return func(*Event) bool { return true }, nil
	case "ServiceName":
		return func(e *Event) bool { return strings.EqualFold(e.ServiceName, value) }, nil
	case "EventName":
		return func(e *Event) bool { return e.EventName == value }, nil
	case "User":
		return func(e *Event) bool { return e.UserIdentity.UserName == value }, nil
	case "EventId":
		return func(e *Event) bool { return e.EventID == value }, nil
	case "ResourceType":
		return func(e *Event) bool { return e.ResourceType == value }, nil
	case "ResourceName":
		return func(e *Event) bool { return e.ResourceName == value }, nil
	case "EventRW":
		return func(e *Event) bool { return strings.EqualFold(e.EventRW, value) }, nil
	case "EventAccessKeyId":
		return func(e *Event) bool { return e.UserIdentity.AccessKeyID == value }, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrBadAttribute, key)
}
