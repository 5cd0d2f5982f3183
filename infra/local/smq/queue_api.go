package smq

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// defaultQueueAttrs are CreateQueue's documented defaults.
func defaultQueueAttrs() QueueAttrs {
	return QueueAttrs{MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 30}
}

const (
	maxDelaySeconds   = 604800
	maxBatch          = 16
	maxBatchBytes     = 65536
	maxVisibility     = 43200
	maxPollingSeconds = 30
	defaultPriority   = 8
)

func checkName(name, kind string) *apiError {
	if len(name) < 1 || len(name) > 256 {
		return errf(http.StatusBadRequest, kind+"NameLengthError", "The length of %s name should between 1 and 256.", strings.ToLower(kind))
	}
	if !nameRE.MatchString(name) {
		if kind == "Topic" {
			return errf(http.StatusBadRequest, "TopicNameInvalid", "The topic name you provided is invalid.")
		}
		return errf(http.StatusBadRequest, "InvalidQueueName", "The queue name you provided is invalid.")
	}
	return nil
}

func decodeBody(body []byte, v any) *apiError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed.")
	}
	return nil
}

// applyQueueAttrs overlays the elements present in a CreateQueue or
// SetQueueAttributes body, range-checked as the CreateQueue reference
// specifies. The retention ceiling is the SDK's (queue_manager.go
// checkMessageRetentionPeriod, 15 days), wider than older documentation's
// 7 days: refusing what the SDK lets through would be a local-only failure.
func applyQueueAttrs(a QueueAttrs, x queueAttrsXML) (QueueAttrs, *apiError) {
	set := func(dst *int, v *int, elem string, lo, hi int) *apiError {
		if v == nil {
			return nil
		}
		if *v < lo || *v > hi {
			return errRange(elem, lo, hi)
		}
		*dst = *v
		return nil
	}
	for _, f := range []func() *apiError{
		func() *apiError { return set(&a.DelaySeconds, x.DelaySeconds, "DelaySeconds", 0, maxDelaySeconds) },
		func() *apiError {
			return set(&a.MaximumMessageSize, x.MaximumMessageSize, "MaximumMessageSize", 1024, 65536)
		},
		func() *apiError {
			return set(&a.MessageRetentionPeriod, x.MessageRetentionPeriod, "MessageRetentionPeriod", 60, 1296000)
		},
		func() *apiError {
			return set(&a.VisibilityTimeout, x.VisibilityTimeout, "VisibilityTimeout", 1, maxVisibility)
		},
		func() *apiError {
			return set(&a.PollingWaitSeconds, x.PollingWaitSeconds, "PollingWaitSeconds", 0, maxPollingSeconds)
		},
	} {
		if aerr := f(); aerr != nil {
			return a, aerr
		}
	}
	if x.LoggingEnabled != nil {
		a.LoggingEnabled = *x.LoggingEnabled
	}
	return a, nil
}

func sameQueueAttrs(a, b QueueAttrs) bool {
	a.CreateTime, a.LastModifyTime, b.CreateTime, b.LastModifyTime = 0, 0, 0, 0
	return a == b
}

func (s *Server) queueURL(name string) string { return s.baseURL() + "/queues/" + name }

func (s *Server) lookupQueue(name string) (*queue, *apiError) {
	s.mu.RLock()
	q := s.queues[name]
	s.mu.RUnlock()
	if q == nil {
		return nil, errQueueNotExist()
	}
	return q, nil
}

func (q *queue) attributes() QueueAttrs {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.attrs
}

// createQueue answers 201 for a new queue, 204 when an identical one
// exists and 409 QueueAlreadyExist when the attributes differ (CreateQueue
// reference).
func (s *Server) createQueue(rq *request) (*response, *apiError) {
	if aerr := checkName(rq.queue, "Queue"); aerr != nil {
		return nil, aerr
	}
	var x queueAttrsXML
	if aerr := decodeBody(rq.body, &x); aerr != nil {
		return nil, aerr
	}
	attrs, aerr := applyQueueAttrs(defaultQueueAttrs(), x)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[rq.queue]; q != nil {
		if sameQueueAttrs(q.attributes(), attrs) {
			return &response{status: http.StatusNoContent, header: map[string]string{"Location": s.queueURL(rq.queue)}}, nil
		}
		return nil, errf(http.StatusConflict, "QueueAlreadyExist", "The queue you want to create is already exist.")
	}
	now := s.now().Unix()
	attrs.CreateTime, attrs.LastModifyTime = now, now
	var j *journal
	if s.dir != "" {
		// A journal left behind by a failed delete must not resurrect
		// the old queue's messages.
		path := s.journalPath(rq.queue)
		err := os.Remove(path)
		if err == nil || os.IsNotExist(err) {
			j, _, err = openJournal(path)
		}
		if err != nil {
			s.env.Log.Error("create queue journal", "err", err, "queue", rq.queue)
			return nil, errf(http.StatusInternalServerError, "InternalError", "Interal error.")
		}
	}
	q := newQueue(rq.queue, attrs, j, nil)
	s.queues[rq.queue] = q
	if aerr := s.saveMetaLocked(); aerr != nil {
		delete(s.queues, rq.queue)
		q.close()
		return nil, aerr
	}
	return &response{status: http.StatusCreated, header: map[string]string{"Location": s.queueURL(rq.queue)}}, nil
}

