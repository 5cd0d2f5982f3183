// Package iam holds the local cloud's identities — the account owner, RAM
// users and their AccessKeys, custom and system policies, roles and STS
// sessions — persists them, authenticates AccessKey IDs for every service's
// signature check, and evaluates RAM policies for every request.
//
// Semantics follow the RAM documentation: the account owner (root) is never
// restricted by policies; for RAM users and role sessions an explicit Deny
// wins over any Allow, and anything not allowed is denied.
package iam

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/akguard/akguard/infra/local/trail"
)

// Principal is an authenticated caller.
type Principal struct {
	Type        string // "root-account", "ram-user", "assumed-role"
	AccountID   string
	PrincipalID string // user ID; "roleId:session" for roles; account ID for root
	UserName    string // "root", the RAM user name, or "role:session"
	AccessKeyID string
	RoleName    string // assumed-role only
	SessionName string // assumed-role only
}

// IsRoot reports whether the caller signed with the account owner's key.
func (p Principal) IsRoot() bool { return p.Type == "root-account" }

// Identity is the ActionTrail userIdentity of this principal.
func (p Principal) Identity() trail.UserIdentity {
	return trail.UserIdentity{
		Type: p.Type, PrincipalID: p.PrincipalID, AccountID: p.AccountID,
		AccessKeyID: p.AccessKeyID, UserName: p.UserName,
	}
}

// Arn is the caller's ARN as STS GetCallerIdentity reports it.
func (p Principal) Arn() string {
	switch p.Type {
	case "root-account":
		return fmt.Sprintf("acs:ram::%s:root", p.AccountID)
	case "assumed-role":
		return fmt.Sprintf("acs:ram::%s:assumed-role/%s/%s", p.AccountID, strings.ToLower(p.RoleName), p.SessionName)
	}
	return fmt.Sprintf("acs:ram::%s:user/%s", p.AccountID, p.UserName)
}

// User is a RAM user.
type User struct {
	UserName    string `json:"userName"`
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	Comments    string `json:"comments,omitempty"`
	CreateDate  string `json:"createDate"`
	UpdateDate  string `json:"updateDate"`
}

// AccessKey is a long-term key; UserName is empty for the account owner's.
type AccessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	UserName        string `json:"userName,omitempty"`
	Status          string `json:"status"` // Active | Inactive
	CreateDate      string `json:"createDate"`
	LastUsed        string `json:"lastUsed,omitempty"`
}

// PolicyVersion is one version of a custom policy.
type PolicyVersion struct {
	VersionID  string `json:"versionId"`
	Document   string `json:"document"`
	IsDefault  bool   `json:"isDefault"`
	CreateDate string `json:"createDate"`
}

// Policy is a custom or system policy.
type Policy struct {
	PolicyName  string          `json:"policyName"`
	PolicyType  string          `json:"policyType"` // Custom | System
	Description string          `json:"description,omitempty"`
	CreateDate  string          `json:"createDate"`
	UpdateDate  string          `json:"updateDate"`
	Versions    []PolicyVersion `json:"versions"`
	NextVersion int             `json:"nextVersion"`
}

// Default returns the default version.
func (p *Policy) Default() *PolicyVersion {
	for i := range p.Versions {
		if p.Versions[i].IsDefault {
			return &p.Versions[i]
		}
	}
	return nil
}

// Attachment links a policy to a user or role.
type Attachment struct {
	PolicyName string `json:"policyName"`
	PolicyType string `json:"policyType"`
	AttachDate string `json:"attachDate"`
}

// Role is a RAM role.
type Role struct {
	RoleName                 string `json:"roleName"`
	RoleID                   string `json:"roleId"`
	Arn                      string `json:"arn"`
	Description              string `json:"description,omitempty"`
	AssumeRolePolicyDocument string `json:"assumeRolePolicyDocument"`
	MaxSessionDuration       int    `json:"maxSessionDuration"`
	CreateDate               string `json:"createDate"`
	UpdateDate               string `json:"updateDate"`
}

// Session is an STS temporary credential issued by AssumeRole.
type Session struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	SecurityToken   string `json:"securityToken"`
	RoleName        string `json:"roleName"`
	SessionName     string `json:"sessionName"`
	Expiration      string `json:"expiration"`
	// Policy is an optional inline session policy that narrows the role's.
	Policy string `json:"policy,omitempty"`
}

