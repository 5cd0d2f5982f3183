package iam

import "strings"

// AttachmentCount is how many users and roles a policy is attached to
// (RAM GetPolicy/ListPolicies report it as AttachmentCount).
func (m *IAM) AttachmentCount(typ, name string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, set := range []map[string][]Attachment{m.st.UserPolicies, m.st.RolePolicies} {
		for _, list := range set {
			for _, a := range list {
				if a.PolicyName == name && strings.EqualFold(a.PolicyType, typ) {
					n++
				}
			}
		}
	}
	return n
}
