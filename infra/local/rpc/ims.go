package rpc

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/akguard/akguard/infra/local/iam"
)

// IMS (Ims 2019-08-15, endpoint ims.aliyuncs.com): the newer identity API
// that names users by UserPrincipalName "<name>@<accountId>.onaliyun.com"
// (default domain) instead of UserName. Authorization uses the same "ram:"
// actions and user ARNs as RAM (IMS API reference, "Authorization
// information"). Shapes: services/ims/struct_user.go, struct_access_key.go.

func (s *Server) imsProduct() *product {
	return &product{
		name: ProductIMS, version: "2019-08-15", service: "Ims", global: true, endpoint: "ims.aliyuncs.com",
		denyCode: "NoPermission", denyMsg: "You are not authorized to do this action. You should be authorized by RAM.",
		ops: map[string]op{
			"GetUser":              {fn: s.imsGetUser, readOnly: true},
			"GetAccessKeyLastUsed": {fn: s.imsGetAccessKeyLastUsed, readOnly: true},
			"ListAccessKeys":       {fn: s.imsListAccessKeys, readOnly: true},
			"UpdateAccessKey":      {fn: s.imsUpdateAccessKey},
		},
	}
}

func (s *Server) upn(user string) string {
	return fmt.Sprintf("%s@%s.onaliyun.com", user, s.env.AccountID)
}

// userFromUPN maps a UserPrincipalName in the account's default domain to
// the RAM user name.
func (s *Server) userFromUPN(upn string) (string, error) {
	name, domain, ok := strings.Cut(upn, "@")
	if !ok || name == "" {
		return "", invalidParam("InvalidParameter.UserPrincipalName.Format", "The parameter UserPrincipalName is invalid.")
	}
	if !strings.EqualFold(domain, s.env.AccountID+".onaliyun.com") {
		return "", &apiError{Status: http.StatusNotFound, Code: "EntityNotExist.User", Message: "The user does not exist."}
	}
	return name, nil
}

// imsOwnUser resolves UserPrincipalName, defaulting to the caller.
func (c *call) imsOwnUser() (string, error) {
	if upn := c.get("UserPrincipalName"); upn != "" {
		return c.srv.userFromUPN(upn)
	}
	switch c.principal.Type {
	case "ram-user":
		return c.principal.UserName, nil
	case "root-account":
		return "", nil
	}
	return "", missingParam("UserPrincipalName")
}

func (s *Server) imsUserJSON(u iam.User) obj {
	return obj{"UserId": u.UserID, "UserPrincipalName": s.upn(u.UserName), "DisplayName": u.DisplayName,
		"Comments": u.Comments, "CreateDate": u.CreateDate, "UpdateDate": u.UpdateDate, "Status": "Active",
		"ProvisionType": "Manual", "Email": "", "MobilePhone": "", "LastLoginDate": "", "ExternalId": ""}
}

// imsGetUser looks a user up by exactly one of UserPrincipalName, UserId
// or UserAccessKeyId — the owner lookup akguard's responder relies on.
func (s *Server) imsGetUser(c *call) (obj, error) {
	var given []string
	for _, k := range []string{"UserPrincipalName", "UserId", "UserAccessKeyId"} {
		if c.get(k) != "" {
			given = append(given, k)
		}
	}
	switch len(given) {
	case 0:
		return nil, missingParam("UserPrincipalName")
	case 1:
	default:
		return nil, invalidParam("InvalidParameter", "Only one of UserPrincipalName, UserId and UserAccessKeyId can be specified.")
	}
	var (
		u   iam.User
		err error
	)
	switch given[0] {
	case "UserPrincipalName":
		var name string
		if name, err = s.userFromUPN(c.get("UserPrincipalName")); err == nil {
			u, err = s.env.IAM.GetUser(name)
		}
	case "UserId":
		u, err = s.env.IAM.GetUserByID(c.get("UserId"))
	default:
		c.setResource(typeAccessKey, c.get("UserAccessKeyId"))
		u, err = s.env.IAM.GetUserByAccessKey(c.get("UserAccessKeyId"))
	}
	if err != nil {
		// Authorize against the wildcard first so callers without
		// ram:GetUser cannot probe which users exist.
		if aerr := c.authorize("ram:GetUser", s.ramARN("user", "*")); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	if c.resourceType == "" {
		c.setResource(typeUser, u.UserName)
	}
	if err := c.authorize("ram:GetUser", s.ramARN("user", u.UserName)); err != nil {
		return nil, err
	}
	return obj{"User": s.imsUserJSON(u)}, nil
}

func (s *Server) imsGetAccessKeyLastUsed(c *call) (obj, error) {
	id, err := c.require("UserAccessKeyId")
	if err != nil {
		return nil, err
	}
	user, err := c.imsOwnUser()
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
	last := obj{"LastUsedDate": k.LastUsed, "ServiceName": ""}
	if ev, ok := s.lastEventOfKey(id); ok {
		last["ServiceName"] = ev.ServiceName
		if last["LastUsedDate"] == "" {
			last["LastUsedDate"] = ev.EventTime
		}
	}
	return obj{"AccessKeyLastUsed": last}, nil
}

func (s *Server) imsListAccessKeys(c *call) (obj, error) {
	user, err := c.imsOwnUser()
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
		out = append(out, obj{"AccessKeyId": k.AccessKeyID, "Status": k.Status, "CreateDate": k.CreateDate, "UpdateDate": k.CreateDate})
	}
	return obj{"AccessKeys": obj{"AccessKey": out}}, nil
}

func (s *Server) imsUpdateAccessKey(c *call) (obj, error) {
	id, err := c.require("UserAccessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := c.require("Status")
	if err != nil {
		return nil, err
	}
	user, err := c.imsOwnUser()
	if err != nil {
		return nil, err
	}
	c.setResource(typeAccessKey, id)
	if err := c.authorize("ram:UpdateAccessKey", c.userARN(user)); err != nil {
		return nil, err
	}
	return nil, s.env.IAM.UpdateAccessKey(user, id, status)
}
