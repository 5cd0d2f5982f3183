package iam

import "encoding/json"

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// systemPolicies are the provider-managed policies akguard's tests and demo
// attach; names as in the RAM console's system policy list.
func systemPolicies() map[string]*Policy {
	mk := func(name, desc, doc string) *Policy {
		return &Policy{PolicyName: name, PolicyType: "System", Description: desc, CreateDate: "2015-01-01T00:00:00Z",
			UpdateDate: "2015-01-01T00:00:00Z", Versions: []PolicyVersion{{VersionID: "v1", Document: doc, IsDefault: true}}}
	}
	allow := func(actions string) string {
		return `{"Version":"1","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":"*"}]}`
	}
	list := []*Policy{
		mk("AdministratorAccess", "Full access to all cloud resources", allow(`"*"`)),
		mk("AliyunOSSFullAccess", "Full access to OSS", allow(`"oss:*"`)),
		mk("AliyunOSSReadOnlyAccess", "Read-only access to OSS", allow(`["oss:Get*","oss:List*"]`)),
		mk("AliyunRAMFullAccess", "Full access to RAM", allow(`"ram:*"`)),
		mk("AliyunRAMReadOnlyAccess", "Read-only access to RAM", allow(`["ram:Get*","ram:List*"]`)),
		mk("AliyunSTSAssumeRoleAccess", "Assume roles", allow(`"sts:AssumeRole"`)),
		mk("AliyunActionTrailFullAccess", "Full access to ActionTrail", allow(`"actiontrail:*"`)),
		mk("AliyunMNSFullAccess", "Full access to SMQ (MNS)", allow(`"mns:*"`)),
		mk("AliyunFCFullAccess", "Full access to Function Compute", allow(`"fc:*"`)),
		mk("AliyunKMSFullAccess", "Full access to KMS", allow(`"kms:*"`)),
		mk("ReadOnlyAccess", "Read-only access to all cloud resources", allow(`["*:Get*","*:List*","*:Describe*","*:Lookup*"]`)),
	}
	out := make(map[string]*Policy, len(list))
	for _, p := range list {
		out[p.PolicyName] = p
	}
	return out
}
