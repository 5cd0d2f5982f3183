package contain

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"github.com/akguard/akguard/shared/notify"
)

// cloud holds one invocation's SDK clients (alibaba-cloud-sdk-go clients
// are not goroutine-safe, so they are never shared between invocations).
type cloud struct {
	ram       *ram.Client
	ims       *ims.Client
	trail     *actiontrail.Client
	accountID string
}

// lookupOwner finds who owns keyID without using the leaked secret: IMS
// GetUser(UserAccessKeyId) first (cloud-apis.md B3.1), then ActionTrail's
// last-used info, then every user's key list.
func (c *cloud) lookupOwner(ctx context.Context, keyID string) (notify.Owner, error) {
	if strings.HasPrefix(keyID, "STS.") {
		return c.lookupSTS(ctx, keyID)
	}
	req := ims.CreateGetUserRequest()
	req.UserAccessKeyId = keyID
	resp, err := c.ims.GetUser(req)
	switch {
	case err == nil:
		name, _, _ := strings.Cut(resp.User.UserPrincipalName, "@")
		if name != "" {
			return c.withStatus(ctx, notify.Owner{Type: notify.OwnerRAMUser, UserName: name,
				PrincipalName: resp.User.UserPrincipalName, AccountID: c.accountID, LookedUpBy: "ims:GetUser"}, keyID)
		}
	case Retryable(err):
		return notify.Owner{}, fmt.Errorf("ims get user: %w", err)
	case !strings.HasPrefix(code(err), "EntityNotExist"):
		return notify.Owner{}, fmt.Errorf("ims get user: %w", err)
	}
	// Not a RAM user's key: the account owner's, another account's, a
	// deleted one — ActionTrail knows keys that were used.
	treq := actiontrail.CreateGetAccessKeyLastUsedInfoRequest()
	treq.AccessKey = keyID
	tresp, err := c.trail.GetAccessKeyLastUsedInfo(treq)
	if err != nil && Retryable(err) {
		return notify.Owner{}, fmt.Errorf("actiontrail get access key last used info: %w", err)
	}
	if err == nil && tresp.AccountType != "" {
		acct := tresp.AccountId
		if acct != "" && acct != c.accountID {
			return notify.Owner{Type: notify.OwnerUnknown, AccountID: acct, LookedUpBy: "actiontrail:GetAccessKeyLastUsedInfo"}, nil
		}
		switch tresp.AccountType {
		case "root-account":
			return notify.Owner{Type: notify.OwnerRoot, AccountID: c.accountID, LookedUpBy: "actiontrail:GetAccessKeyLastUsedInfo", KeyStatus: "unknown"}, nil
		case "ram-user":
			if tresp.UserName != "" {
				return c.withStatus(ctx, notify.Owner{Type: notify.OwnerRAMUser, UserName: tresp.UserName, AccountID: c.accountID,
					LookedUpBy: "actiontrail:GetAccessKeyLastUsedInfo"}, keyID)
			}
		}
	}
	return c.scanUsers(ctx, keyID)
}

// lookupSTS names the role behind a temporary key from its last use.
func (c *cloud) lookupSTS(ctx context.Context, keyID string) (notify.Owner, error) {
	o := notify.Owner{Type: notify.OwnerSTS, AccountID: c.accountID}
	req := actiontrail.CreateGetAccessKeyLastUsedInfoRequest()
	req.AccessKey = keyID
	resp, err := c.trail.GetAccessKeyLastUsedInfo(req)
	if err != nil {
		if Retryable(err) {
			return o, fmt.Errorf("actiontrail get access key last used info: %w", err)
		}
		return o, nil
	}
	if resp.AccountId != "" && resp.AccountId != c.accountID {
		o.AccountID = resp.AccountId
	}
	o.LookedUpBy = "actiontrail:GetAccessKeyLastUsedInfo"
	// An assumed-role caller's userName is "<role>:<session>" (the Detail
	// event's userIdentity carries the same).
	name := resp.UserName
	if name == "" && resp.Detail != "" {
		var d struct {
			UserIdentity struct {
				UserName string `json:"userName"`
			} `json:"userIdentity"`
		}
		if json.Unmarshal([]byte(resp.Detail), &d) == nil {
			name = d.UserIdentity.UserName
		}
	}
	o.RoleName, _, _ = strings.Cut(name, ":")
	return o, nil
}

// scanUsers is the last resort: RAM ListUsers, then each user's keys.
func (c *cloud) scanUsers(ctx context.Context, keyID string) (notify.Owner, error) {
	marker := ""
	for {
		if err := ctx.Err(); err != nil {
			return notify.Owner{}, err
		}
		req := ram.CreateListUsersRequest()
		req.MaxItems = requests.NewInteger(100)
		req.Marker = marker
		resp, err := c.ram.ListUsers(req)
		if err != nil {
			return notify.Owner{}, fmt.Errorf("ram list users: %w", err)
		}
		for _, u := range resp.Users.User {
			keys, err := c.listKeys(u.UserName)
			if err != nil {
				return notify.Owner{}, err
			}
			for _, k := range keys {
				if k.AccessKeyId == keyID {
					return notify.Owner{Type: notify.OwnerRAMUser, UserName: u.UserName, AccountID: c.accountID,
						LookedUpBy: "ram:ListAccessKeys", KeyStatus: k.Status}, nil
				}
			}
		}
		if !resp.IsTruncated || resp.Marker == "" {
			return notify.Owner{Type: notify.OwnerUnknown, LookedUpBy: "ram:ListAccessKeys", KeyStatus: "not-found"}, nil
		}
		marker = resp.Marker
	}
}