func (s *Server) setQueueAttributes(rq *request) (*response, *apiError) {
	var x queueAttrsXML
	if aerr := decodeBody(rq.body, &x); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[rq.queue]
	if q == nil {
		return nil, errQueueNotExist()
	}
	q.mu.Lock()
	attrs, aerr := applyQueueAttrs(q.attrs, x)
	if aerr == nil {
		attrs.LastModifyTime = s.now().Unix()
		q.attrs = attrs
	}
	q.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.saveMetaLocked(); aerr != nil {
		return nil, aerr
	}
	return &response{status: http.StatusNoContent}, nil
}

func (s *Server) queueDetails(q *queue, withURL bool) queueXML {
	a := q.attributes()
	active, inactive, delayed := q.counts(s.nowMS())
	out := queueXML{
		QueueName: q.name, CreateTime: a.CreateTime, LastModifyTime: a.LastModifyTime,
		DelaySeconds: intPtr(a.DelaySeconds), MaximumMessageSize: a.MaximumMessageSize,
		MessageRetentionPeriod: a.MessageRetentionPeriod, VisibilityTimeout: a.VisibilityTimeout,
		PollingWaitSeconds: intPtr(a.PollingWaitSeconds), ActiveMessages: intPtr(active),
		InactiveMessages: intPtr(inactive), DelayMessages: intPtr(delayed), LoggingEnabled: boolPtr(a.LoggingEnabled),
	}
	if withURL {
		out.QueueURL = s.queueURL(q.name)
	}
	return out
}

func (s *Server) getQueueAttributes(rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	out := s.queueDetails(q, false)
	out.NS = xmlNS
	return &response{status: http.StatusOK, body: out}, nil
}

// deleteQueue is idempotent: deleting a missing queue succeeds, as the
// SDK's DeleteQueue expects of clean-up paths.
func (s *Server) deleteQueue(rq *request) (*response, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[rq.queue]
	if q == nil {
		return &response{status: http.StatusNoContent}, nil
	}
	delete(s.queues, rq.queue)
	if aerr := s.saveMetaLocked(); aerr != nil {
		s.queues[rq.queue] = q
		return nil, aerr
	}
	q.mu.Lock()
	q.deleted = true
	q.signalLocked()
	if q.j != nil {
		if err := q.j.remove(); err != nil {
			s.env.Log.Error("remove queue journal", "err", err, "queue", q.name)
		}
	}
	q.mu.Unlock()
	return &response{status: http.StatusNoContent}, nil
}

func (s *Server) listQueue(rq *request) (*response, *apiError) {
	s.mu.RLock()
	names := make([]string, 0, len(s.queues))
	for n := range s.queues {
		names = append(names, n)
	}
	s.mu.RUnlock()
	sel, next, aerr := page(rq.r, names)
	if aerr != nil {
		return nil, aerr
	}
	withMeta := rq.r.Header.Get("x-mns-with-meta") == "true"
	out := queuesXML{NS: xmlNS, NextMarker: next}
	for _, n := range sel {
		if !withMeta {
			out.Queues = append(out.Queues, queueXML{QueueURL: s.queueURL(n)})
			continue
		}
		if q, aerr := s.lookupQueue(n); aerr == nil {
			out.Queues = append(out.Queues, s.queueDetails(q, true))
		}
	}
	return &response{status: http.StatusOK, body: out}, nil
}

