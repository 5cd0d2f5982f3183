package rpc

import (
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
)

func createRole(t *testing.T, c *cloud, name, trust string, policies ...string) string {
	t.Helper()
	root := ramClient(t, c.root())
	cr := at(c, ram.CreateCreateRoleRequest())
	cr.RoleName, cr.AssumeRolePolicyDocument = name, trust
	r, err := root.CreateRole(cr)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		ap := at(c, ram.CreateAttachPolicyToRoleRequest())
		ap.PolicyType, ap.PolicyName, ap.RoleName = "System", p, name
		if _, err := root.AttachPolicyToRole(ap); err != nil {
			t.Fatal(err)
		}
	}
	return r.Role.Arn
}

func TestSTS(t *testing.T) {
	c := startCloud(t, "")
	acct := c.env.AccountID
	trustAccount := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + acct + `:root"]}}]}`
	trustNobody := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`
	auditorARN := createRole(t, c, "Auditor", trustAccount, "AliyunRAMReadOnlyAccess")
	fcARN := createRole(t, c, "FcOnly", trustNobody, "AliyunRAMReadOnlyAccess")
	bobID, bobSecret := newUserWithKey(t, c, "bob", "AliyunSTSAssumeRoleAccess")
	eveID, eveSecret := newUserWithKey(t, c, "eve")
	bob := stsClient(t, keyCred(bobID, bobSecret))

	who, err := bob.GetCallerIdentity(at(c, sts.CreateGetCallerIdentityRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if who.IdentityType != "RAMUser" || who.Arn != "acs:ram::"+acct+":user/bob" || who.UserId == "" {
		t.Fatalf("GetCallerIdentity(bob) = %+v", who)
	}

	ar := at(c, sts.CreateAssumeRoleRequest())
	ar.RoleArn, ar.RoleSessionName, ar.DurationSeconds = auditorARN, "audit-run", "900"
	got, err := bob.AssumeRole(ar)
	if err != nil {
		t.Fatal(err)
	}
	cr := got.Credentials
	if !strings.HasPrefix(cr.AccessKeyId, "STS.") || cr.AccessKeySecret == "" || cr.SecurityToken == "" || cr.Expiration == "" {
		t.Fatalf("Credentials = %+v", cr)
	}
	if got.AssumedRoleUser.Arn != "acs:ram::"+acct+":role/Auditor/audit-run" || !strings.HasSuffix(got.AssumedRoleUser.AssumedRoleId, ":audit-run") {
		t.Fatalf("AssumedRoleUser = %+v", got.AssumedRoleUser)
	}

	// The session credentials work on other APIs, within the role's policy.
	sessSTS := stsClient(t, stsCred(cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken))
	me, err := sessSTS.GetCallerIdentity(at(c, sts.CreateGetCallerIdentityRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if me.IdentityType != "AssumedRoleUser" || me.RoleId == "" || !strings.Contains(me.Arn, "assumed-role/auditor/audit-run") {
		t.Fatalf("GetCallerIdentity(session) = %+v", me)
	}
	sessRAM := ramClient(t, stsCred(cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken))
	if _, err := sessRAM.ListUsers(at(c, ram.CreateListUsersRequest())); err != nil {
		t.Fatalf("role may list users: %v", err)
	}
	cu := at(c, ram.CreateCreateUserRequest())
	cu.UserName = "sneaky"
	_, err = sessRAM.CreateUser(cu)
	wantErr(t, err, "NoPermission", 403)
	// A wrong token is rejected before the signature is checked.
	_, err = ramClient(t, stsCred(cr.AccessKeyId, cr.AccessKeySecret, "CAISwrong")).ListUsers(at(c, ram.CreateListUsersRequest()))
	wantErr(t, err, "InvalidSecurityToken.MismatchWithAccessKey", 400)
	// A wrong session secret is a signature error, without the token echoed.
	_, err = ramClient(t, stsCred(cr.AccessKeyId, "wrong", cr.SecurityToken)).ListUsers(at(c, ram.CreateListUsersRequest()))
	se := wantErr(t, err, "SignatureDoesNotMatch", 400)
	if strings.Contains(se.Error(), cr.SecurityToken) {
		t.Fatal("SecurityToken echoed in an error")
	}

	cases := []struct {
		name             string
		client           *sts.Client
		arn, dur         string
		code             string
		status           int
		explicitOrDetail string
	}{
		{"no sts permission", stsClient(t, keyCred(eveID, eveSecret)), auditorARN, "", "NoPermission", 403, "ImplicitDeny"},
		{"root may not assume", stsClient(t, c.root()), auditorARN, "", "NoPermission", 403, ""},
		{"trust policy excludes users", bob, fcARN, "", "NoPermission", 403, "AssumeRolePolicy"},
		{"duration too short", bob, auditorARN, "60", "InvalidParameter.DurationSeconds", 400, ""},
		{"duration above role max", bob, auditorARN, "7200", "InvalidParameter.DurationSeconds", 400, ""},
		{"unknown role", bob, "acs:ram::" + acct + ":role/ghost", "", "EntityNotExist.Role", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := at(c, sts.CreateAssumeRoleRequest())
			r.RoleArn, r.RoleSessionName, r.DurationSeconds = tc.arn, "s1", requests.Integer(tc.dur)
			_, err := tc.client.AssumeRole(r)
			se := wantErr(t, err, tc.code, tc.status)
			if tc.explicitOrDetail != "" && !strings.Contains(se.Error(), tc.explicitOrDetail) {
				t.Fatalf("error lacks %q: %s", tc.explicitOrDetail, se.Error())
			}
		})
	}
}

func TestIMS(t *testing.T) {
	c := startCloud(t, "")
	acct := c.env.AccountID
	id, secret := newUserWithKey(t, c, "carol", "AliyunRAMReadOnlyAccess")
	root := imsClient(t, c.root())
	upn := "carol@" + acct + ".onaliyun.com"

	// carol uses her key once so last-used has something to report.
	if _, err := ramClient(t, keyCred(id, secret)).ListUsers(at(c, ram.CreateListUsersRequest())); err != nil {
		t.Fatal(err)
	}

	lookups := []struct {
		name string
		set  func(r *ims.GetUserRequest)
	}{
		{"by principal name", func(r *ims.GetUserRequest) { r.UserPrincipalName = upn }},
		{"by access key", func(r *ims.GetUserRequest) { r.UserAccessKeyId = id }},
	}
	var userID string
	for _, tc := range lookups {
		t.Run(tc.name, func(t *testing.T) {
			r := at(c, ims.CreateGetUserRequest())
			tc.set(r)
			got, err := root.GetUser(r)
			if err != nil {
				t.Fatal(err)
			}
			if got.User.UserPrincipalName != upn || got.User.UserId == "" {
				t.Fatalf("GetUser = %+v", got.User)
			}
			if strings.Contains(got.GetHttpContentString(), `"UserName"`) {
				t.Fatal("IMS GetUser must not carry UserName")
			}
			userID = got.User.UserId
		})
	}
	byID := at(c, ims.CreateGetUserRequest())
	byID.UserId = userID
	if got, err := root.GetUser(byID); err != nil || got.User.UserPrincipalName != upn {
		t.Fatalf("GetUser by id = %+v, %v", got, err)
	}

	errCases := []struct {
		name   string
		set    func(r *ims.GetUserRequest)
		code   string
		status int
	}{
		{"none given", func(r *ims.GetUserRequest) {}, "MissingParameter", 400},
		{"two given", func(r *ims.GetUserRequest) { r.UserId, r.UserAccessKeyId = userID, id }, "InvalidParameter", 400},
		{"root key has no user", func(r *ims.GetUserRequest) { r.UserAccessKeyId = c.env.IAM.RootKey().AccessKeyID }, "EntityNotExist.User.AccessKey", 404},
		{"foreign domain", func(r *ims.GetUserRequest) { r.UserPrincipalName = "carol@other.onaliyun.com" }, "EntityNotExist.User", 404},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			r := at(c, ims.CreateGetUserRequest())
			tc.set(r)
			_, err := root.GetUser(r)
			wantErr(t, err, tc.code, tc.status)
		})
	}

	lk := at(c, ims.CreateListAccessKeysRequest())
	lk.UserPrincipalName = upn
	keys, err := root.ListAccessKeys(lk)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeys.AccessKey) != 1 || keys.AccessKeys.AccessKey[0].AccessKeyId != id || keys.AccessKeys.AccessKey[0].AccessKeySecret != "" {
		t.Fatalf("ListAccessKeys = %+v", keys.AccessKeys)
	}

	lu := at(c, ims.CreateGetAccessKeyLastUsedRequest())
	lu.UserPrincipalName, lu.UserAccessKeyId = upn, id
	last, err := root.GetAccessKeyLastUsed(lu)
	if err != nil {
		t.Fatal(err)
	}
	if last.AccessKeyLastUsed.LastUsedDate == "" || last.AccessKeyLastUsed.ServiceName != "Ram" {
		t.Fatalf("GetAccessKeyLastUsed = %+v", last.AccessKeyLastUsed)
	}

	// carol has read-only RAM: she can look herself up but not disable keys.
	carol := imsClient(t, keyCred(id, secret))
	self := at(c, ims.CreateGetUserRequest())
	self.UserAccessKeyId = id
	if _, err := carol.GetUser(self); err != nil {
		t.Fatal(err)
	}
	uk := at(c, ims.CreateUpdateAccessKeyRequest())
	uk.UserPrincipalName, uk.UserAccessKeyId, uk.Status = upn, id, "Inactive"
	_, err = carol.UpdateAccessKey(uk)
	wantErr(t, err, "NoPermission", 403)
	if _, err := root.UpdateAccessKey(uk); err != nil {
		t.Fatal(err)
	}
	_, err = carol.GetUser(self)
	wantErr(t, err, "InvalidAccessKeyId.Inactive", 400)
}

// A session Policy narrows what the role grants.
func TestSTSSessionPolicy(t *testing.T) {
	c := startCloud(t, "")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + c.env.AccountID + `:root"]}}]}`
	arn := createRole(t, c, "Reader", trust, "AliyunRAMReadOnlyAccess")
	id, secret := newUserWithKey(t, c, "frank", "AliyunSTSAssumeRoleAccess")
	ar := at(c, sts.CreateAssumeRoleRequest())
	ar.RoleArn, ar.RoleSessionName = arn, "narrow"
	ar.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetUser","Resource":"*"}]}`
	got, err := stsClient(t, keyCred(id, secret)).AssumeRole(ar)
	if err != nil {
		t.Fatal(err)
	}
	cr := got.Credentials
	sess := ramClient(t, stsCred(cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken))
	gu := at(c, ram.CreateGetUserRequest())
	gu.UserName = "frank"
	if _, err := sess.GetUser(gu); err != nil {
		t.Fatalf("GetUser within session policy: %v", err)
	}
	_, err = sess.ListUsers(at(c, ram.CreateListUsersRequest()))
	wantErr(t, err, "NoPermission", 403)

	ar.Policy = `{"Version":"1"}`
	ar.RoleSessionName = "broken"
	_, err = stsClient(t, keyCred(id, secret)).AssumeRole(ar)
	wantErr(t, err, "MalformedPolicyDocument", 400)
}
