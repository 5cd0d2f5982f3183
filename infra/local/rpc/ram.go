package rpc

import (
	"net/http"
	"strconv"

	"github.com/akguard/akguard/infra/local/iam"
)

// RAM (Ram 2015-05-01, endpoint ram.aliyuncs.com). Response shapes follow
// services/ram/struct_*.go of alibaba-cloud-sdk-go; error codes the RAM
// API reference's per-API error tables (see cloud-apis.md B3.2).

const (
	typeUser      = "ACS::RAM::User"
	typePolicy    = "ACS::RAM::Policy"
	typeRole      = "ACS::RAM::Role"
	typeAccessKey = "ACS::RAM::AccessKey"
)

func (s *Server) ramProduct() *product {
	w := func(fn handlerFunc) op { return op{fn: fn} }
	r := func(fn handlerFunc) op { return op{fn: fn, readOnly: true} }
	return &product{
		name: ProductRAM, version: "2015-05-01", service: "Ram", global: true, endpoint: "ram.aliyuncs.com",
		denyCode: "NoPermission", denyMsg: "You are not authorized to do this action. You should be authorized by RAM.",
		ops: map[string]op{
			"CreateUser":              w(s.ramCreateUser),
			"GetUser":                 r(s.ramGetUser),
			"ListUsers":               r(s.ramListUsers),
			"DeleteUser":              w(s.ramDeleteUser),
			"CreateAccessKey":         w(s.ramCreateAccessKey),
			"ListAccessKeys":          r(s.ramListAccessKeys),
			"UpdateAccessKey":         w(s.ramUpdateAccessKey),
			"DeleteAccessKey":         w(s.ramDeleteAccessKey),
			"GetAccessKeyLastUsed":    r(s.ramGetAccessKeyLastUsed),
			"CreatePolicy":            w(s.ramCreatePolicy),
			"GetPolicy":               r(s.ramGetPolicy),
			"ListPolicies":            r(s.ramListPolicies),
			"CreatePolicyVersion":     w(s.ramCreatePolicyVersion),
			"ListPolicyVersions":      r(s.ramListPolicyVersions),
			"SetDefaultPolicyVersion": w(s.ramSetDefaultPolicyVersion),
			"DeletePolicyVersion":     w(s.ramDeletePolicyVersion),
			"DeletePolicy":            w(s.ramDeletePolicy),
			"AttachPolicyToUser":      w(s.ramAttachPolicyToUser),
			"DetachPolicyFromUser":    w(s.ramDetachPolicyFromUser),
			"ListPoliciesForUser":     r(s.ramListPoliciesForUser),
			"CreateRole":              w(s.ramCreateRole),
			"GetRole":                 r(s.ramGetRole),
			"ListRoles":               r(s.ramListRoles),
			"AttachPolicyToRole":      w(s.ramAttachPolicyToRole),
			"DetachPolicyFromRole":    w(s.ramDetachPolicyFromRole),
			"ListPoliciesForRole":     r(s.ramListPoliciesForRole),
		},
	}
}

func userJSON(u iam.User) obj {
	return obj{"UserId": u.UserID, "UserName": u.UserName, "DisplayName": u.DisplayName, "Comments": u.Comments,
		"CreateDate": u.CreateDate, "UpdateDate": u.UpdateDate, "Email": "", "MobilePhone": "", "LastLoginDate": ""}
}

// policyARN is the authorization resource of a policy: custom policies
// live in the account, system policies in the "system" namespace.
func (s *Server) policyARN(typ, name string) string {
	if typ == "System" {
		return "acs:ram:*:system:policy/" + name
	}
	return s.ramARN("policy", name)
}

// ownUser resolves the target of the AccessKey APIs: UserName when given,
// otherwise the caller's own user ("" for the account owner's own keys).
func (c *call) ownUser() (string, error) {
	if u := c.get("UserName"); u != "" {
		return u, nil
	}
	switch c.principal.Type {
	case "ram-user":
		return c.principal.UserName, nil
	case "root-account":
		return "", nil
	}
	return "", missingParam("UserName")
}

