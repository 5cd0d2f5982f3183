package logx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// Synthetic credential material (not a real token, secret or signature):
// the token has an STS token's "CAIS" prefix and base64 alphabet.
const (
	token     = "CAISq8Zk3+Vb/2Lmq8Zk3+Vb/2Lmq8Zk3+Vb/2Lmq8Zk3+Vb/2Lmq8Zk3+Vb/2Lm=="
	secret    = "q8Zk3Vb2Lmq8Zk3Vb2Lmq8Zk3Vb2Lm"
	signature = "Zk3Vb2Lmq8Zk3Vb2Lmq8Zk3Vb2L="
)

func TestRedact(t *testing.T) {
	enc := url.QueryEscape
	tests := []struct {
		name, in, want string
	}{
		{"clean", "scanned object bucket=b key=k", "scanned object bucket=b key=k"},
		{"prose", "bad signature: dial tcp 127.0.0.1:1: connection refused", "bad signature: dial tcp 127.0.0.1:1: connection refused"},
		{"nonce kept", "SignatureNonce=abc&SignatureMethod=HMAC-SHA1", "SignatureNonce=abc&SignatureMethod=HMAC-SHA1"},
		{"rpc url", `Post "http://ims/?AccessKeyId=STS.x&SecurityToken=` + enc(token) + `&Signature=` + enc(signature) + `&Version=1": EOF`,
			`Post "http://ims/?AccessKeyId=STS.x&SecurityToken=<redacted>&Signature=<redacted>&Version=1": EOF`},
		{"string to sign", "server string to sign is:POST&%2F&Action%3DGetUser%26SecurityToken%3D" + enc(enc(token)) + "%26Version%3D1",
			"server string to sign is:POST&%2F&Action%3DGetUser%26SecurityToken%3D<redacted>"},
		{"json", `{"AccessKeySecret":"` + secret + `","SecurityToken": "` + token + `"}`,
			`{"AccessKeySecret":"<redacted>","SecurityToken": "<redacted>"}`},
		{"go struct", "{AccessKeyId:STS.x AccessKeySecret:" + secret + " SecurityToken:" + token + "}",
			"{AccessKeyId:STS.x AccessKeySecret:<redacted> SecurityToken:<redacted>}"},
		{"header", "x-acs-security-token: " + token, "x-acs-security-token: <redacted>"},
		{"oss v4", "Authorization: OSS4-HMAC-SHA256 Credential=STS.x/20261123/cn-hangzhou/oss/aliyun_v4_request,Signature=" + strings.Repeat("ab12", 16),
			"Authorization: OSS4-HMAC-SHA256 Credential=STS.x/20261123/cn-hangzhou/oss/aliyun_v4_request,Signature=<redacted>"},
		{"kms secret data", "Post \"https://kms/?Action=PutSecretValue&SecretData=" + enc(`{"AccessKeyId":"LTAI5t","AccessKeySecret":"`+secret+`"}`) + "&Version=2016-01-20\": EOF",
			"Post \"https://kms/?Action=PutSecretValue&SecretData=<redacted>&Version=2016-01-20\": EOF"},
		{"bare token", "token " + token + " leaked", "token <redacted> leaked"},
		{"encoded token", "t=" + enc(token), "t=<redacted>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Fatalf("Redact:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

type creds struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// The handler cleans the message and every attribute, however it got
// there; clean attributes keep their type.
func TestRedactingHandler(t *testing.T) {
	var buf bytes.Buffer
	leak := `Post "http://ims/?SecurityToken=` + url.QueryEscape(token) + `&Signature=` + url.QueryEscape(signature) + `": EOF`
	log := New(&buf).With("session", token)
	log.WarnContext(context.Background(), "owner lookup failed: "+leak,
		"err", fmt.Errorf("ims get user: %w", errors.New(leak)),
		"reason", leak,
		slog.Group("call", "url", leak, "attempt", 2),
		"creds", creds{AccessKeyID: "STS.x", AccessKeySecret: secret, SecurityToken: token},
		"raw", []byte(leak),
		"count", 3, "meta", map[string]int{"a": 1}, "access_key_secret", "short", "signature_nonce", "n-1")
	out := buf.String()
	for _, s := range []string{token, url.QueryEscape(token), secret, signature, url.QueryEscape(signature), token[:20]} {
		if strings.Contains(out, s) {
			t.Fatalf("log line carries %q:\n%s", s, out)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	want := `Post "http://ims/?SecurityToken=<redacted>&Signature=<redacted>": EOF`
	for k, v := range map[string]any{
		"msg": "owner lookup failed: " + want, "err": "ims get user: " + want, "reason": want, "session": Redacted,
		"count": float64(3), "access_key_secret": Redacted, "signature_nonce": "n-1",
	} {
		if rec[k] != v {
			t.Errorf("%s = %#v, want %#v", k, rec[k], v)
		}
	}
	if g, _ := rec["call"].(map[string]any); g["url"] != want || g["attempt"] != float64(2) {
		t.Errorf("group = %#v", rec["call"])
	}
	if m, ok := rec["meta"].(map[string]any); !ok || m["a"] != float64(1) {
		t.Errorf("a clean map lost its structure: %#v", rec["meta"])
	}
}

// A group opened with WithGroup still goes through the redactor.
func TestRedactingWithGroup(t *testing.T) {
	var buf bytes.Buffer
	New(&buf).WithGroup("req").With("token", token).Info("x", "sig", "Signature="+signature)
	if strings.Contains(buf.String(), token[:20]) || strings.Contains(buf.String(), signature) {
		t.Fatalf("leaked: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"req":{"token":"<redacted>","sig":"Signature=<redacted>"}`) {
		t.Fatalf("unexpected shape: %s", buf.String())
	}
}

func BenchmarkRedactingHandler(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  string
	}{
		{"clean", "scanned object"},
		{"dirty", `Post "http://ims/?SecurityToken=` + url.QueryEscape(token) + `&Signature=x": EOF`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log := slog.New(Redacting(slog.NewJSONHandler(io.Discard, nil)))
			b.ReportAllocs()
			for b.Loop() {
				log.Info(bc.msg, "bucket", "b", "key", "k", "err", bc.msg, "n", 1)
			}
		})
	}
}
