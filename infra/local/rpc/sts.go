package rpc

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// STS (Sts 2015-04-01, endpoint sts.aliyuncs.com / sts.<region>.aliyuncs.com).
// Shapes: services/sts/get_caller_identity.go, assume_role.go,
// struct_credentials.go, struct_assumed_role_user.go.

func (s *Server) stsProduct() *product {
	return &product{
		name: ProductSTS, version: "2015-04-01", service: "Sts", global: true, endpoint: "sts.aliyuncs.com",
		denyCode: "NoPermission", denyMsg: "You are not authorized to do this action. You should be authorized by RAM.",
		ops: map[string]op{
			"GetCallerIdentity": {fn: s.stsGetCallerIdentity, readOnly: true},
			"AssumeRole":        {fn: s.stsAssumeRole},
		},
	}
}

// stsGetCallerIdentity needs no permission: any valid credential may ask
// who it is (STS API reference).
func (s *Server) stsGetCallerIdentity(c *call) (obj, error) {
	p := c.principal
	out := obj{"AccountId": p.AccountID, "Arn": p.Arn(), "PrincipalId": p.PrincipalID}
	switch p.Type {
	case "root-account":
		out["IdentityType"] = "Account"
		out["UserId"] = p.AccountID
	case "ram-user":
		out["IdentityType"] = "RAMUser"
		out["UserId"] = p.PrincipalID
	case "assumed-role":
		out["IdentityType"] = "AssumedRoleUser"
		if r, err := s.env.IAM.GetRole(p.RoleName); err == nil {
			out["RoleId"] = r.RoleID
		}
	}
	return out, nil
}

var sessionNameRE = regexp.MustCompile(`^[a-zA-Z0-9._@-]{2,64}$`)

func (s *Server) stsAssumeRole(c *call) (obj, error) {
	arn, err := c.require("RoleArn")
	if err != nil {
		return nil, err
	}
	session, err := c.require("RoleSessionName")
	if err != nil {
		return nil, err
	}
	if !sessionNameRE.MatchString(session) {
		return nil, invalidParam("InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
	}
	c.setResource(typeRole, arn)
	if c.principal.IsRoot() {
		// Real STS refuses the account owner: roles are assumed by RAM
		// identities only.
		return nil, &apiError{Status: http.StatusForbidden, Code: "NoPermission", Message: "Roles may not be assumed by root accounts."}
	}
	if err := c.authorize("sts:AssumeRole", arn); err != nil {
		return nil, err
	}
	role, err := s.env.IAM.RoleByArn(arn)
	if err != nil {
		return nil, err
	}
	dur := 3600
	if v := c.get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > role.MaxSessionDuration {
			return nil, invalidParam("InvalidParameter.DurationSeconds",
				"The Min/Max value of DurationSeconds is 15min/%ds.", role.MaxSessionDuration)
		}
		dur = n
	}
	if dur > role.MaxSessionDuration {
		dur = role.MaxSessionDuration
	}
	if !s.env.IAM.TrustAllows(role.RoleName, c.principal, "") {
		return nil, &apiError{Status: http.StatusForbidden, Code: "NoPermission",
			Message: "You are not authorized to do this action. You should be authorized by RAM.",
			Detail: obj{"AuthAction": "sts:AssumeRole", "NoPermissionType": "ImplicitDeny", "PolicyType": "AssumeRolePolicy",
				"AuthPrincipalDisplayName": c.principal.UserName, "AuthPrincipalOwnerId": c.principal.AccountID,
				"AuthPrincipalType": "SubUser", "EncodedDiagnosticMessage": ""}}
	}
	policy := c.get("Policy")
	if len(policy) > 2048 {
		return nil, invalidParam("InvalidParameter.PolicyGrammar", "The size of Policy must be smaller than 2048 bytes.")
	}
	sess, err := s.env.IAM.IssueSession(role.RoleName, session, time.Duration(dur)*time.Second, policy)
	if err != nil {
		return nil, err
	}
	return obj{
		"Credentials": obj{"AccessKeyId": sess.AccessKeyID, "AccessKeySecret": sess.AccessKeySecret,
			"SecurityToken": sess.SecurityToken, "Expiration": sess.Expiration},
		"AssumedRoleUser": obj{"Arn": fmt.Sprintf("acs:ram::%s:role/%s/%s", s.env.AccountID, role.RoleName, session),
			"AssumedRoleId": role.RoleID + ":" + session},
	}, nil
}
