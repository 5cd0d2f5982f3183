package fc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/akguard/akguard/infra/local/core"
)

const (
	statusSuccess = "success"
	statusError   = "error"
	statusTimeout = "timeout"

	// errUnhandled is the x-fc-error-type FC sets when a function throws,
	// crashes or times out ("Error handling" in the FC 3.0 runtime docs).
	errUnhandled = "UnhandledInvocationError"

	// runtimeAPIPrefix is what fc-runtime-go-sdk v0.3.1 calls
	// (fc/runtime_api_client.go: "http://"+FC_RUNTIME_API+"/2020-11-11/runtime/invocation/").
	runtimeAPIPrefix = "/2020-11-11/runtime/invocation/"
	// runtimeInitErrorPath is the runtime API's initialization-failure
	// report. fc-runtime-go-sdk v0.3.1 exits instead of calling it, but
	// other runtimes built on the same API do.
	runtimeInitErrorPath = "/2020-11-11/runtime/init/error"
)

// job is one invocation attempt handed to an instance.
type job struct {
	id      string
	payload []byte
	retry   int
	async   bool

	done    chan result   // buffered 1; written once via finish
	requeue chan struct{} // buffered 1; a stopping instance returns the job
	once    sync.Once
	inst    atomic.Pointer[instance] // set by the instance that picks the job
}

type result struct {
	status  string
	body    []byte
	errType string
	errMsg  string
	aborted error // server closing or caller gone: not an attempt
}

func (j *job) finish(r result) {
	j.once.Do(func() { j.done <- r })
}

// instance is one child process with its own runtime API listener (the
// SDK's paths carry no instance identity, so each needs its own address).
type instance struct {
	f     *function
	id    string
	cmd   *exec.Cmd
	ln    net.Listener
	hs    *http.Server
	slots chan struct{} // instanceConcurrency tokens
	dead  chan struct{}
	// isReady is set under f.mu once the runtime first asks for work (or
	// the process exits first); until then the instance counts as starting.
	isReady bool
	killed  atomic.Bool

	mu       sync.Mutex
	inflight map[string]*job
	served   bool
}

// spawn starts an instance; called with f.starting already counted.
func (f *function) spawn() {
	inst, err := f.startInstance()
	if err != nil {
		f.mu.Lock()
		f.starting--
		f.startErr, f.startErrAt = err, time.Now()
		f.mu.Unlock()
		if f.srv.ctx.Err() == nil {
			f.srv.log.Error("start instance", "function", f.cfg.Name, "err", err)
		}
		return
	}
	f.srv.log.Info("instance started", "function", f.cfg.Name, "instance", inst.id, "pid", inst.cmd.Process.Pid)
}

func (f *function) startInstance() (*instance, error) {
	bin := filepath.Join(f.cfg.Code, f.cfg.Handler)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("stat handler: %w", err)
	}
	var cred credentials
	if f.cfg.RoleName != "" {
		c, err := f.credentials()
		if err != nil {
			return nil, err
		}
		cred = c
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for runtime API: %w", err)
	}
	inst := &instance{
		f: f, id: "c-" + strings.ToLower(core.NewRequestID()[:23]), ln: ln,
		slots: make(chan struct{}, f.cfg.InstanceConcurrency), dead: make(chan struct{}), inflight: map[string]*job{},
	}
	inst.hs = &http.Server{Handler: http.HandlerFunc(inst.serveRuntimeAPI), ReadHeaderTimeout: 10 * time.Second}

	cmd := exec.Command(bin)
	cmd.Dir = f.cfg.Code
	cmd.Env = f.instanceEnv(inst, ln.Addr().String(), cred)
	cmd.Stdout = f.logOut
	cmd.Stderr = f.logOut
	// A process group lets Close and timeouts kill anything the function
	// forked, so no orphan outlives the local cloud.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	inst.cmd = cmd

	f.mu.Lock()
	if f.srv.ctx.Err() != nil {
		f.mu.Unlock()
		ln.Close()
		return nil, errors.New("server closing")
	}
	if err := cmd.Start(); err != nil {
		f.mu.Unlock()
		ln.Close()
		return nil, fmt.Errorf("exec handler: %w", err)
	}
	f.instances[inst.id] = inst
	f.srv.wg.Add(2)
	f.mu.Unlock()

	go func() {
		defer f.srv.wg.Done()
		if err := inst.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.srv.log.Error("runtime API", "function", f.cfg.Name, "err", err)
		}
	}()
	go func() {
		defer f.srv.wg.Done()
		inst.exited(cmd.Wait())
	}()
	return inst, nil
}