func (c *call) userARN(name string) string {
	if name == "" {
		name = "root"
	}
	return c.srv.ramARN("user", name)
}

func (s *Server) ramCreateUser(c *call) (obj, error) {
	name, err := c.require("UserName")
	if err != nil {
		return nil, err
	}
	c.setResource(typeUser, name)
	if err := c.authorize("ram:CreateUser", s.ramARN("user", name)); err != nil {
		return nil, err
	}
	u, err := s.env.IAM.CreateUser(name, c.get("DisplayName"), c.get("Comments"))
	if err != nil {
		return nil, err
	}
	return obj{"User": userJSON(u)}, nil
}

func (s *Server) ramGetUser(c *call) (obj, error) {
	name, err := c.require("UserName")
	if err != nil {
		return nil, err
	}
	c.setResource(typeUser, name)
	if err := c.authorize("ram:GetUser", s.ramARN("user", name)); err != nil {
		return nil, err
	}
	u, err := s.env.IAM.GetUser(name)
	if err != nil {
		return nil, err
	}
	return obj{"User": userJSON(u)}, nil
}

func (s *Server) ramListUsers(c *call) (obj, error) {
	if err := c.authorize("ram:ListUsers", s.ramARN("user", "*")); err != nil {
		return nil, err
	}
	items, next, trunc, err := page(s.env.IAM.ListUsers(), c.get("Marker"), c.get("MaxItems"), 100, 1000)
	if err != nil {
		return nil, err
	}
	users := make([]obj, 0, len(items))
	for _, u := range items {
		users = append(users, userJSON(u))
	}
	return obj{"IsTruncated": trunc, "Marker": next, "Users": obj{"User": users}}, nil
}

func (s *Server) ramDeleteUser(c *call) (obj, error) {
	name, err := c.require("UserName")
	if err != nil {
		return nil, err
	}
	c.setResource(typeUser, name)
	if err := c.authorize("ram:DeleteUser", s.ramARN("user", name)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.DeleteUser(name)
}

func (s *Server) ramCreateAccessKey(c *call) (obj, error) {
	user, err := c.ownUser()
	if err != nil {
		return nil, err
	}
	c.setResource(typeUser, user)
	if err := c.authorize("ram:CreateAccessKey", c.userARN(user)); err != nil {
		return nil, err
	}
	k, err := s.env.IAM.CreateAccessKey(user)
	if err != nil {
		return nil, err
	}
	c.setResource(typeAccessKey, k.AccessKeyID)
	// The only response that ever carries the secret, as in RAM.
	return obj{"AccessKey": obj{"AccessKeyId": k.AccessKeyID, "AccessKeySecret": k.AccessKeySecret,
		"Status": k.Status, "CreateDate": k.CreateDate}}, nil
}

func (s *Server) ramListAccessKeys(c *call) (obj, error) {
	user, err := c.ownUser()
	if err != nil {
		return nil, err
	}
	c.setResource(typeUser, user)
	if err := c.authorize("ram:ListAccessKeys", c.userARN(user)); err != nil {
		return nil, err
	}
	keys, err := s.env.IAM.ListAccessKeys(user)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(keys))
	for _, k := range keys {
		out = append(out, obj{"AccessKeyId": k.AccessKeyID, "Status": k.Status, "CreateDate": k.CreateDate})
	}
	return obj{"AccessKeys": obj{"AccessKey": out}}, nil
}

