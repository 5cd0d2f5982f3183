package contain_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/localtest"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/contain"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/notify"
)

// leakRE finds signed-query material: a SecurityToken or Signature
// parameter with a real value (raw or percent-encoded, as in a string to
// sign) or the start of an STS token.
var leakRE = regexp.MustCompile(`(SecurityToken|Signature)(=|%3D|%253D)[^<&%]|CAIS[A-Za-z0-9]{12,}`)

// leak reports where s carries the session's token or secret, or any
// signed-query material.
func leak(s string, creds aliyun.Credentials) string {
	for _, v := range []string{creds.SecurityToken, url.QueryEscape(creds.SecurityToken), creds.AccessKeySecret} {
		if i := strings.Index(s, v); v != "" && i >= 0 {
			return s[max(0, i-40):min(len(s), i+40)]
		}
	}
	if loc := leakRE.FindStringIndex(s); loc != nil {
		return s[max(0, loc[0]-40):min(len(s), loc[1]+40)]
	}
	return ""
}

// A network failure against the SDK comes back as a bare *url.Error
// (AutoRetry is off) whose URL carries the query with SecurityToken and
// Signature: it is retryable.
func TestRetryableNetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cl := aliyun.Clients{Region: "cn-hangzhou", Endpoints: config.Endpoints{IMS: "http://" + addr}, Timeout: 5 * time.Second,
		Creds: aliyun.Credentials{AccessKeyID: "STS.NUk8pRz3mQx7Lw2Vb9Hc4Ty1", AccessKeySecret: "Hc4Ty1NUk8pRz3mQx7Lw2Vb9Hc4Ty1Vb",
			SecurityToken: "CAIS" + strings.Repeat("Lw2Vb9+Hc4Ty1/NUk8pRz3mQx7", 12) + "=="}}
	c, err := cl.IMS()
	if err != nil {
		t.Fatal(err)
	}
	_, raw := c.GetUser(ims.CreateGetUserRequest())
	var ue *url.Error
	if !errors.As(raw, &ue) {
		t.Fatalf("want a *url.Error, got %T %v", raw, raw)
	}
	if !contain.Retryable(fmt.Errorf("ims get user: %w", raw)) {
		t.Fatalf("network error not retryable: %v", raw)
	}
}

// respondWith builds a Responder signed with a real session of the
// akguard-respond role whose log goes to buf (a plain JSON handler, not
// logx: the records must be clean at the source, not only in logx).
func respondWith(t *testing.T, env *localtest.Env, buf *bytes.Buffer) (*contain.Responder, aliyun.Credentials) {
	return newResponder(t, env, slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// everything is the text of every state object and every notification
// waiting in the inbox, keyed by where it was found.
func everything(t *testing.T, env *localtest.Env) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	o := env.Root.OSS()
	p := o.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(env.Vars["stateBucket"])})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range page.Contents {
			r, err := o.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(env.Vars["stateBucket"]), Key: obj.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out["oss:"+*obj.Key] = string(b)
		}
	}
	for i, body := range env.Drain(t, localtest.InboxQueue) {
		if msg, err := notify.Decode(body); err == nil {
			body += fmt.Sprintf("\n%+v", msg)
		}
		out[fmt.Sprintf("smq:%d", i)] = body
	}
	return out
}

// A call that gets no answer (the local cloud closes the connection) must
// not put the role session's token or the request signature into the log,
// the action records, the notification or the skip reasons.
func TestNetworkErrorsLeaveNoToken(t *testing.T) {
	tests := []struct {
		name    string
		fault   fault.Rule
		release bool // a release of a contained key, rather than a containment
		wantErr bool // Handle fails (FC retries)
	}{
		{"owner lookup", fault.Rule{Service: "ims", Operation: "GetUser", Rate: 1, Kind: "drop"}, false, false},
		{"attach policy", fault.Rule{Service: "ram", Operation: "AttachPolicyToUser", Rate: 1, Kind: "drop"}, false, false},
		{"disable key", fault.Rule{Service: "ram", Operation: "UpdateAccessKey", Rate: 1, Kind: "drop"}, false, false},
		{"release key status", fault.Rule{Service: "ram", Operation: "ListAccessKeys", Rate: 1, Kind: "drop"}, true, true},
	}
	// One cloud for all cases (each has its own user, key and incident):
	// starting one takes most of a second.
	env := localtest.Start(t, localtest.Options{})
	ids := env.Cloud.Env.IAM
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer env.Cloud.Env.Faults.Clear()
			user := fmt.Sprintf("leaky-%d", i)
			if _, err := ids.CreateUser(user, user, ""); err != nil {
				t.Fatal(err)
			}
			key, err := ids.CreateAccessKey(user)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			r, creds := respondWith(t, env, &logs)
			ctx := context.Background()
			in := incident.Incident{Version: incident.Version, ID: "net-" + fmt.Sprint(i), Source: incident.SourceAudit,
				AccessKeyID: key.AccessKeyID, Severity: finding.SeverityCritical, DetectedAt: time.Now()}
			if tt.release {
				if _, err := r.Handle(ctx, in); err != nil {
					t.Fatalf("containment before the release: %v", err)
				}
				in.ID, in.Action, in.Force = in.ID+"-release", incident.ActionRelease, true
			}
			before := env.Cloud.Env.Faults.Fired()
			env.Cloud.Env.Faults.Add(tt.fault)
			_, herr := r.Handle(ctx, in)
			if fk := tt.fault.Service + "/" + tt.fault.Operation + "/drop"; env.Cloud.Env.Faults.Fired()[fk] == before[fk] {
				t.Fatalf("the fault never fired (Handle: %v)\n%s", herr, logs.String())
			}
			if (herr != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", herr, tt.wantErr)
			}
			if herr != nil {
				// respond.go wraps this one unreduced today; the function
				// must pass it through CleanError before logging or
				// returning it to FC (and so to the dead-letter queue).
				if l := leak(aliyun.CleanError(herr).Error(), creds); l != "" {
					t.Fatalf("CleanError(Handle error) leaks: …%s…", l)
				}
			}
			places := everything(t, env)
			places["log"] = logs.String()
			for where, text := range places {
				if l := leak(text, creds); l != "" {
					t.Errorf("%s leaks: …%s…", where, l)
				}
			}
			if !tt.wantErr && !strings.Contains(places["log"], "EOF") {
				t.Errorf("the log lost the cause of the failure:\n%s", places["log"])
			}
		})
	}
}