func bodyMD5(body string) string {
	sum := md5.Sum([]byte(body))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// newMessage validates one SendMessage entry against the queue's limits
// (SendMessage reference: DelaySeconds 0-604800, Priority 1-16 default 8,
// body up to MaximumMessageSize bytes).
func (s *Server) newMessage(x sendMessageXML, a QueueAttrs, now int64) (*message, *apiError) {
	if x.MessageBody == nil || *x.MessageBody == "" {
		return nil, errf(http.StatusBadRequest, "InvalidArgument", "The XML you provided did not validate against our published schema, cause by MessageBody.")
	}
	if len(*x.MessageBody) > a.MaximumMessageSize {
		return nil, errRange("MessageBody", 1, a.MaximumMessageSize)
	}
	delay := a.DelaySeconds
	if x.DelaySeconds != nil {
		if *x.DelaySeconds < 0 || *x.DelaySeconds > maxDelaySeconds {
			return nil, errRange("DelaySeconds", 0, maxDelaySeconds)
		}
		delay = *x.DelaySeconds
	}
	prio := defaultPriority
	if x.Priority != nil {
		if *x.Priority < 1 || *x.Priority > 16 {
			return nil, errRange("Priority", 1, 16)
		}
		prio = *x.Priority
	}
	seq := s.seq.Add(1)
	m := &message{
		ID:   fmt.Sprintf("%s-1-%X-%09d", s.idPrefix, now, seq),
		Body: *x.MessageBody, MD5: bodyMD5(*x.MessageBody), Priority: prio, Seq: seq,
		EnqueueTime: now, NextVisible: now + int64(delay)*1000,
	}
	if delay > 0 {
		// A delayed message comes back with a receipt handle (SDK
		// MessageSendResponse) usable while it is still Delayed.
		m.Handle = newHandle(m.ID)
	}
	return m, nil
}

func (s *Server) sendMessage(rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	a, now := q.attributes(), s.nowMS()
	var entries []sendMessageXML
	batch := rq.op == "BatchSendMessage"
	if batch {
		var x batchSendXML
		if aerr := decodeBody(rq.body, &x); aerr != nil {
			return nil, aerr
		}
		if len(x.Messages) < 1 || len(x.Messages) > maxBatch {
			return nil, errRange("Messages", 1, maxBatch)
		}
		total := 0
		for _, m := range x.Messages {
			if m.MessageBody != nil {
				total += len(*m.MessageBody)
			}
		}
		if total > maxBatchBytes {
			return nil, errRange("total MessageBody size", 1, maxBatchBytes)
		}
		entries = x.Messages
	} else {
		var x sendMessageXML
		if aerr := decodeBody(rq.body, &x); aerr != nil {
			return nil, aerr
		}
		entries = []sendMessageXML{x}
	}
	msgs := make([]*message, 0, len(entries))
	for _, e := range entries {
		m, aerr := s.newMessage(e, a, now)
		if aerr != nil {
			return nil, aerr
		}
		msgs = append(msgs, m)
	}
	// Responses are built before add: from then on the queue owns msgs.
	sent := make([]sentXML, len(msgs))
	for i, m := range msgs {
		sent[i] = sentXML{MessageID: m.ID, MessageBodyMD5: m.MD5, ReceiptHandle: m.Handle}
	}
	if aerr := q.add(msgs); aerr != nil {
		return nil, aerr
	}
	if !batch {
		out := sent[0]
		out.NS = xmlNS
		return &response{status: http.StatusCreated, body: out}, nil
	}
	out := sentBatchXML{NS: xmlNS, Messages: sent}
	return &response{status: http.StatusCreated, body: out}, nil
}

func numOfMessages(rq *request) (int, *apiError) {
	if !strings.HasPrefix(rq.op, "Batch") {
		return 1, nil
	}
	n, err := strconv.Atoi(rq.r.URL.Query().Get("numOfMessages"))
	if err != nil || n < 1 || n > maxBatch {
		return 0, errRange("numOfMessages", 1, maxBatch)
	}
	return n, nil
}

func toReceived(m message, withHandle bool) receivedXML {
	out := receivedXML{
		MessageID: m.ID, MessageBodyMD5: m.MD5, MessageBody: m.Body, EnqueueTime: m.EnqueueTime,
		FirstDequeueTime: m.FirstDequeue, DequeueCount: m.DequeueCount, Priority: m.Priority,
	}
	if withHandle {
		out.ReceiptHandle, out.NextVisibleTime = m.Handle, m.NextVisible
	}
	return out
}

func messagesResponse(rq *request, msgs []message, withHandle bool) *response {
	if !strings.HasPrefix(rq.op, "Batch") {
		out := toReceived(msgs[0], withHandle)
		out.NS = xmlNS
		return &response{status: http.StatusOK, body: out}
	}
	out := receivedBatchXML{NS: xmlNS}
	for _, m := range msgs {
		out.Messages = append(out.Messages, toReceived(m, withHandle))
	}
	return &response{status: http.StatusOK, body: out}
}

// receiveMessage long-polls: with no Active message it waits up to
// waitseconds (or the queue's PollingWaitSeconds) for a send, a visibility
// timeout or a delay to expire, then answers 404 MessageNotExist
// (ReceiveMessage reference).
func (s *Server) receiveMessage(ctx context.Context, rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	n, aerr := numOfMessages(rq)
	if aerr != nil {
		return nil, aerr
	}
	a := q.attributes()
	wait := a.PollingWaitSeconds
	if v := rq.r.URL.Query().Get("waitseconds"); v != "" {
		w, err := strconv.Atoi(v)
		if err != nil || w < 0 || w > maxPollingSeconds {
			return nil, errRange("waitseconds", 0, maxPollingSeconds)
		}
		wait = w
	}
	deadline := s.now().Add(time.Duration(wait) * time.Second)
	for {
		msgs, wake, next, aerr := q.receive(s.nowMS(), n, int64(a.VisibilityTimeout)*1000)
		if aerr != nil {
			return nil, aerr
		}
		if len(msgs) > 0 {
			return messagesResponse(rq, msgs, true), nil
		}
		now := s.now()
		if !now.Before(deadline) {
			return nil, errMessageNotExist()
		}
		sleep := deadline.Sub(now)
		if next > 0 {
			sleep = min(sleep, time.UnixMilli(next).Sub(now))
		}
		t := time.NewTimer(max(sleep, time.Millisecond))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, errMessageNotExist()
		case <-s.done:
			t.Stop()
			return nil, errMessageNotExist()
		}
		t.Stop()
	}
}

