package smq

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

const (
	maxFilterTag       = 16    // Subscribe reference: FilterTag up to 16 characters
	topicRetention     = 86400 // GetTopicAttributes: messages live at most one day in a topic
	defaultTopicMaxMsg = 65536
)

// queueEndpointRE matches a subscription's queue endpoint,
// acs:mns:{REGION}:{AccountID}:queues/{QueueName} (SMQ "Endpoint" reference;
// the SDK's GenerateQueueEndpoint builds the same string).
var queueEndpointRE = regexp.MustCompile(`^acs:mns:([a-z0-9-]+):([0-9]+):queues/([a-zA-Z][a-zA-Z0-9-]*)$`)

// functionEndpointRE matches a function endpoint,
// acs:fc:{REGION}:{AccountID}:functions/{FunctionName} (the FC 3.0 function
// ARN). Real SMQ has no such endpoint type: FC topic triggers subscribe the
// function on FC's side (through EventBridge in FC 3.0). The local cloud
// models a topic trigger as this subscription, delivering through
// env.Hooks.Invoke; SIMPLIFIED stands for the trigger's STREAM format and
// JSON for its JSON format (FC "MNSTopicTriggerConfig" reference).
var functionEndpointRE = regexp.MustCompile(`^acs:fc:([a-z0-9-]+):([0-9]+):functions/([a-zA-Z_][a-zA-Z0-9_-]*)$`)

// endpointTarget splits a subscription endpoint into its kind ("queue" or
// "function"), region, account and target name.
func endpointTarget(endpoint string) (kind, region, account, name string, ok bool) {
	if m := queueEndpointRE.FindStringSubmatch(endpoint); m != nil {
		return "queue", m[1], m[2], m[3], true
	}
	if m := functionEndpointRE.FindStringSubmatch(endpoint); m != nil {
		return "function", m[1], m[2], m[3], true
	}
	return "", "", "", "", false
}

func (s *Server) topicURL(name string) string { return s.baseURL() + "/topics/" + name }

func (s *Server) subscriptionURL(topic, sub string) string {
	return s.topicURL(topic) + "/subscriptions/" + sub
}

func applyTopicAttrs(a TopicAttrs, x topicAttrsXML) (TopicAttrs, *apiError) {
	if x.MaximumMessageSize != nil {
		if *x.MaximumMessageSize < 1024 || *x.MaximumMessageSize > 65536 {
			return a, errRange("MaximumMessageSize", 1024, 65536)
		}
		a.MaximumMessageSize = *x.MaximumMessageSize
	}
	if x.LoggingEnabled != nil {
		a.LoggingEnabled = *x.LoggingEnabled
	}
	return a, nil
}

// putTopic serves CreateTopic (201 new, 204 identical, 409 different) and
// SetTopicAttributes (?metaoverride=true).
func (s *Server) putTopic(rq *request) (*response, *apiError) {
	create := rq.op == "CreateTopic"
	if create {
		if aerr := checkName(rq.topic, "Topic"); aerr != nil {
			return nil, aerr
		}
	}
	var x topicAttrsXML
	if aerr := decodeBody(rq.body, &x); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[rq.topic]
	now := s.now().Unix()
	if !create {
		if t == nil {
			return nil, errTopicNotExist()
		}
		attrs, aerr := applyTopicAttrs(t.attrs, x)
		if aerr != nil {
			return nil, aerr
		}
		attrs.LastModifyTime = now
		t.attrs = attrs
		if aerr := s.saveMetaLocked(); aerr != nil {
			return nil, aerr
		}
		return &response{status: http.StatusNoContent}, nil
	}
	attrs, aerr := applyTopicAttrs(TopicAttrs{MaximumMessageSize: defaultTopicMaxMsg}, x)
	if aerr != nil {
		return nil, aerr
	}
	loc := map[string]string{"Location": s.topicURL(rq.topic)}
	if t != nil {
		if t.attrs.MaximumMessageSize == attrs.MaximumMessageSize && t.attrs.LoggingEnabled == attrs.LoggingEnabled {
			return &response{status: http.StatusNoContent, header: loc}, nil
		}
		return nil, errf(http.StatusConflict, "TopicAlreadyExist", "The topic you want to create has already exist.")
	}
	attrs.CreateTime, attrs.LastModifyTime = now, now
	s.topics[rq.topic] = &topicState{attrs: attrs, subs: map[string]Subscription{}}
	if aerr := s.saveMetaLocked(); aerr != nil {
		delete(s.topics, rq.topic)
		return nil, aerr
	}
	return &response{status: http.StatusCreated, header: loc}, nil
}

