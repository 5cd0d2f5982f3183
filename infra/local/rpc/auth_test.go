package rpc

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/akguard/akguard/infra/local/fault"
)

func TestAuthenticationErrors(t *testing.T) {
	c := startCloud(t, "")
	id, secret := newUserWithKey(t, c, "alice", "AliyunRAMReadOnlyAccess")
	gu := func() *ram.GetUserRequest {
		r := at(c, ram.CreateGetUserRequest())
		r.UserName = "alice"
		return r
	}
	cases := []struct {
		name   string
		cred   func() *ram.Client
		code   string
		status int
	}{
		{"right secret", func() *ram.Client { return ramClient(t, keyCred(id, secret)) }, "", 200},
		{"wrong secret", func() *ram.Client { return ramClient(t, keyCred(id, strings.Repeat("x", 30))) }, "SignatureDoesNotMatch", 400},
		{"unknown key", func() *ram.Client { return ramClient(t, keyCred("LTAI5tNoSuchKeyAtAll0000", secret)) }, "InvalidAccessKeyId.NotFound", 404},
		{"sts key without session", func() *ram.Client { return ramClient(t, stsCred("STS.NUnknown", secret, "CAISx")) }, "InvalidAccessKeyId.NotFound", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cred().GetUser(gu())
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			se := wantErr(t, err, tc.code, tc.status)
			if tc.code == "SignatureDoesNotMatch" && !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
				// The SDK compares our string to sign with its own: equal
				// strings mean "wrong secret", not "SDK bug".
				t.Fatalf("recommend %q: server string to sign differs from the SDK's", se.Recommend())
			}
		})
	}
	// Failed authentication is in the trail with the presented key ID.
	var sawBad bool
	for _, e := range c.env.Trail.All() {
		if e.ErrorCode == "SignatureDoesNotMatch" && e.UserIdentity.AccessKeyID == id {
			sawBad = true
			if strings.Contains(e.ErrorMessage, "string to sign") {
				t.Fatalf("trail keeps the echoed string to sign: %s", e.ErrorMessage)
			}
		}
		for k := range e.RequestParameters {
			if k == "Signature" || k == "SecurityToken" || k == "SignatureNonce" {
				t.Fatalf("trail leaks %s", k)
			}
		}
	}
	if !sawBad {
		t.Fatal("failed signature not recorded")
	}
}

// replay resends the last raw request the SDK made.
func (c *cloud) replay(t *testing.T) (int, map[string]any) {
	t.Helper()
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	req, err := http.NewRequest(last.method, c.ts.URL+last.url, bytes.NewReader(last.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return resp.StatusCode, body
}

func TestReplayAndClock(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())
	if _, err := root.ListUsers(at(c, ram.CreateListUsersRequest())); err != nil {
		t.Fatal(err)
	}
	status, body := c.replay(t)
	if status != 400 || body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %v", status, body)
	}

	// A server clock 20 minutes ahead sees the SDK's Timestamp as expired.
	c.env.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
	_, err := root.ListUsers(at(c, ram.CreateListUsersRequest()))
	wantErr(t, err, "InvalidTimeStamp.Expired", 400)
}

func TestProductRouting(t *testing.T) {
	c := startCloud(t, "")
	stsOnly := httptest.NewServer(c.srv.Handler(ProductSTS))
	t.Cleanup(stsOnly.Close)
	host := strings.TrimPrefix(stsOnly.URL, "http://")

	// A RAM call sent to the STS listener is refused like a wrong endpoint.
	req := ram.CreateListUsersRequest()
	req.SetDomain(host)
	req.SetScheme("http")
	_, err := ramClient(t, c.root()).ListUsers(req)
	wantErr(t, err, "InvalidVersion", 400)

	// STS works on its own listener.
	gc := sts.CreateGetCallerIdentityRequest()
	gc.SetDomain(host)
	gc.SetScheme("http")
	id, err := stsClient(t, c.root()).GetCallerIdentity(gc)
	if err != nil {
		t.Fatal(err)
	}
	if id.IdentityType != "Account" || id.AccountId != c.env.AccountID {
		t.Fatalf("GetCallerIdentity = %+v", id)
	}

	// An API the product does not have.
	cr := requests.NewCommonRequest()
	cr.Domain, cr.Scheme, cr.Version, cr.ApiName, cr.Product = c.host, "http", "2015-05-01", "DeleteEverything", "Ram"
	cl := ramClient(t, c.root())
	_, err = cl.ProcessCommonRequest(cr)
	wantErr(t, err, "InvalidAction.NotFound", 404)
}

func TestFaultInjection(t *testing.T) {
	c := startCloud(t, "")
	root := ramClient(t, c.root())
	cases := []struct {
		name   string
		rule   fault.Rule
		code   string
		status int
	}{
		{"throttle", fault.Rule{Service: "ram", Operation: "ListUsers", Rate: 1, Kind: "throttle", Status: 400, Code: "Throttling.User", Remaining: 1}, "Throttling.User", 400},
		{"internal error", fault.Rule{Service: "ram", Operation: "List*", Rate: 1, Kind: "error", Status: 503, Code: "ServiceUnavailable", Remaining: 1}, "ServiceUnavailable", 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.env.Faults.Set([]fault.Rule{tc.rule})
			_, err := root.ListUsers(at(c, ram.CreateListUsersRequest()))
			wantErr(t, err, tc.code, tc.status)
			// The rule fired once; the next call goes through.
			if _, err := root.ListUsers(at(c, ram.CreateListUsersRequest())); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Other operations are untouched by a rule for ListUsers.
	c.env.Faults.Set([]fault.Rule{{Service: "ram", Operation: "ListUsers", Rate: 1, Kind: "error"}})
	if _, err := root.ListRoles(at(c, ram.CreateListRolesRequest())); err != nil {
		t.Fatal(err)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	c := startCloud(t, t.TempDir())
	id, secret := newUserWithKey(t, c, "persist", "AliyunRAMReadOnlyAccess")
	root := ramClient(t, c.root())
	cp := at(c, ram.CreateCreatePolicyRequest())
	cp.PolicyName, cp.PolicyDocument = "keep-me", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:*","Resource":"*"}]}`
	if _, err := root.CreatePolicy(cp); err != nil {
		t.Fatal(err)
	}
	rootID := c.env.IAM.RootKey().AccessKeyID
	events := len(c.env.Trail.All())

	c.restart()

	if c.env.IAM.RootKey().AccessKeyID != rootID {
		t.Fatal("root key changed across restart")
	}
	user := ramClient(t, keyCred(id, secret))
	gu := at(c, ram.CreateGetUserRequest())
	gu.UserName = "persist"
	if _, err := user.GetUser(gu); err != nil {
		t.Fatalf("user key after restart: %v", err)
	}
	gp := at(c, ram.CreateGetPolicyRequest())
	gp.PolicyType, gp.PolicyName = "Custom", "keep-me"
	if _, err := ramClient(t, c.root()).GetPolicy(gp); err != nil {
		t.Fatalf("policy after restart: %v", err)
	}
	if got := len(c.env.Trail.All()); got < events {
		t.Fatalf("trail lost events: %d < %d", got, events)
	}
}
