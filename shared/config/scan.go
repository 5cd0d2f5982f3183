package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Scan is the scan function's configuration, on top of Common.
type Scan struct {
	Common
	// MaxObjectBytes is the largest object scanned; larger objects are
	// reported with skip reason too_large (AKGUARD_SCAN_MAX_OBJECT_BYTES,
	// default 10 GiB: a 600 s function reads well over 100 MB/s).
	MaxObjectBytes int64
	// PartBytes is the size of each ranged GET of a large object
	// (AKGUARD_SCAN_PART_BYTES, default 8 MiB, minimum 64 KiB).
	PartBytes int64
	// Readers is how many ranged GETs run at once for one object; memory
	// is bounded by (Readers+1)*PartBytes (AKGUARD_SCAN_READERS, default 4).
	Readers int
	// MakePrivate sets the ACL of a publicly readable object holding a
	// credential to private (AKGUARD_SCAN_MAKE_PRIVATE, default false).
	MakePrivate bool
	// Tag is the object tag "key=value" put on objects holding a credential;
	// empty disables tagging (AKGUARD_SCAN_TAG, default empty; suggested
	// "akguard=leaked-credential").
	Tag string
	// QuarantineBucket is where a future quarantine step would move objects;
	// it is never scanned (AKGUARD_QUARANTINE_BUCKET, optional).
	QuarantineBucket string
	// Buckets are the buckets the OSS trigger is configured on
	// (AKGUARD_SCAN_BUCKETS, comma-separated, optional). Start-up refuses a
	// list that includes the state or quarantine bucket, since every record
	// written would then trigger another scan. When set, events for other
	// buckets (a trigger added by hand, a forged invocation) are ignored.
	Buckets []string
}

// Scan defaults.
const (
	DefaultScanMaxObjectBytes = 10 << 30
	DefaultScanPartBytes      = 8 << 20
	DefaultScanReaders        = 4
)

// LoadScan reads the scan function's variables and refuses configurations
// that would make the function trigger itself.
func LoadScan(getenv Getenv) (Scan, error) {
	if getenv == nil {
		return Scan{}, errors.New("load scan config: no environment")
	}
	common, err := LoadCommon(getenv)
	if err != nil {
		return Scan{}, fmt.Errorf("load scan config: %w", err)
	}
	s := Scan{Common: common, Tag: strings.TrimSpace(getenv("AKGUARD_SCAN_TAG")),
		QuarantineBucket: strings.TrimSpace(getenv("AKGUARD_QUARANTINE_BUCKET")),
		Buckets:          List(getenv, "AKGUARD_SCAN_BUCKETS")}
	var errs []error
	maxBytes, err := Int(getenv, "AKGUARD_SCAN_MAX_OBJECT_BYTES", DefaultScanMaxObjectBytes, 1)
	errs = append(errs, err)
	part, err := Int(getenv, "AKGUARD_SCAN_PART_BYTES", DefaultScanPartBytes, 64<<10)
	errs = append(errs, err)
	s.MaxObjectBytes, s.PartBytes = int64(maxBytes), int64(part)
	s.Readers, err = Int(getenv, "AKGUARD_SCAN_READERS", DefaultScanReaders, 1)
	errs = append(errs, err)
	s.MakePrivate, err = Bool(getenv, "AKGUARD_SCAN_MAKE_PRIVATE", false)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("load scan config: %w", err)
	}
	if s.Readers > 64 {
		return s, fmt.Errorf("load scan config: AKGUARD_SCAN_READERS=%d is more than 64", s.Readers)
	}
	if s.Tag != "" {
		if _, _, err := s.TagPair(); err != nil {
			return s, fmt.Errorf("load scan config: %w", err)
		}
	}
	if err := s.CheckLoop(); err != nil {
		return s, fmt.Errorf("load scan config: %w", err)
	}
	return s, nil
}

// TagPair splits Tag into its key and value.
func (s Scan) TagPair() (string, string, error) {
	k, v, ok := strings.Cut(s.Tag, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	// OSS object tags: key 1-128 bytes, value up to 256 bytes.
	if !ok || k == "" || len(k) > 128 || len(v) > 256 {
		return "", "", fmt.Errorf("AKGUARD_SCAN_TAG=%q is not key=value", s.Tag)
	}
	return k, v, nil
}

// CheckLoop refuses a scanned bucket that is also where akguard writes.
func (s Scan) CheckLoop() error {
	if s.QuarantineBucket != "" && s.QuarantineBucket == s.StateBucket {
		return fmt.Errorf("AKGUARD_QUARANTINE_BUCKET %q is the state bucket", s.QuarantineBucket)
	}
	for _, b := range s.Buckets {
		switch b {
		case s.StateBucket:
			return fmt.Errorf("AKGUARD_SCAN_BUCKETS includes the state bucket %q: every finding record would trigger another scan", b)
		case s.QuarantineBucket:
			return fmt.Errorf("AKGUARD_SCAN_BUCKETS includes the quarantine bucket %q: quarantined objects would be scanned again", b)
		}
	}
	return nil
}

// Ignored reports whether events from bucket must never be scanned: the
// state and quarantine buckets, in case a trigger was added to them by hand.
func (s Scan) Ignored(bucket string) bool {
	return bucket == s.StateBucket || (s.QuarantineBucket != "" && bucket == s.QuarantineBucket)
}

// Listed reports whether events from bucket may be scanned under
// AKGUARD_SCAN_BUCKETS: always when the list is empty.
func (s Scan) Listed(bucket string) bool {
	return len(s.Buckets) == 0 || slices.Contains(s.Buckets, bucket)
}
