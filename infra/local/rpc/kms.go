package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

// KMS Secrets Manager (Kms 2016-01-20, endpoint kms.<region>.aliyuncs.com):
// enough of it for "RAM credentials managed by KMS". Parameters, shapes and
// error codes from the CreateSecret API reference (error table: 400
// InvalidParameter, 403 Forbidden.NoPermission, 404
// Forbidden.ResourceNotFound, 409 Rejected.ResourceExist, 409
// Rejected.ResourceInDeleteWindow) and services/kms/*.go. A RAMCredentials
// secret's SecretData is {"AccessKeys":[{"AccessKeyId","AccessKeySecret"}]}
// on creation, its name "$Auto" becomes "acs/ram/user/<user>", and
// rotation creates a new AccessKey as ACSCurrent while the previous one
// stays valid as ACSPrevious ("Manage and use RAM secrets": RAM deletes
// only the key before that, which is what keeps the user within RAM's two
// keys).

const (
	stageCurrent  = "ACSCurrent"
	stagePrevious = "ACSPrevious"
	kmsTimeLayout = "2006-01-02T15:04:05Z"
)

func (s *Server) kmsProduct() *product {
	w := func(fn handlerFunc) op { return op{fn: fn} }
	r := func(fn handlerFunc) op { return op{fn: fn, readOnly: true} }
	return &product{
		name: ProductKMS, version: "2016-01-20", service: "Kms", endpoint: "kms." + s.env.Region + ".aliyuncs.com",
		denyCode: "Forbidden.NoPermission", denyMsg: "You are not authorized to perform the operation.",
		ops: map[string]op{
			"CreateSecret":   w(s.kmsCreateSecret),
			"GetSecretValue": r(s.kmsGetSecretValue),
			"DescribeSecret": r(s.kmsDescribeSecret),
			"ListSecrets":    r(s.kmsListSecrets),
			"PutSecretValue": w(s.kmsPutSecretValue),
			"RotateSecret":   w(s.kmsRotateSecret),
			"DeleteSecret":   w(s.kmsDeleteSecret),
		},
	}
}

type secretVersion struct {
	VersionID  string   `json:"versionId"`
	Data       string   `json:"data"`
	DataType   string   `json:"dataType"`
	Stages     []string `json:"stages"`
	CreateTime string   `json:"createTime"`
}

func (v *secretVersion) has(stage string) bool {
	for _, s := range v.Stages {
		if s == stage {
			return true
		}
	}
	return false
}

type secretRecord struct {
	Name              string          `json:"name"`
	Type              string          `json:"type"` // Generic | RAMCredentials
	Description       string          `json:"description,omitempty"`
	ExtendedConfig    string          `json:"extendedConfig,omitempty"`
	UserName          string          `json:"userName,omitempty"` // RAMCredentials
	EncryptionKeyID   string          `json:"encryptionKeyId,omitempty"`
	AutomaticRotation string          `json:"automaticRotation"`
	RotationInterval  string          `json:"rotationInterval,omitempty"`
	CreateTime        string          `json:"createTime"`
	UpdateTime        string          `json:"updateTime"`
	LastRotationDate  string          `json:"lastRotationDate,omitempty"`
	PlannedDeleteTime string          `json:"plannedDeleteTime,omitempty"`
	Versions          []secretVersion `json:"versions"`
}

func (r *secretRecord) version(id, stage string) *secretVersion {
	for i := range r.Versions {
		v := &r.Versions[i]
		if (id != "" && v.VersionID == id) || (id == "" && v.has(stage)) {
			return v
		}
	}
	return nil
}

// promote gives ACSCurrent to v, moves the old current to ACSPrevious and
// drops versions left without any stage (Secrets Manager keeps only
// labelled versions).
func (r *secretRecord) promote(v secretVersion) {
	kept := r.Versions[:0]
	for _, old := range r.Versions {
		var stages []string
		for _, st := range old.Stages {
			switch st {
			case stageCurrent:
				stages = append(stages, stagePrevious)
			case stagePrevious:
			default:
				stages = append(stages, st)
			}
		}
		old.Stages = stages
		if len(stages) > 0 {
			kept = append(kept, old)
		}
	}
	r.Versions = append(kept, v)
}

