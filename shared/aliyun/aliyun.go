// Package aliyun builds the Alibaba Cloud SDK clients akguard uses — OSS
// (SDK v2), RAM, IMS, STS, ActionTrail, KMS (alibaba-cloud-sdk-go), FC
// InvokeFunction (CommonRequest) and SMQ (aliyun-mns-go-sdk) — from one set
// of credentials, pointing them at the public cloud or, when endpoints are
// given, at the local cloud.
package aliyun

import (
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	sdkcred "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/akguard/akguard/shared/config"
)

// Credentials are what a function runs with: its role's STS credentials
// from the FC context, or a long-term pair for the CLI.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// String and LogValue keep the secret and token out of every log line.
func (c Credentials) String() string { return c.AccessKeyID + ":<redacted>" }

// LogValue implements slog.LogValuer.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Clients builds SDK clients for one account and region.
type Clients struct {
	Region    string
	AccountID string
	Creds     Credentials
	Endpoints config.Endpoints
	// Internal selects OSS's internal endpoint (inside FC, same region).
	Internal bool
	Timeout  time.Duration
}

func (c Clients) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}

// OSS returns an OSS SDK v2 client.
func (c Clients) OSS() *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(osscred.NewStaticCredentialsProvider(c.Creds.AccessKeyID, c.Creds.AccessKeySecret, c.Creds.SecurityToken)).
		WithRegion(c.Region).
		WithReadWriteTimeout(c.timeout())
	if c.Endpoints.OSS != "" {
		// The local cloud listens on one host:port, so buckets go in the path.
		cfg = cfg.WithEndpoint(c.Endpoints.OSS).WithUsePathStyle(true)
	} else if c.Internal {
		cfg = cfg.WithUseInternalEndpoint(true)
	}
	return oss.NewClient(cfg)
}

func (c Clients) rpcConfig(endpoint string) (*sdk.Config, string, error) {
	cfg := sdk.NewConfig().WithTimeout(c.timeout()).WithAutoRetry(false)
	if endpoint == "" {
		return cfg.WithScheme("HTTPS"), "", nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, "", fmt.Errorf("parse endpoint %q: invalid URL", endpoint)
	}
	if u.Scheme == "http" {
		cfg = cfg.WithScheme("HTTP")
	} else {
		cfg = cfg.WithScheme("HTTPS")
	}
	return cfg, u.Host, nil
}

func (c Clients) credential() auth.Credential {
	if c.Creds.SecurityToken != "" {
		return sdkcred.NewStsTokenCredential(c.Creds.AccessKeyID, c.Creds.AccessKeySecret, c.Creds.SecurityToken)
	}
	return sdkcred.NewAccessKeyCredential(c.Creds.AccessKeyID, c.Creds.AccessKeySecret)
}

// RAM returns a RAM (2015-05-01) client.
func (c Clients) RAM() (*ram.Client, error) {
	cfg, host, err := c.rpcConfig(c.Endpoints.RAM)
	if err != nil {
		return nil, err
	}
	cl, err := ram.NewClientWithOptions(c.Region, cfg, c.credential())
	if err != nil {
		return nil, fmt.Errorf("create ram client: %w", err)
	}
	cl.Domain = host
	return cl, nil
}

// IMS returns an IMS (2019-08-15) client.
func (c Clients) IMS() (*ims.Client, error) {
	cfg, host, err := c.rpcConfig(c.Endpoints.IMS)
	if err != nil {
		return nil, err
	}
	cl, err := ims.NewClientWithOptions(c.Region, cfg, c.credential())
	if err != nil {
		return nil, fmt.Errorf("create ims client: %w", err)
	}
	cl.Domain = host
	return cl, nil
}

// STS returns an STS (2015-04-01) client.
func (c Clients) STS() (*sts.Client, error) {
	cfg, host, err := c.rpcConfig(c.Endpoints.STS)
	if err != nil {
		return nil, err
	}
	cl, err := sts.NewClientWithOptions(c.Region, cfg, c.credential())
	if err != nil {
		return nil, fmt.Errorf("create sts client: %w", err)
	}
	cl.Domain = host
	return cl, nil
}

// ActionTrail returns an ActionTrail (2020-07-06) client.
func (c Clients) ActionTrail() (*actiontrail.Client, error) {
	cfg, host, err := c.rpcConfig(c.Endpoints.ActionTrail)
	if err != nil {
		return nil, err
	}
	cl, err := actiontrail.NewClientWithOptions(c.Region, cfg, c.credential())
	if err != nil {
		return nil, fmt.Errorf("create actiontrail client: %w", err)
	}
	cl.Domain = host
	return cl, nil
}

// KMS returns a KMS (2016-01-20) client.
func (c Clients) KMS() (*kms.Client, error) {
	cfg, host, err := c.rpcConfig(c.Endpoints.KMS)
	if err != nil {
		return nil, err
	}
	cl, err := kms.NewClientWithOptions(c.Region, cfg, c.credential())
	if err != nil {
		return nil, fmt.Errorf("create kms client: %w", err)
	}
	cl.Domain = host
	return cl, nil
}

// Generic returns a core SDK client for CommonRequest calls (FC's
// InvokeFunction); the returned host is the endpoint to put in
// request.Domain (FC's is per account: <uid>.<region>.fc.aliyuncs.com).
func (c Clients) Generic(endpoint string) (*sdk.Client, string, error) {
	cfg, host, err := c.rpcConfig(endpoint)
	if err != nil {
		return nil, "", err
	}
	cl, err := sdk.NewClientWithOptions(c.Region, cfg, c.credential())
	if err != nil {
		return nil, "", fmt.Errorf("create sdk client: %w", err)
	}
	return cl, host, nil
}
