// Package policies embeds the RAM policy documents kept in infra/policies,
// so the functions and `akguard setup` use exactly the reviewed files.
package policies

import (
	_ "embed"
)

// DenyHighRisk is the containment policy attached to the owner of a leaked
// AccessKey. It starts from the provider's recommended deny policy for a
// suspected leak and adds the escape routes a leaked key would use to lift
// or outlive the quarantine (sts:AssumeRole into a stronger role, deleting
// keys or policies, stopping ActionTrail, reading KMS secrets).
//
//go:embed deny-high-risk.json
var DenyHighRisk string

// DenyHighRiskName is the policy's name in RAM.
const DenyHighRiskName = "akguard-deny-high-risk"