// secretStore persists secrets as one JSON file (0600, write-then-rename).
type secretStore struct {
	mu      sync.Mutex
	path    string
	secrets map[string]*secretRecord
}

func openSecretStore(dir string) (*secretStore, error) {
	st := &secretStore{secrets: map[string]*secretRecord{}}
	if dir == "" {
		return st, nil
	}
	st.path = filepath.Join(dir, "secrets.json")
	data, err := os.ReadFile(st.path)
	switch {
	case os.IsNotExist(err):
		return st, nil
	case err != nil:
		return nil, fmt.Errorf("read kms secrets: %w", err)
	}
	if err := json.Unmarshal(data, &st.secrets); err != nil {
		return nil, fmt.Errorf("decode kms secrets %s: %w", st.path, err)
	}
	if st.secrets == nil {
		st.secrets = map[string]*secretRecord{}
	}
	return st, nil
}

func (st *secretStore) saveLocked() error {
	if st.path == "" {
		return nil
	}
	data, err := json.Marshal(st.secrets)
	if err != nil {
		return fmt.Errorf("encode kms secrets: %w", err)
	}
	tmp := st.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write kms secrets: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write kms secrets: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync kms secrets: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close kms secrets: %w", err)
	}
	if err := os.Rename(tmp, st.path); err != nil {
		return fmt.Errorf("replace kms secrets: %w", err)
	}
	return nil
}

// update runs fn on the store under its lock and persists when fn succeeds.
func (st *secretStore) update(fn func(m map[string]*secretRecord) error) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := fn(st.secrets); err != nil {
		return err
	}
	return st.saveLocked()
}

func (st *secretStore) view(fn func(m map[string]*secretRecord) error) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return fn(st.secrets)
}

var (
	errSecretNotFound = &apiError{Status: http.StatusNotFound, Code: "Forbidden.ResourceNotFound", Message: "The resource is not found."}
	errSecretExists   = &apiError{Status: http.StatusConflict, Code: "Rejected.ResourceExist", Message: "The resource already exists."}
	errSecretDeleting = &apiError{Status: http.StatusConflict, Code: "Rejected.ResourceInDeleteWindow", Message: "The secret is planned to be deleted."}
	secretNameRE      = regexp.MustCompile(`^[a-zA-Z0-9_/+=.@-]{1,64}$`)
)

func (s *Server) secretARN(name string) string {
	return fmt.Sprintf("acs:kms:%s:%s:secret/%s", s.env.Region, s.env.AccountID, name)
}

// live returns a secret that exists and is not scheduled for deletion. A
// secret whose deletion time has passed counts as gone; writers (which
// persist anyway) purge it, readers leave the file alone.
func (s *Server) live(m map[string]*secretRecord, name string, allowDeleting, purge bool) (*secretRecord, error) {
	r := m[name]
	if r == nil {
		return nil, errSecretNotFound
	}
	if r.PlannedDeleteTime != "" {
		if t, err := time.Parse(kmsTimeLayout, r.PlannedDeleteTime); err == nil && !s.now().Before(t) {
			if purge {
				delete(m, name)
			}
			return nil, errSecretNotFound
		}
		if !allowDeleting {
			return nil, errSecretDeleting
		}
	}
	return r, nil
}

func (s *Server) kmsStamp() string { return s.now().UTC().Format(kmsTimeLayout) }

// ramCredential is the secret value KMS returns for a managed RAM secret.
type ramCredential struct {
	AccessKeyID       string `json:"AccessKeyId"`
	AccessKeySecret   string `json:"AccessKeySecret"`
	GenerateTimestamp string `json:"GenerateTimestamp"`
}

