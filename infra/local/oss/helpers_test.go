package oss

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/akguard/akguard/infra/local/core"
)

const region = "cn-hangzhou"

// fixture is one local cloud with an OSS endpoint.
type fixture struct {
	t    testing.TB
	dir  string
	env  *core.Env
	srv  *Server
	http *httptest.Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return openFixture(t, t.TempDir())
}

func openFixture(t testing.TB, dir string) *fixture {
	t.Helper()
	env, err := core.Open(dir, "", region, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(env)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, env: env, srv: srv, http: httptest.NewServer(srv)}
	env.Endpoints["oss"] = f.http.URL
	t.Cleanup(f.close)
	return f
}

func (f *fixture) close() {
	if f.http == nil {
		return
	}
	f.http.Close()
	if err := f.srv.Close(); err != nil {
		f.t.Error(err)
	}
	if err := f.env.Close(); err != nil {
		f.t.Error(err)
	}
	f.http = nil
}

type clientOpt func(*sdk.Config)

func v1() clientOpt { return func(c *sdk.Config) { c.WithSignatureVersion(sdk.SignatureVersionV1) } }

func noRetry() clientOpt { return func(c *sdk.Config) { c.WithRetryMaxAttempts(1) } }

// client is an SDK client signing with the given key (V4 unless v1()).
func (f *fixture) client(id, secret, token string, opts ...clientOpt) *sdk.Client {
	cfg := sdk.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, token)).
		WithRegion(region).WithEndpoint(f.http.URL)
	for _, o := range opts {
		o(cfg)
	}
	return sdk.NewClient(cfg)
}

func (f *fixture) root(opts ...clientOpt) *sdk.Client {
	k := f.env.IAM.RootKey()
	return f.client(k.AccessKeyID, k.AccessKeySecret, "", opts...)
}

func (f *fixture) mkBucket(c *sdk.Client, name string) {
	f.t.Helper()
	if _, err := c.PutBucket(context.Background(), &sdk.PutBucketRequest{Bucket: sdk.Ptr(name)}); err != nil {
		f.t.Fatalf("put bucket %s: %v", name, err)
	}
}

func (f *fixture) put(c *sdk.Client, bucket, key string, body []byte) *sdk.PutObjectResult {
	f.t.Helper()
	res, err := c.PutObject(context.Background(), &sdk.PutObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr(key),
		Body: strings.NewReader(string(body))})
	if err != nil {
		f.t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return res
}

func (f *fixture) get(c *sdk.Client, bucket, key string) []byte {
	f.t.Helper()
	res, err := c.GetObject(context.Background(), &sdk.GetObjectRequest{Bucket: sdk.Ptr(bucket), Key: sdk.Ptr(key)})
	if err != nil {
		f.t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return data
}

// serviceError unwraps the SDK's error, failing the test if it is not an
// OSS error response.
func serviceError(t *testing.T, err error) *sdk.ServiceError {
	t.Helper()
	var se *sdk.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("want an OSS service error, got %v", err)
	}
	return se
}

func wantCode(t *testing.T, err error, status int, code string) *sdk.ServiceError {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	se := serviceError(t, err)
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, se.StatusCode, se.Code, se.Message)
	}
	return se
}

// payload returns deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	_, _ = r.Read(b)
	return b
}

// pinnedTransport dials the test server whatever host the URL names, so
// virtual-hosted URLs (bucket.oss-cn-hangzhou.aliyuncs.com) reach it.
func pinnedTransport(addr string) *http.Transport {
	d := &net.Dialer{}
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
}
