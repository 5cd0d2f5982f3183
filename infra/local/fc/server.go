// Package fc is the local cloud's Function Compute 3.0: it runs function
// binaries built with fc-runtime-go-sdk unchanged, as child processes that
// talk to an emulated FC runtime API, and serves the FC 3.0 InvokeFunction
// OpenAPI (ROA, "acs" signature) with RAM authorization and ActionTrail
// records. Asynchronous invocations are persisted, retried and routed to
// destinations as FC documents; OSS and timer triggers invoke functions
// asynchronously with the events the real service sends.
package fc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/akguard/akguard/infra/local/core"
)

// Options tune the local FC. The zero value is usable.
type Options struct {
	// EndpointsFile, when set, is passed to every instance as
	// AKGUARD_LOCAL_ENDPOINTS so functions find the local services.
	EndpointsFile string
	// MaxInstances caps instances per function (default 4); a burst beyond
	// MaxInstances × instanceConcurrency queues.
	MaxInstances int
	// RetryBase is the first async retry delay, doubled per retry
	// (default 1s; tests use milliseconds).
	RetryBase time.Duration
	// DisableTimers stops the timer scheduler; FireTimer still works.
	DisableTimers bool
	// LogWriter, if set, also receives every instance's stdout/stderr.
	LogWriter io.Writer
}

// Server is the local Function Compute.
type Server struct {
	env  *core.Env
	opts Options
	log  *slog.Logger
	fns  map[string]*function
	dir  string // env.ServiceDir("fc"), "" in memory

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Invocation is one execution attempt of a function.
type Invocation struct {
	RequestID  string        `json:"requestId"`
	Function   string        `json:"function"`
	Async      bool          `json:"async"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"duration"`
	Status     string        `json:"status"` // success | error | timeout
	RetryCount int           `json:"retryCount"`
	ErrorType  string        `json:"errorType,omitempty"` // x-fc-error-type, e.g. UnhandledInvocationError
	Error      string        `json:"error,omitempty"`     // errorMessage
	// Queued is the time from acceptance (or the retry's due time) to the
	// instance picking the invocation up.
	Queued time.Duration `json:"queued"`
}

// InvocationError is a function error from a synchronous Invoke; the
// response body (FC's {"errorMessage","errorType",...}) is returned too.
type InvocationError struct {
	Type    string // x-fc-error-type
	Message string
	Timeout bool
}

func (e *InvocationError) Error() string { return e.Type + ": " + e.Message }

// ErrFunctionNotFound is returned for unknown function names.
var ErrFunctionNotFound = errors.New("function not found")

// New starts the local FC for the functions in cfg. Persisted async
// invocations from a previous run are resumed.
func New(env *core.Env, cfg Config, opts Options) (*Server, error) {
	if opts.MaxInstances <= 0 {
		opts.MaxInstances = 4
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	dir, err := env.ServiceDir("fc")
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{env: env, opts: opts, log: log.With("service", "fc"), fns: map[string]*function{}, dir: dir, ctx: ctx, cancel: cancel}
	for i := range cfg.Functions {
		fc := cfg.Functions[i]
		if err := fc.Validate(); err != nil {
			cancel()
			s.closeFiles()
			return nil, err
		}
		if _, dup := s.fns[fc.Name]; dup {
			cancel()
			s.closeFiles()
			return nil, fmt.Errorf("function %s defined twice", fc.Name)
		}
		if fc.Region != "" && fc.Region != env.Region {
			s.log.Warn("function region differs from the local cloud's; running it anyway", "function", fc.Name, "region", fc.Region, "cloud_region", env.Region)
		}
		f, err := newFunction(s, fc)
		if err != nil {
			cancel()
			s.closeFiles()
			return nil, err
		}
		s.fns[fc.Name] = f
	}
	for _, f := range s.fns {
		f.startWorkers()
	}
	if !opts.DisableTimers {
		s.startTimers()
	}
	return s, nil
}

// Close stops timers and workers, kills every instance's process group
// and waits for them. Accepted async invocations not yet finished stay in
// the persisted queue for the next New.
func (s *Server) Close() error {
	s.cancel()
	for _, f := range s.fns {
		f.killAll()
	}
	s.wg.Wait()
	return s.closeFiles()
}

func (s *Server) closeFiles() error {
	var errs []error
	for _, f := range s.fns {
		errs = append(errs, f.closeFiles())
	}
	return errors.Join(errs...)
}

// Functions lists the configured function names.
func (s *Server) Functions() []string {
	out := make([]string, 0, len(s.fns))
	for n := range s.fns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Invoke runs a function. Synchronous calls return the response body; a
// function error returns the error body and an *InvocationError.
// Asynchronous calls persist the invocation and return its request ID.
func (s *Server) Invoke(ctx context.Context, fn string, payload []byte, async bool) ([]byte, error) {
	f := s.fns[fn]
	if f == nil {
		return nil, fmt.Errorf("invoke %s: %w", fn, ErrFunctionNotFound)
	}
	id := core.NewRequestID()
	if async {
		if err := f.enqueue(ctx, id, payload, "api"); err != nil {
			return nil, fmt.Errorf("invoke %s: %w", fn, err)
		}
		return []byte(id), nil
	}
	res := f.invokeSync(ctx, id, payload)
	if res.aborted != nil {
		return nil, fmt.Errorf("invoke %s: %w", fn, res.aborted)
	}
	if res.errType != "" {
		return res.body, &InvocationError{Type: res.errType, Message: res.errMsg, Timeout: res.status == statusTimeout}
	}
	return res.body, nil
}

// Invocations returns the recorded attempts of a function, oldest first.
func (s *Server) Invocations(fn string) []Invocation {
	f := s.fns[fn]
	if f == nil {
		return nil
	}
	f.recMu.Lock()
	defer f.recMu.Unlock()
	return append([]Invocation(nil), f.records...)
}

// WaitIdle blocks until no invocation is queued, waiting for a retry or
// running, or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		busy := false
		for _, f := range s.fns {
			if f.busy() {
				busy = true
				break
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for idle: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// functionArn is the FC 3.0 function ARN used in RAM policies ("RAM
// authorization" reference for FC 2023-03-30: acs:fc:{#regionId}:{#accountId}:functions/{#functionName}).
func (s *Server) functionArn(name string) string {
	return fmt.Sprintf("acs:fc:%s:%s:functions/%s", s.env.Region, s.env.AccountID, name)
}

func (s *Server) logDir() (string, error) {
	if s.dir == "" {
		return "", nil
	}
	d := filepath.Join(s.dir, "logs")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create fc log dir: %w", err)
	}
	return d, nil
}

func (s *Server) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}
