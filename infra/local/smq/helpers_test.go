package smq

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/akguard/akguard/infra/local/core"
)

// fixture is one local cloud with an SMQ server behind httptest.
type fixture struct {
	t   testing.TB
	dir string
	env *core.Env
	srv *Server
	hs  *httptest.Server
}

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// newFixture opens a cloud persisted in dir ("" = a fresh temp dir).
func newFixture(t testing.TB, dir string) *fixture {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return openFixture(t, dir)
}

// openFixture opens a cloud in dir; "" keeps everything in memory.
func openFixture(t testing.TB, dir string) *fixture {
	t.Helper()
	env, err := core.Open(dir, "", "", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(env)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, env: env, srv: srv, hs: httptest.NewServer(srv)}
	t.Cleanup(f.close)
	return f
}

func (f *fixture) close() {
	if f.hs == nil {
		return
	}
	f.srv.Close() // wakes long polls so the httptest server can drain
	f.hs.Close()
	f.env.Close()
	f.hs = nil
}

// restart closes the server and opens a new one on the same directory.
func (f *fixture) restart() *fixture {
	f.t.Helper()
	f.close()
	return newFixture(f.t, f.dir)
}

func (f *fixture) client(keyID, secret, token string) ali_mns.MNSClient {
	c := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: Endpoint(f.env.AccountID, f.env.Region), AccessKeyId: keyID, AccessKeySecret: secret, Token: token,
		TimeoutSecond: 40,
	})
	c.SetTransport(Redirect(f.hs.URL))
	return c
}

func (f *fixture) rootClient() ali_mns.MNSClient {
	k := f.env.IAM.RootKey()
	return f.client(k.AccessKeyID, k.AccessKeySecret, "")
}

// userClient creates a RAM user with the given system/custom policies and
// returns a client signing with its new key.
func (f *fixture) userClient(name string, policies ...[2]string) (ali_mns.MNSClient, string) {
	f.t.Helper()
	if _, err := f.env.IAM.CreateUser(name, "", ""); err != nil {
		f.t.Fatal(err)
	}
	for _, p := range policies {
		if err := f.env.IAM.AttachPolicyToUser(p[0], p[1], name); err != nil {
			f.t.Fatal(err)
		}
	}
	k, err := f.env.IAM.CreateAccessKey(name)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.client(k.AccessKeyID, k.AccessKeySecret, ""), k.AccessKeyID
}

func (f *fixture) createQueue(c ali_mns.MNSClient, name string, opts ...ali_mns.QueueOption) ali_mns.AliMNSQueue {
	f.t.Helper()
	if err := ali_mns.NewMNSQueueManager(c).CreateQueueWithOptions(name, opts...); err != nil {
		f.t.Fatalf("create queue %s: %v", name, err)
	}
	return ali_mns.NewMNSQueue(name, c)
}

// receive performs one ReceiveMessage (or a long poll when wait > 0).
func receive(q ali_mns.AliMNSQueue, wait int64) (ali_mns.MessageReceiveResponse, error) {
	rc := make(chan ali_mns.MessageReceiveResponse, 1)
	ec := make(chan error, 1)
	if wait > 0 {
		q.ReceiveMessage(rc, ec, wait)
	} else {
		q.ReceiveMessage(rc, ec)
	}
	select {
	case r := <-rc:
		return r, nil
	case err := <-ec:
		return ali_mns.MessageReceiveResponse{}, err
	}
}

func batchReceive(q ali_mns.AliMNSQueue, n int32) (ali_mns.BatchMessageReceiveResponse, error) {
	rc := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	ec := make(chan error, 1)
	q.BatchReceiveMessage(rc, ec, n)
	select {
	case r := <-rc:
		return r, nil
	case err := <-ec:
		return ali_mns.BatchMessageReceiveResponse{}, err
	}
}

// syntheticSecret is a random-looking 30-character secret from a seeded
// PRNG: never a real credential.
func syntheticSecret(seed uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	r := rand.New(rand.NewPCG(seed, seed*31+7))
	b := make([]byte, 30)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func send(t *testing.T, q ali_mns.AliMNSQueue, body string) ali_mns.MessageSendResponse {
	t.Helper()
	resp, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body, Priority: 8})
	if err != nil {
		t.Fatalf("send %q: %v", body, err)
	}
	return resp
}
