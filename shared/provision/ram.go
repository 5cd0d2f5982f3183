package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// rotateStrategy keeps CreatePolicyVersion working once a policy has
// RAM's maximum of five versions: the oldest non-default one is deleted
// (CreatePolicyVersion reference, RotateStrategy).
const rotateStrategy = "DeleteOldestNonDefaultVersionWhenLimitExceeded"

// ramCode is the RAM error code of err, "" for transport errors.
func ramCode(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func (p *Provisioner) planRole(ctx context.Context, plan *Plan, r Role, doc string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res := "ram role " + r.Name
	req := ram.CreateGetRoleRequest()
	req.RoleName = r.Name
	got, err := p.ram.GetRole(req)
	roleExists := true
	switch {
	case ramCode(err) == "EntityNotExist.Role":
		roleExists = false
		plan.add(res, ActionCreate, "missing: trusted by "+r.Service, p.createRole(r))
	case err != nil:
		return p.wrap("get role "+r.Name, err)
	default:
		want, _ := Canonical(r.TrustPolicy())
		have, cerr := Canonical(got.Role.AssumeRolePolicyDocument)
		if cerr == nil && have == want {
			plan.add(res, ActionOK, "exists, trusted by "+r.Service, nil)
		} else {
			// Widening or narrowing who may assume a role is a decision
			// for a person: UpdateRole is not called.
			plan.add(res, ActionWarn, "trust policy differs from the expected (only "+r.Service+" may assume it): review it", nil)
		}
	}
	if err := p.planPolicy(ctx, plan, r.Name, doc, "infra/ram/"+r.Name+".json", "akguard: permissions of role "+r.Name); err != nil {
		return err
	}
	attach := fmt.Sprintf("ram policy %s on role %s", r.Name, r.Name)
	if !roleExists {
		plan.add(attach, ActionAttach, "attach the role's policy", p.attachPolicy(r.Name, r.Name))
		return nil
	}
	lreq := ram.CreateListPoliciesForRoleRequest()
	lreq.RoleName = r.Name
	atts, err := p.ram.ListPoliciesForRole(lreq)
	if err != nil {
		return p.wrap("list policies of role "+r.Name, err)
	}
	attached := false
	var others []string
	for _, a := range atts.Policies.Policy {
		if a.PolicyType == "Custom" && a.PolicyName == r.Name {
			attached = true
			continue
		}
		others = append(others, a.PolicyType+":"+a.PolicyName)
	}
	if attached {
		plan.add(attach, ActionOK, "attached", nil)
	} else {
		plan.add(attach, ActionAttach, "not attached", p.attachPolicy(r.Name, r.Name))
	}
	if len(others) > 0 {
		sort.Strings(others)
		// More permissions than the function calls defeats least
		// privilege; they may be deliberate, so they are only reported.
		plan.add(res, ActionWarn, "also has policies not managed by akguard: "+strings.Join(others, ", "), nil)
	}
	return nil
}

func (p *Provisioner) createRole(r Role) func(context.Context) error {
	return func(context.Context) error {
		req := ram.CreateCreateRoleRequest()
		req.RoleName = r.Name
		req.AssumeRolePolicyDocument = r.TrustPolicy()
		req.Description = r.Purpose
		_, err := p.ram.CreateRole(req)
		if ramCode(err) == "EntityAlreadyExists.Role" {
			return nil
		}
		return p.wrap("create role "+r.Name, err)
	}
}

func (p *Provisioner) attachPolicy(policy, role string) func(context.Context) error {
	return func(context.Context) error {
		req := ram.CreateAttachPolicyToRoleRequest()
		req.PolicyType = "Custom"
		req.PolicyName = policy
		req.RoleName = role
		_, err := p.ram.AttachPolicyToRole(req)
		if ramCode(err) == "EntityAlreadyExists.Role.Policy" {
			return nil // 409: attached already
		}
		return p.wrap(fmt.Sprintf("attach policy %s to role %s", policy, role), err)
	}
}

// planPolicy compares the custom policy's default version with doc.
func (p *Provisioner) planPolicy(ctx context.Context, plan *Plan, name, doc, source, description string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res := "ram policy " + name
	want, err := Canonical(doc)
	if err != nil {
		return fmt.Errorf("policy %s: %w", source, err)
	}
	req := ram.CreateGetPolicyRequest()
	req.PolicyType = "Custom"
	req.PolicyName = name
	got, err := p.ram.GetPolicy(req)
	switch {
	case ramCode(err) == "EntityNotExist.Policy":
		plan.add(res, ActionCreate, "missing: from "+source, p.createPolicy(name, doc, description))
		return nil
	case err != nil:
		return p.wrap("get policy "+name, err)
	}
	ver := got.DefaultPolicyVersion.VersionId
	if ver == "" {
		ver = got.Policy.DefaultVersion
	}
	have, err := Canonical(got.DefaultPolicyVersion.PolicyDocument)
	if err == nil && have == want {
		plan.add(res, ActionOK, fmt.Sprintf("default version %s matches %s", ver, source), nil)
		return nil
	}
	plan.add(res, ActionUpdate, fmt.Sprintf("default version %s differs from %s: add a new default version", ver, source),
		func(context.Context) error {
			req := ram.CreateCreatePolicyVersionRequest()
			req.PolicyName = name
			req.PolicyDocument = doc
			req.SetAsDefault = requests.NewBoolean(true)
			req.RotateStrategy = rotateStrategy
			_, err := p.ram.CreatePolicyVersion(req)
			return p.wrap("create version of policy "+name, err)
		})
	return nil
}

func (p *Provisioner) createPolicy(name, doc, description string) func(context.Context) error {
	return func(context.Context) error {
		req := ram.CreateCreatePolicyRequest()
		req.PolicyName = name
		req.PolicyDocument = doc
		req.Description = description
		_, err := p.ram.CreatePolicy(req)
		if ramCode(err) == "EntityAlreadyExists.Policy" {
			// Created meanwhile; a rerun compares its document.
			return nil
		}
		return p.wrap("create policy "+name, err)
	}
}
