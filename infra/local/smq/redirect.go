package smq

import (
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Endpoint is the SMQ account endpoint the SDK must be configured with,
// http://<AccountId>.mns.<region>.aliyuncs.com. aliyun-mns-go-sdk panics on
// any endpoint that does not split into exactly five dot-separated parts
// (client.go NewAliMNSClientWithConfig) and derives the account and region
// from it, so a loopback address cannot be used directly: configure this
// endpoint and redirect the transport with Redirect.
func Endpoint(accountID, region string) string {
	return fmt.Sprintf("http://%s.mns.%s.aliyuncs.com", accountID, region)
}

// Redirect returns a transport that sends every request of an SMQ SDK
// client to addr ("127.0.0.1:port", or an httptest URL), keeping the Host
// header and request URI the SDK signed. Install it with
// client.SetTransport(smq.Redirect(addr)). Connections are kept alive and
// reused, like the SDK's own transport.
func Redirect(addr string) fasthttp.RoundTripper {
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	return &redirect{hc: &fasthttp.HostClient{
		Addr: addr,
		// Long polls hold a request for up to 30 s (ReceiveMessage
		// waitseconds); the SDK's own client timeout is 35 s.
		ReadTimeout:  40 * time.Second,
		WriteTimeout: 40 * time.Second,
	}}
}

type redirect struct{ hc *fasthttp.HostClient }

func (r *redirect) RoundTrip(_ *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	// The outer client already retries idempotent requests; retrying here
	// too would double a POST that reached the server.
	if err := r.hc.Do(req, resp); err != nil {
		return false, fmt.Errorf("smq redirect to %s: %w", r.hc.Addr, err)
	}
	return false, nil
}
