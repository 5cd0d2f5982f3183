package main

import (
	"testing"

	"github.com/akguard/akguard/infra/local/fc"
)

// The project's own s.yaml must load in the local FC exactly as `akguard
// local` reads it.
func TestProjectSYamlLoads(t *testing.T) {
	cfg, err := fc.LoadSYaml("../../s.yaml", map[string]string{"config.AccountID": "1234567890123456"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range cfg.Functions {
		got[f.Name] = true
		if f.RoleName == "" || f.Environment["AKGUARD_STATE_BUCKET"] == "" {
			t.Errorf("%s: role %q, state bucket %q", f.Name, f.RoleName, f.Environment["AKGUARD_STATE_BUCKET"])
		}
	}
	for _, want := range []string{"akguard-scan", "akguard-audit", "akguard-respond"} {
		if !got[want] {
			t.Errorf("s.yaml lacks function %s", want)
		}
	}
}
