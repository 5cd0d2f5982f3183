package fc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// asyncItem is an accepted asynchronous invocation. FC persists it before
// answering 202, so it survives restarts ("Asynchronous invocation" docs).
type asyncItem struct {
	ID        string    `json:"id"`
	Payload   []byte    `json:"payload"`
	Source    string    `json:"source"` // api | oss | timer | destination
	Accepted  time.Time `json:"accepted"`
	Retry     int       `json:"retry"`
	NotBefore time.Time `json:"notBefore"`
	running   bool
	durableAt time.Time // when acceptance was fsynced (the 202 went out)
}

// journalRecord is one line of the append-only queue log
// DataDir/fc/queue/<function>.jsonl.
type journalRecord struct {
	Op   string     `json:"op"` // enqueue | retry | done
	ID   string     `json:"id,omitempty"`
	Item *asyncItem `json:"item,omitempty"`
}

// openQueue replays the journal and rewrites it compacted (temp file +
// rename, so a crash keeps either log intact). A torn last line from a
// crash mid-append is ignored.
func (f *function) openQueue() error {
	if f.srv.dir == "" {
		return nil
	}
	dir := filepath.Join(f.srv.dir, "queue")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create fc queue dir: %w", err)
	}
	path := filepath.Join(dir, f.cfg.Name+".jsonl")
	byID := map[string]*asyncItem{}
	var order []string
	if data, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(data)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			var rec journalRecord
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				continue
			}
			switch rec.Op {
			case "enqueue", "retry":
				if rec.Item == nil {
					continue
				}
				if _, ok := byID[rec.Item.ID]; !ok {
					order = append(order, rec.Item.ID)
				}
				byID[rec.Item.ID] = rec.Item
			case "done":
				delete(byID, rec.ID)
			}
		}
		err := sc.Err()
		data.Close()
		if err != nil {
			return fmt.Errorf("read fc queue %s: %w", path, err)
		}
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("open fc queue: %w", err)
	}
	tmp := path + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("compact fc queue: %w", err)
	}
	w := bufio.NewWriter(out)
	for _, id := range order {
		it := byID[id]
		if it == nil {
			continue
		}
		f.items = append(f.items, it)
		line, err := json.Marshal(journalRecord{Op: "enqueue", Item: it})
		if err != nil {
			out.Close()
			return fmt.Errorf("encode fc queue item: %w", err)
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("compact fc queue: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("sync fc queue: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("close fc queue: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace fc queue: %w", err)
	}
	j, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open fc queue: %w", err)
	}
	f.journal = j
	if len(f.items) > 0 {
		f.srv.log.Info("resuming async invocations", "function", f.cfg.Name, "count", len(f.items))
	}
	return nil
}

// appendLocked writes one journal record; sync makes acceptance durable.
func (f *function) appendLocked(rec journalRecord, sync bool) error {
	if f.journal == nil {
		return nil
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode fc queue record: %w", err)
	}
	if _, err := f.journal.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("append fc queue: %w", err)
	}
	if sync {
		if err := f.journal.Sync(); err != nil {
			return fmt.Errorf("sync fc queue: %w", err)
		}
	}
	return nil
}

func (f *function) signalLocked() {
	close(f.qSignal)
	f.qSignal = make(chan struct{})
}

// enqueue accepts an async invocation; it is durable when this returns.
func (f *function) enqueue(_ context.Context, id string, payload []byte, source string) error {
	if f.srv.ctx.Err() != nil {
		return errors.New("function compute closing")
	}
	now := f.srv.now()
	it := &asyncItem{ID: id, Payload: payload, Source: source, Accepted: now, NotBefore: now}
	f.qMu.Lock()
	defer f.qMu.Unlock()
	if err := f.appendLocked(journalRecord{Op: "enqueue", Item: it}, true); err != nil {
		return err
	}
	it.durableAt = f.srv.now()
	f.items = append(f.items, it)
	f.signalLocked()
	return nil
}

// startWorkers runs as many async workers as the function can execute
// concurrently; more accepted invocations wait in the queue.
func (f *function) startWorkers() {
	n := f.srv.opts.MaxInstances * f.cfg.InstanceConcurrency
	for i := 0; i < n; i++ {
		f.srv.wg.Add(1)
		go func() {
			defer f.srv.wg.Done()
			for {
				it := f.nextItem()
				if it == nil {
					return
				}
				f.process(it)
			}
		}()
	}
}

// nextItem blocks until an item is due (FIFO among due items) or the
// server closes.
func (f *function) nextItem() *asyncItem {
	for {
		if f.srv.ctx.Err() != nil {
			return nil
		}
		f.qMu.Lock()
		now := f.srv.now()
		var due *asyncItem
		var earliest time.Time
		for _, it := range f.items {
			if it.running {
				continue
			}
			if !it.NotBefore.After(now) {
				due = it
				break
			}
			if earliest.IsZero() || it.NotBefore.Before(earliest) {
				earliest = it.NotBefore
			}
		}
		if due != nil {
			due.running = true
			f.qMu.Unlock()
			return due
		}
		sig := f.qSignal
		f.qMu.Unlock()
		var timer <-chan time.Time
		var t *time.Timer
		if !earliest.IsZero() {
			t = time.NewTimer(earliest.Sub(now))
			timer = t.C
		}
		select {
		case <-sig:
		case <-timer:
		case <-f.srv.ctx.Done():
			return nil
		}
		if t != nil {
			t.Stop()
		}
	}
}

func (f *function) removeLocked(it *asyncItem) {
	for i, x := range f.items {
		if x == it {
			f.items = append(f.items[:i], f.items[i+1:]...)
			return
		}
	}
}