func (s *Server) ramUpdateAccessKey(c *call) (obj, error) {
	id, err := c.require("UserAccessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := c.require("Status")
	if err != nil {
		return nil, err
	}
	user, err := c.ownUser()
	if err != nil {
		return nil, err
	}
	c.setResource(typeAccessKey, id)
	if err := c.authorize("ram:UpdateAccessKey", c.userARN(user)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.UpdateAccessKey(user, id, status)
}

func (s *Server) ramDeleteAccessKey(c *call) (obj, error) {
	id, err := c.require("UserAccessKeyId")
	if err != nil {
		return nil, err
	}
	user, err := c.ownUser()
	if err != nil {
		return nil, err
	}
	c.setResource(typeAccessKey, id)
	if err := c.authorize("ram:DeleteAccessKey", c.userARN(user)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.DeleteAccessKey(user, id)
}

func (s *Server) ramGetAccessKeyLastUsed(c *call) (obj, error) {
	id, err := c.require("UserAccessKeyId")
	if err != nil {
		return nil, err
	}
	user, err := c.ownUser()
	if err != nil {
		return nil, err
	}
	c.setResource(typeAccessKey, id)
	if err := c.authorize("ram:GetAccessKeyLastUsed", c.userARN(user)); err != nil {
		return nil, err
	}
	k, ok := s.env.IAM.GetAccessKey(id)
	if !ok || k.UserName != user {
		return nil, &apiError{Status: http.StatusNotFound, Code: "EntityNotExist.User.AccessKey", Message: "The access key does not exist."}
	}
	return obj{"AccessKeyLastUsed": obj{"LastUsedDate": k.LastUsed}}, nil
}

func policyJSON(p iam.Policy, attachments int) obj {
	def := ""
	if v := p.Default(); v != nil {
		def = v.VersionID
	}
	return obj{"PolicyName": p.PolicyName, "PolicyType": p.PolicyType, "Description": p.Description,
		"DefaultVersion": def, "CreateDate": p.CreateDate, "UpdateDate": p.UpdateDate, "AttachmentCount": attachments}
}

func versionJSON(v iam.PolicyVersion) obj {
	return obj{"VersionId": v.VersionID, "IsDefaultVersion": v.IsDefault, "PolicyDocument": v.Document, "CreateDate": v.CreateDate}
}

func (s *Server) ramCreatePolicy(c *call) (obj, error) {
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := c.require("PolicyDocument")
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:CreatePolicy", s.ramARN("policy", name)); err != nil {
		return nil, err
	}
	if len(c.get("Description")) > 1024 {
		return nil, invalidParam("InvalidParameter.Description.Length", "The parameter Description is too long.")
	}
	p, err := s.env.IAM.CreatePolicy(name, doc, c.get("Description"))
	if err != nil {
		return nil, err
	}
	return obj{"Policy": policyJSON(p, 0)}, nil
}

// policyType validates PolicyType; RAM requires it on most policy APIs.
func (c *call) policyType() (string, error) {
	typ, err := c.require("PolicyType")
	if err != nil {
		return "", err
	}
	if typ != "Custom" && typ != "System" {
		return "", invalidParam("InvalidParameter.PolicyType", "The parameter PolicyType must be Custom or System.")
	}
	return typ, nil
}

func (s *Server) ramGetPolicy(c *call) (obj, error) {
	typ, err := c.policyType()
	if err != nil {
		return nil, err
	}
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:GetPolicy", s.policyARN(typ, name)); err != nil {
		return nil, err
	}
	p, err := s.env.IAM.GetPolicy(typ, name)
	if err != nil {
		return nil, err
	}
	out := obj{"Policy": policyJSON(p, s.env.IAM.AttachmentCount(typ, name))}
	if v := p.Default(); v != nil {
		out["DefaultPolicyVersion"] = versionJSON(*v)
	}
	return out, nil
}

func (s *Server) ramListPolicies(c *call) (obj, error) {
	typ := c.get("PolicyType")
	if typ != "" && typ != "Custom" && typ != "System" {
		return nil, invalidParam("InvalidParameter.PolicyType", "The parameter PolicyType must be Custom or System.")
	}
	if err := c.authorize("ram:ListPolicies", s.ramARN("policy", "*")); err != nil {
		return nil, err
	}
	items, next, trunc, err := page(s.env.IAM.ListPolicies(typ), c.get("Marker"), c.get("MaxItems"), 100, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(items))
	for _, p := range items {
		out = append(out, policyJSON(p, s.env.IAM.AttachmentCount(p.PolicyType, p.PolicyName)))
	}
	return obj{"IsTruncated": trunc, "Marker": next, "Policies": obj{"Policy": out}}, nil
}

func parseBool(name, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalidParam("InvalidParameter."+name, "The parameter %s must be true or false.", name)
	}
	return b, nil
}

