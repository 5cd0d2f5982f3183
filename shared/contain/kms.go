package contain

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"

	"github.com/akguard/akguard/shared/notify"
)

// findRAMSecret returns the KMS-managed RAM secret (SecretType
// RAMCredentials) whose ExtendedConfig names user, or "" when none does.
// Errors are cut down with brief by the caller: raw KMS SDK errors can
// carry secret data in the request URL.
func findRAMSecret(ctx context.Context, c *kms.Client, user string) (string, error) {
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		req := kms.CreateListSecretsRequest()
		req.PageNumber, req.PageSize = requests.NewInteger(page), requests.NewInteger(100)
		resp, err := c.ListSecrets(req)
		if err != nil {
			return "", fmt.Errorf("kms list secrets: %s", brief(err))
		}
		for _, s := range resp.SecretList.Secret {
			if s.SecretType != "RAMCredentials" {
				continue
			}
			d := kms.CreateDescribeSecretRequest()
			d.SecretName = s.SecretName
			dr, err := c.DescribeSecret(d)
			if err != nil {
				return "", fmt.Errorf("kms describe secret %s: %s", s.SecretName, brief(err))
			}
			var ext struct{ UserName string }
			if json.Unmarshal([]byte(dr.ExtendedConfig), &ext) == nil && ext.UserName == user {
				return s.SecretName, nil
			}
		}
		if len(resp.SecretList.Secret) == 0 || page*100 >= resp.TotalCount {
			return "", nil
		}
	}
}

// rotateRAMSecret asks KMS for a new AccessKey in the secret. The version
// ID is derived from the incident so a resumed run does not rotate twice
// (KMS answers Rejected.ResourceExist for a known version).
func rotateRAMSecret(c *kms.Client, name, versionID string) (string, string, error) {
	req := kms.CreateRotateSecretRequest()
	req.SecretName, req.VersionId = name, versionID
	_, err := c.RotateSecret(req)
	switch {
	case err == nil:
		return notify.StatusDone, "KMS rotated " + name + " to version " + versionID, nil
	case code(err) == "Rejected.ResourceExist":
		return notify.StatusAlready, name + " already rotated to version " + versionID, nil
	}
	return "", "", fmt.Errorf("kms rotate secret %s: %s", name, brief(err))
}

// kmsRotate rotates the owner's managed RAM secret when configured.
func (ru *run) kmsRotate(ctx context.Context, why string) error {
	if !ru.r.Config.KMSRotate {
		return nil
	}
	c, err := ru.r.Clients.KMS()
	if err != nil {
		return err
	}
	user := ru.msg.Owner.UserName
	var name string
	st, err := ru.step(ctx, "kms-find-secret", user, "is the key hosted in a KMS-managed RAM secret?", false, func() (string, string, error) {
		n, err := findRAMSecret(ctx, c, user)
		if err != nil {
			return "", "", err
		}
		if n == "" {
			return notify.StatusSkipped, "no KMS-managed RAM secret for user " + user, nil
		}
		return notify.StatusDone, n, nil
	})
	if err != nil || st.Status != notify.StatusDone {
		return err
	}
	name = st.Detail
	version := "akguard-" + ru.in.ID
	rs, err := ru.step(ctx, "kms-rotate", name, why, true, func() (string, string, error) { return rotateRAMSecret(c, name, version) })
	if err != nil {
		return err
	}
	ru.msg.KMS = &notify.KMS{SecretName: name, VersionID: version,
		Rotated: rs.Status == notify.StatusDone || rs.Status == notify.StatusAlready}
	return nil
}