// process runs one attempt and applies FC's async policy: retry function
// errors, crashes and timeouts up to maxAsyncRetryAttempts with backoff,
// drop events older than maxAsyncEventAgeInSeconds, and report the final
// outcome to the onSuccess/onFailure destination.
func (f *function) process(it *asyncItem) {
	ctx := f.srv.ctx
	now := f.srv.now()
	if age := now.Sub(it.Accepted); age > time.Duration(f.cfg.Async.MaxEventAge)*time.Second {
		msg := fmt.Sprintf("event age %s exceeds maxAsyncEventAgeInSeconds %d", age.Round(time.Second), f.cfg.Async.MaxEventAge)
		f.srv.log.Warn("async invocation expired", "function", f.cfg.Name, "request_id", it.ID, "retry", it.Retry)
		f.finishItem(ctx, it, result{status: statusError, errType: "EventAgeExceeded", errMsg: msg})
		return
	}
	start := now
	// Queued counts from when the attempt became due (acceptance, or the
	// retry's backoff expiry), which is the start latency FC users see.
	due := it.NotBefore
	if it.durableAt.After(due) {
		due = it.durableAt
	}
	if due.After(now) || due.IsZero() {
		due = now
	}
	res, queued := f.run(ctx, newJob(it.ID, it.Payload, it.Retry, true))
	queued += now.Sub(due)
	if res.aborted != nil {
		// Closing: the item stays journaled and runs again after restart.
		f.qMu.Lock()
		it.running = false
		f.qMu.Unlock()
		return
	}
	f.record(it.ID, true, it.Retry, start, queued, res)
	if res.status != statusSuccess && it.Retry < f.cfg.Async.MaxRetryAttempts {
		f.qMu.Lock()
		it.Retry++
		it.NotBefore = f.srv.now().Add(f.srv.opts.RetryBase << (it.Retry - 1))
		if err := f.appendLocked(journalRecord{Op: "retry", Item: it}, false); err != nil {
			f.srv.log.Error("journal retry", "function", f.cfg.Name, "err", err)
		}
		it.running = false
		f.signalLocked()
		f.qMu.Unlock()
		return
	}
	f.finishItem(ctx, it, res)
}

func (f *function) finishItem(ctx context.Context, it *asyncItem, res result) {
	dest := f.cfg.Async.OnSuccess
	if res.status != statusSuccess {
		dest = f.cfg.Async.OnFailure
	}
	if dest != "" {
		if err := f.deliver(ctx, dest, it, res); err != nil {
			f.srv.log.Error("deliver async result to destination", "function", f.cfg.Name, "request_id", it.ID, "destination", dest, "err", err)
		}
	}
	f.qMu.Lock()
	if err := f.appendLocked(journalRecord{Op: "done", ID: it.ID}, false); err != nil {
		f.srv.log.Error("journal done", "function", f.cfg.Name, "err", err)
	}
	f.removeLocked(it)
	if len(f.items) == 0 && f.journal != nil {
		// Nothing pending: the log can restart empty, which keeps it
		// bounded without waiting for the next start's compaction.
		if err := f.journal.Truncate(0); err != nil {
			f.srv.log.Error("truncate fc queue", "function", f.cfg.Name, "err", err)
		}
	}
	f.signalLocked()
	f.qMu.Unlock()
}

// DestinationEvent is the message FC sends to an async invocation
// destination (FC docs "Result callback" / 异步调用目标的事件内容).
type DestinationEvent struct {
	Timestamp       int64              `json:"timestamp"` // epoch ms
	RequestContext  DestinationRequest `json:"requestContext"`
	RequestPayload  string             `json:"requestPayload"`
	ResponseContext DestinationResult  `json:"responseContext"`
	ResponsePayload string             `json:"responsePayload"`
}

// DestinationRequest is requestContext: the invocation and why it ended
// (condition is the error type for failures, empty on success).
type DestinationRequest struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// DestinationResult is responseContext: statusCode is the system status
// (200 unless FC itself failed), functionError the function's error type.
type DestinationResult struct {
	StatusCode    int    `json:"statusCode"`
	FunctionError string `json:"functionError"`
}

func (f *function) deliver(ctx context.Context, dest string, it *asyncItem, res result) error {
	invokes := it.Retry + 1
	if res.errType == "EventAgeExceeded" {
		invokes = it.Retry
	}
	ev := DestinationEvent{
		Timestamp: f.srv.now().UnixMilli(),
		RequestContext: DestinationRequest{
			RequestID: it.ID, FunctionArn: f.srv.functionArn(f.cfg.Name), Condition: res.errType, ApproximateInvokeCount: invokes,
		},
		RequestPayload:  string(it.Payload),
		ResponseContext: DestinationResult{StatusCode: 200, FunctionError: res.errType},
		ResponsePayload: string(res.body),
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode destination event: %w", err)
	}
	// A function destination is FC itself (acs:fc:<region>:<uid>:functions/<name>).
	if _, name, ok := strings.Cut(dest, ":functions/"); ok && strings.HasPrefix(dest, "acs:fc:") {
		target := f.srv.fns[name]
		if target == nil {
			return fmt.Errorf("destination function %s: %w", name, ErrFunctionNotFound)
		}
		return target.enqueue(ctx, it.ID+"-dest", body, "destination")
	}
	if f.srv.env.Hooks.Deliver == nil {
		return errors.New("no delivery hook for destination")
	}
	if err := f.srv.env.Hooks.Deliver(ctx, dest, body); err != nil {
		return fmt.Errorf("deliver to %s: %w", dest, err)
	}
	return nil
}