func (s *Server) ramCreatePolicyVersion(c *call) (obj, error) {
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := c.require("PolicyDocument")
	if err != nil {
		return nil, err
	}
	setDefault, err := parseBool("SetAsDefault", c.get("SetAsDefault"))
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:CreatePolicyVersion", s.ramARN("policy", name)); err != nil {
		return nil, err
	}
	v, err := s.env.IAM.CreatePolicyVersion(name, doc, setDefault, c.get("RotateStrategy"))
	if err != nil {
		return nil, err
	}
	return obj{"PolicyVersion": versionJSON(v)}, nil
}

func (s *Server) ramListPolicyVersions(c *call) (obj, error) {
	typ, err := c.policyType()
	if err != nil {
		return nil, err
	}
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:ListPolicyVersions", s.policyARN(typ, name)); err != nil {
		return nil, err
	}
	p, err := s.env.IAM.GetPolicy(typ, name)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(p.Versions))
	for _, v := range p.Versions {
		out = append(out, versionJSON(v))
	}
	return obj{"PolicyVersions": obj{"PolicyVersion": out}}, nil
}

func (s *Server) ramSetDefaultPolicyVersion(c *call) (obj, error) {
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	ver, err := c.require("VersionId")
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:SetDefaultPolicyVersion", s.ramARN("policy", name)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.SetDefaultPolicyVersion(name, ver)
}

func (s *Server) ramDeletePolicyVersion(c *call) (obj, error) {
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	ver, err := c.require("VersionId")
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:DeletePolicyVersion", s.ramARN("policy", name)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.DeletePolicyVersion(name, ver)
}

