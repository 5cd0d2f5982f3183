package rpc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

func TestKMSGenericSecret(t *testing.T) {
	dir := t.TempDir()
	c := startCloud(t, dir)
	cl := kmsClient(t, c.root())

	cs := at(c, kms.CreateCreateSecretRequest())
	cs.SecretName, cs.VersionId, cs.SecretData = "webhook-token", "v1", "s3cr3t-value-1"
	created, err := cl.CreateSecret(cs)
	if err != nil {
		t.Fatal(err)
	}
	if created.Arn != "acs:kms:"+region+":"+c.env.AccountID+":secret/webhook-token" || created.SecretType != "Generic" {
		t.Fatalf("CreateSecret = %+v", created)
	}
	_, err = cl.CreateSecret(cs)
	wantErr(t, err, "Rejected.ResourceExist", 409)

	put := at(c, kms.CreatePutSecretValueRequest())
	put.SecretName, put.VersionId, put.SecretData = "webhook-token", "v2", "s3cr3t-value-2"
	if _, err := cl.PutSecretValue(put); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ stage, data, version string }{
		{"", "s3cr3t-value-2", "v2"},
		{"ACSCurrent", "s3cr3t-value-2", "v2"},
		{"ACSPrevious", "s3cr3t-value-1", "v1"},
	} {
		g := at(c, kms.CreateGetSecretValueRequest())
		g.SecretName, g.VersionStage = "webhook-token", tc.stage
		v, err := cl.GetSecretValue(g)
		if err != nil {
			t.Fatal(err)
		}
		if v.SecretData != tc.data || v.VersionId != tc.version {
			t.Fatalf("stage %q: got %s/%s", tc.stage, v.VersionId, v.SecretData)
		}
	}

	d := at(c, kms.CreateDescribeSecretRequest())
	d.SecretName = "webhook-token"
	desc, err := cl.DescribeSecret(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(desc.GetHttpContentString(), "s3cr3t") {
		t.Fatal("DescribeSecret leaks the value")
	}
	ls, err := cl.ListSecrets(at(c, kms.CreateListSecretsRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if ls.TotalCount != 1 || ls.SecretList.Secret[0].SecretName != "webhook-token" {
		t.Fatalf("ListSecrets = %+v", ls)
	}

	// Secrets persist with owner-only permissions and never reach the trail.
	info, err := os.Stat(filepath.Join(dir, "kms", "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file mode %v", info.Mode().Perm())
	}
	for _, e := range c.env.Trail.All() {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), "s3cr3t") {
			t.Fatalf("secret value in trail: %s", b)
		}
	}
	c.restart()
	cl = kmsClient(t, c.root())
	g := at(c, kms.CreateGetSecretValueRequest())
	g.SecretName = "webhook-token"
	if v, err := cl.GetSecretValue(g); err != nil || v.SecretData != "s3cr3t-value-2" {
		t.Fatalf("after restart: %+v %v", v, err)
	}

	del := at(c, kms.CreateDeleteSecretRequest())
	del.SecretName = "webhook-token"
	if _, err := cl.DeleteSecret(del); err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetSecretValue(g)
	wantErr(t, err, "Rejected.ResourceInDeleteWindow", 409)
	del.ForceDeleteWithoutRecovery = "true"
	if _, err := cl.DeleteSecret(del); err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetSecretValue(g)
	wantErr(t, err, "Forbidden.ResourceNotFound", 404)

	// A bad signature on a request carrying SecretData must not echo it.
	bad := kmsClient(t, keyCred(c.env.IAM.RootKey().AccessKeyID, "not-the-secret"))
	other := at(c, kms.CreateCreateSecretRequest())
	other.SecretName, other.VersionId, other.SecretData = "other", "v1", "s3cr3t-value-3"
	_, err = bad.CreateSecret(other)
	se := wantErr(t, err, "SignatureDoesNotMatch", 400)
	if strings.Contains(se.Error(), "s3cr3t") {
		t.Fatal("SecretData echoed in a signature error")
	}

	// A user without KMS permissions is refused with KMS's own code.
	id, secret := newUserWithKey(t, c, "nokms")
	_, err = kmsClient(t, keyCred(id, secret)).ListSecrets(at(c, kms.CreateListSecretsRequest()))
	wantErr(t, err, "Forbidden.NoPermission", 403)
}

type ramSecretValue struct {
	AccessKeyId, AccessKeySecret, GenerateTimestamp string
}

func getRAMSecret(t *testing.T, c *cloud, cl *kms.Client, name, stage string) ramSecretValue {
	t.Helper()
	g := at(c, kms.CreateGetSecretValueRequest())
	g.SecretName, g.VersionStage = name, stage
	v, err := cl.GetSecretValue(g)
	if err != nil {
		t.Fatal(err)
	}
	var out ramSecretValue
	if err := json.Unmarshal([]byte(v.SecretData), &out); err != nil {
		t.Fatalf("SecretData %q: %v", v.SecretData, err)
	}
	return out
}

