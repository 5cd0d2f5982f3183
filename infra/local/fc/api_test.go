package fc

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	sdkcred "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"

	"github.com/akguard/akguard/infra/local/fault"
)

// invokeRequest builds the CommonRequest an akguard function uses to call
// InvokeFunction, pointed at the local server.
func invokeRequest(t *testing.T, srvURL, fn, payload, invocationType string) *requests.CommonRequest {
	t.Helper()
	u, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = "POST"
	req.Product = "FC"
	req.Version = "2023-03-30"
	req.PathPattern = "/2023-03-30/functions/[functionName]/invocations"
	req.PathParams["functionName"] = fn
	req.Scheme = "http"
	req.Domain = u.Hostname()
	req.Port = u.Port()
	req.Headers["x-fc-invocation-type"] = invocationType
	req.Content = []byte(payload)
	return req
}

func sdkClient(t *testing.T, id, secret, token string) *sdk.Client {
	t.Helper()
	// The same construction as shared/aliyun: default config, static
	// credential (the SDK's deprecated NewClientWith* helpers do exactly this).
	var cred auth.Credential = sdkcred.NewAccessKeyCredential(id, secret)
	if token != "" {
		cred = sdkcred.NewStsTokenCredential(id, secret, token)
	}
	c, err := sdk.NewClientWithOptions("cn-hangzhou", sdk.NewConfig(), cred)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInvokeFunctionAPI(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{}, echoFn("echo"))
	hs := httptest.NewServer(s)
	defer hs.Close()

	root := env.IAM.RootKey()
	mustUser := func(name string, policies ...[2]string) (string, string) {
		if _, err := env.IAM.CreateUser(name, "", ""); err != nil {
			t.Fatal(err)
		}
		k, err := env.IAM.CreateAccessKey(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range policies {
			if err := env.IAM.AttachPolicyToUser(p[0], p[1], name); err != nil {
				t.Fatal(err)
			}
		}
		return k.AccessKeyID, k.AccessKeySecret
	}
	const denyDoc = `{"Version":"1","Statement":[{"Effect":"Deny","Action":"fc:InvokeFunction","Resource":"acs:fc:*:*:functions/*"}]}`
	if _, err := env.IAM.CreatePolicy("deny-fc-invoke", denyDoc, ""); err != nil {
		t.Fatal(err)
	}
	okID, okSecret := mustUser("invoker", [2]string{"System", "AliyunFCFullAccess"})
	denyID, denySecret := mustUser("contained", [2]string{"System", "AliyunFCFullAccess"}, [2]string{"Custom", "deny-fc-invoke"})
	noneID, noneSecret := mustUser("nobody")
	role, err := env.IAM.CreateRole("caller-role", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+env.AccountID+`:root"]}}]}`, "", 3600)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.IAM.AttachPolicyToRole("System", "AliyunFCFullAccess", role.RoleName); err != nil {
		t.Fatal(err)
	}
	sess, err := env.IAM.IssueSession(role.RoleName, "tester", 0, "")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name                  string
		id, secret, token     string
		fn, payload, invType  string
		fault                 *fault.Rule
		wantStatus            int
		wantCode              string // SDK ServerError code; "" for success
		wantBody, wantErrType string
	}{
		{name: "root sync", id: root.AccessKeyID, secret: root.AccessKeySecret, fn: "echo", payload: `{"op":"echo","v":"x"}`, invType: "Sync",
			wantStatus: 200, wantBody: `"v":"x"`},
		{name: "ram user allowed", id: okID, secret: okSecret, fn: "echo", payload: `{}`, invType: "Sync", wantStatus: 200, wantBody: `"function":"echo"`},
		{name: "sts session", id: sess.AccessKeyID, secret: sess.AccessKeySecret, token: sess.SecurityToken, fn: "echo", payload: `{}`, invType: "Sync",
			wantStatus: 200, wantBody: `"function":"echo"`},
		{name: "async accepted", id: root.AccessKeyID, secret: root.AccessKeySecret, fn: "echo", payload: `{}`, invType: "Async", wantStatus: 202},
		{name: "function error", id: root.AccessKeyID, secret: root.AccessKeySecret, fn: "echo", payload: `{"op":"fail"}`, invType: "Sync",
			wantStatus: 200, wantBody: `"errorMessage":"requested failure"`, wantErrType: errUnhandled},
		{name: "wrong secret", id: root.AccessKeyID, secret: strings.Repeat("x", 30), fn: "echo", invType: "Sync", wantStatus: 403, wantCode: "SignatureNotMatch"},
		{name: "unknown key", id: "LTAI5tUnknownKeyForTest0", secret: strings.Repeat("y", 30), fn: "echo", invType: "Sync", wantStatus: 403, wantCode: "InvalidAccessKeyID"},
		{name: "explicit deny", id: denyID, secret: denySecret, fn: "echo", invType: "Sync", wantStatus: 403, wantCode: "AccessDenied"},
		{name: "no policy", id: noneID, secret: noneSecret, fn: "echo", invType: "Sync", wantStatus: 403, wantCode: "AccessDenied"},
		{name: "bad invocation type", id: root.AccessKeyID, secret: root.AccessKeySecret, fn: "echo", invType: "Later", wantStatus: 400, wantCode: "InvalidArgument"},
		{name: "unknown function", id: root.AccessKeyID, secret: root.AccessKeySecret, fn: "missing", invType: "Sync", wantStatus: 404, wantCode: "FunctionNotFound"},
		{name: "injected throttle", id: root.AccessKeyID, secret: root.AccessKeySecret, fn: "echo", invType: "Sync",
			fault:      &fault.Rule{Service: "fc", Operation: "InvokeFunction", Rate: 1, Kind: "throttle", Status: 429, Code: "ResourceThrottled", Remaining: 1},
			wantStatus: 429, wantCode: "ResourceThrottled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Faults.Clear()
			if tt.fault != nil {
				env.Faults.Add(*tt.fault)
			}
			client := sdkClient(t, tt.id, tt.secret, tt.token)
			client.SetReadTimeout(30e9)
			resp, err := client.ProcessCommonRequest(invokeRequest(t, hs.URL, tt.fn, tt.payload, tt.invType))
			if tt.wantCode != "" {
				var se *sdkerrors.ServerError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want ServerError %s", err, tt.wantCode)
				}
				if se.ErrorCode() != tt.wantCode || se.HttpStatus() != tt.wantStatus || se.RequestId() == "" {
					t.Fatalf("got %d %s (request %q), want %d %s", se.HttpStatus(), se.ErrorCode(), se.RequestId(), tt.wantStatus, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, resp, tt.wantStatus, tt.wantBody, tt.wantErrType)
		})
	}

	// Every call, failed or not, is in the trail with the key presented.
	waitIdle(t, s)
	events := env.Trail.All()
	byCode := map[string]int{}
	for _, e := range events {
		if e.ServiceName == "Fc" && e.EventName == "InvokeFunction" {
			byCode[e.ErrorCode]++
			if e.ErrorCode == "AccessDenied" && e.UserIdentity.AccessKeyID == denyID && e.ResourceName != s.functionArn("echo") {
				t.Errorf("deny event resource %q", e.ResourceName)
			}
		}
	}
	want := map[string]int{"": 5, "SignatureNotMatch": 1, "InvalidAccessKeyID": 1, "AccessDenied": 2, "FunctionNotFound": 1, "InvalidArgument": 1, "ResourceThrottled": 1}
	for code, n := range want {
		if byCode[code] != n {
			t.Errorf("trail has %d InvokeFunction events with errorCode %q, want %d (all: %v)", byCode[code], code, n, byCode)
		}
	}
}

func checkResponse(t *testing.T, resp *responses.CommonResponse, status int, body, errType string) {
	t.Helper()
	if resp.GetHttpStatus() != status {
		t.Errorf("status %d, want %d", resp.GetHttpStatus(), status)
	}
	h := resp.GetOriginHttpResponse().Header
	if h.Get("x-fc-request-id") == "" {
		t.Error("no x-fc-request-id")
	}
	if got := h.Get("x-fc-error-type"); got != errType {
		t.Errorf("x-fc-error-type %q, want %q", got, errType)
	}
	if !strings.Contains(resp.GetHttpContentString(), body) {
		t.Errorf("body %s does not contain %s", resp.GetHttpContentString(), body)
	}
}