func (s *Server) ramDeletePolicy(c *call) (obj, error) {
	name, err := c.require("PolicyName")
	if err != nil {
		return nil, err
	}
	c.setResource(typePolicy, name)
	if err := c.authorize("ram:DeletePolicy", s.ramARN("policy", name)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.DeletePolicy(name)
}

// attachment reads PolicyType, PolicyName and the principal name, and
// authorizes action on both the principal and the policy, as the RAM
// authorization tables list both resources for (de)attachment APIs.
func (c *call) attachment(action, kind, principalParam string) (typ, policy, principal string, err error) {
	if typ, err = c.policyType(); err != nil {
		return
	}
	if policy, err = c.require("PolicyName"); err != nil {
		return
	}
	if principal, err = c.require(principalParam); err != nil {
		return
	}
	if kind == "user" {
		c.setResource(typeUser, principal)
	} else {
		c.setResource(typeRole, principal)
	}
	err = c.authorize(action, c.srv.ramARN(kind, principal), c.srv.policyARN(typ, policy))
	return
}

func (s *Server) ramAttachPolicyToUser(c *call) (obj, error) {
	typ, policy, user, err := c.attachment("ram:AttachPolicyToUser", "user", "UserName")
	if err != nil {
		return nil, err
	}
	return nil, s.env.IAM.AttachPolicyToUser(typ, policy, user)
}

func (s *Server) ramDetachPolicyFromUser(c *call) (obj, error) {
	typ, policy, user, err := c.attachment("ram:DetachPolicyFromUser", "user", "UserName")
	if err != nil {
		return nil, err
	}
	return nil, s.env.IAM.DetachPolicyFromUser(typ, policy, user)
}

func (s *Server) attachmentsJSON(atts []iam.Attachment) []obj {
	out := make([]obj, 0, len(atts))
	for _, a := range atts {
		o := obj{"PolicyName": a.PolicyName, "PolicyType": a.PolicyType, "AttachDate": a.AttachDate}
		if p, err := s.env.IAM.GetPolicy(a.PolicyType, a.PolicyName); err == nil {
			o["Description"] = p.Description
			if v := p.Default(); v != nil {
				o["DefaultVersion"] = v.VersionID
			}
		}
		out = append(out, o)
	}
	return out
}

func (s *Server) ramListPoliciesForUser(c *call) (obj, error) {
	user, err := c.require("UserName")
	if err != nil {
		return nil, err
	}
	c.setResource(typeUser, user)
	if err := c.authorize("ram:ListPoliciesForUser", s.ramARN("user", user)); err != nil {
		return nil, err
	}
	atts, err := s.env.IAM.ListPoliciesForUser(user)
	if err != nil {
		return nil, err
	}
	return obj{"Policies": obj{"Policy": s.attachmentsJSON(atts)}}, nil
}

func roleJSON(r iam.Role) obj {
	return obj{"RoleId": r.RoleID, "RoleName": r.RoleName, "Arn": r.Arn, "Description": r.Description,
		"AssumeRolePolicyDocument": r.AssumeRolePolicyDocument, "MaxSessionDuration": r.MaxSessionDuration,
		"CreateDate": r.CreateDate, "UpdateDate": r.UpdateDate}
}

func (s *Server) ramCreateRole(c *call) (obj, error) {
	name, err := c.require("RoleName")
	if err != nil {
		return nil, err
	}
	doc, err := c.require("AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	maxSession := 3600
	if v := c.get("MaxSessionDuration"); v != "" {
		// RAM accepts 3600..43200 seconds.
		if n, e := strconv.Atoi(v); e != nil || n < 3600 || n > 43200 {
			return nil, invalidParam("InvalidParameter.MaxSessionDuration", "The parameter MaxSessionDuration must be between 3600 and 43200.")
		} else {
			maxSession = n
		}
	}
	c.setResource(typeRole, name)
	if err := c.authorize("ram:CreateRole", s.ramARN("role", name)); err != nil {
		return nil, err
	}
	r, err := s.env.IAM.CreateRole(name, doc, c.get("Description"), maxSession)
	if err != nil {
		return nil, err
	}
	return obj{"Role": roleJSON(r)}, nil
}

func (s *Server) ramGetRole(c *call) (obj, error) {
	name, err := c.require("RoleName")
	if err != nil {
		return nil, err
	}
	c.setResource(typeRole, name)
	if err := c.authorize("ram:GetRole", s.ramARN("role", name)); err != nil {
		return nil, err
	}
	r, err := s.env.IAM.GetRole(name)
	if err != nil {
		return nil, err
	}
	return obj{"Role": roleJSON(r)}, nil
}

func (s *Server) ramListRoles(c *call) (obj, error) {
	if err := c.authorize("ram:ListRoles", s.ramARN("role", "*")); err != nil {
		return nil, err
	}
	items, next, trunc, err := page(s.env.IAM.ListRoles(), c.get("Marker"), c.get("MaxItems"), 100, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(items))
	for _, r := range items {
		out = append(out, roleJSON(r))
	}
	return obj{"IsTruncated": trunc, "Marker": next, "Roles": obj{"Role": out}}, nil
}

func (s *Server) ramAttachPolicyToRole(c *call) (obj, error) {
	typ, policy, role, err := c.attachment("ram:AttachPolicyToRole", "role", "RoleName")
	if err != nil {
		return nil, err
	}
	return nil, s.env.IAM.AttachPolicyToRole(typ, policy, role)
}

func (s *Server) ramDetachPolicyFromRole(c *call) (obj, error) {
	typ, policy, role, err := c.attachment("ram:DetachPolicyFromRole", "role", "RoleName")
	if err != nil {
		return nil, err
	}
	return nil, s.env.IAM.DetachPolicyFromRole(typ, policy, role)
}

func (s *Server) ramListPoliciesForRole(c *call) (obj, error) {
	role, err := c.require("RoleName")
	if err != nil {
		return nil, err
	}
	c.setResource(typeRole, role)
	if err := c.authorize("ram:ListPoliciesForRole", s.ramARN("role", role)); err != nil {
		return nil, err
	}
	atts, err := s.env.IAM.ListPoliciesForRole(role)
	if err != nil {
		return nil, err
	}
	return obj{"Policies": obj{"Policy": s.attachmentsJSON(atts)}}, nil
}
