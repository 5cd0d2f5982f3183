package rpc

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// newUserWithKey creates a RAM user with one AccessKey and the given
// system policies, as the account owner.
func newUserWithKey(t *testing.T, c *cloud, name string, policies ...string) (id, secret string) {
	t.Helper()
	root := ramClient(t, c.root())
	req := at(c, ram.CreateCreateUserRequest())
	req.UserName = name
	if _, err := root.CreateUser(req); err != nil {
		t.Fatal(err)
	}
	kreq := at(c, ram.CreateCreateAccessKeyRequest())
	kreq.UserName = name
	k, err := root.CreateAccessKey(kreq)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		a := at(c, ram.CreateAttachPolicyToUserRequest())
		a.PolicyType, a.PolicyName, a.UserName = "System", p, name
		if _, err := root.AttachPolicyToUser(a); err != nil {
			t.Fatal(err)
		}
	}
	return k.AccessKey.AccessKeyId, k.AccessKey.AccessKeySecret
}

func TestRAMUsersAndKeys(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())

	cu := at(c, ram.CreateCreateUserRequest())
	cu.UserName, cu.DisplayName = "alice", "Alice"
	u, err := root.CreateUser(cu)
	if err != nil {
		t.Fatal(err)
	}
	if u.User.UserName != "alice" || u.User.UserId == "" || u.RequestId == "" {
		t.Fatalf("CreateUser = %+v", u)
	}

	ck := at(c, ram.CreateCreateAccessKeyRequest())
	ck.UserName = "alice"
	k, err := root.CreateAccessKey(ck)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.AccessKey.AccessKeyId, "LTAI") || len(k.AccessKey.AccessKeySecret) != 30 || k.AccessKey.Status != "Active" {
		t.Fatalf("CreateAccessKey = %+v", k.AccessKey)
	}

	lk := at(c, ram.CreateListAccessKeysRequest())
	lk.UserName = "alice"
	keys, err := root.ListAccessKeys(lk)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeys.AccessKey) != 1 || keys.AccessKeys.AccessKey[0].AccessKeyId != k.AccessKey.AccessKeyId {
		t.Fatalf("ListAccessKeys = %+v", keys.AccessKeys)
	}
	if strings.Contains(keys.GetHttpContentString(), k.AccessKey.AccessKeySecret) {
		t.Fatal("ListAccessKeys returned the secret")
	}

	// The user lists its own keys when UserName is omitted.
	alice := ramClient(t, keyCred(k.AccessKey.AccessKeyId, k.AccessKey.AccessKeySecret))
	if _, err := alice.ListAccessKeys(at(c, ram.CreateListAccessKeysRequest())); err == nil {
		t.Fatal("alice has no policy yet, ListAccessKeys must be denied")
	} else {
		wantErr(t, err, "NoPermission", 403)
	}
	ap := at(c, ram.CreateAttachPolicyToUserRequest())
	ap.PolicyType, ap.PolicyName, ap.UserName = "System", "AliyunRAMFullAccess", "alice"
	if _, err := root.AttachPolicyToUser(ap); err != nil {
		t.Fatal(err)
	}
	own, err := alice.ListAccessKeys(at(c, ram.CreateListAccessKeysRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if len(own.AccessKeys.AccessKey) != 1 {
		t.Fatalf("own keys = %+v", own.AccessKeys)
	}

	gl := at(c, ram.CreateGetAccessKeyLastUsedRequest())
	gl.UserName, gl.UserAccessKeyId = "alice", k.AccessKey.AccessKeyId
	last, err := root.GetAccessKeyLastUsed(gl)
	if err != nil {
		t.Fatal(err)
	}
	if last.AccessKeyLastUsed.LastUsedDate == "" {
		t.Fatal("LastUsedDate empty after alice used her key")
	}

	lu, err := root.ListUsers(at(c, ram.CreateListUsersRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Users.User) != 1 || lu.Users.User[0].UserName != "alice" || lu.IsTruncated {
		t.Fatalf("ListUsers = %+v", lu)
	}

	// Disabling the key locks alice out with the real error.
	uk := at(c, ram.CreateUpdateAccessKeyRequest())
	uk.UserName, uk.UserAccessKeyId, uk.Status = "alice", k.AccessKey.AccessKeyId, "Inactive"
	if _, err := root.UpdateAccessKey(uk); err != nil {
		t.Fatal(err)
	}
	_, err = alice.ListAccessKeys(at(c, ram.CreateListAccessKeysRequest()))
	wantErr(t, err, "InvalidAccessKeyId.Inactive", 400)

	errCases := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"get missing user", func() error {
			r := at(c, ram.CreateGetUserRequest())
			r.UserName = "nobody"
			_, err := root.GetUser(r)
			return err
		}, "EntityNotExist.User", 404},
		{"create duplicate user", func() error {
			_, err := root.CreateUser(cu)
			return err
		}, "EntityAlreadyExists.User", 409},
		{"delete user with keys", func() error {
			r := at(c, ram.CreateDeleteUserRequest())
			r.UserName = "alice"
			_, err := root.DeleteUser(r)
			return err
		}, "DeleteConflict.User.AccessKey", 409},
		{"attach twice", func() error {
			_, err := root.AttachPolicyToUser(ap)
			return err
		}, "EntityAlreadyExists.User.Policy", 409},
		{"missing parameter", func() error {
			_, err := root.GetUser(at(c, ram.CreateGetUserRequest()))
			return err
		}, "MissingParameter", 400},
		{"bad status", func() error {
			r := at(c, ram.CreateUpdateAccessKeyRequest())
			r.UserName, r.UserAccessKeyId, r.Status = "alice", k.AccessKey.AccessKeyId, "Paused"
			_, err := root.UpdateAccessKey(r)
			return err
		}, "InvalidParameter.Status", 400},
		{"key of another user", func() error {
			r := at(c, ram.CreateDeleteAccessKeyRequest())
			r.UserName, r.UserAccessKeyId = "bob", k.AccessKey.AccessKeyId
			_, err := root.DeleteAccessKey(r)
			return err
		}, "EntityNotExist.User.AccessKey", 404},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.status) })
	}

	// Clean-up in RAM's required order: keys, policies, then the user.
	dk := at(c, ram.CreateDeleteAccessKeyRequest())
	dk.UserName, dk.UserAccessKeyId = "alice", k.AccessKey.AccessKeyId
	if _, err := root.DeleteAccessKey(dk); err != nil {
		t.Fatal(err)
	}
	dp := at(c, ram.CreateDetachPolicyFromUserRequest())
	dp.PolicyType, dp.PolicyName, dp.UserName = "System", "AliyunRAMFullAccess", "alice"
	if _, err := root.DetachPolicyFromUser(dp); err != nil {
		t.Fatal(err)
	}
	du := at(c, ram.CreateDeleteUserRequest())
	du.UserName = "alice"
	if _, err := root.DeleteUser(du); err != nil {
		t.Fatal(err)
	}
}

