package iam

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Users ----------------------------------------------------------------

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9._@-]{1,64}$`)

// CreateUser adds a RAM user.
func (m *IAM) CreateUser(name, displayName, comments string) (User, error) {
	var out User
	if !nameRE.MatchString(name) {
		return out, badParam("InvalidParameter.UserName.InvalidChars", "The parameter UserName is invalid.")
	}
	err := m.mutate(func() error {
		if m.st.Users[name] != nil {
			return conflict("EntityAlreadyExists.User", "The user already exists.")
		}
		now := m.stamp()
		u := &User{UserName: name, UserID: newNumericID(), DisplayName: displayName, Comments: comments, CreateDate: now, UpdateDate: now}
		m.st.Users[name] = u
		out = *u
		return nil
	})
	return out, err
}

// GetUser returns a user by name.
func (m *IAM) GetUser(name string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u := m.st.Users[name]
	if u == nil {
		return User{}, notFound("EntityNotExist.User", "The user does not exist.")
	}
	return *u, nil
}

// GetUserByID returns a user by its numeric ID.
func (m *IAM) GetUserByID(id string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, u := range m.st.Users {
		if u.UserID == id {
			return *u, nil
		}
	}
	return User{}, notFound("EntityNotExist.User", "The user does not exist.")
}

// GetUserByAccessKey returns the RAM user owning a key (IMS GetUser with
// UserAccessKeyId). The account owner's key belongs to no RAM user.
func (m *IAM) GetUserByAccessKey(accessKeyID string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k := m.st.Keys[accessKeyID]
	if k == nil || k.UserName == "" {
		return User{}, notFound("EntityNotExist.User.AccessKey", "The access key does not exist.")
	}
	u := m.st.Users[k.UserName]
	if u == nil {
		return User{}, notFound("EntityNotExist.User", "The user does not exist.")
	}
	return *u, nil
}

// ListUsers returns users sorted by name.
func (m *IAM) ListUsers() []User {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]User, 0, len(m.st.Users))
	for _, u := range m.st.Users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserName < out[j].UserName })
	return out
}

// DeleteUser removes a user that has no keys or policies left, as RAM requires.
func (m *IAM) DeleteUser(name string) error {
	return m.mutate(func() error {
		if m.st.Users[name] == nil {
			return notFound("EntityNotExist.User", "The user does not exist.")
		}
		for _, k := range m.st.Keys {
			if k.UserName == name {
				return conflict("DeleteConflict.User.AccessKey", "The user has access keys.")
			}
		}
		if len(m.st.UserPolicies[name]) > 0 {
			return conflict("DeleteConflict.User.Policy", "The user has attached policies.")
		}
		delete(m.st.Users, name)
		return nil
	})
}

// Access keys -----------------------------------------------------------

// CreateAccessKey issues a key for a user (empty name: the account owner).
// RAM allows at most two keys per user.
func (m *IAM) CreateAccessKey(userName string) (AccessKey, error) {
	var out AccessKey
	err := m.mutate(func() error {
		if userName != "" && m.st.Users[userName] == nil {
			return notFound("EntityNotExist.User", "The user does not exist.")
		}
		n := 0
		for _, k := range m.st.Keys {
			if k.UserName == userName {
				n++
			}
		}
		if n >= 2 && userName != "" {
			return conflict("LimitExceeded.User.AccessKey", "The access key count of the user exceeds the limit 2.")
		}
		k := &AccessKey{AccessKeyID: newKeyID(), AccessKeySecret: newSecret(), UserName: userName, Status: "Active", CreateDate: m.stamp()}
		m.st.Keys[k.AccessKeyID] = k
		out = *k
		return nil
	})
	return out, err
}

// ListAccessKeys lists a user's keys (secrets included: callers must not return them).
func (m *IAM) ListAccessKeys(userName string) ([]AccessKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if userName != "" && m.st.Users[userName] == nil {
		return nil, notFound("EntityNotExist.User", "The user does not exist.")
	}
	var out []AccessKey
	for _, k := range m.st.Keys {
		if k.UserName == userName {
			out = append(out, *k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreateDate+out[i].AccessKeyID < out[j].CreateDate+out[j].AccessKeyID
	})
	return out, nil
}

// GetAccessKey returns one key by ID.
func (m *IAM) GetAccessKey(id string) (AccessKey, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k := m.st.Keys[id]
	if k == nil {
		return AccessKey{}, false
	}
	return *k, true
}

// UpdateAccessKey sets a key Active or Inactive.
func (m *IAM) UpdateAccessKey(userName, id, status string) error {
	if status != "Active" && status != "Inactive" {
		return badParam("InvalidParameter.Status", "The parameter Status must be Active or Inactive.")
	}
	return m.mutate(func() error {
		k := m.st.Keys[id]
		if k == nil || k.UserName != userName {
			return notFound("EntityNotExist.User.AccessKey", "The access key does not exist.")
		}
		k.Status = status
		return nil
	})
}

// DeleteAccessKey removes a key.
func (m *IAM) DeleteAccessKey(userName, id string) error {
	return m.mutate(func() error {
		k := m.st.Keys[id]
		if k == nil || k.UserName != userName {
			return notFound("EntityNotExist.User.AccessKey", "The access key does not exist.")
		}
		delete(m.st.Keys, id)
		return nil
	})
}

// Policies ---------------------------------------------------------------

var policyNameRE = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// maxVersions is RAM's limit on versions per custom policy.
const maxVersions = 5

// CreatePolicy adds a custom policy with version v1 as default.
func (m *IAM) CreatePolicy(name, document, description string) (Policy, error) {
	var out Policy
	if len(name) == 0 || len(name) > 128 {
		return out, badParam("InvalidParameter.PolicyName.Length", "The parameter PolicyName is too long or empty.")
	}
	if !policyNameRE.MatchString(name) {
		return out, badParam("InvalidParameter.PolicyName.InvalidChars", "The parameter PolicyName contains invalid characters.")
	}
	if len(document) > 6144 {
		return out, badParam("InvalidParameter.PolicyDocument.Length", "The policy document exceeds 6144 characters.")
	}
	if _, err := ParseDocument(document); err != nil {
		return out, err
	}
	err := m.mutate(func() error {
		if m.st.Policies[name] != nil || m.system[name] != nil {
			return conflict("EntityAlreadyExists.Policy", "The policy already exists.")
		}
		now := m.stamp()
		p := &Policy{PolicyName: name, PolicyType: "Custom", Description: description, CreateDate: now, UpdateDate: now,
			Versions: []PolicyVersion{{VersionID: "v1", Document: document, IsDefault: true, CreateDate: now}}, NextVersion: 2}
		m.st.Policies[name] = p
		out = clonePolicy(p)
		return nil
	})
	return out, err
}

// GetPolicy returns a custom or system policy.
func (m *IAM) GetPolicy(typ, name string) (Policy, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if typ != "Custom" && typ != "System" {
		return Policy{}, badParam("InvalidParameter.PolicyType", "The parameter PolicyType is invalid.")
	}
	p := m.policyLocked(typ, name)
	if p == nil {
		return Policy{}, notFound("EntityNotExist.Policy", "The policy does not exist.")
	}
	return clonePolicy(p), nil
}

// ListPolicies returns custom and system policies, sorted by name.
func (m *IAM) ListPolicies(typ string) []Policy {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Policy
	if typ == "" || typ == "Custom" {
		for _, p := range m.st.Policies {
			out = append(out, clonePolicy(p))
		}
	}
	if typ == "" || typ == "System" {
		for _, p := range m.system {
			out = append(out, clonePolicy(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PolicyName < out[j].PolicyName })
	return out
}

func clonePolicy(p *Policy) Policy {
	c := *p
	c.Versions = append([]PolicyVersion(nil), p.Versions...)
	return c
}

// CreatePolicyVersion adds a version. With rotate
// ("DeleteOldestNonDefaultVersionWhenLimitExceeded") the oldest
// non-default version makes room when the policy already has five.
func (m *IAM) CreatePolicyVersion(name, document string, setDefault bool, rotate string) (PolicyVersion, error) {
	var out PolicyVersion
	if rotate != "" && rotate != "None" && rotate != "DeleteOldestNonDefaultVersionWhenLimitExceeded" {
		return out, badParam("InvalidParameter.RotateStrategy", "The parameter RotateStrategy is invalid.")
	}
	if _, err := ParseDocument(document); err != nil {
		return out, err
	}
	err := m.mutate(func() error {
		p := m.st.Policies[name]
		if p == nil {
			return notFound("EntityNotExist.Policy", "The policy does not exist.")
		}
		if len(p.Versions) >= maxVersions {
			if rotate != "DeleteOldestNonDefaultVersionWhenLimitExceeded" {
				return conflict("LimitExceeded.Policy.Version", "The policy version count exceeds the limit 5.")
			}
			for i := range p.Versions {
				if !p.Versions[i].IsDefault {
					p.Versions = append(p.Versions[:i], p.Versions[i+1:]...)
					break
				}
			}
		}
		now := m.stamp()
		v := PolicyVersion{VersionID: fmt.Sprintf("v%d", p.NextVersion), Document: document, IsDefault: setDefault, CreateDate: now}
		p.NextVersion++
		if setDefault {
			for i := range p.Versions {
				p.Versions[i].IsDefault = false
			}
		}
		p.Versions = append(p.Versions, v)
		p.UpdateDate = now
		out = v
		return nil
	})
	return out, err
}

// SetDefaultPolicyVersion switches the default version.
func (m *IAM) SetDefaultPolicyVersion(name, versionID string) error {
	return m.mutate(func() error {
		p := m.st.Policies[name]
		if p == nil {
			return notFound("EntityNotExist.Policy", "The policy does not exist.")
		}
		found := false
		for i := range p.Versions {
			if p.Versions[i].VersionID == versionID {
				found = true
			}
		}
		if !found {
			return notFound("EntityNotExist.Policy.Version", "The policy version does not exist.")
		}
		for i := range p.Versions {
			p.Versions[i].IsDefault = p.Versions[i].VersionID == versionID
		}
		return nil
	})
}

// DeletePolicyVersion removes a non-default version.
func (m *IAM) DeletePolicyVersion(name, versionID string) error {
	return m.mutate(func() error {
		p := m.st.Policies[name]
		if p == nil {
			return notFound("EntityNotExist.Policy", "The policy does not exist.")
		}
		for i := range p.Versions {
			if p.Versions[i].VersionID == versionID {
				if p.Versions[i].IsDefault {
					return conflict("DeleteConflict.PolicyVersion.Default", "The default policy version cannot be deleted.")
				}
				p.Versions = append(p.Versions[:i], p.Versions[i+1:]...)
				return nil
			}
		}
		return notFound("EntityNotExist.Policy.Version", "The policy version does not exist.")
	})
}

// DeletePolicy removes an unattached custom policy.
func (m *IAM) DeletePolicy(name string) error {
	return m.mutate(func() error {
		if m.st.Policies[name] == nil {
			return notFound("EntityNotExist.Policy", "The policy does not exist.")
		}
		for _, as := range []map[string][]Attachment{m.st.UserPolicies, m.st.RolePolicies} {
			for _, list := range as {
				for _, a := range list {
					if a.PolicyType == "Custom" && a.PolicyName == name {
						return conflict("DeleteConflict.Policy.User", "The policy is attached.")
					}
				}
			}
		}
		delete(m.st.Policies, name)
		return nil
	})
}

// Attachments ------------------------------------------------------------

func (m *IAM) attach(set map[string][]Attachment, kind, principal, typ, name string) error {
	if typ != "Custom" && typ != "System" {
		return badParam("InvalidParameter.PolicyType", "The parameter PolicyType is invalid.")
	}
	if m.policyLocked(typ, name) == nil {
		return notFound("EntityNotExist.Policy", "The policy does not exist.")
	}
	for _, a := range set[principal] {
		if a.PolicyName == name && a.PolicyType == typ {
			return conflict("EntityAlreadyExists."+kind+".Policy", "The %s has already been attached this policy.", strings.ToLower(kind))
		}
	}
	set[principal] = append(set[principal], Attachment{PolicyName: name, PolicyType: typ, AttachDate: m.stamp()})
	return nil
}

func detach(set map[string][]Attachment, kind, principal, typ, name string) error {
	list := set[principal]
	for i, a := range list {
		if a.PolicyName == name && a.PolicyType == typ {
			set[principal] = append(list[:i:i], list[i+1:]...)
			return nil
		}
	}
	return notFound("EntityNotExist."+kind+".Policy", "The policy is not attached to the %s.", strings.ToLower(kind))
}

// AttachPolicyToUser attaches a policy; attaching twice is EntityAlreadyExists.User.Policy (409).
func (m *IAM) AttachPolicyToUser(typ, name, user string) error {
	return m.mutate(func() error {
		if m.st.Users[user] == nil {
			return notFound("EntityNotExist.User", "The user does not exist.")
		}
		return m.attach(m.st.UserPolicies, "User", user, typ, name)
	})
}

// DetachPolicyFromUser detaches a policy.
func (m *IAM) DetachPolicyFromUser(typ, name, user string) error {
	return m.mutate(func() error {
		if m.st.Users[user] == nil {
			return notFound("EntityNotExist.User", "The user does not exist.")
		}
		return detach(m.st.UserPolicies, "User", user, typ, name)
	})
}

// ListPoliciesForUser lists a user's attachments with their policies.
func (m *IAM) ListPoliciesForUser(user string) ([]Attachment, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.st.Users[user] == nil {
		return nil, notFound("EntityNotExist.User", "The user does not exist.")
	}
	return append([]Attachment(nil), m.st.UserPolicies[user]...), nil
}

// AttachPolicyToRole attaches a policy to a role.
func (m *IAM) AttachPolicyToRole(typ, name, role string) error {
	return m.mutate(func() error {
		if m.st.Roles[role] == nil {
			return notFound("EntityNotExist.Role", "The role does not exist.")
		}
		return m.attach(m.st.RolePolicies, "Role", role, typ, name)
	})
}

// DetachPolicyFromRole detaches a policy from a role.
func (m *IAM) DetachPolicyFromRole(typ, name, role string) error {
	return m.mutate(func() error {
		if m.st.Roles[role] == nil {
			return notFound("EntityNotExist.Role", "The role does not exist.")
		}
		return detach(m.st.RolePolicies, "Role", role, typ, name)
	})
}

// ListPoliciesForRole lists a role's attachments.
func (m *IAM) ListPoliciesForRole(role string) ([]Attachment, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.st.Roles[role] == nil {
		return nil, notFound("EntityNotExist.Role", "The role does not exist.")
	}
	return append([]Attachment(nil), m.st.RolePolicies[role]...), nil
}

// Roles and STS ------------------------------------------------------------

// CreateRole adds a role with a trust policy.
func (m *IAM) CreateRole(name, trustPolicy, description string, maxSession int) (Role, error) {
	var out Role
	if !nameRE.MatchString(name) {
		return out, badParam("InvalidParameter.RoleName.InvalidChars", "The parameter RoleName is invalid.")
	}
	if _, err := ParseDocument(trustPolicy); err != nil {
		return out, err
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	err := m.mutate(func() error {
		if m.st.Roles[name] != nil {
			return conflict("EntityAlreadyExists.Role", "The role already exists.")
		}
		now := m.stamp()
		r := &Role{RoleName: name, RoleID: newNumericID(), Arn: fmt.Sprintf("acs:ram::%s:role/%s", m.st.AccountID, strings.ToLower(name)),
			Description: description, AssumeRolePolicyDocument: trustPolicy, MaxSessionDuration: maxSession, CreateDate: now, UpdateDate: now}
		m.st.Roles[name] = r
		out = *r
		return nil
	})
	return out, err
}

// GetRole returns a role.
func (m *IAM) GetRole(name string) (Role, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.st.Roles[name]
	if r == nil {
		return Role{}, notFound("EntityNotExist.Role", "The role does not exist.")
	}
	return *r, nil
}

// ListRoles returns roles sorted by name.
func (m *IAM) ListRoles() []Role {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Role, 0, len(m.st.Roles))
	for _, r := range m.st.Roles {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RoleName < out[j].RoleName })
	return out
}

// RoleByArn resolves "acs:ram::<uid>:role/<name>" (the name part is case-insensitive).
func (m *IAM) RoleByArn(arn string) (Role, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	prefix := fmt.Sprintf("acs:ram::%s:role/", m.st.AccountID)
	if !strings.HasPrefix(arn, prefix) {
		return Role{}, notFound("EntityNotExist.Role", "The role does not exist: %s.", arn)
	}
	want := strings.TrimPrefix(arn, prefix)
	for _, r := range m.st.Roles {
		if strings.EqualFold(r.RoleName, want) {
			return *r, nil
		}
	}
	return Role{}, notFound("EntityNotExist.Role", "The role does not exist: %s.", arn)
}

// IssueSession creates STS credentials for a role. Trust-policy checks are
// the STS handler's job (it knows the caller); the local FC uses this
// directly to give each function its execution role's credentials.
func (m *IAM) IssueSession(roleName, sessionName string, duration time.Duration, policy string) (Session, error) {
	var out Session
	if policy != "" {
		if _, err := ParseDocument(policy); err != nil {
			return out, err
		}
	}
	err := m.mutate(func() error {
		r := m.st.Roles[roleName]
		if r == nil {
			return notFound("EntityNotExist.Role", "The role does not exist.")
		}
		if duration <= 0 {
			duration = time.Hour
		}
		if max := time.Duration(r.MaxSessionDuration) * time.Second; duration > max {
			return badParam("InvalidParameter.DurationSeconds", "The DurationSeconds exceeds the role's MaxSessionDuration.")
		}
		now := m.Now()
		// Expired sessions are pruned here so the state file does not grow forever.
		for id, s := range m.st.Sessions {
			if exp, err := time.Parse(time.RFC3339, s.Expiration); err == nil && now.After(exp.Add(time.Hour)) {
				delete(m.st.Sessions, id)
			}
		}
		s := &Session{
			AccessKeyID: "STS.NU" + randString(base62, 26), AccessKeySecret: randString(base62, 44),
			// Real tokens start with "CAIS" and are long base64; ours are opaque and random.
			SecurityToken: "CAIS" + randString(base62, 200),
			RoleName:      roleName, SessionName: sessionName, Expiration: now.Add(duration).UTC().Format(time.RFC3339), Policy: policy,
		}
		m.st.Sessions[s.AccessKeyID] = s
		out = *s
		return nil
	})
	return out, err
}

// TrustAllows reports whether a role's trust policy lets the principal
// (a RAM user, the account, or a service such as "fc.aliyuncs.com") assume it.
func (m *IAM) TrustAllows(roleName string, caller Principal, service string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.st.Roles[roleName]
	if r == nil {
		return false
	}
	d, err := ParseDocument(r.AssumeRolePolicyDocument)
	if err != nil {
		return false
	}
	for _, s := range d.Statement {
		if s.Effect != "Allow" || !anyGlob(s.Action, "sts:AssumeRole", true) {
			continue
		}
		var pr struct {
			RAM     StringList `json:"RAM"`
			Service StringList `json:"Service"`
		}
		_ = jsonUnmarshal(s.Principal, &pr)
		if service != "" {
			if contains(pr.Service, service, true) {
				return true
			}
			continue
		}
		for _, who := range pr.RAM {
			// "acs:ram::<uid>:root" trusts every identity of that account.
			if who == fmt.Sprintf("acs:ram::%s:root", m.st.AccountID) || who == caller.Arn() {
				return true
			}
		}
	}
	return false
}
