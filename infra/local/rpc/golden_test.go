package rpc

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// stableKeys keep their values in golden files; every other string or
// number is replaced by its type, since IDs, secrets and times vary.
var stableKeys = map[string]bool{
	"UserName": true, "PolicyName": true, "PolicyType": true, "DefaultVersion": true, "VersionId": true,
	"IsDefaultVersion": true, "Status": true, "IdentityType": true, "SecretName": true, "SecretType": true,
	"Code": true, "NoPermissionType": true, "AuthAction": true, "eventName": true, "serviceName": true,
	"eventRW": true, "eventType": true, "type": true, "AccountType": true, "ServiceName": true,
	"AttachmentCount": true, "DisplayName": true, "ProvisionType": true, "acsRegion": true, "Source": true,
	"AutomaticRotation": true, "eventVersion": true, "eventCategory": true, "VersionStage": true,
}

func normalise(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			out[k] = normalise(k, val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = normalise(key, val)
		}
		return out
	case string:
		if stableKeys[key] || x == "" {
			return x
		}
		return "<string>"
	case json.Number:
		if stableKeys[key] {
			return x
		}
		return "<number>"
	}
	return v
}

// TestResponseShapes pins the JSON each API returns (field names, nesting,
// types) against golden files derived from the SDK response structs.
func TestResponseShapes(t *testing.T) {
	c := startCloud(t, "")
	c.srv.SetLookupEventsRate(0)
	root := ramClient(t, c.root())
	id, secret := newUserWithKey(t, c, "golden", "AliyunSTSAssumeRoleAccess")
	createRole(t, c, "Reader", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+c.env.AccountID+`:root"]}}]}`)
	cp := at(c, ram.CreateCreatePolicyRequest())
	cp.PolicyName, cp.PolicyDocument = "golden-deny", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:CreateAccessKey","Resource":"*"}]}`
	if _, err := root.CreatePolicy(cp); err != nil {
		t.Fatal(err)
	}
	user := keyCred(id, secret)

	cases := []struct {
		name string
		call func()
	}{
		{"ram_get_user", func() {
			r := at(c, ram.CreateGetUserRequest())
			r.UserName = "golden"
			_, _ = root.GetUser(r)
		}},
		{"ram_list_access_keys", func() {
			r := at(c, ram.CreateListAccessKeysRequest())
			r.UserName = "golden"
			_, _ = root.ListAccessKeys(r)
		}},
		{"ram_get_policy", func() {
			r := at(c, ram.CreateGetPolicyRequest())
			r.PolicyType, r.PolicyName = "Custom", "golden-deny"
			_, _ = root.GetPolicy(r)
		}},
		{"ram_list_policies_for_user", func() {
			r := at(c, ram.CreateListPoliciesForUserRequest())
			r.UserName = "golden"
			_, _ = root.ListPoliciesForUser(r)
		}},
		{"ram_no_permission", func() {
			_, _ = ramClient(t, user).CreateAccessKey(at(c, ram.CreateCreateAccessKeyRequest()))
		}},
		{"ram_entity_not_exist", func() {
			r := at(c, ram.CreateGetUserRequest())
			r.UserName = "ghost"
			_, _ = root.GetUser(r)
		}},
		{"ims_get_user", func() {
			r := at(c, ims.CreateGetUserRequest())
			r.UserAccessKeyId = id
			_, _ = imsClient(t, c.root()).GetUser(r)
		}},
		{"sts_get_caller_identity", func() {
			_, _ = stsClient(t, user).GetCallerIdentity(at(c, sts.CreateGetCallerIdentityRequest()))
		}},
		{"sts_assume_role", func() {
			r := at(c, sts.CreateAssumeRoleRequest())
			r.RoleArn, r.RoleSessionName = "acs:ram::"+c.env.AccountID+":role/reader", "golden"
			_, _ = stsClient(t, user).AssumeRole(r)
		}},
		{"actiontrail_lookup_events", func() {
			r := at(c, actiontrail.CreateLookupEventsRequest())
			r.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "EventName", Value: "GetCallerIdentity"}}
			_, _ = trailClient(t, c.root()).LookupEvents(r)
		}},
		{"actiontrail_last_used_info", func() {
			r := at(c, actiontrail.CreateGetAccessKeyLastUsedInfoRequest())
			r.AccessKey = id
			_, _ = trailClient(t, c.root()).GetAccessKeyLastUsedInfo(r)
		}},
		{"kms_create_secret", func() {
			r := at(c, kms.CreateCreateSecretRequest())
			r.SecretName, r.VersionId, r.SecretData = "golden", "v1", "value"
			_, _ = kmsClient(t, c.root()).CreateSecret(r)
		}},
		{"kms_get_secret_value", func() {
			r := at(c, kms.CreateGetSecretValueRequest())
			r.SecretName = "golden"
			_, _ = kmsClient(t, c.root()).GetSecretValue(r)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.call()
			dec := json.NewDecoder(bytes.NewReader(c.lastBody()))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("decode %s: %v", c.lastBody(), err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(normalise("", v)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from golden:\n%s\nwant:\n%s", tc.name, got, want)
			}
		})
	}
}