func TestRAMPolicies(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())
	newUserWithKey(t, c, "ops")
	doc1 := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:DeleteBucket","Resource":"*"}]}`
	doc2 := `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:DeleteBucket","ram:CreateAccessKey"],"Resource":"*"}]}`

	cp := at(c, ram.CreateCreatePolicyRequest())
	cp.PolicyName, cp.PolicyDocument, cp.Description = "akguard-deny", doc1, "containment"
	p, err := root.CreatePolicy(cp)
	if err != nil {
		t.Fatal(err)
	}
	if p.Policy.PolicyType != "Custom" || p.Policy.DefaultVersion != "v1" {
		t.Fatalf("CreatePolicy = %+v", p.Policy)
	}
	_, err = root.CreatePolicy(cp)
	wantErr(t, err, "EntityAlreadyExists.Policy", 409)

	bad := at(c, ram.CreateCreatePolicyRequest())
	bad.PolicyName, bad.PolicyDocument = "broken", `{"Version":"1"}`
	_, err = root.CreatePolicy(bad)
	wantErr(t, err, "MalformedPolicyDocument", 400)

	cv := at(c, ram.CreateCreatePolicyVersionRequest())
	cv.PolicyName, cv.PolicyDocument, cv.SetAsDefault = "akguard-deny", doc2, "true"
	v, err := root.CreatePolicyVersion(cv)
	if err != nil {
		t.Fatal(err)
	}
	if v.PolicyVersion.VersionId != "v2" || !v.PolicyVersion.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion = %+v", v.PolicyVersion)
	}

	gp := at(c, ram.CreateGetPolicyRequest())
	gp.PolicyType, gp.PolicyName = "Custom", "akguard-deny"
	got, err := root.GetPolicy(gp)
	if err != nil {
		t.Fatal(err)
	}
	if got.DefaultPolicyVersion.PolicyDocument != doc2 || got.DefaultPolicyVersion.VersionId != "v2" || got.Policy.Description != "containment" {
		t.Fatalf("GetPolicy = %+v", got)
	}

	// Five versions is the limit; RotateStrategy makes room.
	for i := 0; i < 3; i++ {
		if _, err := root.CreatePolicyVersion(cv); err != nil {
			t.Fatal(err)
		}
	}
	_, err = root.CreatePolicyVersion(cv)
	wantErr(t, err, "LimitExceeded.Policy.Version", 409)
	cv.RotateStrategy = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
	if _, err := root.CreatePolicyVersion(cv); err != nil {
		t.Fatal(err)
	}
	lv := at(c, ram.CreateListPolicyVersionsRequest())
	lv.PolicyType, lv.PolicyName = "Custom", "akguard-deny"
	vers, err := root.ListPolicyVersions(lv)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(vers.PolicyVersions.PolicyVersion); n != 5 {
		t.Fatalf("%d versions, want 5", n)
	}
	if vers.PolicyVersions.PolicyVersion[0].VersionId != "v2" {
		t.Fatalf("oldest remaining version %s, want v2 (v1 rotated out)", vers.PolicyVersions.PolicyVersion[0].VersionId)
	}

	sd := at(c, ram.CreateSetDefaultPolicyVersionRequest())
	sd.PolicyName, sd.VersionId = "akguard-deny", "v3"
	if _, err := root.SetDefaultPolicyVersion(sd); err != nil {
		t.Fatal(err)
	}
	dv := at(c, ram.CreateDeletePolicyVersionRequest())
	dv.PolicyName, dv.VersionId = "akguard-deny", "v3"
	_, err = root.DeletePolicyVersion(dv)
	wantErr(t, err, "DeleteConflict.PolicyVersion.Default", 409)
	dv.VersionId = "v2"
	if _, err := root.DeletePolicyVersion(dv); err != nil {
		t.Fatal(err)
	}

	ap := at(c, ram.CreateAttachPolicyToUserRequest())
	ap.PolicyType, ap.PolicyName, ap.UserName = "Custom", "akguard-deny", "ops"
	if _, err := root.AttachPolicyToUser(ap); err != nil {
		t.Fatal(err)
	}
	lp := at(c, ram.CreateListPoliciesForUserRequest())
	lp.UserName = "ops"
	up, err := root.ListPoliciesForUser(lp)
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Policies.Policy) != 1 || up.Policies.Policy[0].PolicyName != "akguard-deny" || up.Policies.Policy[0].AttachDate == "" {
		t.Fatalf("ListPoliciesForUser = %+v", up.Policies)
	}
	list := at(c, ram.CreateListPoliciesRequest())
	list.PolicyType = "Custom"
	all, err := root.ListPolicies(list)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Policies.Policy) != 1 || all.Policies.Policy[0].AttachmentCount != 1 {
		t.Fatalf("ListPolicies = %+v", all.Policies)
	}

	dp := at(c, ram.CreateDeletePolicyRequest())
	dp.PolicyName = "akguard-deny"
	_, err = root.DeletePolicy(dp)
	wantErr(t, err, "DeleteConflict.Policy.User", 409)
	det := at(c, ram.CreateDetachPolicyFromUserRequest())
	det.PolicyType, det.PolicyName, det.UserName = "Custom", "akguard-deny", "ops"
	if _, err := root.DetachPolicyFromUser(det); err != nil {
		t.Fatal(err)
	}
	_, err = root.DetachPolicyFromUser(det)
	wantErr(t, err, "EntityNotExist.User.Policy", 404)
	if _, err := root.DeletePolicy(dp); err != nil {
		t.Fatal(err)
	}
	_, err = root.GetPolicy(gp)
	wantErr(t, err, "EntityNotExist.Policy", 404)
}