type state struct {
	AccountID    string                  `json:"accountId"`
	Users        map[string]*User        `json:"users"`
	Keys         map[string]*AccessKey   `json:"keys"`
	Policies     map[string]*Policy      `json:"policies"` // custom only
	UserPolicies map[string][]Attachment `json:"userPolicies"`
	Roles        map[string]*Role        `json:"roles"`
	RolePolicies map[string][]Attachment `json:"rolePolicies"`
	Sessions     map[string]*Session     `json:"sessions"`
}

// IAM is the identity store. All methods are safe for concurrent use.
type IAM struct {
	mu     sync.RWMutex
	st     state
	path   string
	Now    func() time.Time
	system map[string]*Policy
}

// Open loads (or creates) the store persisted at path; an empty path keeps
// everything in memory. A new store gets a root AccessKey.
func Open(path, accountID string) (*IAM, error) {
	m := &IAM{path: path, Now: time.Now, system: systemPolicies()}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &m.st); err != nil {
				return nil, fmt.Errorf("decode iam state %s: %w", path, err)
			}
		case os.IsNotExist(err):
		default:
			return nil, fmt.Errorf("read iam state: %w", err)
		}
	}
	if m.st.AccountID == "" {
		m.st.AccountID = accountID
	}
	m.init()
	if m.rootKeyLocked() == nil {
		k := &AccessKey{AccessKeyID: newKeyID(), AccessKeySecret: newSecret(), Status: "Active", CreateDate: m.stamp()}
		m.st.Keys[k.AccessKeyID] = k
		if err := m.saveLocked(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *IAM) init() {
	if m.st.Users == nil {
		m.st.Users = map[string]*User{}
	}
	if m.st.Keys == nil {
		m.st.Keys = map[string]*AccessKey{}
	}
	if m.st.Policies == nil {
		m.st.Policies = map[string]*Policy{}
	}
	if m.st.UserPolicies == nil {
		m.st.UserPolicies = map[string][]Attachment{}
	}
	if m.st.Roles == nil {
		m.st.Roles = map[string]*Role{}
	}
	if m.st.RolePolicies == nil {
		m.st.RolePolicies = map[string][]Attachment{}
	}
	if m.st.Sessions == nil {
		m.st.Sessions = map[string]*Session{}
	}
}

// AccountID is the local account's UID.
func (m *IAM) AccountID() string { return m.st.AccountID }

// RootKey returns the account owner's AccessKey.
func (m *IAM) RootKey() AccessKey {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return *m.rootKeyLocked()
}

func (m *IAM) rootKeyLocked() *AccessKey {
	var keys []*AccessKey
	for _, k := range m.st.Keys {
		if k != nil && k.UserName == "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].CreateDate < keys[j].CreateDate })
	return keys[0]
}

func (m *IAM) stamp() string { return m.Now().UTC().Format("2006-01-02T15:04:05Z") }

// saveLocked writes the whole state atomically (temp file, fsync, rename),
// so a crash leaves either the old or the new state, never a torn file.
func (m *IAM) saveLocked() error {
	if m.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(&m.st, "", " ")
	if err != nil {
		return fmt.Errorf("encode iam state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return fmt.Errorf("create iam dir: %w", err)
	}
	tmp := m.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write iam state: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write iam state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync iam state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close iam state: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("replace iam state: %w", err)
	}
	return nil
}

// mutate runs fn under the write lock and persists on success.
func (m *IAM) mutate(fn func() error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := fn(); err != nil {
		return err
	}
	return m.saveLocked()
}

// Authenticate returns the secret and principal for an AccessKey ID. STS
// keys require their security token. The caller verifies the signature
// with the returned secret.
func (m *IAM) Authenticate(accessKeyID, securityToken string) (string, Principal, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if strings.HasPrefix(accessKeyID, "STS.") {
		s := m.st.Sessions[accessKeyID]
		if s == nil {
			return "", Principal{}, ErrKeyNotFound
		}
		if securityToken == "" || securityToken != s.SecurityToken {
			return "", Principal{}, ErrTokenMissing
		}
		exp, err := time.Parse(time.RFC3339, s.Expiration)
		if err != nil || m.Now().After(exp) {
			return "", Principal{}, ErrTokenExpired
		}
		role := m.st.Roles[s.RoleName]
		if role == nil {
			return "", Principal{}, ErrKeyNotFound
		}
		return s.AccessKeySecret, Principal{
			Type: "assumed-role", AccountID: m.st.AccountID,
			PrincipalID: role.RoleID + ":" + s.SessionName, UserName: s.RoleName + ":" + s.SessionName,
			AccessKeyID: accessKeyID, RoleName: s.RoleName, SessionName: s.SessionName,
		}, nil
	}
	k := m.st.Keys[accessKeyID]
	if k == nil {
		return "", Principal{}, ErrKeyNotFound
	}
	if k.Status != "Active" {
		return "", Principal{}, ErrKeyInactive
	}
	if k.UserName == "" {
		return k.AccessKeySecret, Principal{Type: "root-account", AccountID: m.st.AccountID,
			PrincipalID: m.st.AccountID, UserName: "root", AccessKeyID: accessKeyID}, nil
	}
	u := m.st.Users[k.UserName]
	if u == nil {
		return "", Principal{}, ErrKeyNotFound
	}
	return k.AccessKeySecret, Principal{Type: "ram-user", AccountID: m.st.AccountID,
		PrincipalID: u.UserID, UserName: u.UserName, AccessKeyID: accessKeyID}, nil
}

// Authorize evaluates the caller's policies for one request: nil when
// allowed, a *DenyError otherwise. The account owner is always allowed.
func (m *IAM) Authorize(p Principal, r Request) error {
	if p.IsRoot() {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var atts []Attachment
	var sessionPolicy string
	switch p.Type {
	case "ram-user":
		atts = m.st.UserPolicies[p.UserName]
	case "assumed-role":
		atts = m.st.RolePolicies[p.RoleName]
		if s := m.st.Sessions[p.AccessKeyID]; s != nil {
			sessionPolicy = s.Policy
		}
	default:
		return &DenyError{Action: r.Action, Resource: r.Resource}
	}
	allowed := false
	for _, a := range atts {
		pol := m.policyLocked(a.PolicyType, a.PolicyName)
		if pol == nil {
			continue
		}
		v := pol.Default()
		if v == nil {
			continue
		}
		d, err := ParseDocument(v.Document)
		if err != nil {
			continue
		}
		switch d.evaluate(r) {
		case deny:
			return &DenyError{Action: r.Action, Resource: r.Resource, Explicit: true, Policy: a.PolicyName}
		case allow:
			allowed = true
		}
	}
	if allowed && sessionPolicy != "" {
		// A session policy can only narrow what the role allows.
		d, err := ParseDocument(sessionPolicy)
		if err != nil {
			return &DenyError{Action: r.Action, Resource: r.Resource}
		}
		switch d.evaluate(r) {
		case deny:
			return &DenyError{Action: r.Action, Resource: r.Resource, Explicit: true, Policy: "session-policy"}
		case noMatch:
			allowed = false
		}
	}
	if !allowed {
		return &DenyError{Action: r.Action, Resource: r.Resource}
	}
	return nil
}

func (m *IAM) policyLocked(typ, name string) *Policy {
	if strings.EqualFold(typ, "System") {
		return m.system[name]
	}
	return m.st.Policies[name]
}

// TouchKey records that a key was used (for GetAccessKeyLastUsed).
func (m *IAM) TouchKey(accessKeyID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.st.Keys[accessKeyID]; k != nil {
		// Not persisted on every call: last-used is advisory and hot.
		k.LastUsed = m.stamp()
	}
}

var base62 = []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

func randString(alphabet []byte, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err))
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

// newKeyID makes a current-form AccessKey ID: "LTAI" + 20 base62 characters.
func newKeyID() string { return "LTAI5t" + randString(base62, 18) }

// newSecret makes a 30-character base62 AccessKey secret.
func newSecret() string { return randString(base62, 30) }

func newNumericID() string {
	return randString([]byte("123456789"), 1) + randString([]byte("0123456789"), 15)
}

func notFound(code, format string, args ...any) *Error {
	return newErr(http.StatusNotFound, code, format, args...)
}

func conflict(code, format string, args ...any) *Error {
	return newErr(http.StatusConflict, code, format, args...)
}

func badParam(code, format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, code, format, args...)
}
