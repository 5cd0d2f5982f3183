package smq

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// message is one queue message. Times are epoch milliseconds, the unit the
// API returns (QueueMessage reference).
type message struct {
	ID           string `json:"id"`
	Body         string `json:"body"`
	MD5          string `json:"md5"`
	Priority     int    `json:"pri"`
	Seq          uint64 `json:"seq"`
	EnqueueTime  int64  `json:"et"`
	FirstDequeue int64  `json:"fd,omitempty"`
	DequeueCount int    `json:"dc,omitempty"`
	// NextVisible is when the message becomes Active: after DelaySeconds for
	// a new message, after the visibility timeout for a received one.
	NextVisible int64  `json:"nv"`
	Handle      string `json:"h,omitempty"` // current receipt handle; empty until received
}

// before orders messages for delivery: priority 1 is the highest (SendMessage
// reference), then first in, first out.
func (m *message) before(o *message) bool {
	if m.Priority != o.Priority {
		return m.Priority < o.Priority
	}
	return m.Seq < o.Seq
}

// queue holds one queue's messages. Lock order: Server.mu before queue.mu.
type queue struct {
	name string

	mu      sync.Mutex
	attrs   QueueAttrs
	order   []*message // delivery order (see before)
	byID    map[string]*message
	wake    chan struct{} // closed and replaced when a message is added or the queue is deleted
	deleted bool
	j       *journal // nil when the cloud is in memory
}

func newQueue(name string, attrs QueueAttrs, j *journal, msgs map[string]*message) *queue {
	q := &queue{name: name, attrs: attrs, byID: map[string]*message{}, wake: make(chan struct{}), j: j}
	for _, m := range msgs {
		q.byID[m.ID] = m
		q.order = append(q.order, m)
	}
	sort.Slice(q.order, func(i, k int) bool { return q.order[i].before(q.order[k]) })
	return q
}

func (q *queue) signalLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *queue) insertLocked(m *message) {
	i := sort.Search(len(q.order), func(i int) bool { return m.before(q.order[i]) })
	q.order = append(q.order, nil)
	copy(q.order[i+1:], q.order[i:])
	q.order[i] = m
	q.byID[m.ID] = m
}

func (q *queue) removeLocked(m *message) {
	i := sort.Search(len(q.order), func(i int) bool { return !q.order[i].before(m) })
	if i < len(q.order) && q.order[i] == m {
		q.order = append(q.order[:i], q.order[i+1:]...)
	}
	delete(q.byID, m.ID)
}

// add stores new messages; they are journaled before add returns.
func (q *queue) add(msgs []*message) *apiError {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return errQueueNotExist()
	}
	if q.j != nil {
		recs := make([]record, len(msgs))
		for i, m := range msgs {
			recs[i] = record{Op: "put", M: m}
		}
		if err := q.j.append(recs...); err != nil {
			return errf(http.StatusInternalServerError, "InternalError", "Interal error.")
		}
	}
	for _, m := range msgs {
		q.insertLocked(m)
	}
	q.signalLocked()
	return nil
}

// expiredLocked reports whether m outlived the queue's MessageRetentionPeriod.
func (q *queue) expiredLocked(m *message, now int64) bool {
	return m.EnqueueTime+int64(q.attrs.MessageRetentionPeriod)*1000 <= now
}

// dropExpiredLocked deletes messages past their retention period.
func (q *queue) dropExpiredLocked(now int64) {
	var dead []record
	kept := q.order[:0]
	for _, m := range q.order {
		if q.expiredLocked(m, now) {
			delete(q.byID, m.ID)
			dead = append(dead, record{Op: "del", ID: m.ID})
			continue
		}
		kept = append(kept, m)
	}
	for i := len(kept); i < len(q.order); i++ {
		q.order[i] = nil
	}
	q.order = kept
	if len(dead) > 0 && q.j != nil {
		_ = q.j.append(dead...) // expiry is recomputed on replay if this write is lost
	}
}