func (s *Server) topicDetails(name string, a TopicAttrs, withURL bool) topicXML {
	out := topicXML{
		TopicName: name, CreateTime: a.CreateTime, LastModifyTime: a.LastModifyTime,
		MaximumMessageSize: a.MaximumMessageSize, MessageRetentionPeriod: topicRetention,
		// Pushes to queue endpoints complete inside PublishMessage, so no
		// message ever waits in the topic.
		MessageCount: intPtr(0), LoggingEnabled: boolPtr(a.LoggingEnabled),
	}
	if withURL {
		out.TopicURL = s.topicURL(name)
	}
	return out
}

func (s *Server) getTopicAttributes(rq *request) (*response, *apiError) {
	s.mu.RLock()
	t := s.topics[rq.topic]
	var a TopicAttrs
	if t != nil {
		a = t.attrs
	}
	s.mu.RUnlock()
	if t == nil {
		return nil, errTopicNotExist()
	}
	out := s.topicDetails(rq.topic, a, false)
	out.NS = xmlNS
	return &response{status: http.StatusOK, body: out}, nil
}

// deleteTopic removes the topic and its subscriptions; like DeleteQueue it
// succeeds for a missing topic.
func (s *Server) deleteTopic(rq *request) (*response, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[rq.topic]
	if t == nil {
		return &response{status: http.StatusNoContent}, nil
	}
	delete(s.topics, rq.topic)
	if aerr := s.saveMetaLocked(); aerr != nil {
		s.topics[rq.topic] = t
		return nil, aerr
	}
	return &response{status: http.StatusNoContent}, nil
}

func (s *Server) listTopic(rq *request) (*response, *apiError) {
	s.mu.RLock()
	names := make([]string, 0, len(s.topics))
	attrs := make(map[string]TopicAttrs, len(s.topics))
	for n, t := range s.topics {
		names = append(names, n)
		attrs[n] = t.attrs
	}
	s.mu.RUnlock()
	sel, next, aerr := page(rq.r, names)
	if aerr != nil {
		return nil, aerr
	}
	withMeta := rq.r.Header.Get("x-mns-with-meta") == "true"
	out := topicsXML{NS: xmlNS, NextMarker: next}
	for _, n := range sel {
		if withMeta {
			out.Topics = append(out.Topics, s.topicDetails(n, attrs[n], true))
		} else {
			out.Topics = append(out.Topics, topicXML{TopicURL: s.topicURL(n)})
		}
	}
	return &response{status: http.StatusOK, body: out}, nil
}

