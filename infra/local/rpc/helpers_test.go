package rpc

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/akguard/akguard/infra/local/core"
)

const region = "cn-hangzhou"

// cloud is one running local RPC endpoint over an Env.
type cloud struct {
	t    *testing.T
	dir  string
	env  *core.Env
	srv  *Server
	ts   *httptest.Server
	host string
	// last is the most recent raw request, for replay tests.
	mu       sync.Mutex
	last     recorded
	lastResp []byte
}

// teeWriter keeps a copy of the response body for golden tests.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

// lastBody is the raw body of the most recent response.
func (c *cloud) lastBody() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.lastResp...)
}

type recorded struct {
	method, url string
	body        []byte
}

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// startCloud serves all five products on one listener; dir "" keeps state
// in memory.
func startCloud(t *testing.T, dir string) *cloud {
	t.Helper()
	c := &cloud{t: t, dir: dir}
	c.open()
	t.Cleanup(c.close)
	return c
}

func (c *cloud) open() {
	c.t.Helper()
	env, err := core.Open(c.dir, "", region, quietLog())
	if err != nil {
		c.t.Fatal(err)
	}
	srv, err := New(env)
	if err != nil {
		c.t.Fatal(err)
	}
	c.env, c.srv = env, srv
	c.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.mu.Lock()
		c.last = recorded{method: r.Method, url: r.URL.String(), body: body}
		c.mu.Unlock()
		tw := &teeWriter{ResponseWriter: w}
		srv.ServeHTTP(tw, r)
		c.mu.Lock()
		c.lastResp = tw.buf.Bytes()
		c.mu.Unlock()
	}))
	c.host = strings.TrimPrefix(c.ts.URL, "http://")
}

func (c *cloud) close() {
	if c.ts == nil {
		return
	}
	c.ts.Close()
	if err := c.srv.Close(); err != nil {
		c.t.Error(err)
	}
	if err := c.env.Close(); err != nil {
		c.t.Error(err)
	}
	c.ts = nil
}

// restart closes everything and reopens the same data dir.
func (c *cloud) restart() {
	c.t.Helper()
	c.close()
	c.open()
}

func (c *cloud) root() auth.Credential {
	k := c.env.IAM.RootKey()
	return credentials.NewAccessKeyCredential(k.AccessKeyID, k.AccessKeySecret)
}

func keyCred(id, secret string) auth.Credential {
	return credentials.NewAccessKeyCredential(id, secret)
}

func stsCred(id, secret, token string) auth.Credential {
	return credentials.NewStsTokenCredential(id, secret, token)
}

// Retries are off so injected 5xx reach the test unchanged.
func sdkConfig() *sdk.Config { return sdk.NewConfig().WithAutoRetry(false) }

func ramClient(t *testing.T, cr auth.Credential) *ram.Client {
	t.Helper()
	cl, err := ram.NewClientWithOptions(region, sdkConfig(), cr)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func imsClient(t *testing.T, cr auth.Credential) *ims.Client {
	t.Helper()
	cl, err := ims.NewClientWithOptions(region, sdkConfig(), cr)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func stsClient(t *testing.T, cr auth.Credential) *sts.Client {
	t.Helper()
	cl, err := sts.NewClientWithOptions(region, sdkConfig(), cr)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func trailClient(t *testing.T, cr auth.Credential) *actiontrail.Client {
	t.Helper()
	cl, err := actiontrail.NewClientWithOptions(region, sdkConfig(), cr)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func kmsClient(t *testing.T, cr auth.Credential) *kms.Client {
	t.Helper()
	cl, err := kms.NewClientWithOptions(region, sdkConfig(), cr)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// at points an SDK request at the local endpoint (cloud-apis.md B3.2).
func at[R requests.AcsRequest](c *cloud, r R) R {
	r.SetDomain(c.host)
	r.SetScheme("http")
	return r
}

// wantErr asserts an SDK call failed with a server error code and status.
func wantErr(t *testing.T, err error, code string, status int) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want server error %s, got %v", code, err)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("want %s/%d, got %s/%d: %s", code, status, se.ErrorCode(), se.HttpStatus(), se.Message())
	}
	return se
}