func (c *cloud) listKeys(user string) ([]ram.AccessKey, error) {
	req := ram.CreateListAccessKeysRequest()
	req.UserName = user
	resp, err := c.ram.ListAccessKeys(req)
	if err != nil {
		return nil, fmt.Errorf("ram list access keys of %s: %w", user, err)
	}
	return resp.AccessKeys.AccessKey, nil
}

// keyStatus is the key's status in its owner's list: Active, Inactive or
// "deleted".
func (c *cloud) keyStatus(user, keyID string) (string, error) {
	keys, err := c.listKeys(user)
	if err != nil {
		if code(err) == "EntityNotExist.User" {
			return "deleted", nil
		}
		return "", err
	}
	for _, k := range keys {
		if k.AccessKeyId == keyID {
			return k.Status, nil
		}
	}
	return "deleted", nil
}

func (c *cloud) withStatus(_ context.Context, o notify.Owner, keyID string) (notify.Owner, error) {
	st, err := c.keyStatus(o.UserName, keyID)
	if err != nil {
		return o, err
	}
	o.KeyStatus = st
	return o, nil
}

// ensurePolicy makes the custom policy name hold exactly doc as its default
// version: CreatePolicy, or CreatePolicyVersion when the default version's
// document differs (compared as canonical JSON), rotating out the oldest
// non-default version at RAM's five-version limit (cloud-apis.md B3.2).
func (c *cloud) ensurePolicy(name, doc string) (status, detail string, err error) {
	get := ram.CreateGetPolicyRequest()
	get.PolicyType, get.PolicyName = "Custom", name
	resp, err := c.ram.GetPolicy(get)
	if code(err) == "EntityNotExist.Policy" {
		cr := ram.CreateCreatePolicyRequest()
		cr.PolicyName, cr.PolicyDocument = name, doc
		cr.Description = "akguard: deny high-risk actions to the owner of a leaked AccessKey"
		_, err = c.ram.CreatePolicy(cr)
		if err == nil {
			return notify.StatusDone, "created policy " + name, nil
		}
		if code(err) != "EntityAlreadyExists.Policy" {
			return "", "", fmt.Errorf("ram create policy %s: %w", name, err)
		}
		// Another responder created it meanwhile: compare its document.
		resp, err = c.ram.GetPolicy(get)
	}
	if err != nil {
		return "", "", fmt.Errorf("ram get policy %s: %w", name, err)
	}
	same, err := sameJSON(resp.DefaultPolicyVersion.PolicyDocument, doc)
	if err != nil {
		return "", "", fmt.Errorf("compare policy %s: %w", name, err)
	}
	if same {
		return notify.StatusAlready, "policy " + name + " " + resp.DefaultPolicyVersion.VersionId + " is current", nil
	}
	cv := ram.CreateCreatePolicyVersionRequest()
	cv.PolicyName, cv.PolicyDocument = name, doc
	cv.SetAsDefault = requests.NewBoolean(true)
	cv.RotateStrategy = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
	vr, err := c.ram.CreatePolicyVersion(cv)
	if err != nil {
		return "", "", fmt.Errorf("ram create policy version %s: %w", name, err)
	}
	return notify.StatusDone, "policy " + name + " updated to " + vr.PolicyVersion.VersionId, nil
}

func (c *cloud) attachPolicy(name, user string) (string, string, error) {
	req := ram.CreateAttachPolicyToUserRequest()
	req.PolicyType, req.PolicyName, req.UserName = "Custom", name, user
	_, err := c.ram.AttachPolicyToUser(req)
	switch {
	case err == nil:
		return notify.StatusDone, "attached " + name + " to user " + user, nil
	case code(err) == "EntityAlreadyExists.User.Policy":
		return notify.StatusAlready, name + " was already attached to user " + user, nil
	}
	return "", "", fmt.Errorf("ram attach policy %s to user %s: %w", name, user, err)
}

func (c *cloud) detachPolicy(name, user string) (string, string, error) {
	req := ram.CreateDetachPolicyFromUserRequest()
	req.PolicyType, req.PolicyName, req.UserName = "Custom", name, user
	_, err := c.ram.DetachPolicyFromUser(req)
	switch {
	case err == nil:
		return notify.StatusDone, "detached " + name + " from user " + user, nil
	case code(err) == "EntityNotExist.User.Policy":
		return notify.StatusAlready, name + " was not attached to user " + user, nil
	}
	return "", "", fmt.Errorf("ram detach policy %s from user %s: %w", name, user, err)
}

// disableKey sets the key Inactive. UserName is always given: without it
// RAM would act on the caller's own keys.
func (c *cloud) disableKey(user, keyID string) (string, string, error) {
	req := ram.CreateUpdateAccessKeyRequest()
	req.UserAccessKeyId, req.UserName, req.Status = keyID, user, "Inactive"
	if _, err := c.ram.UpdateAccessKey(req); err != nil {
		return "", "", fmt.Errorf("ram update access key %s: %w", keyID, err)
	}
	return notify.StatusDone, "set " + keyID + " Inactive", nil
}

// sameJSON compares two JSON documents by value, so RAM's re-serialisation
// (whitespace, key order) does not create a new version on every run.
func sameJSON(a, b string) (bool, error) {
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		return false, nil // unparsable current document: replace it
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		return false, fmt.Errorf("decode wanted document: %w", err)
	}
	return reflect.DeepEqual(x, y), nil
}
