package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The leaked-key index: one record per AccessKey ID known to be leaked, at
//
//	<prefix>leaked/<AccessKeyId>.json
//
// holding a LeakedKey. Writers: the scan function when it finds a key (with
// Source "scan" and the object as Location), respond when it contains one,
// and operators by hand (Source "manual"): upload a file holding
//
//	{"accessKeyId":"LTAI...","source":"manual","reason":"pasted in chat"}
//
// as oss://<stateBucket>/akguard/leaked/LTAI....json (the object name
// must be the key ID the record names).
//
// Reader: the audit function, which flags every use of a listed key.
// Writers use MarkLeaked, which never replaces an existing record, so the
// first report (the earliest ReportedAt) is the one kept. The record names
// the key, never its secret.
const LeakedPrefix = "leaked/"

// LeakedKey is one entry of the leaked-key index.
type LeakedKey struct {
	AccessKeyID string `json:"accessKeyId"`
	// Source is who reported it: "scan", "respond", "manual", ...
	Source string `json:"source"`
	// Location is where it leaked, e.g. "oss://bucket/key".
	Location   string    `json:"location,omitempty"`
	ReportedAt time.Time `json:"reportedAt,omitzero"`
	// IncidentID links the incident that reported it, when there is one.
	IncidentID string `json:"incidentId,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// accessKeyIDRE accepts the ID forms of incident.Incident (long-term LTAI…,
// legacy 16-character IDs); STS keys expire and are never indexed.
var accessKeyIDRE = regexp.MustCompile(`^(LTAI[A-Za-z0-9]{12,28}|[A-Za-z0-9]{16})$`)

// LeakedKeyRecord is the record key of an AccessKey ID in the index.
func LeakedKeyRecord(accessKeyID string) string { return LeakedPrefix + accessKeyID + ".json" }

// MarkLeaked adds k to the leaked-key index unless the key is already
// there; it reports whether this call added it.
func (s *Store) MarkLeaked(ctx context.Context, k LeakedKey) (bool, error) {
	if !accessKeyIDRE.MatchString(k.AccessKeyID) {
		return false, fmt.Errorf("mark leaked: %q is not a long-term AccessKey ID", clipID(k.AccessKeyID))
	}
	return s.Create(ctx, LeakedKeyRecord(k.AccessKeyID), k)
}

// LeakedKeys reads the whole index, keyed by AccessKey ID. Records that do
// not decode, or whose key does not match their name, are returned in bad
// (by record key) rather than failing the read: one hand-written typo must
// not blind the audit to every other leaked key.
func (s *Store) LeakedKeys(ctx context.Context) (keys map[string]LeakedKey, bad []string, err error) {
	names, err := s.List(ctx, LeakedPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("list leaked keys: %w", err)
	}
	keys = make(map[string]LeakedKey, len(names))
	for _, name := range names {
		id, ok := strings.CutSuffix(strings.TrimPrefix(name, LeakedPrefix), ".json")
		if !ok || strings.Contains(id, "/") {
			continue
		}
		var k LeakedKey
		if err := s.Get(ctx, name, &k); err != nil {
			if errors.Is(err, ErrNotFound) { // deleted between list and get
				continue
			}
			var syn *json.SyntaxError
			var typ *json.UnmarshalTypeError
			if errors.As(err, &syn) || errors.As(err, &typ) {
				bad = append(bad, name)
				continue
			}
			return nil, nil, fmt.Errorf("read leaked keys: %w", err)
		}
		if k.AccessKeyID == "" {
			k.AccessKeyID = id
		}
		if k.AccessKeyID != id || !accessKeyIDRE.MatchString(id) {
			bad = append(bad, name)
			continue
		}
		keys[id] = k
	}
	return keys, bad, nil
}

func clipID(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
