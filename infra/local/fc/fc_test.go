package fc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/core"
)

var update = flag.Bool("update", false, "rewrite golden files")

// binDir holds the fnecho test function, built once per test binary.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "fc-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The go build cache makes this a link step after the first run.
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "main"), "./testdata/fnecho")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test function: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

func newEnv(t testing.TB, dir string) *core.Env {
	t.Helper()
	env, err := core.Open(dir, "", "", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

func echoFn(name string, mod ...func(*Function)) Function {
	f := Function{Name: name, Runtime: "go1", Handler: "main", Code: binDir, Timeout: 5,
		Environment: map[string]string{"GREETING": "hello"}}
	for _, m := range mod {
		m(&f)
	}
	return f
}

func startServer(t testing.TB, env *core.Env, opts Options, fns ...Function) *Server {
	t.Helper()
	if opts.RetryBase == 0 {
		opts.RetryBase = 5 * time.Millisecond
	}
	opts.DisableTimers = true
	s, err := New(env, Config{Functions: fns}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func waitIdle(t testing.TB, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// recorder is a Hooks.Deliver that keeps what FC sent to destinations.
type recorder struct {
	mu   sync.Mutex
	msgs []delivered
}

type delivered struct {
	arn string
	ev  DestinationEvent
}

func (r *recorder) deliver(_ context.Context, arn string, body []byte) error {
	var ev DestinationEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, delivered{arn, ev})
	return nil
}

func (r *recorder) all() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.msgs...)
}

func TestSyncInvoke(t *testing.T) {
	env := newEnv(t, t.TempDir())
	var logs syncBuffer
	s := startServer(t, env, Options{EndpointsFile: "/tmp/endpoints.json", LogWriter: &logs}, echoFn("echo"))
	ctx := context.Background()

	tests := []struct {
		name    string
		payload string
		check   func(t *testing.T, out map[string]any)
		errType string
	}{
		{name: "echo", payload: `{"op":"echo","x":1}`, check: func(t *testing.T, out map[string]any) {
			want := map[string]any{"function": "echo", "handler": "main", "memory": "128", "timeout": 5.0,
				"region": env.Region, "accountId": env.AccountID, "retryCount": 0.0}
			for k, v := range want {
				if out[k] != v {
					t.Errorf("%s = %v, want %v", k, out[k], v)
				}
			}
			if p, _ := out["payload"].(map[string]any); p["x"] != 1.0 {
				t.Errorf("payload not echoed: %v", out["payload"])
			}
			if dl, _ := out["deadlineInMs"].(float64); dl < 3000 || dl > 5000 {
				t.Errorf("deadline %vms from a 5 s timeout", dl)
			}
		}},
		{name: "environment", payload: `{"op":"env"}`, check: func(t *testing.T, out map[string]any) {
			e, _ := out["env"].(map[string]any)
			want := map[string]string{"FC_FUNCTION_NAME": "echo", "FC_REGION": env.Region, "FC_ACCOUNT_ID": env.AccountID,
				"FC_FUNCTION_HANDLER": "main", "FC_FUNCTION_MEMORY_SIZE": "128", "FC_TIMEOUT": "5",
				"AKGUARD_LOCAL_ENDPOINTS": "/tmp/endpoints.json", "GREETING": "hello"}
			for k, v := range want {
				if e[k] != v {
					t.Errorf("%s = %v, want %v", k, e[k], v)
				}
			}
			if api, _ := e["FC_RUNTIME_API"].(string); !strings.HasPrefix(api, "127.0.0.1:") {
				t.Errorf("FC_RUNTIME_API = %q", api)
			}
		}},
		{name: "function error", payload: `{"op":"fail"}`, errType: errUnhandled, check: func(t *testing.T, out map[string]any) {
			if out["errorMessage"] != "requested failure" || out["errorType"] != "errorString" {
				t.Errorf("error body %v", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := s.Invoke(ctx, "echo", []byte(tt.payload), false)
			var ie *InvocationError
			switch {
			case tt.errType == "" && err != nil:
				t.Fatal(err)
			case tt.errType != "" && (!errors.As(err, &ie) || ie.Type != tt.errType):
				t.Fatalf("err = %v, want %s", err, tt.errType)
			}
			tt.check(t, decode(t, body))
		})
	}
	if _, err := s.Invoke(ctx, "nope", nil, false); !errors.Is(err, ErrFunctionNotFound) {
		t.Errorf("unknown function: %v", err)
	}
	inv := s.Invocations("echo")
	if len(inv) != 3 || inv[0].Status != statusSuccess || inv[2].Status != statusError || inv[2].ErrorType != errUnhandled {
		t.Errorf("invocations %+v", inv)
	}
	logFile, err := os.ReadFile(filepath.Join(env.DataDir, "fc", "logs", "echo.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(logFile), logs.String()} {
		if !strings.Contains(out, "FC Invoke Start RequestId: "+inv[0].RequestID) {
			t.Errorf("instance output not captured: %q", out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAsyncRetriesAndDestinations(t *testing.T) {
	const (
		okDest   = "acs:mns:cn-hangzhou:1234567890123456:/queues/ok/messages"
		failDest = "acs:mns:cn-hangzhou:1234567890123456:/topics/alerts/messages"
	)
	tests := []struct {
		name       string
		payload    string
		maxRetries int
		statuses   []string
		dest       string
		condition  string
	}{
		{name: "succeeds on third attempt", payload: `{"op":"failUntil","n":2}`, maxRetries: 3,
			statuses: []string{statusError, statusError, statusSuccess}, dest: okDest},
		{name: "exhausts retries", payload: `{"op":"fail"}`, maxRetries: 2,
			statuses: []string{statusError, statusError, statusError}, dest: failDest, condition: errUnhandled},
		{name: "no retries", payload: `{"op":"crash"}`, maxRetries: 0,
			statuses: []string{statusError}, dest: failDest, condition: errUnhandled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, t.TempDir())
			rec := &recorder{}
			env.Hooks.Deliver = rec.deliver
			s := startServer(t, env, Options{}, echoFn("job", func(f *Function) {
				f.Async = AsyncConfig{MaxRetryAttempts: tt.maxRetries, OnSuccess: okDest, OnFailure: failDest}
			}))
			id, err := s.Invoke(context.Background(), "job", []byte(tt.payload), true)
			if err != nil {
				t.Fatal(err)
			}
			waitIdle(t, s)
			inv := s.Invocations("job")
			if len(inv) != len(tt.statuses) {
				t.Fatalf("got %d attempts, want %d: %+v", len(inv), len(tt.statuses), inv)
			}
			for i, in := range inv {
				if in.RequestID != string(id) || in.RetryCount != i || in.Status != tt.statuses[i] || !in.Async {
					t.Errorf("attempt %d: %+v", i, in)
				}
			}
			msgs := rec.all()
			if len(msgs) != 1 || msgs[0].arn != tt.dest {
				t.Fatalf("destinations %+v", msgs)
			}
			ev := msgs[0].ev
			rc := ev.RequestContext
			if rc.RequestID != string(id) || rc.Condition != tt.condition || rc.ApproximateInvokeCount != len(tt.statuses) ||
				rc.FunctionArn != "acs:fc:cn-hangzhou:"+env.AccountID+":functions/job" || ev.RequestPayload != tt.payload ||
				ev.ResponseContext.StatusCode != 200 || ev.ResponseContext.FunctionError != tt.condition || ev.Timestamp == 0 {
				t.Errorf("destination event %+v", ev)
			}
			if tt.condition == "" {
				if out := decode(t, []byte(ev.ResponsePayload)); out["retryCount"] != float64(len(tt.statuses)-1) {
					t.Errorf("function saw retry count %v", out["retryCount"])
				}
			}
		})
	}
}

func TestTimeoutAndCrashRestartInstance(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{}, echoFn("slow", func(f *Function) { f.Timeout = 1 }))
	ctx := context.Background()
	pid := func() float64 {
		t.Helper()
		out, err := s.Invoke(ctx, "slow", []byte(`{"op":"echo"}`), false)
		if err != nil {
			t.Fatal(err)
		}
		return decode(t, out)["pid"].(float64)
	}
	first := pid()
	if again := pid(); again != first {
		t.Errorf("warm instance not reused: %v then %v", first, again)
	}
	start := time.Now()
	body, err := s.Invoke(ctx, "slow", []byte(`{"op":"sleep","sleepMs":4000}`), false)
	var ie *InvocationError
	if !errors.As(err, &ie) || !ie.Timeout || ie.Type != errUnhandled {
		t.Fatalf("timeout: err = %v", err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("timeout took %s", d)
	}
	if m := decode(t, body); m["errorMessage"] != "Function timed out after 1 seconds" {
		t.Errorf("timeout body %v", m)
	}
	second := pid()
	if second == first {
		t.Error("timed-out instance was not replaced")
	}
	if _, err := s.Invoke(ctx, "slow", []byte(`{"op":"crash"}`), false); !errors.As(err, &ie) || ie.Timeout {
		t.Fatalf("crash: err = %v", err)
	}
	if third := pid(); third == second {
		t.Error("crashed instance was not replaced")
	}
	inv := s.Invocations("slow")
	var timeouts int
	for _, in := range inv {
		if in.Status == statusTimeout {
			timeouts++
		}
	}
	if timeouts != 1 {
		t.Errorf("timeouts recorded = %d", timeouts)
	}
}

func TestBurstQueuesWithinInstanceCap(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{MaxInstances: 2}, echoFn("burst"))
	var wg sync.WaitGroup
	pids := make([]float64, 6)
	errs := make([]error, 6)
	for i := range pids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := s.Invoke(context.Background(), "burst", []byte(`{"op":"sleep","sleepMs":150}`), false)
			if err != nil {
				errs[i] = err
				return
			}
			var m map[string]any
			errs[i] = json.Unmarshal(out, &m)
			pids[i], _ = m["pid"].(float64)
		}(i)
	}
	wg.Wait()
	distinct := map[float64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		distinct[pids[i]] = true
	}
	if len(distinct) > 2 {
		t.Errorf("%d instances for MaxInstances 2", len(distinct))
	}
}

func TestRoleCredentials(t *testing.T) {
	env := newEnv(t, "")
	role, err := env.IAM.CreateRole("ak-guard-fc-role",
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`, "", 3600)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, env, Options{}, echoFn("withrole", func(f *Function) { f.Role = role.Arn }))
	out, err := s.Invoke(context.Background(), "withrole", []byte(`{"op":"creds","nonce":"n-123"}`), false)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	cur, err := s.fns["withrole"].credentials()
	if err != nil {
		t.Fatal(err)
	}
	secret, p, err := env.IAM.Authenticate(cur.id, cur.token)
	if err != nil {
		t.Fatalf("delivered credentials do not authenticate: %v", err)
	}
	if p.Type != "assumed-role" || p.RoleName != "ak-guard-fc-role" {
		t.Errorf("principal %+v", p)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("n-123"))
	wantProof := hex.EncodeToString(mac.Sum(nil))
	tok := sha256.Sum256([]byte(cur.token))
	for _, k := range []string{"ctxCreds", "envCreds"} {
		c, _ := m[k].(map[string]any)
		if c["id"] != cur.id || c["proof"] != wantProof || c["token"] != hex.EncodeToString(tok[:]) || !strings.HasPrefix(cur.id, "STS.") {
			t.Errorf("%s: function did not get the role's STS credentials", k)
		}
	}
	if strings.Contains(string(out), cur.secret) || strings.Contains(string(out), cur.token) {
		t.Error("secret leaked into output")
	}
}

func TestRestartKeepsAcceptedAsyncInvocation(t *testing.T) {
	dir := t.TempDir()
	env := newEnv(t, dir)
	fn := echoFn("durable")
	s, err := New(env, Config{Functions: []Function{fn}}, Options{DisableTimers: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Invoke(context.Background(), "durable", []byte(`{"op":"sleep","sleepMs":400}`), true)
	if err != nil {
		t.Fatal(err)
	}
	// Close while the attempt runs: it must neither count nor be lost.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f := s.fns["durable"]
		f.qMu.Lock()
		running := len(f.items) == 1 && f.items[0].running
		f.qMu.Unlock()
		if running || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Invocations("durable")); n != 0 {
		t.Fatalf("interrupted attempt recorded: %d", n)
	}

	env2 := newEnv(t, dir)
	s2 := startServer(t, env2, Options{}, fn)
	waitIdle(t, s2)
	inv := s2.Invocations("durable")
	if len(inv) != 1 || inv[0].RequestID != string(id) || inv[0].Status != statusSuccess {
		t.Fatalf("after restart: %+v", inv)
	}
	// Done is journaled: a third start has nothing to run.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "fc", "queue", "durable.jsonl")); err != nil || st.Size() != 0 {
		t.Errorf("drained queue log not empty: %v %v", st, err)
	}
	s3 := startServer(t, newEnv(t, dir), Options{}, fn)
	waitIdle(t, s3)
	if n := len(s3.Invocations("durable")); n != 0 {
		t.Errorf("finished invocation ran again: %d", n)
	}
}

func TestCloseLeavesNoOrphans(t *testing.T) {
	env := newEnv(t, "")
	s, err := New(env, Config{Functions: []Function{echoFn("orphan")}}, Options{DisableTimers: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Invoke(context.Background(), "orphan", []byte(`{}`), false)
	if err != nil {
		t.Fatal(err)
	}
	pid := int(decode(t, out)["pid"].(float64))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if p, err := os.FindProcess(pid); err == nil {
		if err := p.Signal(syscall.Signal(0)); err == nil {
			t.Errorf("instance %d still alive after Close", pid)
		}
	}
}

func TestInstanceConcurrency(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{MaxInstances: 1}, echoFn("multi", func(f *Function) { f.InstanceConcurrency = 3 }))
	if _, err := s.Invoke(context.Background(), "multi", []byte(`{}`), false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	pids := make([]float64, 3)
	for i := range pids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := s.Invoke(context.Background(), "multi", []byte(`{"op":"sleep","sleepMs":300}`), false)
			if err != nil {
				t.Error(err)
				return
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Error(err)
			}
			pids[i], _ = m["pid"].(float64)
		}(i)
	}
	wg.Wait()
	if d := time.Since(start); d > 850*time.Millisecond {
		t.Errorf("3 concurrent 300 ms invocations on one instance took %s", d)
	}
	if pids[0] != pids[1] || pids[1] != pids[2] {
		t.Errorf("pids %v: want one instance", pids)
	}
}

func TestAsyncEventAgeExceeded(t *testing.T) {
	env := newEnv(t, "")
	rec := &recorder{}
	env.Hooks.Deliver = rec.deliver
	const failDest = "acs:mns:cn-hangzhou:1234567890123456:/queues/dlq/messages"
	s := startServer(t, env, Options{RetryBase: 400 * time.Millisecond}, echoFn("aging", func(f *Function) {
		f.Async = AsyncConfig{MaxRetryAttempts: 8, MaxEventAge: 1, OnFailure: failDest}
	}))
	if _, err := s.Invoke(context.Background(), "aging", []byte(`{"op":"fail"}`), true); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	// Attempts at 0 s and 0.4 s; the next (due at 1.2 s) is past the 1 s age.
	if n := len(s.Invocations("aging")); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	msgs := rec.all()
	if len(msgs) != 1 || msgs[0].arn != failDest || msgs[0].ev.RequestContext.Condition != "EventAgeExceeded" ||
		msgs[0].ev.RequestContext.ApproximateInvokeCount != 2 {
		t.Errorf("destinations %+v", msgs)
	}
}

func TestRuntimeInitError(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{}, echoFn("init"))
	out, err := s.Invoke(context.Background(), "init", []byte(`{"op":"env"}`), false)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	api := m["env"].(map[string]any)["FC_RUNTIME_API"].(string)
	// A runtime that fails to initialise reports it and is stopped.
	resp, err := http.Post("http://"+api+"/2020-11-11/runtime/init/error", "application/json",
		strings.NewReader(`{"errorMessage":"missing config","errorType":"InitError"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	out, err = s.Invoke(context.Background(), "init", []byte(`{}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if decode(t, out)["pid"] == m["pid"] {
		t.Error("instance that reported an init error kept serving")
	}
}

func TestMissingHandlerBinary(t *testing.T) {
	env := newEnv(t, "")
	s := startServer(t, env, Options{}, echoFn("broken", func(f *Function) { f.Handler = "no-such-binary" }))
	body, err := s.Invoke(context.Background(), "broken", []byte(`{}`), false)
	var ie *InvocationError
	if !errors.As(err, &ie) || ie.Type != errUnhandled || !strings.Contains(ie.Message, "no-such-binary") {
		t.Fatalf("err = %v", err)
	}
	if m := decode(t, body); m["errorType"] != "FunctionNotStarted" {
		t.Errorf("body %v", m)
	}
}

func TestQueueLogToleratesTornTail(t *testing.T) {
	dir := t.TempDir()
	qdir := filepath.Join(dir, "fc", "queue")
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	pending, err := json.Marshal(journalRecord{Op: "enqueue", Item: &asyncItem{ID: "REQ-PENDING", Payload: []byte(`{"op":"echo"}`), Source: "api", Accepted: now, NotBefore: now}})
	if err != nil {
		t.Fatal(err)
	}
	finished, err := json.Marshal(journalRecord{Op: "enqueue", Item: &asyncItem{ID: "REQ-DONE", Payload: []byte(`{}`), Accepted: now, NotBefore: now}})
	if err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves a partial last line.
	log := string(finished) + "\n" + string(pending) + "\n" + `{"op":"done","id":"REQ-DONE"}` + "\n" + `{"op":"enqueue","item":{"id":"REQ-TO`
	if err := os.WriteFile(filepath.Join(qdir, "torn.jsonl"), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, newEnv(t, dir), Options{}, echoFn("torn"))
	waitIdle(t, s)
	inv := s.Invocations("torn")
	if len(inv) != 1 || inv[0].RequestID != "REQ-PENDING" || inv[0].Status != statusSuccess {
		t.Fatalf("replayed %+v", inv)
	}
}
