package audit

import "github.com/akguard/akguard/shared/finding"

// Rule IDs, for callers that switch on them.
const (
	RuleLeakedKeyInUse     = "leaked-key-in-use"
	RuleRootKeyUse         = "root-key-use"
	RuleDangerousOperation = "dangerous-operation"
	RuleDeniedBurst        = "denied-burst"
	RuleVolumeSpike        = "volume-spike"
	RuleUnfamiliarSource   = "unfamiliar-source"
	RuleOffHours           = "off-hours"
)

// Rule is one kind of abnormal AccessKey use. Its check looks at everything
// one subject (key or role) did in one window; it returns why the rule
// fired and the events that made it fire, or ok=false. evs are the
// window's events minus those an Allow entry silences for this rule.
type Rule struct {
	ID          string
	Description string
	Severity    finding.Severity
	// NeedsBaseline rules compare with the subject's own past and stay
	// silent until its baseline is mature.
	NeedsBaseline bool
	check         func(c *compiled, w *subjectWindow, evs []*Event) (reason string, matched []*Event, ok bool)
}

// Rules returns the rule table, in the order hits are reported. Adding a
// rule is one entry here, its check in checks.go and one scenario in
// rules_test.go.
func Rules() []Rule {
	return []Rule{
		{ID: RuleLeakedKeyInUse, Severity: finding.SeverityCritical, check: checkLeaked,
			Description: "an AccessKey reported leaked signed an API call: someone holding the leaked pair is using it"},
		{ID: RuleRootKeyUse, Severity: finding.SeverityCritical, check: checkRoot,
			Description: "an API call signed with the account owner's AccessKey, which no RAM policy can restrict"},
		{ID: RuleDangerousOperation, Severity: finding.SeverityHigh, check: checkDangerous,
			Description: "identity or permission change, resource deletion, exposure change or other operation the deny-high-risk policy blocks"},
		{ID: RuleDeniedBurst, Severity: finding.SeverityMedium, check: checkDeniedBurst,
			Description: "many permission errors in a short time: a key probing what it may do"},
		{ID: RuleVolumeSpike, Severity: finding.SeverityMedium, NeedsBaseline: true, check: checkSpike,
			Description: "far more calls in the window than the key's own clean windows"},
		{ID: RuleUnfamiliarSource, Severity: finding.SeverityMedium, NeedsBaseline: true, check: checkUnfamiliar,
			Description: "a network (IPv4 /24, IPv6 /48, private /16) or region the key never used during its baseline"},
		{ID: RuleOffHours, Severity: finding.SeverityLow, NeedsBaseline: true, check: checkOffHours,
			Description: "activity outside working hours by a key whose baseline keeps to working hours"},
	}
}

func ruleIDs() []string {
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// Operation families, the same groups as the statements of the
// deny-high-risk policy in infra/policies (TestOperationsCoverDenyPolicy).
const (
	FamilyIdentity       = "identity-change"   // users, keys, roles, policies
	FamilyDeletion       = "resource-deletion" // instances, databases, buckets, log stores
	FamilyExposure       = "exposure-change"   // ACLs and policies that open data
	FamilyResourceAbuse  = "resource-abuse"    // paid resources an attacker runs: ECS, SMS
	FamilyDefenseEvasion = "defense-evasion"   // blinding the audit trail
	FamilySecretAccess   = "secret-access"     // reading stored secrets
)

// operations maps RAM actions to families. ActionTrail records serviceName
// and eventName; actionOf turns them into the RAM action the policy uses.
func operations() map[string]string {
	return map[string]string{
		"ram:AddUserToGroup": FamilyIdentity, "ram:AttachPolicyToGroup": FamilyIdentity,
		"ram:AttachPolicyToRole": FamilyIdentity, "ram:AttachPolicyToUser": FamilyIdentity,
		"ram:ChangePassword": FamilyIdentity, "ram:CreateAccessKey": FamilyIdentity,
		"ram:CreateLoginProfile": FamilyIdentity, "ram:CreatePolicyVersion": FamilyIdentity,
		"ram:CreateRole": FamilyIdentity, "ram:CreateUser": FamilyIdentity,
		"ram:DeleteAccessKey": FamilyIdentity, "ram:DeletePolicy": FamilyIdentity,
		"ram:DeletePolicyVersion": FamilyIdentity, "ram:DeleteUser": FamilyIdentity,
		"ram:DetachPolicyFromUser": FamilyIdentity, "ram:PassRole": FamilyIdentity,
		"ram:SetDefaultPolicyVersion": FamilyIdentity, "ram:SetPasswordPolicy": FamilyIdentity,
		"ram:UpdateAccessKey": FamilyIdentity, "ram:UpdateLoginProfile": FamilyIdentity,
		"ram:UpdateRole": FamilyIdentity, "ram:UpdateUser": FamilyIdentity,
		"sts:AssumeRole": FamilyIdentity,

		"ecs:DeleteInstance": FamilyDeletion, "ecs:DeleteInstances": FamilyDeletion,
		"ecs:DeregisterManagedInstance": FamilyDeletion, "ecs:ReleaseDedicatedHost": FamilyDeletion,
		"rds:DeleteAccount": FamilyDeletion, "rds:DeleteDatabase": FamilyDeletion,
		"rds:DeleteDBInstance": FamilyDeletion, "rds:DestroyDBInstance": FamilyDeletion,
		"oss:DeleteBucket": FamilyDeletion, "oss:DeleteObject": FamilyDeletion,
		"log:DeleteLogStore": FamilyDeletion, "log:DeleteProject": FamilyDeletion,

		"oss:PutBucketAcl": FamilyExposure, "oss:PutBucketPolicy": FamilyExposure,
		"oss:PutObjectAcl": FamilyExposure, "log:PutProjectPolicy": FamilyExposure,
		"log:DeleteProjectPolicy": FamilyExposure,

		"ecs:CreateInstance": FamilyResourceAbuse, "ecs:RunInstances": FamilyResourceAbuse,
		"dysms:AddSmsTemplate": FamilyResourceAbuse, "dysms:CreateProductNew": FamilyResourceAbuse,
		"dysms:CreateSmsTemplateNew": FamilyResourceAbuse, "dysms:SendBatchSms": FamilyResourceAbuse,
		"dysms:SendSms": FamilyResourceAbuse,

		"actiontrail:DeleteTrail": FamilyDefenseEvasion, "actiontrail:StopLogging": FamilyDefenseEvasion,
		"actiontrail:UpdateTrail": FamilyDefenseEvasion,

		"kms:GetSecretValue": FamilySecretAccess,
	}
}

// ramNamespace maps ActionTrail serviceName (lower-cased) to the RAM action
// namespace where they differ: SLS records as "Sls" but authorises as
// "log:", SMS as "Dysmsapi" but "dysms:".
func ramNamespace(service string) string {
	switch service {
	case "sls", "log":
		return "log"
	case "dysmsapi", "dysms":
		return "dysms"
	}
	return service
}

// deniedCodePrefixes are errorCode prefixes that mean "not allowed":
// NoPermission from RAM-authorised RPC APIs, Forbidden.* their variants
// (Forbidden.RAM, Forbidden.AccessKeyDisabled), AccessDenied from OSS.
func deniedCodePrefixes() []string {
	return []string{"NoPermission", "Forbidden", "AccessDenied", "Unauthorized", "NotAuthorized"}
}
