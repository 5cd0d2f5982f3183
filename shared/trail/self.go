package trail

import "github.com/akguard/akguard/shared/audit"

// SelfAllowances silences the dangerous-operation rule for what akguard's
// own roles do by design — releasing locks and pruning records in the state
// bucket, scan making an exposed object private, respond attaching the deny
// policy and disabling a key — so containing one leak does not raise an
// incident against the containment. Every other rule still applies to
// these roles, and their RAM policies (infra/ram) confine each operation to
// the resources it is meant for.
func SelfAllowances() []audit.Allow {
	const why = "akguard's own work; the role's policy confines it (infra/ram)"
	return []audit.Allow{
		{Principal: "akguard-audit", Rules: []string{audit.RuleDangerousOperation}, Operations: []string{"Oss:DeleteObject"}, Reason: why},
		{Principal: "akguard-scan", Rules: []string{audit.RuleDangerousOperation}, Operations: []string{"Oss:DeleteObject", "Oss:PutObjectAcl"}, Reason: why},
		{Principal: "akguard-respond", Rules: []string{audit.RuleDangerousOperation}, Operations: []string{
			"Oss:DeleteObject", "Ram:AttachPolicyToUser", "Ram:DetachPolicyFromUser", "Ram:CreatePolicyVersion",
			"Ram:SetDefaultPolicyVersion", "Ram:DeletePolicyVersion", "Ram:UpdateAccessKey"}, Reason: why},
	}
}
