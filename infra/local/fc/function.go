package fc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// function is one deployed function: its instance pool, async queue and
// invocation records.
type function struct {
	srv *Server
	cfg Function

	// pool state, under mu
	mu         sync.Mutex
	instances  map[string]*instance
	starting   int // spawned, not yet asking for work
	waiting    int // jobs waiting for an instance
	startErr   error
	startErrAt time.Time
	jobs       chan *job // unbuffered: a send is a pick-up

	credMu sync.Mutex
	cred   credentials

	logFile *os.File
	logOut  io.Writer

	// async queue, under qMu
	qMu     sync.Mutex
	items   []*asyncItem
	qSignal chan struct{} // closed and replaced whenever the queue changes
	journal *os.File

	syncRunning atomic.Int64

	recMu   sync.Mutex
	records []Invocation
}

type credentials struct {
	id, secret, token string
	exp               time.Time
}

const maxRecords = 10000

func newFunction(s *Server, cfg Function) (*function, error) {
	f := &function{srv: s, cfg: cfg, instances: map[string]*instance{}, jobs: make(chan *job), qSignal: make(chan struct{})}
	var outs []io.Writer
	logDir, err := s.logDir()
	if err != nil {
		return nil, err
	}
	if logDir != "" {
		lf, err := os.OpenFile(filepath.Join(logDir, cfg.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open function log: %w", err)
		}
		f.logFile = lf
		outs = append(outs, lf)
	}
	if s.opts.LogWriter != nil {
		outs = append(outs, s.opts.LogWriter)
	}
	f.logOut = &lockedWriter{w: io.MultiWriter(outs...)}
	if err := f.openQueue(); err != nil {
		f.closeFiles()
		return nil, err
	}
	return f, nil
}

// lockedWriter serialises the instances' stdout/stderr copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *function) closeFiles() error {
	var errs []error
	if f.logFile != nil {
		errs = append(errs, f.logFile.Close())
		f.logFile = nil
	}
	f.qMu.Lock()
	if f.journal != nil {
		errs = append(errs, f.journal.Close())
		f.journal = nil
	}
	f.qMu.Unlock()
	return errors.Join(errs...)
}

func (f *function) killAll() {
	f.mu.Lock()
	insts := make([]*instance, 0, len(f.instances))
	for _, inst := range f.instances {
		insts = append(insts, inst)
	}
	f.mu.Unlock()
	for _, inst := range insts {
		inst.kill()
	}
}

func (f *function) busy() bool {
	if f.syncRunning.Load() > 0 {
		return true
	}
	f.qMu.Lock()
	defer f.qMu.Unlock()
	return len(f.items) > 0
}

// maybeSpawnLocked scales out while jobs wait and no instance can take
// them, up to MaxInstances; beyond that jobs queue.
func (f *function) maybeSpawnLocked() {
	if f.srv.ctx.Err() != nil {
		return
	}
	// Free slots of running instances count even while their runtime is
	// between posting a response and asking for the next invocation, so a
	// warm instance is reused rather than a new one started.
	free := f.starting * f.cfg.InstanceConcurrency
	running := 0
	for _, inst := range f.instances {
		if !inst.isReady || inst.killed.Load() {
			continue
		}
		running++
		inst.mu.Lock()
		free += f.cfg.InstanceConcurrency - len(inst.inflight)
		inst.mu.Unlock()
	}
	if f.waiting > free && running+f.starting < f.srv.opts.MaxInstances {
		f.starting++
		go f.spawn()
	}
}

// credentials returns the execution role's STS credentials, reissued
// before they expire (FC hands every instance and invocation the role's
// temporary credentials).
func (f *function) credentials() (credentials, error) {
	f.credMu.Lock()
	defer f.credMu.Unlock()
	now := f.srv.now()
	if f.cred.id != "" && f.cred.exp.Sub(now) > 15*time.Minute {
		return f.cred, nil
	}
	role, err := f.srv.env.IAM.RoleByArn(f.cfg.Role)
	if err != nil {
		return credentials{}, fmt.Errorf("assume execution role %s: %w", f.cfg.Role, err)
	}
	dur := time.Duration(role.MaxSessionDuration) * time.Second
	sess, err := f.srv.env.IAM.IssueSession(role.RoleName, "fc-"+f.cfg.Name, dur, "")
	if err != nil {
		return credentials{}, fmt.Errorf("assume execution role %s: %w", f.cfg.Role, err)
	}
	exp, err := time.Parse(time.RFC3339, sess.Expiration)
	if err != nil {
		return credentials{}, fmt.Errorf("parse session expiration: %w", err)
	}
	f.cred = credentials{id: sess.AccessKeyID, secret: sess.AccessKeySecret, token: sess.SecurityToken, exp: exp}
	return f.cred, nil
}