func (f *function) instanceEnv(inst *instance, api string, cred credentials) []string {
	env := []string{}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG", "TZ", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range f.cfg.Environment {
		env = append(env, k+"="+v)
	}
	// Set after the user's variables: FC reserves these names.
	env = append(env,
		"FC_RUNTIME_API="+api,
		"FC_RUNTIME=go1",
		"FC_FUNCTION_NAME="+f.cfg.Name,
		"FC_FUNCTION_HANDLER="+f.cfg.Handler,
		"FC_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.cfg.MemorySize),
		"FC_TIMEOUT="+strconv.Itoa(f.cfg.Timeout),
		"FC_REGION="+f.srv.env.Region,
		"FC_ACCOUNT_ID="+f.srv.env.AccountID,
		"FC_FUNC_CODE_PATH="+f.cfg.Code+string(os.PathSeparator),
		"FC_INSTANCE_ID="+inst.id,
	)
	if cred.id != "" {
		env = append(env,
			"ALIBABA_CLOUD_ACCESS_KEY_ID="+cred.id,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+cred.secret,
			"ALIBABA_CLOUD_SECURITY_TOKEN="+cred.token,
		)
	}
	if f.srv.opts.EndpointsFile != "" {
		env = append(env, "AKGUARD_LOCAL_ENDPOINTS="+f.srv.opts.EndpointsFile)
	}
	return env
}

// kill ends the instance's whole process group.
func (inst *instance) kill() {
	inst.killed.Store(true)
	if p := inst.cmd.Process; p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
}

// exited runs when the process ends: in-flight invocations fail the way FC
// reports a crashed runtime, and the function forgets the instance.
func (inst *instance) exited(waitErr error) {
	close(inst.dead)
	f := inst.f
	f.mu.Lock()
	delete(f.instances, inst.id)
	inst.mu.Lock()
	served := inst.served
	inst.mu.Unlock()
	if !inst.isReady {
		// Never asked for work: it no longer counts as starting.
		inst.isReady = true
		f.starting--
		if !served {
			f.startErr = fmt.Errorf("instance exited before requesting an invocation: %v", waitErr)
			f.startErrAt = time.Now()
		}
	}
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = inst.hs.Shutdown(ctx)
	cancel()

	inst.mu.Lock()
	jobs := inst.inflight
	inst.inflight = map[string]*job{}
	inst.mu.Unlock()
	msg := fmt.Sprintf("Process exited unexpectedly before completing request (%v)", waitErr)
	for _, j := range jobs {
		j.finish(result{status: statusError, errType: errUnhandled, errMsg: msg, body: errorBody(msg, "ProcessExited")})
	}
	f.srv.log.Info("instance exited", "function", f.cfg.Name, "instance", inst.id, "err", waitErr)
}

func errorBody(msg, typ string) []byte {
	b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": typ})
	return b
}

// serveRuntimeAPI implements what fc-runtime-go-sdk's runtimeAPIClient
// calls: GET next (long poll), POST <id>/response, POST <id>/error.
func (inst *instance) serveRuntimeAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == runtimeInitErrorPath && r.Method == http.MethodPost {
		inst.initError(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, runtimeAPIPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case rest == "next" && r.Method == http.MethodGet:
		inst.next(w, r)
	case strings.HasSuffix(rest, "/response") && r.Method == http.MethodPost:
		inst.complete(w, r, strings.TrimSuffix(rest, "/response"), false)
	case strings.HasSuffix(rest, "/error") && r.Method == http.MethodPost:
		inst.complete(w, r, strings.TrimSuffix(rest, "/error"), true)
	default:
		http.NotFound(w, r)
	}
}

