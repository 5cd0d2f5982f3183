package config

import (
	"strings"
	"testing"
)

func TestLoadScan(t *testing.T) {
	base := map[string]string{"AKGUARD_STATE_BUCKET": "akguard-state"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, s Scan)
	}{
		{name: "defaults", check: func(t *testing.T, s Scan) {
			if s.MaxObjectBytes != 10<<30 || s.PartBytes != 8<<20 || s.Readers != 4 || s.MakePrivate || s.Tag != "" {
				t.Errorf("defaults = %+v", s)
			}
			if !s.Listed("any-bucket") {
				t.Error("without AKGUARD_SCAN_BUCKETS every bucket must be listed")
			}
		}},
		{name: "all set", env: map[string]string{"AKGUARD_SCAN_MAX_OBJECT_BYTES": "1024", "AKGUARD_SCAN_PART_BYTES": "65536",
			"AKGUARD_SCAN_READERS": "2", "AKGUARD_SCAN_MAKE_PRIVATE": "true", "AKGUARD_SCAN_TAG": "akguard = leaked-credential",
			"AKGUARD_SCAN_BUCKETS": "uploads, logs", "AKGUARD_QUARANTINE_BUCKET": "quarantine"},
			check: func(t *testing.T, s Scan) {
				k, v, err := s.TagPair()
				if s.MaxObjectBytes != 1024 || s.PartBytes != 65536 || s.Readers != 2 || !s.MakePrivate || k != "akguard" ||
					v != "leaked-credential" || err != nil || strings.Join(s.Buckets, "|") != "uploads|logs" {
					t.Errorf("config = %+v", s)
				}
				if !s.Ignored("akguard-state") || !s.Ignored("quarantine") || s.Ignored("uploads") {
					t.Error("Ignored is wrong")
				}
				if !s.Listed("uploads") || !s.Listed("logs") || s.Listed("other") || s.Listed("upload") {
					t.Error("Listed is wrong")
				}
			}},
		{name: "state bucket scanned", env: map[string]string{"AKGUARD_SCAN_BUCKETS": "uploads,akguard-state"}, wantErr: "includes the state bucket"},
		{name: "quarantine scanned", env: map[string]string{"AKGUARD_SCAN_BUCKETS": "q", "AKGUARD_QUARANTINE_BUCKET": "q"}, wantErr: "includes the quarantine bucket"},
		{name: "quarantine is state", env: map[string]string{"AKGUARD_QUARANTINE_BUCKET": "akguard-state"}, wantErr: "is the state bucket"},
		{name: "part too small", env: map[string]string{"AKGUARD_SCAN_PART_BYTES": "1000"}, wantErr: "AKGUARD_SCAN_PART_BYTES"},
		{name: "readers zero", env: map[string]string{"AKGUARD_SCAN_READERS": "0"}, wantErr: "AKGUARD_SCAN_READERS"},
		{name: "readers too many", env: map[string]string{"AKGUARD_SCAN_READERS": "65"}, wantErr: "more than 64"},
		{name: "bad bool", env: map[string]string{"AKGUARD_SCAN_MAKE_PRIVATE": "yes please"}, wantErr: "AKGUARD_SCAN_MAKE_PRIVATE"},
		{name: "bad tag", env: map[string]string{"AKGUARD_SCAN_TAG": "no-equals"}, wantErr: "AKGUARD_SCAN_TAG"},
		{name: "no state bucket", env: map[string]string{"AKGUARD_STATE_BUCKET": ""}, wantErr: "AKGUARD_STATE_BUCKET is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			s, err := LoadScan(func(k string) string { return env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}
