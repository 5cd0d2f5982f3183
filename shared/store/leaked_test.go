package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestLeakedKeyIndex(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	first := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	marks := []struct {
		k       LeakedKey
		added   bool
		wantErr bool
	}{
		{k: LeakedKey{AccessKeyID: "LTAI5tQwErTyUiOpAsDfGhJk", Source: "scan", Location: "oss://uploads/.env", ReportedAt: first}, added: true},
		{k: LeakedKey{AccessKeyID: "LTAI5tQwErTyUiOpAsDfGhJk", Source: "manual", ReportedAt: first.Add(time.Hour)}, added: false}, // first report kept
		{k: LeakedKey{AccessKeyID: "f6IzzFZMmzNwEI4d", Source: "manual"}, added: true},                                            // legacy 16-character ID
		{k: LeakedKey{AccessKeyID: "STS.NTq1w2e3r4t5y6u7i8o9p0", Source: "scan"}, wantErr: true},                                  // expires by itself
		{k: LeakedKey{AccessKeyID: "../../audit/state", Source: "manual"}, wantErr: true},
	}
	for _, m := range marks {
		added, err := s.MarkLeaked(ctx, m.k)
		if (err != nil) != m.wantErr || added != m.added {
			t.Errorf("MarkLeaked(%s) = %v, %v; want added %v, error %v", m.k.AccessKeyID, added, err, m.added, m.wantErr)
		}
	}
	// Hand-written records: one without the ID field (taken from the name),
	// one naming another key, one that is not JSON.
	for name, body := range map[string]any{
		LeakedKeyRecord("LTAI5tZxCvBnMlKjHgFdSaPo"): map[string]string{"source": "manual"},
		LeakedKeyRecord("LTAI5tMnBvCxZlKjHgFdSaQw"): LeakedKey{AccessKeyID: "LTAI5tOtHeRkEyOtHeRkEyOt"},
		LeakedKeyRecord("LTAI5tPoIuYtReWqLkJhGfDs"): "not a record",
	} {
		if err := s.Put(ctx, name, body); err != nil {
			t.Fatal(err)
		}
	}
	keys, bad, err := s.LeakedKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if want := []string{"LTAI5tQwErTyUiOpAsDfGhJk", "LTAI5tZxCvBnMlKjHgFdSaPo", "f6IzzFZMmzNwEI4d"}; !slices.Equal(ids, want) {
		t.Fatalf("keys %v, want %v", ids, want)
	}
	if k := keys["LTAI5tQwErTyUiOpAsDfGhJk"]; k.Source != "scan" || !k.ReportedAt.Equal(first) {
		t.Errorf("first report replaced: %+v", k)
	}
	slices.Sort(bad)
	if want := []string{LeakedKeyRecord("LTAI5tMnBvCxZlKjHgFdSaQw"), LeakedKeyRecord("LTAI5tPoIuYtReWqLkJhGfDs")}; !slices.Equal(bad, want) {
		t.Errorf("bad %v, want %v", bad, want)
	}
}
