package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// InvokeFunction calls FC 3.0's InvokeFunction (ROA, POST
// /2023-03-30/functions/{name}/invocations) through alibaba-cloud-sdk-go's
// CommonRequest. Async invocations return once FC has accepted the event
// (202) and FC's async config then owns retries and destinations.
func (c Clients) InvokeFunction(ctx context.Context, function string, payload []byte, async bool) ([]byte, error) {
	endpoint := c.Endpoints.FC
	if endpoint == "" {
		if c.AccountID == "" {
			return nil, errors.New("invoke function: account ID is required for the FC endpoint")
		}
		endpoint = fmt.Sprintf("https://%s.%s.fc.aliyuncs.com", c.AccountID, c.Region)
	}
	cl, host, err := c.Generic(endpoint)
	if err != nil {
		return nil, fmt.Errorf("invoke function %s: %w", function, err)
	}
	req := requests.NewCommonRequest()
	req.Method = http.MethodPost
	req.Product = "FC"
	req.Version = "2023-03-30"
	req.PathPattern = "/2023-03-30/functions/[functionName]/invocations"
	req.PathParams["functionName"] = function
	// RoaRequest.BuildUrl formats "scheme://Domain:Port/path", so a
	// host:port endpoint (the local cloud) must be split.
	req.Domain = host
	if h, port, err := net.SplitHostPort(host); err == nil {
		req.Domain, req.Port = h, port
	}
	req.Headers["Content-Type"] = "application/json"
	req.Headers["x-fc-invocation-type"] = "Sync"
	if async {
		req.Headers["x-fc-invocation-type"] = "Async"
	}
	req.Content = payload
	// The SDK has no context support; bound the call by the context's deadline.
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			req.SetReadTimeout(d)
		}
	}
	resp, err := cl.ProcessCommonRequest(req)
	if err != nil {
		return nil, fmt.Errorf("invoke function %s: %w", function, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("invoke function %s: %w", function, err)
	}
	return resp.GetHttpContentBytes(), nil
}

// Invocation is what a function learns from FC about the current call.
type Invocation struct {
	RequestID  string
	Function   string
	Region     string
	AccountID  string
	RetryCount int
	Creds      Credentials
}

// FromContext reads FC's per-invocation context (the function role's STS
// credentials, region, account, request ID); ok is false outside FC.
func FromContext(ctx context.Context) (Invocation, bool) {
	fc, ok := fccontext.FromContext(ctx)
	if !ok || fc == nil {
		return Invocation{}, false
	}
	return Invocation{
		RequestID: fc.RequestID, Function: fc.Function.Name, Region: fc.Region, AccountID: fc.AccountId,
		RetryCount: fc.RetryCount,
		Creds: Credentials{AccessKeyID: fc.Credentials.AccessKeyId, AccessKeySecret: fc.Credentials.AccessKeySecret,
			SecurityToken: fc.Credentials.SecurityToken},
	}, true
}