// subscribe serves Subscribe (201 new, 204 identical, 409 different) and
// SetSubscriptionAttributes, which may only change NotifyStrategy.
func (s *Server) subscribe(rq *request) (*response, *apiError) {
	var x subscribeXML
	if aerr := decodeBody(rq.body, &x); aerr != nil {
		return nil, aerr
	}
	strategy := "BACKOFF_RETRY"
	if x.NotifyStrategy != nil && *x.NotifyStrategy != "" {
		strategy = *x.NotifyStrategy
		if strategy != "BACKOFF_RETRY" && strategy != "EXPONENTIAL_DECAY_RETRY" {
			return nil, errf(http.StatusBadRequest, "InvalidArgument", "The value of NotifyStrategy should be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[rq.topic]
	if t == nil {
		return nil, errTopicNotExist()
	}
	now := s.now().Unix()
	if rq.op == "SetSubscriptionAttributes" {
		sub, ok := t.subs[rq.sub]
		if !ok {
			return nil, errSubscriptionNotExist()
		}
		sub.NotifyStrategy, sub.LastModifyTime = strategy, now
		t.subs[rq.sub] = sub
		if aerr := s.saveMetaLocked(); aerr != nil {
			return nil, aerr
		}
		return &response{status: http.StatusNoContent}, nil
	}
	if len(rq.sub) > 255 {
		return nil, errf(http.StatusBadRequest, "SubscriptionNameLengthError", "The length of subscription name should between 1 and 255.")
	}
	if !subNameRE.MatchString(rq.sub) {
		// The code is spelled as the service (and the SDK's error map) spell it.
		return nil, errf(http.StatusBadRequest, "SubsriptionNameInvalid", "The subscription name you provided is invalid.")
	}
	sub := Subscription{Name: rq.sub, NotifyStrategy: strategy, NotifyContentFormat: "XML", CreateTime: now, LastModifyTime: now}
	if x.Endpoint == nil || *x.Endpoint == "" {
		return nil, errf(http.StatusBadRequest, "InvalidArgument", "The XML you provided did not validate against our published schema, cause by Endpoint.")
	}
	sub.Endpoint = *x.Endpoint
	_, region, account, _, ok := endpointTarget(sub.Endpoint)
	if !ok || region != s.env.Region || account != s.env.AccountID {
		// HTTP, mail and SMS endpoints are not emulated; queue endpoints
		// must be in the topic's region and account (Endpoint reference).
		return nil, errf(http.StatusBadRequest, "EndpointInvalid", "The endpoint you provided is invalid: the local SMQ pushes to queues and functions of this account and region only.")
	}
	if x.FilterTag != nil {
		if len(*x.FilterTag) > maxFilterTag {
			return nil, errRange("FilterTag length", 1, maxFilterTag)
		}
		sub.FilterTag = *x.FilterTag
	}
	if x.NotifyContentFormat != nil && *x.NotifyContentFormat != "" {
		switch f := *x.NotifyContentFormat; f {
		case "XML", "JSON", "SIMPLIFIED":
			sub.NotifyContentFormat = f
		default:
			return nil, errf(http.StatusBadRequest, "InvalidArgument", "The value of NotifyContentFormat should be XML, JSON or SIMPLIFIED.")
		}
	}
	loc := map[string]string{"Location": s.subscriptionURL(rq.topic, rq.sub)}
	if old, ok := t.subs[rq.sub]; ok {
		if old.Endpoint == sub.Endpoint && old.FilterTag == sub.FilterTag && old.NotifyStrategy == sub.NotifyStrategy &&
			old.NotifyContentFormat == sub.NotifyContentFormat {
			return &response{status: http.StatusNoContent, header: loc}, nil
		}
		return nil, errf(http.StatusConflict, "SubscriptionAlreadyExist", "The subscription you want to create has already exist.")
	}
	t.subs[rq.sub] = sub
	if aerr := s.saveMetaLocked(); aerr != nil {
		delete(t.subs, rq.sub)
		return nil, aerr
	}
	return &response{status: http.StatusCreated, header: loc}, nil
}

func (s *Server) subscriptionDetails(topic string, sub Subscription) subscriptionXML {
	return subscriptionXML{
		SubscriptionName: sub.Name, Subscriber: s.env.AccountID, TopicOwner: s.env.AccountID, TopicName: topic,
		Endpoint: sub.Endpoint, NotifyStrategy: sub.NotifyStrategy, NotifyContentFormat: sub.NotifyContentFormat,
		FilterTag: sub.FilterTag, CreateTime: sub.CreateTime, LastModifyTime: sub.LastModifyTime,
	}
}

func (s *Server) getSubscription(rq *request) (*response, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.topics[rq.topic]
	if t == nil {
		return nil, errTopicNotExist()
	}
	sub, ok := t.subs[rq.sub]
	if !ok {
		return nil, errSubscriptionNotExist()
	}
	out := s.subscriptionDetails(rq.topic, sub)
	out.NS = xmlNS
	return &response{status: http.StatusOK, body: out}, nil
}

func (s *Server) unsubscribe(rq *request) (*response, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[rq.topic]
	if t == nil {
		return nil, errTopicNotExist()
	}
	if _, ok := t.subs[rq.sub]; !ok {
		return &response{status: http.StatusNoContent}, nil
	}
	old := t.subs[rq.sub]
	delete(t.subs, rq.sub)
	if aerr := s.saveMetaLocked(); aerr != nil {
		t.subs[rq.sub] = old
		return nil, aerr
	}
	return &response{status: http.StatusNoContent}, nil
}

func (s *Server) listSubscriptions(rq *request) (*response, *apiError) {
	s.mu.RLock()
	t := s.topics[rq.topic]
	if t == nil {
		s.mu.RUnlock()
		return nil, errTopicNotExist()
	}
	subs := make(map[string]Subscription, len(t.subs))
	names := make([]string, 0, len(t.subs))
	for n, sub := range t.subs {
		subs[n] = sub
		names = append(names, n)
	}
	s.mu.RUnlock()
	sel, next, aerr := page(rq.r, names)
	if aerr != nil {
		return nil, aerr
	}
	withMeta := rq.r.Header.Get("x-mns-with-meta") == "true"
	out := subscriptionsXML{NS: xmlNS, NextMarker: next}
	for _, n := range sel {
		if withMeta {
			d := s.subscriptionDetails(rq.topic, subs[n])
			d.SubscriptionURL = s.subscriptionURL(rq.topic, n)
			out.Subscriptions = append(out.Subscriptions, d)
		} else {
			out.Subscriptions = append(out.Subscriptions, subscriptionXML{SubscriptionURL: s.subscriptionURL(rq.topic, n)})
		}
	}
	return &response{status: http.StatusOK, body: out}, nil
}

func (s *Server) publishMessage(ctx context.Context, rq *request) (*response, *apiError) {
	var x publishXML
	if aerr := decodeBody(rq.body, &x); aerr != nil {
		return nil, aerr
	}
	if x.MessageBody == nil || *x.MessageBody == "" {
		return nil, errf(http.StatusBadRequest, "InvalidArgument", "The XML you provided did not validate against our published schema, cause by MessageBody.")
	}
	if len(x.MessageTag) > maxFilterTag {
		return nil, errRange("MessageTag length", 1, maxFilterTag)
	}
	id, md5, aerr := s.publish(ctx, rq.topic, *x.MessageBody, x.MessageTag)
	if aerr != nil {
		return nil, aerr
	}
	return &response{status: http.StatusCreated, body: sentXML{NS: xmlNS, MessageID: id, MessageBodyMD5: md5}}, nil
}

// publish pushes a message to every subscription whose FilterTag matches
// (an empty FilterTag takes everything). Queue pushes complete, journaled,
// before publish returns: an acknowledged publish is never lost here.
func (s *Server) publish(ctx context.Context, topic, body, tag string) (string, string, *apiError) {
	s.mu.RLock()
	t := s.topics[topic]
	if t == nil {
		s.mu.RUnlock()
		return "", "", errTopicNotExist()
	}
	maxSize := t.attrs.MaximumMessageSize
	var subs []Subscription
	for _, sub := range t.subs {
		if sub.FilterTag == "" || sub.FilterTag == tag {
			subs = append(subs, sub)
		}
	}
	s.mu.RUnlock()
	if len(body) > maxSize {
		return "", "", errRange("MessageBody", 1, maxSize)
	}
	now := s.nowMS()
	seq := s.seq.Add(1)
	id := fmt.Sprintf("%s-1-%X-%09d", s.idPrefix, now, seq)
	md5 := bodyMD5(body)
	for _, sub := range subs {
		if err := s.push(ctx, topic, sub, id, body, md5, tag, now); err != nil {
			return "", "", err
		}
	}
	return id, md5, nil
}

// push delivers one published message to a queue endpoint in the
// subscription's format. A missing queue drops the push, as the real
// service does once its retries are exhausted.
func (s *Server) push(ctx context.Context, topic string, sub Subscription, id, body, md5, tag string, publishMS int64) *apiError {
	kind, _, _, target, ok := endpointTarget(sub.Endpoint)
	if !ok {
		return nil
	}
	payload, err := renderNotification(notification{
		Format: sub.NotifyContentFormat, Owner: s.env.AccountID, Topic: topic, Subscription: sub.Name,
		MessageID: id, Body: body, MD5: md5, Tag: tag, PublishMS: publishMS,
	})
	if err != nil {
		s.env.Log.Error("render smq notification", "err", err, "topic", topic)
		return errf(http.StatusInternalServerError, "InternalError", "Interal error.")
	}
	if kind == "function" {
		s.invoke(ctx, topic, sub.Name, target, payload)
		return nil
	}
	q, aerr := s.lookupQueue(target)
	if aerr != nil {
		s.env.Log.Warn("smq push dropped: queue does not exist", "topic", topic, "subscription", sub.Name, "queue", target)
		return nil
	}
	a := q.attributes()
	if len(payload) > a.MaximumMessageSize {
		s.env.Log.Warn("smq push dropped: message larger than queue limit", "topic", topic, "queue", q.name)
		return nil
	}
	msg, aerr := s.newMessage(sendMessageXML{MessageBody: &payload}, a, publishMS)
	if aerr != nil {
		return aerr
	}
	if aerr := q.add([]*message{msg}); aerr != nil && aerr.Code != "QueueNotExist" {
		return aerr
	}
	return nil
}

// notification is what a topic pushes for one message to one subscription.
type notification struct {
	Format, Owner, Topic, Subscription string
	MessageID, Body, MD5, Tag          string
	PublishMS                          int64
}

// renderNotification builds the queue message body for a subscription's
// NotifyContentFormat (SMQ "NotifyContentFormat" reference): SIMPLIFIED is
// the body as published; XML and JSON wrap it with the topic, subscription
// and message attributes.
func renderNotification(n notification) (string, error) {
	switch n.Format {
	case "SIMPLIFIED":
		return n.Body, nil
	case "JSON":
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(notificationJSON{
			TopicOwner: n.Owner, TopicName: n.Topic, Subscriber: n.Owner, SubscriptionName: n.Subscription,
			MessageID: n.MessageID, Message: n.Body, MessageMD5: n.MD5, MessageTag: n.Tag,
			PublishTime: strconv.FormatInt(n.PublishMS, 10),
		}); err != nil {
			return "", fmt.Errorf("encode json notification: %w", err)
		}
		return strings.TrimSuffix(b.String(), "\n"), nil
	default:
		out, err := encodeXML(notificationXML{
			NS: xmlNS, TopicOwner: n.Owner, TopicName: n.Topic, Subscriber: n.Owner, SubscriptionName: n.Subscription,
			MessageID: n.MessageID, Message: n.Body, MessageMD5: n.MD5, MessageTag: n.Tag, PublishTime: n.PublishMS,
		})
		if err != nil {
			return "", fmt.Errorf("encode xml notification: %w", err)
		}
		return string(out), nil
	}
}

// invoke runs a subscribed function asynchronously, as a topic trigger
// does. A failed invocation is logged and dropped: asynchronous invocation
// retries are FC's business once the event is accepted.
func (s *Server) invoke(ctx context.Context, topic, sub, function, payload string) {
	if s.env.Hooks.Invoke == nil {
		s.env.Log.Warn("smq push dropped: no function runtime wired", "topic", topic, "subscription", sub, "function", function)
		return
	}
	// The publisher's request may end before FC is done accepting the event.
	if _, err := s.env.Hooks.Invoke(context.WithoutCancel(ctx), function, []byte(payload), true); err != nil {
		s.env.Log.Warn("smq push to function failed", "topic", topic, "subscription", sub, "function", function, "err", err)
	}
}

// destinationRE matches the SMQ destination ARNs FC asynchronous invocation
// accepts: acs:mns:<region>:<uid>:/queues/<q>/messages and
// acs:mns:<region>:<uid>:/topics/<t>/messages.
var destinationRE = regexp.MustCompile(`^acs:mns:([a-z0-9-]+):([0-9]+):/(queues|topics)/([a-zA-Z][a-zA-Z0-9-]*)/messages$`)

// Deliver sends body to an SMQ destination ARN on behalf of another local
// service (FC async-invocation destinations reach it through
// env.Hooks.Deliver). It runs as the service, so no signature or RAM check
// applies and, as with real service-to-service deliveries, no ActionTrail
// event is written.
func (s *Server) Deliver(ctx context.Context, destinationARN string, body []byte) error {
	m := destinationRE.FindStringSubmatch(destinationARN)
	if m == nil {
		return fmt.Errorf("deliver to %q: not an SMQ queue or topic ARN", destinationARN)
	}
	if m[1] != s.env.Region || m[2] != s.env.AccountID {
		return fmt.Errorf("deliver to %s: destination is outside account %s region %s", destinationARN, s.env.AccountID, s.env.Region)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deliver to %s: %w", destinationARN, err)
	}
	if m[3] == "topics" {
		if _, _, aerr := s.publish(ctx, m[4], string(body), ""); aerr != nil {
			return fmt.Errorf("deliver to %s: %w", destinationARN, aerr)
		}
		return nil
	}
	q, aerr := s.lookupQueue(m[4])
	if aerr != nil {
		return fmt.Errorf("deliver to %s: %w", destinationARN, aerr)
	}
	b := string(body)
	msg, aerr := s.newMessage(sendMessageXML{MessageBody: &b}, q.attributes(), s.nowMS())
	if aerr != nil {
		return fmt.Errorf("deliver to %s: %w", destinationARN, aerr)
	}
	if aerr := q.add([]*message{msg}); aerr != nil {
		return fmt.Errorf("deliver to %s: %w", destinationARN, aerr)
	}
	return nil
}