// receive makes up to n Active messages Inactive for visibility ms and
// returns copies. With none available it returns the channel that signals
// new messages and the earliest time an Inactive or Delayed message turns
// Active (0 if none), so a long poll knows how long to sleep.
func (q *queue) receive(now int64, n int, visibility int64) ([]message, <-chan struct{}, int64, *apiError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, nil, 0, errQueueNotExist()
	}
	q.dropExpiredLocked(now)
	var out []message
	var recs []record
	var next int64
	for _, m := range q.order {
		if m.NextVisible > now {
			if next == 0 || m.NextVisible < next {
				next = m.NextVisible
			}
			continue
		}
		if len(out) == n {
			break
		}
		m.DequeueCount++
		if m.FirstDequeue == 0 {
			m.FirstDequeue = now
		}
		m.NextVisible = now + visibility
		m.Handle = newHandle(m.ID)
		out = append(out, *m)
		recs = append(recs, record{Op: "upd", ID: m.ID, Handle: m.Handle, NextVisible: m.NextVisible, DequeueCount: m.DequeueCount, FirstDequeue: m.FirstDequeue})
	}
	if len(recs) > 0 && q.j != nil {
		if err := q.j.append(recs...); err != nil {
			return nil, nil, 0, errf(http.StatusInternalServerError, "InternalError", "Interal error.")
		}
	}
	return out, q.wake, next, nil
}

// peek returns up to n Active messages without changing them.
func (q *queue) peek(now int64, n int) ([]message, *apiError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, errQueueNotExist()
	}
	var out []message
	for _, m := range q.order {
		if len(out) == n {
			break
		}
		if m.NextVisible <= now && !q.expiredLocked(m, now) {
			out = append(out, *m)
		}
	}
	return out, nil
}

// byHandleLocked resolves a receipt handle. A handle is only valid while
// its message is Inactive under that very handle: once the message is
// deleted, re-received or visible again, SMQ answers MessageNotExist
// (QueueMessage reference: "If you use the handle after this time, MNS
// returns the MessageNotExist error"); an undecodable handle is
// ReceiptHandleError.
func (q *queue) byHandleLocked(handle string, now int64) (*message, *apiError) {
	id, ok := handleID(handle)
	if !ok {
		return nil, errf(http.StatusBadRequest, "ReceiptHandleError", "The receipt handle you provide is not valid.")
	}
	m := q.byID[id]
	if m == nil || m.Handle != handle || m.NextVisible <= now {
		return nil, errMessageNotExist()
	}
	return m, nil
}

func (q *queue) delete(handle string, now int64) *apiError {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return errQueueNotExist()
	}
	m, aerr := q.byHandleLocked(handle, now)
	if aerr != nil {
		return aerr
	}
	if q.j != nil {
		if err := q.j.append(record{Op: "del", ID: m.ID}); err != nil {
			return errf(http.StatusInternalServerError, "InternalError", "Interal error.")
		}
	}
	q.removeLocked(m)
	q.compactLocked()
	return nil
}

func (q *queue) changeVisibility(handle string, visibility, now int64) (string, int64, *apiError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return "", 0, errQueueNotExist()
	}
	m, aerr := q.byHandleLocked(handle, now)
	if aerr != nil {
		return "", 0, aerr
	}
	m.NextVisible = now + visibility
	m.Handle = newHandle(m.ID)
	if q.j != nil {
		if err := q.j.append(record{Op: "upd", ID: m.ID, Handle: m.Handle, NextVisible: m.NextVisible, DequeueCount: m.DequeueCount, FirstDequeue: m.FirstDequeue}); err != nil {
			return "", 0, errf(http.StatusInternalServerError, "InternalError", "Interal error.")
		}
	}
	return m.Handle, m.NextVisible, nil
}

// counts returns Active, Inactive and Delayed message numbers
// (GetQueueAttributes reference).
func (q *queue) counts(now int64) (active, inactive, delayed int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.order {
		switch {
		case q.expiredLocked(m, now):
		case m.NextVisible <= now:
			active++
		case m.DequeueCount > 0:
			inactive++
		default:
			delayed++
		}
	}
	return active, inactive, delayed
}

// compactLocked rewrites the journal once dead records dominate it, so a
// long-lived queue's file stays proportional to its backlog.
func (q *queue) compactLocked() {
	if q.j == nil || q.j.records < 4096 || q.j.records < 4*len(q.order) {
		return
	}
	// On failure the old journal stays valid; compaction is retried later.
	_ = q.j.rewrite(q.byID)
}

func (q *queue) close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.j == nil {
		return nil
	}
	return q.j.close()
}

// Receipt handles look like the documented ones ("1-" + base64 text) and
// carry the message ID plus a random nonce, so each receive yields a new
// handle and a stale one can be told apart from a forged one.
func newHandle(id string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "1-" + base64.StdEncoding.EncodeToString([]byte(id+":"+hex.EncodeToString(b[:])))
}

func handleID(h string) (string, bool) {
	rest, ok := strings.CutPrefix(h, "1-")
	if !ok {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", false
	}
	i := strings.LastIndexByte(string(raw), ':')
	if i <= 0 {
		return "", false
	}
	return string(raw[:i]), true
}