func TestRAMRoles(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + c.env.AccountID + `:root"]}}]}`
	cr := at(c, ram.CreateCreateRoleRequest())
	cr.RoleName, cr.AssumeRolePolicyDocument, cr.MaxSessionDuration = "Responder", trust, "7200"
	r, err := root.CreateRole(cr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Role.Arn != "acs:ram::"+c.env.AccountID+":role/responder" || r.Role.MaxSessionDuration != 7200 {
		t.Fatalf("CreateRole = %+v", r.Role)
	}
	gr := at(c, ram.CreateGetRoleRequest())
	gr.RoleName = "Responder"
	g, err := root.GetRole(gr)
	if err != nil {
		t.Fatal(err)
	}
	if g.Role.AssumeRolePolicyDocument != trust {
		t.Fatalf("GetRole trust = %s", g.Role.AssumeRolePolicyDocument)
	}
	lr, err := root.ListRoles(at(c, ram.CreateListRolesRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if len(lr.Roles.Role) != 1 {
		t.Fatalf("ListRoles = %+v", lr.Roles)
	}
	ap := at(c, ram.CreateAttachPolicyToRoleRequest())
	ap.PolicyType, ap.PolicyName, ap.RoleName = "System", "AliyunRAMReadOnlyAccess", "Responder"
	if _, err := root.AttachPolicyToRole(ap); err != nil {
		t.Fatal(err)
	}
	_, err = root.AttachPolicyToRole(ap)
	wantErr(t, err, "EntityAlreadyExists.Role.Policy", 409)
	lp := at(c, ram.CreateListPoliciesForRoleRequest())
	lp.RoleName = "Responder"
	pols, err := root.ListPoliciesForRole(lp)
	if err != nil {
		t.Fatal(err)
	}
	if len(pols.Policies.Policy) != 1 || pols.Policies.Policy[0].PolicyName != "AliyunRAMReadOnlyAccess" {
		t.Fatalf("ListPoliciesForRole = %+v", pols.Policies)
	}
	dp := at(c, ram.CreateDetachPolicyFromRoleRequest())
	dp.PolicyType, dp.PolicyName, dp.RoleName = "System", "AliyunRAMReadOnlyAccess", "Responder"
	if _, err := root.DetachPolicyFromRole(dp); err != nil {
		t.Fatal(err)
	}
	cr.MaxSessionDuration = "60"
	cr.RoleName = "Short"
	_, err = root.CreateRole(cr)
	wantErr(t, err, "InvalidParameter.MaxSessionDuration", 400)
	gr.RoleName = "Nope"
	_, err = root.GetRole(gr)
	wantErr(t, err, "EntityNotExist.Role", 404)
}

// A contained user (akguard's deny policy attached over RAM full access)
// can still read but can no longer mint keys or lift the containment.
func TestContainedUser(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())
	id, secret := newUserWithKey(t, c, "leaky", "AliyunRAMFullAccess")
	leaky := ramClient(t, keyCred(id, secret))

	ck := at(c, ram.CreateCreateAccessKeyRequest())
	if _, err := leaky.CreateAccessKey(ck); err != nil {
		t.Fatalf("before containment CreateAccessKey must work: %v", err)
	}

	doc, err := os.ReadFile("testdata/deny-high-risk.json")
	if err != nil {
		t.Fatal(err)
	}
	cp := at(c, ram.CreateCreatePolicyRequest())
	cp.PolicyName, cp.PolicyDocument = "akguard-deny-high-risk", string(doc)
	if _, err := root.CreatePolicy(cp); err != nil {
		t.Fatal(err)
	}
	ap := at(c, ram.CreateAttachPolicyToUserRequest())
	ap.PolicyType, ap.PolicyName, ap.UserName = "Custom", "akguard-deny-high-risk", "leaky"
	if _, err := root.AttachPolicyToUser(ap); err != nil {
		t.Fatal(err)
	}

	_, err = leaky.CreateAccessKey(at(c, ram.CreateCreateAccessKeyRequest()))
	se := wantErr(t, err, "NoPermission", 403)
	if !strings.Contains(se.Message(), "You are not authorized") {
		t.Fatalf("message %q", se.Message())
	}
	// The responder relies on the explicit deny being visible.
	if raw := se.Error(); !strings.Contains(raw, "ExplicitDeny") || !strings.Contains(raw, "ram:CreateAccessKey") {
		t.Fatalf("AccessDeniedDetail missing: %s", raw)
	}
	det := at(c, ram.CreateDetachPolicyFromUserRequest())
	det.PolicyType, det.PolicyName, det.UserName = "Custom", "akguard-deny-high-risk", "leaky"
	_, err = leaky.DetachPolicyFromUser(det)
	wantErr(t, err, "NoPermission", 403)

	gu := at(c, ram.CreateGetUserRequest())
	gu.UserName = "leaky"
	if _, err := leaky.GetUser(gu); err != nil {
		t.Fatalf("GetUser must still work: %v", err)
	}

	// The denial is in the trail with its error code.
	evs := c.env.Trail.All()
	found := false
	for _, e := range evs {
		if e.EventName == "CreateAccessKey" && e.ErrorCode == "NoPermission" && e.UserIdentity.AccessKeyID == id {
			found = true
		}
	}
	if !found {
		t.Fatal("denied CreateAccessKey not recorded in the trail")
	}
}

func TestRAMListPaging(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())
	// Concurrent writers exercise the server's locks (run with -race).
	// Each goroutine has its own SDK client: sdk.Client is not safe for
	// concurrent use (DoActionWithSigner writes its timeout fields).
	const n = 25
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		cl := ramClient(t, c.root())
		go func() {
			r := at(c, ram.CreateCreateUserRequest())
			r.UserName = fmt.Sprintf("user-%02d", i)
			_, err := cl.CreateUser(r)
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	marker := ""
	for pages := 0; ; pages++ {
		r := at(c, ram.CreateListUsersRequest())
		r.MaxItems, r.Marker = "10", marker
		resp, err := root.ListUsers(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range resp.Users.User {
			names = append(names, u.UserName)
		}
		if !resp.IsTruncated {
			if pages != 2 || resp.Marker != "" {
				t.Fatalf("last page %d, marker %q", pages, resp.Marker)
			}
			break
		}
		marker = resp.Marker
	}
	if len(names) != n || names[0] != "user-00" || names[n-1] != fmt.Sprintf("user-%02d", n-1) {
		t.Fatalf("paged users %v", names)
	}
	r := at(c, ram.CreateListUsersRequest())
	r.MaxItems = "0"
	_, err := root.ListUsers(r)
	wantErr(t, err, "InvalidParameter.MaxItems", 400)
}