func TestKMSRAMCredentialsRotation(t *testing.T) {
	c := startCloud(t, "")
	id, secret := newUserWithKey(t, c, "app", "AliyunOSSReadOnlyAccess")
	cl := kmsClient(t, c.root())

	cs := at(c, kms.CreateCreateSecretRequest())
	cs.SecretName, cs.VersionId, cs.SecretType = "$Auto", "v1", "RAMCredentials"
	cs.ExtendedConfig = `{"SecretSubType":"RamUserAccessKey","UserName":"app"}`
	cs.SecretData = `{"AccessKeys":[{"AccessKeyId":"` + id + `","AccessKeySecret":"wrong-secret"}]}`
	_, err := cl.CreateSecret(cs)
	se := wantErr(t, err, "InvalidParameter", 400)
	if strings.Contains(se.Error(), "wrong-secret") {
		t.Fatal("error echoes the secret")
	}
	cs.SecretData = `{"AccessKeys":[{"AccessKeyId":"` + id + `","AccessKeySecret":"` + secret + `"}]}`
	created, err := cl.CreateSecret(cs)
	if err != nil {
		t.Fatal(err)
	}
	name := created.SecretName
	if name != "acs/ram/user/app" {
		t.Fatalf("secret name %q", name)
	}
	if v := getRAMSecret(t, c, cl, name, ""); v.AccessKeyId != id || v.AccessKeySecret != secret || v.GenerateTimestamp == "" {
		t.Fatalf("current = %+v", v)
	}

	put := at(c, kms.CreatePutSecretValueRequest())
	put.SecretName, put.VersionId, put.SecretData = name, "manual", "x"
	_, err = cl.PutSecretValue(put)
	wantErr(t, err, "InvalidParameter", 400)

	rot := at(c, kms.CreateRotateSecretRequest())
	rot.SecretName, rot.VersionId = name, "v2"
	if _, err := cl.RotateSecret(rot); err != nil {
		t.Fatal(err)
	}
	cur := getRAMSecret(t, c, cl, name, "ACSCurrent")
	prev := getRAMSecret(t, c, cl, name, "ACSPrevious")
	if cur.AccessKeyId == id || prev.AccessKeyId != id {
		t.Fatalf("after rotation current=%s previous=%s, original %s", cur.AccessKeyId, prev.AccessKeyId, id)
	}
	// Both keys work: the old one is not deleted by the rotation.
	for _, k := range []ramSecretValue{cur, prev} {
		gu := at(c, ram.CreateGetUserRequest())
		gu.UserName = "app"
		_, err := ramClient(t, keyCred(k.AccessKeyId, k.AccessKeySecret)).GetUser(gu)
		wantErr(t, err, "NoPermission", 403) // authenticated, merely not allowed RAM reads
	}

	// A second rotation makes room under RAM's two-key limit by deleting
	// the ACSPrevious key only.
	rot.VersionId = "v3"
	if _, err := cl.RotateSecret(rot); err != nil {
		t.Fatal(err)
	}
	lk := at(c, ram.CreateListAccessKeysRequest())
	lk.UserName = "app"
	keys, err := ramClient(t, c.root()).ListAccessKeys(lk)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys.AccessKeys.AccessKey {
		ids = append(ids, k.AccessKeyId)
	}
	cur3 := getRAMSecret(t, c, cl, name, "ACSCurrent")
	prev3 := getRAMSecret(t, c, cl, name, "ACSPrevious")
	if len(ids) != 2 || prev3.AccessKeyId != cur.AccessKeyId || strings.Contains(strings.Join(ids, ","), id) {
		t.Fatalf("keys %v, current %s previous %s (original %s)", ids, cur3.AccessKeyId, prev3.AccessKeyId, id)
	}
	_, err = ramClient(t, keyCred(id, secret)).ListUsers(at(c, ram.CreateListUsersRequest()))
	wantErr(t, err, "InvalidAccessKeyId.NotFound", 404)

	// Rotation's RAM changes are in the trail, made by KMS's service role.
	var ramChanges []string
	for _, e := range c.env.Trail.All() {
		if e.ServiceName == "Ram" && e.UserIdentity.Type == "assumed-role" && strings.HasPrefix(e.UserIdentity.UserName, kmsServiceRole) {
			ramChanges = append(ramChanges, e.EventName+":"+e.ResourceName)
		}
	}
	want := []string{"CreateAccessKey:" + cur.AccessKeyId, "DeleteAccessKey:" + id, "CreateAccessKey:" + cur3.AccessKeyId}
	if strings.Join(ramChanges, ",") != strings.Join(want, ",") {
		t.Fatalf("RAM changes in trail %v, want %v", ramChanges, want)
	}

	gen := at(c, kms.CreateRotateSecretRequest())
	gen.SecretName, gen.VersionId = "nope", "v1"
	_, err = cl.RotateSecret(gen)
	wantErr(t, err, "Forbidden.ResourceNotFound", 404)
}
