package contain

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/config"
)

func serverErr(status int, code string) error {
	body := fmt.Sprintf(`{"RequestId":"R1","Code":%q,"Message":"m"}`, code)
	return fmt.Errorf("wrapped: %w", sdkerrors.NewServerError(status, body, ""))
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"5xx", serverErr(503, "ServiceUnavailable"), true},
		{"throttling", serverErr(400, "Throttling.User"), true},
		{"conflict", serverErr(409, "EntityAlreadyExists.User.Policy"), false},
		{"denied", serverErr(403, "NoPermission"), false},
		{"network", sdkerrors.NewClientError("SDK.ServerUnreachable", "dial", errors.New("refused")), true},
		{"plain", errors.New("x"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("%s: Retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
	if c := code(serverErr(409, "EntityAlreadyExists.Policy")); c != "EntityAlreadyExists.Policy" {
		t.Fatalf("code = %q", c)
	}
	// brief keeps code, status and request ID only: the SDK's message can
	// carry the request URL.
	if b := brief(serverErr(503, "InternalError")); b != "InternalError (HTTP 503, request R1)" {
		t.Fatalf("brief = %q", b)
	}
}

func TestSameJSON(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`{"Version":"1","Statement":[]}`, "{\n \"Statement\": [],\n \"Version\": \"1\"\n}", true},
		{`{"Version":"1","Statement":[{"Action":["a","b"]}]}`, `{"Version":"1","Statement":[{"Action":["b","a"]}]}`, false},
		{`not json`, `{}`, false},
		{policies.DenyHighRisk, strings.ReplaceAll(policies.DenyHighRisk, "\n", ""), true},
	}
	for i, tt := range tests {
		got, err := sameJSON(tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("%d: sameJSON = %v, %v; want %v", i, got, err, tt.want)
		}
	}
	if _, err := sameJSON(`{}`, `nope`); err == nil {
		t.Fatal("an invalid wanted document must be an error")
	}
}

func TestDefaultPolicyName(t *testing.T) {
	if config.DefaultDenyPolicyName != policies.DenyHighRiskName {
		t.Fatalf("config default %q != policies %q", config.DefaultDenyPolicyName, policies.DenyHighRiskName)
	}
}
