// Package smq is the local cloud's Simple Message Queue (formerly MNS): a
// wire-compatible server for the SMQ HTTP API 2015-06-06 as spoken by
// github.com/aliyun/aliyun-mns-go-sdk v1.0.11 — queues, topics,
// subscriptions with queue endpoints, long polling, visibility timeouts and
// receipt handles — with signature checks against the local IAM, RAM
// authorization, ActionTrail records, fault injection and persistence.
//
// The SDK only accepts five-label endpoints such as
// http://1234567890123456.mns.cn-hangzhou.aliyuncs.com, so clients reach a
// local server through Redirect (see redirect.go):
//
//	c := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
//		EndPoint: smq.Endpoint(accountID, region), AccessKeyId: id, AccessKeySecret: secret})
//	c.SetTransport(smq.Redirect(listenAddr))
//
// Served: CreateQueue, SetQueueAttributes, GetQueueAttributes, DeleteQueue,
// ListQueue, SendMessage, BatchSendMessage, ReceiveMessage,
// BatchReceiveMessage (long polling), PeekMessage, BatchPeekMessage,
// DeleteMessage, BatchDeleteMessage, ChangeMessageVisibility, CreateTopic,
// SetTopicAttributes, GetTopicAttributes, DeleteTopic, ListTopic, Subscribe,
// SetSubscriptionAttributes, GetSubscriptionAttributes, Unsubscribe,
// ListSubscriptionByTopic, PublishMessage. Topics push to queue endpoints
// (and, as a local stand-in for FC topic triggers, to function endpoints);
// HTTP, mail and SMS endpoints are refused with EndpointInvalid.
package smq

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

// maxRequestBody bounds what one request may carry: batches are limited to
// 16 messages of 64 KB in total (BatchSendMessage reference), plus XML.
const maxRequestBody = 1 << 20

// Server is the SMQ service of one local cloud.
type Server struct {
	env      *core.Env
	dir      string // "" when in memory
	idPrefix string // per-server first part of message IDs
	seq      atomic.Uint64
	done     chan struct{}
	once     sync.Once

	mu     sync.RWMutex
	queues map[string]*queue
	topics map[string]*topicState
}

type topicState struct {
	attrs TopicAttrs
	subs  map[string]Subscription
}

// New opens the SMQ state persisted under env.ServiceDir("smq").
func New(env *core.Env) (*Server, error) {
	dir, err := env.ServiceDir("smq")
	if err != nil {
		return nil, err
	}
	st, err := loadMeta(dir)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Server{
		env: env, dir: dir, idPrefix: strings.ToUpper(hex.EncodeToString(b[:])), done: make(chan struct{}),
		queues: map[string]*queue{}, topics: map[string]*topicState{},
	}
	if dir != "" {
		if err := os.MkdirAll(filepath.Join(dir, "queues"), 0o700); err != nil {
			return nil, fmt.Errorf("create queue dir: %w", err)
		}
	}
	var maxSeq uint64
	for name, attrs := range st.Queues {
		var j *journal
		var msgs map[string]*message
		if dir != "" {
			j, msgs, err = openJournal(s.journalPath(name))
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("open queue %s: %w", name, err)
			}
		}
		for _, m := range msgs {
			maxSeq = max(maxSeq, m.Seq)
		}
		s.queues[name] = newQueue(name, attrs, j, msgs)
	}
	s.seq.Store(maxSeq)
	for name, attrs := range st.Topics {
		subs := st.Subscriptions[name]
		if subs == nil {
			subs = map[string]Subscription{}
		}
		s.topics[name] = &topicState{attrs: attrs, subs: subs}
	}
	return s, nil
}

// Close wakes long polls and releases the queue journals.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.done) })
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for _, q := range s.queues {
		if err := q.close(); err != nil && first == nil {
			first = fmt.Errorf("close queue %s: %w", q.name, err)
		}
	}
	return first
}

func (s *Server) journalPath(queue string) string {
	return filepath.Join(s.dir, "queues", queue+".jsonl")
}

func (s *Server) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

func (s *Server) nowMS() int64 { return s.now().UnixMilli() }

// saveMetaLocked persists queues, topics and subscriptions; s.mu must be held.
func (s *Server) saveMetaLocked() *apiError {
	if s.dir == "" {
		return nil
	}
	st := metaState{Queues: map[string]QueueAttrs{}, Topics: map[string]TopicAttrs{}, Subscriptions: map[string]map[string]Subscription{}}
	for name, q := range s.queues {
		q.mu.Lock()
		st.Queues[name] = q.attrs
		q.mu.Unlock()
	}
	for name, t := range s.topics {
		st.Topics[name] = t.attrs
		if len(t.subs) > 0 {
			st.Subscriptions[name] = t.subs
		}
	}
	if err := saveMeta(s.dir, st); err != nil {
		s.env.Log.Error("persist smq state", "err", err)
		return errf(http.StatusInternalServerError, "InternalError", "Interal error.")
	}
	return nil
}

