package provision

import (
	"encoding/json"
	"fmt"
)

type statement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

type document struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

// SetupPolicy is the least-privilege policy of whoever runs setup: the
// exact API calls setup makes, on the exact resources it manages, so a
// real account can run it with a dedicated RAM user instead of an admin
// key. Resource forms follow each service's RAM authorization reference:
// OSS acs:oss:*:<uid>:<bucket>; SMQ acs:mns:<region>:<uid>:/queues/<q> and
// /topics/<t>[/subscriptions[/<s>]]; RAM acs:ram:*:<uid>:role/<r> and
// policy/<p> (attaching needs both).
func (c Config) SetupPolicy() (string, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("setup policy: %w", err)
	}
	oss := func(b string) string { return fmt.Sprintf("acs:oss:*:%s:%s", c.AccountID, b) }
	mns := func(path string) string { return fmt.Sprintf("acs:mns:%s:%s:%s", c.Region, c.AccountID, path) }
	ram := func(kind, name string) string { return fmt.Sprintf("acs:ram:*:%s:%s/%s", c.AccountID, kind, name) }

	queues := []string{mns("/queues/" + c.DeadLetterQueue)}
	var subs []string
	for _, s := range c.Subscriptions {
		queues = append(queues, mns("/queues/"+s.Queue))
		subs = append(subs, mns("/topics/"+c.Topic+"/subscriptions/"+s.Queue))
	}
	var roles, rolePolicies []string
	for _, r := range Roles() {
		roles = append(roles, ram("role", r.Name))
		rolePolicies = append(rolePolicies, ram("policy", r.Name))
	}
	policies := append(append([]string{}, rolePolicies...), ram("policy", DenyPolicyName))

	buckets := []string{oss(c.StateBucket)}
	uploadActions := []string{"oss:GetBucketAcl"}
	if c.CreateUploadBucket {
		uploadActions = append(uploadActions, "oss:PutBucket")
	}
	doc := document{Version: "1", Statement: []statement{
		{"Allow", []string{"oss:GetBucketAcl", "oss:PutBucket", "oss:PutBucketAcl", "oss:GetBucketVersioning"}, buckets},
		{"Allow", uploadActions, []string{oss(c.UploadBucket)}},
		{"Allow", []string{"mns:GetQueueAttributes", "mns:CreateQueue"}, queues},
		{"Allow", []string{"mns:GetTopicAttributes", "mns:CreateTopic"}, []string{mns("/topics/" + c.Topic)}},
		{"Allow", []string{"ram:GetRole", "ram:CreateRole", "ram:ListPoliciesForRole"}, roles},
		{"Allow", []string{"ram:GetPolicy", "ram:CreatePolicy", "ram:CreatePolicyVersion"}, policies},
		{"Allow", []string{"ram:AttachPolicyToRole"}, append(append([]string{}, roles...), rolePolicies...)},
	}}
	if len(subs) > 0 {
		doc.Statement = append(doc.Statement,
			statement{"Allow", []string{"mns:ListSubscriptionByTopic"}, []string{mns("/topics/" + c.Topic + "/subscriptions")}},
			statement{"Allow", []string{"mns:Subscribe", "mns:Unsubscribe"}, subs})
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode setup policy: %w", err)
	}
	return string(out), nil
}
