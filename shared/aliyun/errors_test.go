package aliyun_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
)

// stsCreds are synthetic STS credentials from a seeded PRNG: the token has
// the "CAIS" prefix and base64 alphabet of a real one (so +, / and = get
// percent-encoded in the query), nothing else.
func stsCreds(seed uint64) aliyun.Credentials {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	pick := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	return aliyun.Credentials{
		AccessKeyID:     "STS." + pick(25, b64[:62]),
		AccessKeySecret: pick(44, b64[:62]),
		SecurityToken:   "CAIS" + pick(400, b64) + "==",
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// leaks lists the credential material found in s: the token (raw or as the
// SDK percent-encodes it), the secret, and the request's signature.
func leaks(s string, c aliyun.Credentials, signature string) []string {
	var found []string
	for name, v := range map[string]string{
		"token": c.SecurityToken, "token (encoded)": url.QueryEscape(c.SecurityToken),
		"token prefix": c.SecurityToken[:40], "secret": c.AccessKeySecret, "signature": signature,
		"signature (encoded)": url.QueryEscape(signature),
	} {
		if v != "" && strings.Contains(s, v) {
			found = append(found, name)
		}
	}
	if leakedParam.MatchString(s) {
		found = append(found, "query")
	}
	if tokenRun.MatchString(s) {
		found = append(found, "token run")
	}
	sort.Strings(found)
	return found
}

// leakedParam is a signed query parameter with a value other than the
// redaction marker, raw or percent-encoded (as in a string to sign).
var leakedParam = regexp.MustCompile(`(SecurityToken|Signature)(=|%3D|%253D)[^<&%]`)

// tokenRun is the start of an STS token up to its first encoded character.
var tokenRun = regexp.MustCompile(`CAIS[A-Za-z0-9]{12,}`)

// signatureOf digs the request signature out of a raw SDK transport
// error, so the test can prove the cleaned text lost it.
func signatureOf(t *testing.T, err error) string {
	t.Helper()
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("raw error %T is not a *url.Error: %v", err, err)
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		t.Fatal(perr)
	}
	return u.Query().Get("Signature")
}

// Every RPC client signs in the query string; a call that gets no answer
// comes back as a *url.Error holding that query. CleanError keeps the
// operation, host and cause and nothing of the query; the call is
// retryable.
func TestCleanErrorNetwork(t *testing.T) {
	creds := stsCreds(1)
	addr := closedAddr(t)
	ep := "http://" + addr
	cl := aliyun.Clients{Region: "cn-hangzhou", AccountID: "1234567890123456", Creds: creds, Timeout: 5 * time.Second,
		Endpoints: config.Endpoints{RAM: ep, IMS: ep, STS: ep, KMS: ep}}
	tests := []struct {
		name string
		call func() error
	}{
		{"ims GetUser", func() error {
			c, err := cl.IMS()
			if err != nil {
				return err
			}
			req := ims.CreateGetUserRequest()
			req.UserAccessKeyId = "LTAI5tQk3x9Vb2Lm8Zr4Wq7N"
			_, err = c.GetUser(req)
			return err
		}},
		{"ram ListUsers", func() error {
			c, err := cl.RAM()
			if err != nil {
				return err
			}
			_, err = c.ListUsers(ram.CreateListUsersRequest())
			return err
		}},
		{"sts GetCallerIdentity", func() error {
			c, err := cl.STS()
			if err != nil {
				return err
			}
			_, err = c.GetCallerIdentity(sts.CreateGetCallerIdentityRequest())
			return err
		}},
		{"kms ListSecrets", func() error {
			c, err := cl.KMS()
			if err != nil {
				return err
			}
			_, err = c.ListSecrets(kms.CreateListSecretsRequest())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.call()
			if raw == nil {
				t.Fatal("call to a closed port succeeded")
			}
			sig := signatureOf(t, raw)
			// The defect this guards against: the SDK's own text leaks.
			if len(leaks(raw.Error(), creds, sig)) == 0 {
				t.Fatalf("raw SDK error no longer carries the query; test premise gone: %v", raw)
			}
			wrapped := fmt.Errorf("%s: %w", tt.name, raw)
			clean := aliyun.CleanError(wrapped)
			if l := leaks(clean.Error(), creds, sig); len(l) > 0 {
				t.Fatalf("cleaned error leaks %v: %s", l, clean)
			}
			var ne *aliyun.NetError
			if !errors.As(clean, &ne) || ne.Host != addr {
				t.Fatalf("cleaned error %T %v: want a *NetError for host %s", clean, clean, addr)
			}
			if !strings.HasPrefix(clean.Error(), tt.name+": Post "+addr+": ") || !strings.Contains(clean.Error(), "refused") {
				t.Fatalf("cleaned text lost the operation or cause: %q", clean)
			}
			var se *url.Error
			if errors.As(clean, &se) {
				t.Fatal("cleaned error still unwraps to the *url.Error")
			}
			if retry, throttled := aliyun.Retryable(raw); !retry || throttled {
				t.Fatalf("Retryable(raw) = %v, %v; want true, false", retry, throttled)
			}
			if retry, _ := aliyun.Retryable(clean); !retry {
				t.Fatal("Retryable(clean) = false")
			}
		})
	}
}

// A call the local cloud drops (connection closed without an answer) with
// a real session of the respond role: the same leak, a different cause.
func TestCleanErrorDroppedConnection(t *testing.T) {
	env := localtest.Start(t, localtest.Options{})
	sess, err := env.Cloud.Env.IAM.IssueSession("akguard-respond", "errors-test", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	creds := aliyun.Credentials{AccessKeyID: sess.AccessKeyID, AccessKeySecret: sess.AccessKeySecret, SecurityToken: sess.SecurityToken}
	cl := env.Root
	cl.Creds = creds
	env.Cloud.Env.Faults.Add(fault.Rule{Service: "ims", Operation: "GetUser", Rate: 1, Kind: "drop"})
	c, err := cl.IMS()
	if err != nil {
		t.Fatal(err)
	}
	req := ims.CreateGetUserRequest()
	req.UserAccessKeyId = "LTAI5tQk3x9Vb2Lm8Zr4Wq7N"
	_, raw := c.GetUser(req)
	if raw == nil {
		t.Fatal("dropped call succeeded")
	}
	if env.Cloud.Env.Faults.Fired()["ims/GetUser/drop"] == 0 {
		t.Fatalf("fault did not fire: %v (%v)", env.Cloud.Env.Faults.Fired(), raw)
	}
	sig := signatureOf(t, raw)
	if !strings.Contains(raw.Error(), url.QueryEscape(creds.SecurityToken)) {
		t.Fatalf("raw SDK error no longer carries the token; test premise gone: %v", raw)
	}
	clean := aliyun.CleanError(fmt.Errorf("ims get user: %w", raw))
	if l := leaks(clean.Error(), creds, sig); len(l) > 0 {
		t.Fatalf("cleaned error leaks %v: %s", l, clean)
	}
	if retry, _ := aliyun.Retryable(clean); !retry {
		t.Fatalf("dropped connection not retryable: %v", clean)
	}
}

// A call that times out: a listener that accepts and never answers.
func TestCleanErrorTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Read until the client gives up and closes; never answer.
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	creds := stsCreds(2)
	cl := aliyun.Clients{Region: "cn-hangzhou", Creds: creds, Timeout: 200 * time.Millisecond,
		Endpoints: config.Endpoints{RAM: "http://" + l.Addr().String()}}
	c, err := cl.RAM()
	if err != nil {
		t.Fatal(err)
	}
	_, raw := c.ListUsers(ram.CreateListUsersRequest())
	if raw == nil {
		t.Fatal("call to a silent server succeeded")
	}
	sig := signatureOf(t, raw)
	clean := aliyun.CleanError(raw)
	if l := leaks(clean.Error(), creds, sig); len(l) > 0 {
		t.Fatalf("cleaned error leaks %v: %s", l, clean)
	}
	var ne *aliyun.NetError
	if !errors.As(clean, &ne) || !ne.Timeout() {
		t.Fatalf("want a timed-out *NetError, got %T %v", clean, clean)
	}
	if retry, _ := aliyun.Retryable(clean); !retry {
		t.Fatal("timeout not retryable")
	}
}

// popStringToSign is buildRpcStringToSign from alibaba-cloud-sdk-go
// (sdk/auth/rpc_signature_composer.go), which the gateway echoes.
func popStringToSign(method string, q url.Values) string {
	q = maps(q)
	q.Del("Signature")
	s := q.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	return method + "&%2F&" + url.QueryEscape(s)
}

func maps(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// gateway answers every RPC call with one POP error; echo appends the
// string to sign the way the real gateway does for SignatureDoesNotMatch.
func gateway(t *testing.T, status int, code, message string, echo bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		msg := message
		if echo {
			msg += " server string to sign is:" + popStringToSign(r.Method, r.Form)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"RequestId":"REQ-1","Code":%q,"Message":%q,"HostId":"ims.aliyuncs.com"}`, code, msg)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCleanErrorServer(t *testing.T) {
	creds := stsCreds(3)
	long := strings.Repeat("the service explains at length ", 20)
	tests := []struct {
		name            string
		status          int
		code, message   string
		echo            bool
		wantMsg         string // prefix of the kept message; "" = none kept
		retry, throttle bool
	}{
		{"signature mismatch", 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", true, "", false, false},
		{"incomplete signature", 400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.", true, "", false, false},
		{"bad token", 400, "InvalidSecurityToken.Malformed", "The security token you provided is malformed: " + creds.SecurityToken, false, "", false, false},
		{"denied", 403, "NoPermission", "You are not authorized to do this action.", false, "You are not authorized", false, false},
		{"not found", 404, "EntityNotExist.User", "The user does not exist.", false, "The user does not exist.", false, false},
		{"token in message", 400, "InvalidParameter", "bad value SecurityToken=" + url.QueryEscape(creds.SecurityToken), false, "bad value SecurityToken=<redacted>", false, false},
		{"long message", 400, "InvalidParameter", long, false, long[:200] + "...", false, false},
		{"long chinese", 400, "InvalidParameter", strings.Repeat("参数无效。", 40), false, "参数无效。", false, false},
		{"throttled", 400, "Throttling.User", "Request was denied due to user flow control.", false, "Request was denied", true, true},
		{"fc throttled", 429, "ResourceThrottled", "Reserve resource exceeded limit", false, "Reserve resource", true, true},
		{"unavailable", 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", false, "The request", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := aliyun.Clients{Region: "cn-hangzhou", Creds: creds, Timeout: 5 * time.Second,
				Endpoints: config.Endpoints{IMS: gateway(t, tt.status, tt.code, tt.message, tt.echo)}}
			c, err := cl.IMS()
			if err != nil {
				t.Fatal(err)
			}
			_, raw := c.GetUser(ims.CreateGetUserRequest())
			var se *sdkerrors.ServerError
			if !errors.As(raw, &se) {
				t.Fatalf("want a ServerError, got %T %v", raw, raw)
			}
			if tt.echo && len(leaks(raw.Error(), creds, "")) == 0 {
				t.Fatalf("the echoed string to sign does not carry the token; test premise gone: %v", raw)
			}
			clean := aliyun.CleanError(fmt.Errorf("ims get user: %w", raw))
			if l := leaks(clean.Error(), creds, ""); len(l) > 0 {
				t.Fatalf("cleaned error leaks %v: %s", l, clean)
			}
			var ae *aliyun.APIError
			if !errors.As(clean, &ae) || ae.Code != tt.code || ae.Status != tt.status || ae.RequestID != "REQ-1" {
				t.Fatalf("cleaned error %T %+v", clean, clean)
			}
			if tt.wantMsg == "" && ae.Message != "" || !strings.HasPrefix(ae.Message, tt.wantMsg) {
				t.Fatalf("message %q, want prefix %q", ae.Message, tt.wantMsg)
			}
			if !utf8.ValidString(ae.Message) || len(ae.Message) > 203 {
				t.Fatalf("message not clipped on a rune boundary: %d bytes, valid %v", len(ae.Message), utf8.ValidString(ae.Message))
			}
			if tt.wantMsg == long[:200]+"..." && ae.Message != tt.wantMsg {
				t.Fatalf("long message not clipped: %d chars", len(ae.Message))
			}
			want := "ims get user: " + tt.code + fmt.Sprintf(" (HTTP %d, request REQ-1)", tt.status)
			if !strings.HasPrefix(clean.Error(), want) {
				t.Fatalf("text %q, want prefix %q", clean, want)
			}
			if got := aliyun.ErrorCode(clean); got != tt.code {
				t.Fatalf("ErrorCode(clean) = %q", got)
			}
			for _, e := range []error{raw, clean} {
				if retry, throttled := aliyun.Retryable(e); retry != tt.retry || throttled != tt.throttle {
					t.Fatalf("Retryable(%T) = %v, %v; want %v, %v", e, retry, throttled, tt.retry, tt.throttle)
				}
			}
		})
	}
}

func TestCleanErrorOther(t *testing.T) {
	creds := stsCreds(4)
	sentinel := errors.New("lease busy")
	tests := []struct {
		name      string
		err       error
		wantSame  bool
		wantText  string
		wantRetry bool
	}{
		{"nil", nil, true, "", false},
		{"plain", fmt.Errorf("acquire: %w", sentinel), true, "acquire: lease busy", false},
		{"quoted token", fmt.Errorf("invoke: %s", "Post \"http://h/?SecurityToken="+url.QueryEscape(creds.SecurityToken)+"&Signature=abcdefghijklmnopqrstuvwx%3D\": EOF"),
			false, "invoke: Post \"http://h/?SecurityToken=<redacted>&Signature=<redacted>\": EOF", false},
		{"client error", sdkerrors.NewClientError("SDK.ServerUnreachable", "Unable to reach the server", &url.Error{Op: "Get",
			URL: "https://ram.aliyuncs.com/?SecurityToken=" + url.QueryEscape(creds.SecurityToken), Err: errors.New("EOF")}),
			false, "SDK.ServerUnreachable ram.aliyuncs.com: EOF", true},
		{"deadline", fmt.Errorf("run: %w", context.DeadlineExceeded), true, "run: context deadline exceeded", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := aliyun.CleanError(tt.err)
			if tt.wantSame != (got == tt.err) {
				t.Fatalf("CleanError returned %v (same = %v)", got, got == tt.err)
			}
			if got != nil && got.Error() != tt.wantText {
				t.Fatalf("text %q, want %q", got, tt.wantText)
			}
			if retry, _ := aliyun.Retryable(got); retry != tt.wantRetry {
				t.Fatalf("Retryable = %v", retry)
			}
		})
	}
	if !errors.Is(aliyun.CleanError(fmt.Errorf("acquire: %w", sentinel)), sentinel) {
		t.Fatal("a clean error lost its chain")
	}
}

func BenchmarkCleanError(b *testing.B) {
	creds := stsCreds(5)
	raw := fmt.Errorf("ims get user: %w", &url.Error{Op: "Post",
		URL: "http://127.0.0.1:1/?AccessKeyId=" + creds.AccessKeyID + "&SecurityToken=" + url.QueryEscape(creds.SecurityToken) + "&Signature=abc",
		Err: errors.New("connection refused")})
	b.ReportAllocs()
	for b.Loop() {
		_ = aliyun.CleanError(raw).Error()
	}
}
