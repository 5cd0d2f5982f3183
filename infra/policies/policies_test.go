package policies

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type doc struct {
	Version   string
	Statement []struct {
		Effect   string
		Action   []string
		Resource any
	}
}

func actions(t *testing.T, data string) map[string]bool {
	t.Helper()
	var d doc
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode policy: %v", err)
	}
	if d.Version != "1" {
		t.Fatalf("policy version %q, want \"1\"", d.Version)
	}
	out := map[string]bool{}
	for _, s := range d.Statement {
		if s.Effect != "Deny" {
			t.Fatalf("statement effect %q: the containment policy only denies", s.Effect)
		}
		for _, a := range s.Action {
			out[strings.ToLower(a)] = true
		}
	}
	return out
}

// The containment policy must keep every action the provider recommends
// denying for a suspected leak; it may only add to them.
func TestDenyHighRiskCoversProviderRecommendation(t *testing.T) {
	provider, err := os.ReadFile("testdata/provider-recommended.json")
	if err != nil {
		t.Fatal(err)
	}
	ours := actions(t, DenyHighRisk)
	for a := range actions(t, string(provider)) {
		if !ours[a] {
			t.Errorf("deny-high-risk.json lost the provider-recommended action %s", a)
		}
	}
	// The quarantine must not be liftable by the key it contains.
	for _, a := range []string{"ram:detachpolicyfromuser", "ram:createpolicyversion", "ram:setdefaultpolicyversion", "sts:assumerole", "ram:updateaccesskey"} {
		if !ours[a] {
			t.Errorf("deny-high-risk.json must deny %s", a)
		}
	}
	// RAM rejects documents over 6144 characters.
	if n := len(DenyHighRisk); n > 6144 {
		t.Errorf("policy is %d characters, RAM's limit is 6144", n)
	}
}