// run hands one attempt to an instance (starting one if needed) and waits
// for its outcome, enforcing the function timeout by killing the instance.
func (f *function) run(ctx context.Context, j *job) (result, time.Duration) {
	begin := time.Now()
	for {
		if r, done := f.dispatch(ctx, j, begin); done {
			return r, time.Since(begin)
		}
		queued := time.Since(begin)
		if r, requeued := f.await(j); !requeued {
			return r, queued
		}
	}
}

// dispatch hands j to an instance; done reports a final result instead
// (no instance could start, or the caller or server went away).
func (f *function) dispatch(ctx context.Context, j *job, begin time.Time) (result, bool) {
	f.mu.Lock()
	f.waiting++
	f.maybeSpawnLocked()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.waiting--
		f.mu.Unlock()
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case f.jobs <- j:
			return result{}, false
		case <-tick.C:
			f.mu.Lock()
			if f.startErr != nil && f.startErrAt.After(begin) && len(f.instances) == 0 && f.starting == 0 {
				err := f.startErr
				f.mu.Unlock()
				msg := "start function instance: " + err.Error()
				return result{status: statusError, errType: errUnhandled, errMsg: msg, body: errorBody(msg, "FunctionNotStarted")}, true
			}
			f.maybeSpawnLocked()
			f.mu.Unlock()
		case <-ctx.Done():
			return result{aborted: ctx.Err()}, true
		case <-f.srv.ctx.Done():
			return result{aborted: errors.New("function compute closing")}, true
		}
	}
}

// await waits for the picked job's outcome, killing the instance when the
// function timeout passes.
func (f *function) await(j *job) (result, bool) {
	timer := time.NewTimer(f.cfg.timeout())
	defer timer.Stop()
	select {
	case r := <-j.done:
		return r, false
	case <-j.requeue:
		return result{}, true
	case <-timer.C:
		msg := fmt.Sprintf("Function timed out after %d seconds", f.cfg.Timeout)
		j.finish(result{status: statusTimeout, errType: errUnhandled, errMsg: msg, body: errorBody(msg, "FunctionTimeout")})
		if inst := j.inst.Load(); inst != nil {
			inst.kill()
		}
		return <-j.done, false
	case <-f.srv.ctx.Done():
		return result{aborted: errors.New("function compute closing")}, false
	}
}

func newJob(id string, payload []byte, retry int, async bool) *job {
	return &job{id: id, payload: payload, retry: retry, async: async, done: make(chan result, 1), requeue: make(chan struct{}, 1)}
}

func (f *function) invokeSync(ctx context.Context, id string, payload []byte) result {
	f.syncRunning.Add(1)
	defer f.syncRunning.Add(-1)
	start := f.srv.now()
	res, queued := f.run(ctx, newJob(id, payload, 0, false))
	if res.aborted == nil {
		f.record(id, false, 0, start, queued, res)
	}
	return res
}

func (f *function) record(id string, async bool, retry int, start time.Time, queued time.Duration, res result) {
	inv := Invocation{
		RequestID: id, Function: f.cfg.Name, Async: async, Start: start, Duration: f.srv.now().Sub(start),
		Status: res.status, RetryCount: retry, ErrorType: res.errType, Error: res.errMsg, Queued: queued,
	}
	f.recMu.Lock()
	defer f.recMu.Unlock()
	if len(f.records) >= maxRecords {
		f.records = append(f.records[:0], f.records[len(f.records)-maxRecords/2:]...)
	}
	f.records = append(f.records, inv)
	lvl := "info"
	if res.status != statusSuccess {
		lvl = "warn"
	}
	args := []any{"function", f.cfg.Name, "request_id", id, "async", async, "retry", retry, "status", res.status, "duration_ms", inv.Duration.Milliseconds()}
	if lvl == "warn" {
		f.srv.log.Warn("invocation failed", append(args, "error_type", res.errType, "error", res.errMsg)...)
	} else {
		f.srv.log.Debug("invocation", args...)
	}
}