func (s *Server) kmsCreateSecret(c *call) (obj, error) {
	name, err := c.require("SecretName")
	if err != nil {
		return nil, err
	}
	versionID, err := c.require("VersionId")
	if err != nil {
		return nil, err
	}
	data, err := c.require("SecretData")
	if err != nil {
		return nil, err
	}
	typ := c.get("SecretType")
	if typ == "" {
		typ = "Generic"
	}
	dataType := c.get("SecretDataType")
	if dataType == "" {
		dataType = "text"
	}
	if dataType != "text" && dataType != "binary" {
		return nil, invalidParam("InvalidParameter", "The parameter SecretDataType must be text or binary.")
	}
	rec := &secretRecord{Type: typ, Description: c.get("Description"), EncryptionKeyID: c.get("EncryptionKeyId"), AutomaticRotation: "Disabled"}
	switch typ {
	case "Generic":
		if strings.HasPrefix(name, "acs/") {
			return nil, invalidParam("InvalidParameter", "The name of a generic secret cannot start with acs/.")
		}
	case "RAMCredentials":
		var ext struct {
			SecretSubType string
			UserName      string
		}
		if err := json.Unmarshal([]byte(c.get("ExtendedConfig")), &ext); err != nil || ext.SecretSubType != "RamUserAccessKey" || ext.UserName == "" {
			return nil, invalidParam("InvalidParameter", `ExtendedConfig must be {"SecretSubType":"RamUserAccessKey","UserName":"<RAM user>"} for RAMCredentials.`)
		}
		if dataType != "text" {
			return nil, invalidParam("InvalidParameter", "SecretDataType must be text for RAMCredentials.")
		}
		if name == "$Auto" {
			name = "acs/ram/user/" + ext.UserName
		} else if !strings.HasPrefix(name, "acs/ram/user/") {
			return nil, invalidParam("InvalidParameter", "The name of a RAMCredentials secret must be $Auto.")
		}
		cred, err := s.ramSecretData(ext.UserName, data)
		if err != nil {
			return nil, err
		}
		data = cred
		rec.UserName, rec.ExtendedConfig = ext.UserName, c.get("ExtendedConfig")
	default:
		return nil, invalidParam("InvalidParameter", "SecretType %q is not supported by the local KMS (Generic, RAMCredentials).", typ)
	}
	if !secretNameRE.MatchString(name) {
		return nil, invalidParam("InvalidParameter", "The parameter SecretName is invalid.")
	}
	rotate, err := parseBool("EnableAutomaticRotation", c.get("EnableAutomaticRotation"))
	if err != nil {
		return nil, err
	}
	if rotate {
		if typ == "Generic" {
			return nil, invalidParam("InvalidParameter", "Automatic rotation is not supported for generic secrets.")
		}
		iv, err := rotationSeconds(c.get("RotationInterval"))
		if err != nil {
			return nil, err
		}
		rec.AutomaticRotation, rec.RotationInterval = "Enabled", iv
	}
	c.setResource("ACS::KMS::Secret", name)
	if err := c.authorize("kms:CreateSecret", s.secretARN(name)); err != nil {
		return nil, err
	}
	now := s.kmsStamp()
	rec.Name, rec.CreateTime, rec.UpdateTime = name, now, now
	rec.Versions = []secretVersion{{VersionID: versionID, Data: data, DataType: dataType, Stages: []string{stageCurrent}, CreateTime: now}}
	err = s.secrets.update(func(m map[string]*secretRecord) error {
		if _, err := s.live(m, name, true, true); err == nil {
			return errSecretExists
		}
		m[name] = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := obj{"Arn": s.secretARN(name), "SecretName": name, "VersionId": versionID, "SecretType": typ,
		"AutomaticRotation": rec.AutomaticRotation}
	if rec.ExtendedConfig != "" {
		out["ExtendedConfig"] = rec.ExtendedConfig
	}
	if rec.RotationInterval != "" {
		out["RotationInterval"] = rec.RotationInterval
	}
	return out, nil
}

// rotationSeconds normalises "7d", "12h", "30m", "604800s" to "<n>s"
// within the documented 6 h..8760 h range.
func rotationSeconds(v string) (string, error) {
	bad := invalidParam("InvalidParameter", "The parameter RotationInterval must be between 6h and 8760h, e.g. 7d.")
	if len(v) < 2 {
		return "", bad
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 {
		return "", bad
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[v[len(v)-1]]
	if unit == 0 {
		return "", bad
	}
	d := time.Duration(n) * unit
	if d < 6*time.Hour || d > 8760*time.Hour {
		return "", bad
	}
	return fmt.Sprintf("%ds", int64(d/time.Second)), nil
}

// ramSecretData checks the AccessKeys given for a RAM user and returns the
// stored value for the newest one.
func (s *Server) ramSecretData(user, data string) (string, error) {
	var in struct {
		AccessKeys []struct {
			AccessKeyID     string `json:"AccessKeyId"`
			AccessKeySecret string `json:"AccessKeySecret"`
		}
	}
	if err := json.Unmarshal([]byte(data), &in); err != nil || len(in.AccessKeys) == 0 {
		return "", invalidParam("InvalidParameter", `SecretData must be {"AccessKeys":[{"AccessKeyId":"...","AccessKeySecret":"..."}]} for RAMCredentials.`)
	}
	if _, err := s.env.IAM.GetUser(user); err != nil {
		return "", invalidParam("InvalidParameter", "The RAM user in ExtendedConfig does not exist.")
	}
	var newest ramCredential
	for _, k := range in.AccessKeys {
		have, ok := s.env.IAM.GetAccessKey(k.AccessKeyID)
		if !ok || have.UserName != user || have.AccessKeySecret != k.AccessKeySecret {
			// Never echo the secret: name only the key ID.
			return "", invalidParam("InvalidParameter", "The AccessKey %s does not belong to the RAM user or its secret is wrong.", k.AccessKeyID)
		}
		if have.CreateDate >= newest.GenerateTimestamp {
			newest = ramCredential{AccessKeyID: have.AccessKeyID, AccessKeySecret: have.AccessKeySecret, GenerateTimestamp: have.CreateDate}
		}
	}
	b, err := json.Marshal(newest)
	if err != nil {
		return "", fmt.Errorf("encode ram credential: %w", err)
	}
	return string(b), nil
}

func (s *Server) kmsSecretName(c *call, action string) (string, error) {
	name, err := c.require("SecretName")
	if err != nil {
		return "", err
	}
	c.setResource("ACS::KMS::Secret", name)
	if err := c.authorize("kms:"+action, s.secretARN(name)); err != nil {
		return "", err
	}
	return name, nil
}

func (s *Server) kmsGetSecretValue(c *call) (obj, error) {
	name, err := s.kmsSecretName(c, "GetSecretValue")
	if err != nil {
		return nil, err
	}
	fetchExt, err := parseBool("FetchExtendedConfig", c.get("FetchExtendedConfig"))
	if err != nil {
		return nil, err
	}
	stage := c.get("VersionStage")
	if stage == "" {
		stage = stageCurrent
	}
	var out obj
	err = s.secrets.view(func(m map[string]*secretRecord) error {
		r, err := s.live(m, name, false, false)
		if err != nil {
			return err
		}
		v := r.version(c.get("VersionId"), stage)
		if v == nil {
			return errSecretNotFound
		}
		out = obj{"SecretName": r.Name, "SecretType": r.Type, "SecretData": v.Data, "SecretDataType": v.DataType,
			"VersionId": v.VersionID, "CreateTime": v.CreateTime, "VersionStages": obj{"VersionStage": append([]string{}, v.Stages...)},
			"AutomaticRotation": r.AutomaticRotation, "RotationInterval": r.RotationInterval, "LastRotationDate": r.LastRotationDate}
		if fetchExt {
			out["ExtendedConfig"] = r.ExtendedConfig
		}
		return nil
	})
	return out, err
}

func (s *Server) describeJSON(r *secretRecord) obj {
	return obj{"Arn": s.secretARN(r.Name), "SecretName": r.Name, "SecretType": r.Type, "Description": r.Description,
		"CreateTime": r.CreateTime, "UpdateTime": r.UpdateTime, "EncryptionKeyId": r.EncryptionKeyID,
		"ExtendedConfig": r.ExtendedConfig, "AutomaticRotation": r.AutomaticRotation, "RotationInterval": r.RotationInterval,
		"LastRotationDate": r.LastRotationDate, "PlannedDeleteTime": r.PlannedDeleteTime, "Tags": obj{"Tag": []obj{}}}
}

func (s *Server) kmsDescribeSecret(c *call) (obj, error) {
	name, err := s.kmsSecretName(c, "DescribeSecret")
	if err != nil {
		return nil, err
	}
	var out obj
	err = s.secrets.view(func(m map[string]*secretRecord) error {
		r, err := s.live(m, name, true, false)
		if err != nil {
			return err
		}
		out = s.describeJSON(r)
		return nil
	})
	return out, err
}

func (s *Server) kmsListSecrets(c *call) (obj, error) {
	if err := c.authorize("kms:ListSecrets", "*"); err != nil {
		return nil, err
	}
	pageNum, size := 1, 10
	if v := c.get("PageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, invalidParam("InvalidParameter", "The parameter PageNumber is invalid.")
		}
		pageNum = n
	}
	if v := c.get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, invalidParam("InvalidParameter", "The parameter PageSize must be between 1 and 100.")
		}
		size = n
	}
	var list []obj
	total := 0
	err := s.secrets.view(func(m map[string]*secretRecord) error {
		names := sortedKeys(m)
		var live []*secretRecord
		for _, n := range names {
			if r, err := s.live(m, n, true, false); err == nil {
				live = append(live, r)
			}
		}
		total = len(live)
		from := min((pageNum-1)*size, total)
		to := min(from+size, total)
		for _, r := range live[from:to] {
			list = append(list, obj{"SecretName": r.Name, "SecretType": r.Type, "CreateTime": r.CreateTime,
				"UpdateTime": r.UpdateTime, "PlannedDeleteTime": r.PlannedDeleteTime})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []obj{}
	}
	return obj{"PageNumber": pageNum, "PageSize": size, "TotalCount": total, "SecretList": obj{"Secret": list}}, nil
}

func (s *Server) kmsPutSecretValue(c *call) (obj, error) {
	name, err := s.kmsSecretName(c, "PutSecretValue")
	if err != nil {
		return nil, err
	}
	versionID, err := c.require("VersionId")
	if err != nil {
		return nil, err
	}
	data, err := c.require("SecretData")
	if err != nil {
		return nil, err
	}
	dataType := c.get("SecretDataType")
	if dataType == "" {
		dataType = "text"
	}
	stages := []string{stageCurrent}
	if v := c.get("VersionStages"); v != "" {
		if err := json.Unmarshal([]byte(v), &stages); err != nil || len(stages) == 0 {
			return nil, invalidParam("InvalidParameter", `The parameter VersionStages must be a JSON array such as ["ACSCurrent"].`)
		}
	}
	err = s.secrets.update(func(m map[string]*secretRecord) error {
		r, err := s.live(m, name, false, true)
		if err != nil {
			return err
		}
		if r.Type != "Generic" {
			return invalidParam("InvalidParameter", "PutSecretValue is not supported for managed secrets; use RotateSecret.")
		}
		if r.version(versionID, "") != nil {
			return errSecretExists
		}
		now := s.kmsStamp()
		v := secretVersion{VersionID: versionID, Data: data, DataType: dataType, CreateTime: now}
		current := false
		for _, st := range stages {
			if st == stageCurrent {
				current = true
			} else if st != stagePrevious {
				v.Stages = append(v.Stages, st)
			}
		}
		if current {
			v.Stages = append([]string{stageCurrent}, v.Stages...)
			r.promote(v)
		} else {
			r.Versions = append(r.Versions, v)
		}
		r.UpdateTime = now
		stages = v.Stages
		return nil
	})
	if err != nil {
		return nil, err
	}
	return obj{"SecretName": name, "VersionId": versionID, "VersionStages": obj{"VersionStage": stages}}, nil
}

// kmsRotateSecret rotates a managed RAM secret: a new AccessKey becomes
// ACSCurrent, the previous one stays valid as ACSPrevious, and the key
// before that (if the user is at RAM's two-key limit) is deleted.
func (s *Server) kmsRotateSecret(c *call) (obj, error) {
	name, err := s.kmsSecretName(c, "RotateSecret")
	if err != nil {
		return nil, err
	}
	versionID, err := c.require("VersionId")
	if err != nil {
		return nil, err
	}
	var user, deleted, created string
	err = s.secrets.update(func(m map[string]*secretRecord) error {
		r, err := s.live(m, name, false, true)
		if err != nil {
			return err
		}
		if r.Type != "RAMCredentials" {
			return invalidParam("InvalidParameter", "Only managed secrets can be rotated; %s is %s.", name, r.Type)
		}
		if r.version(versionID, "") != nil {
			return errSecretExists
		}
		keys, err := s.env.IAM.ListAccessKeys(r.UserName)
		if err != nil {
			return err
		}
		user = r.UserName
		if len(keys) >= 2 {
			if prev := r.version("", stagePrevious); prev != nil {
				var old ramCredential
				if json.Unmarshal([]byte(prev.Data), &old) == nil {
					err := s.env.IAM.DeleteAccessKey(r.UserName, old.AccessKeyID)
					if err != nil && !isNotFound(err) {
						return err
					}
					if err == nil {
						deleted = old.AccessKeyID
					}
				}
			}
		}
		k, err := s.env.IAM.CreateAccessKey(r.UserName)
		if err != nil {
			return err
		}
		created = k.AccessKeyID
		data, err := json.Marshal(ramCredential{AccessKeyID: k.AccessKeyID, AccessKeySecret: k.AccessKeySecret, GenerateTimestamp: k.CreateDate})
		if err != nil {
			return fmt.Errorf("encode ram credential: %w", err)
		}
		now := s.kmsStamp()
		r.promote(secretVersion{VersionID: versionID, Data: string(data), DataType: "text", Stages: []string{stageCurrent}, CreateTime: now})
		r.UpdateTime, r.LastRotationDate = now, now
		return nil
	})
	// RAM changes happened even if persisting the secret then failed.
	if deleted != "" {
		s.recordServiceRAMCall(c, "DeleteAccessKey", user, deleted)
	}
	if created != "" {
		s.recordServiceRAMCall(c, "CreateAccessKey", user, created)
	}
	if err != nil {
		return nil, err
	}
	return obj{"Arn": s.secretARN(name), "SecretName": name, "VersionId": versionID}, nil
}

// kmsServiceRole is the service-linked role KMS uses to manage RAM secrets.
const kmsServiceRole = "AliyunServiceRoleForKMSSecretsManagerForRAM"

// recordServiceRAMCall puts the RAM calls KMS makes on the caller's behalf
// into the trail, as the real service does through its service-linked role,
// so an audit sees keys appear and disappear during rotation. (The exact
// userIdentity values of service-made events are not documented; these
// follow the assumed-role shape.)
func (s *Server) recordServiceRAMCall(c *call, action, user, keyID string) {
	s.env.Record(c.ctx, core.Call{
		Service: "Ram", Action: action, Global: true, EventSource: "ram.aliyuncs.com", APIVersion: "2015-05-01",
		Principal: iam.Principal{Type: "assumed-role", AccountID: s.env.AccountID, PrincipalID: kmsServiceRole + ":kms",
			UserName: kmsServiceRole + ":kms", RoleName: kmsServiceRole, SessionName: "kms"},
		SourceIP: "kms.aliyuncs.com", UserAgent: "kms.aliyuncs.com", RequestID: c.requestID,
		ResourceName: keyID, ResourceType: typeAccessKey, Params: map[string]any{"UserName": user, "UserAccessKeyId": keyID},
	})
}

func isNotFound(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusNotFound
	}
	return toAPIError(err).Status == http.StatusNotFound
}

func (s *Server) kmsDeleteSecret(c *call) (obj, error) {
	name, err := s.kmsSecretName(c, "DeleteSecret")
	if err != nil {
		return nil, err
	}
	force, err := parseBool("ForceDeleteWithoutRecovery", c.get("ForceDeleteWithoutRecovery"))
	if err != nil {
		return nil, err
	}
	days := 30
	if v := c.get("RecoveryWindowInDays"); v != "" && !force {
		if days, err = strconv.Atoi(v); err != nil || days < 7 || days > 30 {
			return nil, invalidParam("InvalidParameter", "The parameter RecoveryWindowInDays must be between 7 and 30.")
		}
	}
	planned := ""
	err = s.secrets.update(func(m map[string]*secretRecord) error {
		r, err := s.live(m, name, true, true)
		if err != nil {
			return err
		}
		if force {
			delete(m, name)
			planned = s.kmsStamp()
			return nil
		}
		r.PlannedDeleteTime = s.now().UTC().Add(time.Duration(days) * 24 * time.Hour).Format(kmsTimeLayout)
		planned = r.PlannedDeleteTime
		return nil
	})
	if err != nil {
		return nil, err
	}
	return obj{"SecretName": name, "PlannedDeleteTime": planned}, nil
}
