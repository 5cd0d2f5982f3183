package provision

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

func TestApplyStopsAtFirstFailure(t *testing.T) {
	var calls []string
	step := func(name string, err error) func(context.Context) error {
		return func(context.Context) error {
			calls = append(calls, name)
			return err
		}
	}
	p := &Plan{}
	p.add("ram role a", ActionCreate, "missing", step("a", nil))
	p.add("ram role a", ActionOK, "exists", nil)
	p.add("ram policy a", ActionUpdate, "differs", step("b", errors.New("create version of policy a: Throttling")))
	p.add("ram role b", ActionWarn, "trust differs", nil)
	p.add("ram policy a on role a", ActionAttach, "not attached", step("c", nil))

	err := p.Apply(context.Background())
	if err == nil || !strings.Contains(err.Error(), "update ram policy a: create version of policy a: Throttling") {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(calls, ","); got != "a,b" {
		t.Errorf("calls %s, want a,b", got)
	}
	want := []Status{StatusDone, StatusPending, StatusFailed, StatusPending, StatusSkipped}
	for i, s := range p.Steps {
		if s.Status != want[i] {
			t.Errorf("step %d %s: status %q, want %q", i, s.Resource, s.Status, want[i])
		}
	}
	var b bytes.Buffer
	if err := p.WriteTable(&b, true); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n" + p.Summary(true) + "\n")
	wantTable := `ACTION  RESOURCE                REASON         RESULT
create  ram role a              missing        done
ok      ram role a              exists         -
update  ram policy a            differs        failed: create version of policy a: Throttling
warn    ram role b              trust differs  -
attach  ram policy a on role a  not attached   skipped

1 created, 1 failed, 1 skipped, 1 ok, 1 warning
`
	if b.String() != wantTable {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), wantTable)
	}
	if got := p.Summary(false); got != "1 to create, 1 to update, 1 to attach, 1 ok, 1 warning" {
		t.Errorf("plan summary %q", got)
	}
}

func TestApplyHonoursCancellation(t *testing.T) {
	p := &Plan{}
	p.add("smq topic t", ActionCreate, "missing", func(context.Context) error {
		t.Error("step ran after cancellation")
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Apply(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// Transport errors of the RPC SDK quote the request URL; the secret and
// the security token must not survive into messages, in any encoding.
func TestWrapRedactsSecrets(t *testing.T) {
	secret, token := "s3cr3t/synthetic+value=", "CAIS+synthetic/token=="
	p := &Provisioner{}
	for _, s := range []string{secret, token} {
		p.secrets = append(p.secrets, s, url.QueryEscape(s), url.PathEscape(s))
	}
	cause := errors.New(`Get "https://ram.aliyuncs.com/?SecurityToken=` + url.QueryEscape(token) + `&x=` + secret + `": dial tcp: timeout`)
	err := p.wrap("get role akguard-scan", cause)
	msg := err.Error()
	for _, s := range p.secrets {
		if strings.Contains(msg, s) {
			t.Errorf("message keeps %q: %s", s, msg)
		}
	}
	if !strings.HasPrefix(msg, "get role akguard-scan: ") || !errors.Is(err, cause) {
		t.Errorf("wrap lost the operation or the cause: %s", msg)
	}
}

func TestWrapShortensRAMErrors(t *testing.T) {
	p := &Provisioner{}
	body := `{"RequestId":"R1","HostId":"ram.aliyuncs.com","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`
	err := p.wrap("create policy akguard-scan", sdkerrors.NewServerError(400, body, ""))
	want := "create policy akguard-scan: Throttling.User (HTTP 400): Request was denied due to user flow control. (request R1)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.ErrorCode() != "Throttling.User" {
		t.Error("the SDK error is not reachable for classification")
	}
}

// A plan with a difference setup cannot fix applies nothing at all: the
// user's fix (another bucket name) changes the plan.
func TestApplyRefusesUnfixablePlan(t *testing.T) {
	called := false
	p := &Plan{}
	p.add("ram role a", ActionCreate, "missing", func(context.Context) error { called = true; return nil })
	p.add("oss bucket s versioning", ActionError, "Enabled: use a new bucket", nil)
	p.add("oss bucket t versioning", ActionError, "Suspended: use a new bucket", nil)
	err := p.Apply(context.Background())
	if !errors.Is(err, ErrUnfixable) || called {
		t.Fatalf("err %v, step applied %v", err, called)
	}
	want := "setup cannot fix: oss bucket s versioning: Enabled: use a new bucket; oss bucket t versioning: Suspended: use a new bucket"
	if err.Error() != want {
		t.Errorf("err %q\nwant %q", err, want)
	}
	if p.Steps[0].Status != StatusPending {
		t.Errorf("create step status %q", p.Steps[0].Status)
	}
	if got := p.Summary(false); got != "1 to create, 0 ok, 2 errors" {
		t.Errorf("summary %q", got)
	}
	if (&Plan{}).Unfixable() != nil {
		t.Error("empty plan is unfixable")
	}
}