func (s *Server) peekMessage(rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	n, aerr := numOfMessages(rq)
	if aerr != nil {
		return nil, aerr
	}
	msgs, aerr := q.peek(s.nowMS(), n)
	if aerr != nil {
		return nil, aerr
	}
	if len(msgs) == 0 {
		return nil, errMessageNotExist()
	}
	return messagesResponse(rq, msgs, false), nil
}

func (s *Server) deleteMessage(rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	h := rq.r.URL.Query().Get("ReceiptHandle")
	if h == "" {
		return nil, errf(http.StatusBadRequest, "MissingReceiptHandle", "ReceiptHandle is required.")
	}
	if aerr := q.delete(h, s.nowMS()); aerr != nil {
		return nil, aerr
	}
	return &response{status: http.StatusNoContent}, nil
}

// batchDeleteMessage deletes what it can and lists the failures in an
// <Errors> body (BatchDeleteMessage reference); the SDK decodes that into
// BatchMessageDeleteErrorResponse and returns ERR_MNS_BATCH_OP_FAIL.
func (s *Server) batchDeleteMessage(rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	var x receiptHandlesXML
	if aerr := decodeBody(rq.body, &x); aerr != nil {
		return nil, aerr
	}
	if len(x.Handles) < 1 || len(x.Handles) > maxBatch {
		return nil, errRange("ReceiptHandles", 1, maxBatch)
	}
	out := deleteErrsXML{NS: xmlNS}
	now := s.nowMS()
	for _, h := range x.Handles {
		if aerr := q.delete(h, now); aerr != nil {
			if aerr.Code == "QueueNotExist" {
				return nil, aerr
			}
			out.Errors = append(out.Errors, deleteErrXML{ErrorCode: aerr.Code, ErrorMessage: aerr.Message, ReceiptHandle: h})
		}
	}
	if len(out.Errors) > 0 {
		return &response{status: http.StatusNotFound, body: out}, nil
	}
	return &response{status: http.StatusNoContent}, nil
}

func (s *Server) changeMessageVisibility(rq *request) (*response, *apiError) {
	q, aerr := s.lookupQueue(rq.queue)
	if aerr != nil {
		return nil, aerr
	}
	qs := rq.r.URL.Query()
	h := qs.Get("ReceiptHandle")
	if h == "" {
		return nil, errf(http.StatusBadRequest, "MissingReceiptHandle", "ReceiptHandle is required.")
	}
	v := qs.Get("VisibilityTimeout")
	if v == "" {
		return nil, errf(http.StatusBadRequest, "MissingVisibilityTimeout", "VisibilityTimeout is required.")
	}
	vt, err := strconv.Atoi(v)
	if err != nil || vt < 1 || vt > maxVisibility {
		return nil, errRange("VisibilityTimeout", 1, maxVisibility)
	}
	handle, next, aerr := q.changeVisibility(h, int64(vt)*1000, s.nowMS())
	if aerr != nil {
		return nil, aerr
	}
	return &response{status: http.StatusOK, body: changeVisibilityXML{NS: xmlNS, ReceiptHandle: handle, NextVisibleTime: next}}, nil
}
