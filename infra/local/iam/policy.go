package iam

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Document is a RAM policy document (policy language Version "1"). Action
// and Resource accept a string or a list, as the RAM policy grammar allows.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement.
type Statement struct {
	Effect      string                           `json:"Effect"`
	Action      StringList                       `json:"Action,omitempty"`
	NotAction   StringList                       `json:"NotAction,omitempty"`
	Resource    StringList                       `json:"Resource,omitempty"`
	NotResource StringList                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string]StringList `json:"Condition,omitempty"`
	Principal   json.RawMessage                  `json:"Principal,omitempty"` // trust policies only
}

// StringList decodes either "x" or ["x","y"].
type StringList []string

func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings")
	}
	*l = many
	return nil
}

// ParseDocument validates a policy document the way RAM rejects malformed
// ones (MalformedPolicyDocument, 400).
func ParseDocument(doc string) (*Document, error) {
	var d Document
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&d); err != nil {
		return nil, newErr(http.StatusBadRequest, "MalformedPolicyDocument", "The policy document is malformed: %v", err)
	}
	if d.Version != "1" {
		return nil, newErr(http.StatusBadRequest, "MalformedPolicyDocument", "The policy version must be \"1\".")
	}
	if len(d.Statement) == 0 {
		return nil, newErr(http.StatusBadRequest, "MalformedPolicyDocument", "The policy must contain a statement.")
	}
	for i, s := range d.Statement {
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, newErr(http.StatusBadRequest, "MalformedPolicyDocument", "Statement %d: Effect must be Allow or Deny.", i+1)
		}
		if len(s.Action) == 0 && len(s.NotAction) == 0 {
			return nil, newErr(http.StatusBadRequest, "MalformedPolicyDocument", "Statement %d: Action is required.", i+1)
		}
	}
	return &d, nil
}

// Request is what Authorize evaluates.
type Request struct {
	Action   string // "oss:DeleteBucket", "ram:AttachPolicyToUser"
	Resource string // "acs:oss:*:123:bucket", "acs:ram:*:123:user/alice"
	// Context holds condition keys: "acs:SourceIp", "acs:SecureTransport",
	// "acs:MFAPresent", "acs:CurrentTime".
	Context map[string]string
}

type effect int

const (
	noMatch effect = iota
	allow
	deny
)

func (d *Document) evaluate(r Request) effect {
	out := noMatch
	for _, s := range d.Statement {
		if !s.matches(r) {
			continue
		}
		if s.Effect == "Deny" {
			return deny
		}
		out = allow
	}
	return out
}

func (s *Statement) matches(r Request) bool {
	if len(s.Action) > 0 && !anyGlob(s.Action, r.Action, true) {
		return false
	}
	if len(s.NotAction) > 0 && anyGlob(s.NotAction, r.Action, true) {
		return false
	}
	if len(s.Resource) > 0 && !anyGlob(s.Resource, r.Resource, false) {
		return false
	}
	if len(s.NotResource) > 0 && anyGlob(s.NotResource, r.Resource, false) {
		return false
	}
	for op, kv := range s.Condition {
		for key, want := range kv {
			if !condition(op, r.Context[key], want) {
				return false
			}
		}
	}
	return true
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Glob(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Glob(p, s) {
			return true
		}
	}
	return false
}

// Glob matches RAM wildcards: '*' any run (including '/' and ':'), '?' one character.
func Glob(pattern, s string) bool {
	// Iterative matcher with backtracking over the last '*': linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// condition supports the operators akguard's policies use; an unknown
// operator never matches, so an Allow with it grants nothing (fail closed)
// and a Deny with it denies nothing (documented limitation).
func condition(op, have string, want []string) bool {
	switch op {
	case "StringEquals":
		return contains(want, have, false)
	case "StringNotEquals":
		return !contains(want, have, false)
	case "StringEqualsIgnoreCase":
		return contains(want, have, true)
	case "StringLike":
		for _, w := range want {
			if Glob(w, have) {
				return true
			}
		}
		return false
	case "StringNotLike":
		for _, w := range want {
			if Glob(w, have) {
				return false
			}
		}
		return true
	case "Bool":
		return contains(want, have, true)
	case "IpAddress":
		return ipIn(have, want)
	case "NotIpAddress":
		return have != "" && !ipIn(have, want)
	}
	return false
}

func contains(list []string, s string, fold bool) bool {
	for _, x := range list {
		if x == s || (fold && strings.EqualFold(x, s)) {
			return true
		}
	}
	return false
}

func ipIn(ip string, cidrs []string) bool {
	addr := net.ParseIP(ip)
	if addr == nil {
		return false
	}
	for _, c := range cidrs {
		if !strings.Contains(c, "/") {
			if net.ParseIP(c).Equal(addr) {
				return true
			}
			continue
		}
		if _, n, err := net.ParseCIDR(c); err == nil && n.Contains(addr) {
			return true
		}
	}
	return false
}
