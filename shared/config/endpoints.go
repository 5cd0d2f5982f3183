// Package config reads akguard's configuration: environment variables for
// the functions and the local cloud's endpoints file.
package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
)

// EndpointsEnv names the variable the local Function Compute sets to the
// path of the local cloud's endpoints.json; on the real cloud it is unset
// and the SDKs' own endpoint resolution applies.
const EndpointsEnv = "AKGUARD_LOCAL_ENDPOINTS"

// Endpoints overrides service base URLs ("http://127.0.0.1:PORT"). An empty
// field means the service's public endpoint.
type Endpoints struct {
	OSS         string `json:"oss"`
	RAM         string `json:"ram"`
	IMS         string `json:"ims"`
	STS         string `json:"sts"`
	ActionTrail string `json:"actiontrail"`
	KMS         string `json:"kms"`
	SMQ         string `json:"smq"`
	FC          string `json:"fc"`
}

// LocalCloud is the document `akguard local` writes to DIR/endpoints.json.
type LocalCloud struct {
	AccountID   string    `json:"account_id"`
	Region      string    `json:"region"`
	Credentials KeyPair   `json:"credentials"`
	Endpoints   Endpoints `json:"endpoints"`
}

// KeyPair is a long-term AccessKey pair as written in endpoints.json.
type KeyPair struct {
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
}

// String never prints the secret.
func (k KeyPair) String() string { return k.AccessKeyID + ":<redacted>" }

// ReadLocalCloud loads an endpoints.json file.
func ReadLocalCloud(path string) (LocalCloud, error) {
	var lc LocalCloud
	data, err := os.ReadFile(path)
	if err != nil {
		return lc, fmt.Errorf("read endpoints file: %w", err)
	}
	if err := json.Unmarshal(data, &lc); err != nil {
		return lc, fmt.Errorf("decode endpoints file %s: %w", path, err)
	}
	for name, u := range lc.Endpoints.all() {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return lc, fmt.Errorf("endpoints file %s: %s endpoint %q is not an http(s) URL", path, name, u)
		}
	}
	return lc, nil
}

// EndpointsFromEnv returns the local endpoints when EndpointsEnv is set,
// and zero Endpoints (public cloud) otherwise.
func EndpointsFromEnv() (Endpoints, error) {
	p := os.Getenv(EndpointsEnv)
	if p == "" {
		return Endpoints{}, nil
	}
	lc, err := ReadLocalCloud(p)
	if err != nil {
		return Endpoints{}, err
	}
	return lc.Endpoints, nil
}

func (e Endpoints) all() map[string]string {
	return map[string]string{"oss": e.OSS, "ram": e.RAM, "ims": e.IMS, "sts": e.STS,
		"actiontrail": e.ActionTrail, "kms": e.KMS, "smq": e.SMQ, "fc": e.FC}
}