// request is one API call being served.
type request struct {
	r         *http.Request
	body      []byte
	reqID     string
	op        string // API name, also the RAM action suffix and trail eventName
	readOnly  bool
	dataPlane bool // message operations ActionTrail does not record (see record)
	queue     string
	topic     string
	sub       string
	resource  string // RAM resource ARN
	principal iam.Principal
}

type response struct {
	status int
	body   any
	header map[string]string
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ServeHTTP serves the SMQ API: route, inject faults, authenticate,
// authorize, run, record.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{r: r, reqID: newRequestID()}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		s.writeError(w, rq, errf(http.StatusBadRequest, "InvalidArgument", "The request body could not be read."))
		return
	}
	if len(body) > maxRequestBody {
		s.writeError(w, rq, errf(http.StatusBadRequest, "InvalidArgument", "The request body is too large."))
		return
	}
	rq.body = body
	if aerr := s.route(rq); aerr != nil {
		s.writeError(w, rq, aerr)
		return
	}
	if keyID, _, ok := parseAuthorization(r.Header.Get("Authorization")); ok {
		rq.principal.AccessKeyID = keyID // recorded even if the call fails early
	}
	ctx := r.Context()
	var injected *apiError
	if s.env.ApplyFault(w, "smq", rq.op, func(status int, code, msg string) {
		injected = faultError(status, code, msg)
		s.writeError(w, rq, injected)
	}) {
		if injected != nil {
			s.record(ctx, rq, injected)
		}
		return
	}
	resp, aerr := s.serve(ctx, rq)
	s.record(ctx, rq, aerr)
	if aerr != nil {
		s.writeError(w, rq, aerr)
		return
	}
	s.writeResponse(w, rq, resp)
}

// faultError turns an injected fault into SMQ's own error: the generic
// throttle becomes QpsLimitExceeded, the code the SDK maps to
// ERR_MNS_QPS_LIMIT_EXCEEDED.
func faultError(status int, code, msg string) *apiError {
	if code == "Throttling" {
		return &apiError{Status: status, Code: "QpsLimitExceeded", Message: "The Qps of this account exceeds the limit (injected)."}
	}
	if code == "InternalError" {
		msg = "Interal error. (injected)"
	}
	return &apiError{Status: status, Code: code, Message: msg}
}

var (
	nameRE    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)
	subNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
)

// route maps method, path and query to the API operation and its RAM
// resource. Actions are "mns:<API name>" and resources
// acs:mns:$region:$accountid:/queues[/$queueName[/messages]] and
// acs:mns:$region:$accountid:/topics[/$topicName[/messages|/subscriptions[/$subscriptionName]]],
// per the "Authorization information" table of each SMQ API page and the
// SMQ "Permission policies and examples" reference.
func (s *Server) route(rq *request) *apiError {
	r := rq.r
	q := r.URL.Query()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	bad := errf(http.StatusBadRequest, "InvalidRequestURL", "Http request URL format invalid.")
	if len(parts) == 0 || parts[0] == "" {
		return bad
	}
	meta := q.Get("metaoverride") == "true"
	switch parts[0] {
	case "queues":
		switch {
		case len(parts) == 1 && r.Method == http.MethodGet:
			rq.op, rq.readOnly = "ListQueue", true
		case len(parts) == 2:
			rq.queue = parts[1]
			switch r.Method {
			case http.MethodPut:
				rq.op = "CreateQueue"
				if meta {
					rq.op = "SetQueueAttributes"
				}
			case http.MethodGet:
				rq.op, rq.readOnly = "GetQueueAttributes", true
			case http.MethodDelete:
				rq.op = "DeleteQueue"
			default:
				return bad
			}
		case len(parts) == 3 && parts[2] == "messages":
			rq.queue, rq.dataPlane = parts[1], true
			switch r.Method {
			case http.MethodPost:
				rq.op = "SendMessage"
				if isBatch(rq.body) {
					rq.op = "BatchSendMessage"
				}
			case http.MethodGet:
				batch := q.Has("numOfMessages")
				switch {
				case q.Get("peekonly") == "true" && batch:
					rq.op = "BatchPeekMessage"
				case q.Get("peekonly") == "true":
					rq.op = "PeekMessage"
				case batch:
					rq.op = "BatchReceiveMessage"
				default:
					rq.op = "ReceiveMessage"
				}
				// Receiving changes message state, so only peeks are reads.
				rq.readOnly = rq.op == "PeekMessage" || rq.op == "BatchPeekMessage"
			case http.MethodDelete:
				rq.op = "BatchDeleteMessage"
				if q.Has("ReceiptHandle") {
					rq.op = "DeleteMessage"
				}
			case http.MethodPut:
				rq.op = "ChangeMessageVisibility"
			default:
				return bad
			}
		default:
			return bad
		}
	case "topics":
		switch {
		case len(parts) == 1 && r.Method == http.MethodGet:
			rq.op, rq.readOnly = "ListTopic", true
		case len(parts) == 2:
			rq.topic = parts[1]
			switch r.Method {
			case http.MethodPut:
				rq.op = "CreateTopic"
				if meta {
					rq.op = "SetTopicAttributes"
				}
			case http.MethodGet:
				rq.op, rq.readOnly = "GetTopicAttributes", true
			case http.MethodDelete:
				rq.op = "DeleteTopic"
			default:
				return bad
			}
		case len(parts) == 3 && parts[2] == "messages" && r.Method == http.MethodPost:
			rq.topic, rq.op, rq.dataPlane = parts[1], "PublishMessage", true
		case len(parts) == 3 && parts[2] == "subscriptions" && r.Method == http.MethodGet:
			rq.topic, rq.op, rq.readOnly = parts[1], "ListSubscriptionByTopic", true
		case len(parts) == 4 && parts[2] == "subscriptions":
			rq.topic, rq.sub = parts[1], parts[3]
			switch r.Method {
			case http.MethodPut:
				rq.op = "Subscribe"
				if meta {
					rq.op = "SetSubscriptionAttributes"
				}
			case http.MethodGet:
				rq.op, rq.readOnly = "GetSubscriptionAttributes", true
			case http.MethodDelete:
				rq.op = "Unsubscribe"
			default:
				return bad
			}
		default:
			return bad
		}
	default:
		return bad
	}
	rq.resource = fmt.Sprintf("acs:mns:%s:%s:%s", s.env.Region, s.env.AccountID, r.URL.Path)
	return nil
}

