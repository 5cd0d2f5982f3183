package aliyun

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/valyala/fasthttp"
)

// SMQ returns a Simple Message Queue (MNS) client. The SDK insists on an
// endpoint of the form http(s)://<uid>.mns.<region>.aliyuncs.com (it
// panics otherwise, see ../shared/reference/cloud-apis.md B4.2), so the
// local cloud is reached by keeping that endpoint for signing and swapping
// the transport for one that dials the local address.
func (c Clients) SMQ() (ali_mns.MNSClient, error) {
	if c.AccountID == "" || c.Region == "" {
		return nil, fmt.Errorf("create smq client: account ID and region are required")
	}
	endpoint := fmt.Sprintf("https://%s.mns.%s.aliyuncs.com", c.AccountID, c.Region)
	if c.Endpoints.SMQ != "" {
		endpoint = fmt.Sprintf("http://%s.mns.%s.aliyuncs.com", c.AccountID, c.Region)
	}
	cl := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: endpoint, AccessKeyId: c.Creds.AccessKeyID, AccessKeySecret: c.Creds.AccessKeySecret,
		Token: c.Creds.SecurityToken, TimeoutSecond: int64(c.timeout() / time.Second), MaxConnsPerHost: 16,
	})
	if c.Endpoints.SMQ != "" {
		u, err := url.Parse(c.Endpoints.SMQ)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("create smq client: invalid endpoint %q", c.Endpoints.SMQ)
		}
		cl.SetTransport(&redirect{addr: u.Host, timeout: c.timeout()})
	}
	return cl, nil
}

// redirect sends every request to one address, leaving the Host header the
// SDK signed untouched.
type redirect struct {
	addr    string
	timeout time.Duration
}

func (r *redirect) RoundTrip(_ *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	conn, err := net.DialTimeout("tcp", r.addr, r.timeout)
	if err != nil {
		return false, fmt.Errorf("dial smq endpoint: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(r.timeout))
	if _, err := req.WriteTo(conn); err != nil {
		return false, fmt.Errorf("write smq request: %w", err)
	}
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		return false, fmt.Errorf("read smq response: %w", err)
	}
	// The connection is not reused: tell fasthttp to close it.
	return true, nil
}