func (inst *instance) next(w http.ResponseWriter, r *http.Request) {
	f := inst.f
	f.mu.Lock()
	if !inst.isReady {
		f.starting--
		inst.isReady = true
	}
	f.mu.Unlock()
	// The SDK asks for the next invocation as soon as it has one (each
	// runs in its own goroutine), so concurrency is enforced here.
	select {
	case inst.slots <- struct{}{}:
	case <-inst.dead:
		http.Error(w, "instance stopping", http.StatusServiceUnavailable)
		return
	case <-r.Context().Done():
		return
	}
	var j *job
	select {
	case j = <-f.jobs:
	case <-inst.dead:
	case <-r.Context().Done():
	}
	if j != nil && inst.killed.Load() {
		// Picked in the instant the instance was being stopped: hand the
		// job back so another instance runs it.
		j.requeue <- struct{}{}
		j = nil
	}
	if j == nil {
		<-inst.slots
		if r.Context().Err() == nil {
			http.Error(w, "instance stopping", http.StatusServiceUnavailable)
		}
		return
	}
	j.inst.Store(inst)
	inst.mu.Lock()
	inst.inflight[j.id] = j
	inst.served = true
	inst.mu.Unlock()

	h := w.Header()
	deadline := time.Now().Add(f.cfg.timeout())
	h.Set("Content-Type", "application/octet-stream")
	h.Set("x-fc-request-id", j.id)
	h.Set("x-fc-function-deadline", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("x-fc-function-timeout", strconv.Itoa(f.cfg.Timeout))
	h.Set("x-fc-function-name", f.cfg.Name)
	h.Set("x-fc-function-handler", f.cfg.Handler)
	h.Set("x-fc-function-memory", strconv.Itoa(f.cfg.MemorySize))
	h.Set("x-fc-region", f.srv.env.Region)
	h.Set("x-fc-account-id", f.srv.env.AccountID)
	h.Set("x-fc-qualifier", "LATEST")
	h.Set("x-fc-retry-count", strconv.Itoa(j.retry))
	if f.cfg.RoleName != "" {
		if c, err := f.credentials(); err == nil {
			h.Set("x-fc-access-key-id", c.id)
			h.Set("x-fc-access-key-secret", c.secret)
			h.Set("x-fc-security-token", c.token)
		} else {
			f.srv.log.Error("role credentials", "function", f.cfg.Name, "err", err)
		}
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(j.payload); err != nil {
		inst.take(j.id)
		j.finish(result{status: statusError, errType: errUnhandled, errMsg: "deliver invocation to instance: " + err.Error()})
	}
}

// take removes an in-flight job and frees its concurrency slot.
func (inst *instance) take(id string) *job {
	inst.mu.Lock()
	j := inst.inflight[id]
	delete(inst.inflight, id)
	inst.mu.Unlock()
	if j != nil {
		<-inst.slots
	}
	return j
}

func (inst *instance) complete(w http.ResponseWriter, r *http.Request, id string, failed bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	j := inst.take(id)
	if j == nil {
		http.Error(w, "unknown request id", http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
	if !failed {
		j.finish(result{status: statusSuccess, body: body})
		return
	}
	var e struct {
		Message string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &e)
	j.finish(result{status: statusError, body: body, errType: errUnhandled, errMsg: e.Message})
}

// initError records why the runtime could not initialise and stops the
// instance; waiting invocations then fail with that reason.
func (inst *instance) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var e struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	_ = json.Unmarshal(body, &e)
	f := inst.f
	f.mu.Lock()
	f.startErr = fmt.Errorf("runtime initialization failed: %s: %s", e.Type, e.Message)
	f.startErrAt = time.Now()
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	inst.kill()
}