// isBatch tells BatchSendMessage (<Messages>) from SendMessage (<Message>),
// which share method and path.
func isBatch(body []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local == "Messages"
		}
	}
}

// serve authenticates and authorizes the request, then runs it.
func (s *Server) serve(ctx context.Context, rq *request) (*response, *apiError) {
	r := rq.r
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return nil, errf(http.StatusBadRequest, "MissingAuthorizationHeader", "Authorization header is required.")
	}
	keyID, sig, ok := parseAuthorization(authz)
	if !ok {
		return nil, errf(http.StatusBadRequest, "InvalidAuthorizationHeader", "The Authorization header format is invalid.")
	}
	date := r.Header.Get("Date")
	if date == "" {
		return nil, errf(http.StatusBadRequest, "MissingDateHeader", "Date header is required.")
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "InvalidDateHeader", "The Date header format is invalid.")
	}
	if d := s.now().Sub(t); d > maxSkew || d < -maxSkew {
		return nil, errf(http.StatusRequestTimeout, "TimeExpired", "The http request you sent is expired.")
	}
	if v := r.Header.Get("x-mns-version"); v == "" {
		return nil, errf(http.StatusBadRequest, "MissingVersionHeader", "Version header is required.")
	} else if v != apiVersion {
		return nil, errf(http.StatusBadRequest, "InvalidVersionHeader", "The version header you provided is invalid.")
	}
	secret, p, err := s.env.IAM.Authenticate(keyID, r.Header.Get("security-token"))
	if err != nil {
		return nil, authError(err)
	}
	if !hmac.Equal([]byte(Sign(secret, stringToSign(r))), []byte(sig)) {
		return nil, errf(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	if !checkContentMD5(r.Header.Get("Content-MD5"), rq.body) {
		return nil, errf(http.StatusBadRequest, "InvalidDegist", "The Content-MD5 you specified is invalid.")
	}
	rq.principal = p
	err = s.env.IAM.Authorize(p, iam.Request{
		Action: "mns:" + rq.op, Resource: rq.resource,
		Context: map[string]string{"acs:SourceIp": core.SourceIP(r), "acs:SecureTransport": strconv.FormatBool(r.TLS != nil)},
	})
	if err != nil {
		return nil, errf(http.StatusForbidden, "AccessDenied", "The OwnerId that your Access Key Id associated to is forbidden for this operation.")
	}
	return s.dispatch(ctx, rq)
}

func (s *Server) dispatch(ctx context.Context, rq *request) (*response, *apiError) {
	switch rq.op {
	case "ListQueue":
		return s.listQueue(rq)
	case "CreateQueue":
		return s.createQueue(rq)
	case "SetQueueAttributes":
		return s.setQueueAttributes(rq)
	case "GetQueueAttributes":
		return s.getQueueAttributes(rq)
	case "DeleteQueue":
		return s.deleteQueue(rq)
	case "SendMessage", "BatchSendMessage":
		return s.sendMessage(rq)
	case "ReceiveMessage", "BatchReceiveMessage":
		return s.receiveMessage(ctx, rq)
	case "PeekMessage", "BatchPeekMessage":
		return s.peekMessage(rq)
	case "DeleteMessage":
		return s.deleteMessage(rq)
	case "BatchDeleteMessage":
		return s.batchDeleteMessage(rq)
	case "ChangeMessageVisibility":
		return s.changeMessageVisibility(rq)
	case "ListTopic":
		return s.listTopic(rq)
	case "CreateTopic", "SetTopicAttributes":
		return s.putTopic(rq)
	case "GetTopicAttributes":
		return s.getTopicAttributes(rq)
	case "DeleteTopic":
		return s.deleteTopic(rq)
	case "PublishMessage":
		return s.publishMessage(ctx, rq)
	case "ListSubscriptionByTopic":
		return s.listSubscriptions(rq)
	case "Subscribe", "SetSubscriptionAttributes":
		return s.subscribe(rq)
	case "GetSubscriptionAttributes":
		return s.getSubscription(rq)
	case "Unsubscribe":
		return s.unsubscribe(rq)
	}
	return nil, errf(http.StatusBadRequest, "InvalidRequestURL", "Http request URL format invalid.")
}

// record writes the ActionTrail event. ActionTrail's "Audit events of
// Simple Message Queue (formerly MNS)" page lists management events only
// (CreateQueue, DeleteTopic, GetQueueAttributes, ...) and says it does not
// generate events for sending or receiving messages. The local cloud still
// records message operations — a leaked key draining a queue is worth
// seeing — but marks them notRecordedByActionTrail so consumers can tell
// what the real trail would hold.
func (s *Server) record(ctx context.Context, rq *request, aerr *apiError) {
	c := core.Call{
		Service: "Mns", Action: rq.op, ReadOnly: rq.readOnly, EventSource: rq.r.Host, APIVersion: apiVersion,
		Principal: rq.principal, SourceIP: core.SourceIP(rq.r), UserAgent: rq.r.UserAgent(), RequestID: rq.reqID,
		Params: map[string]any{},
	}
	switch {
	case rq.queue != "":
		c.ResourceName, c.ResourceType = rq.queue, "ACS::MNS::Queue"
		c.Params["QueueName"] = rq.queue
	case rq.topic != "":
		c.ResourceName, c.ResourceType = rq.topic, "ACS::MNS::Topic"
		c.Params["TopicName"] = rq.topic
		if rq.sub != "" {
			c.Params["SubscriptionName"] = rq.sub
		}
	}
	if rq.dataPlane {
		c.Params["notRecordedByActionTrail"] = true
	}
	if aerr != nil {
		c.ErrorCode, c.ErrorMessage = aerr.Code, aerr.Message
	}
	s.env.Record(ctx, c)
}

func (s *Server) commonHeaders(w http.ResponseWriter, rq *request) {
	h := w.Header()
	h.Set("x-mns-request-id", rq.reqID)
	h.Set("x-mns-version", apiVersion)
}

func (s *Server) writeError(w http.ResponseWriter, rq *request, aerr *apiError) {
	s.commonHeaders(w, rq)
	body, err := encodeXML(errorBody{NS: xmlNS, Code: aerr.Code, Message: aerr.Message, RequestID: rq.reqID, HostID: rq.r.Host})
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(aerr.Status)
	w.Write(body)
}

func (s *Server) writeResponse(w http.ResponseWriter, rq *request, resp *response) {
	s.commonHeaders(w, rq)
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	if resp.body == nil {
		w.WriteHeader(resp.status)
		return
	}
	body, err := encodeXML(resp.body)
	if err != nil {
		s.env.Log.Error("encode smq response", "err", err, "op", rq.op)
		s.writeError(w, rq, errf(http.StatusInternalServerError, "InternalError", "Interal error."))
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(resp.status)
	w.Write(body)
}

// baseURL is the account endpoint used in QueueURL/TopicURL/Location values.
func (s *Server) baseURL() string {
	return Endpoint(s.env.AccountID, s.env.Region)
}

// page applies ListQueue/ListTopic paging headers: x-mns-prefix,
// x-mns-marker (the name to start at) and x-mns-ret-number (1-1000,
// default 1000).
func page(r *http.Request, names []string) ([]string, string, *apiError) {
	sort.Strings(names)
	prefix, marker := r.Header.Get("x-mns-prefix"), r.Header.Get("x-mns-marker")
	limit := 1000
	if v := r.Header.Get("x-mns-ret-number"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, "", errRange("x-mns-ret-number", 1, 1000)
		}
		limit = n
	}
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) || (marker != "" && n < marker) {
			continue
		}
		if len(out) == limit {
			return out, n, nil
		}
		out = append(out, n)
	}
	return out, "", nil
}

func intPtr(v int) *int    { return &v }
func boolPtr(v bool) *bool { return &v }
