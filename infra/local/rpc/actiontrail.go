package rpc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/akguard/akguard/infra/local/trail"
)

// ActionTrail (Actiontrail 2020-07-06, regional endpoint
// actiontrail.<region>.aliyuncs.com). LookupEvents semantics from the API
// reference (cloud-apis.md B2.1): one LookupAttribute per query,
// MaxResults up to 50, default window the last 7 days, at most 90 days
// back, Direction BACKWARD (newest first) by default, NextToken valid only
// with the same parameters. The AccessKey audit APIs (B2.4) are computed
// from the same trail store. Shapes: services/actiontrail/*.go.

// codeBadValue is ActionTrail's documented common error for an invalid
// parameter value (ActionTrail API "Common error codes": 400
// InvalidParameterValue); the message names the parameter.
const codeBadValue = "InvalidParameterValue"

const (
	lookupMaxWindow = 90 * 24 * time.Hour
	lookupDefWindow = 7 * 24 * time.Hour
)

func (s *Server) actionTrailProduct() *product {
	r := func(fn handlerFunc) op { return op{fn: fn, readOnly: true} }
	return &product{
		name: ProductActionTrail, version: "2020-07-06", service: "Actiontrail", endpoint: "actiontrail." + s.env.Region + ".aliyuncs.com",
		denyCode: "NoPermission", denyMsg: "You are not authorized to do this action. You should be authorized by RAM.",
		ops: map[string]op{
			"LookupEvents":                  r(s.atLookupEvents),
			"GetAccessKeyLastUsedInfo":      r(s.atLastUsedInfo),
			"GetAccessKeyLastUsedProducts":  r(s.atLastUsedProducts),
			"GetAccessKeyLastUsedEvents":    r(s.atLastUsedEvents),
			"GetAccessKeyLastUsedIps":       r(s.atLastUsedIps),
			"GetAccessKeyLastUsedResources": r(s.atLastUsedResources),
		},
	}
}

// lookupCursor is the decoded NextToken: the position after the last event
// returned plus the effective window, so later pages see the same window
// even when StartTime/EndTime were defaulted from the clock.
type lookupCursor struct {
	Hash  string `json:"h"`
	Time  string `json:"t"`
	ID    string `json:"i"`
	Start string `json:"s"`
	End   string `json:"e"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(b)
}

func decodeToken(tok string, v any) error {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// paramHash binds a NextToken to the query parameters that produced it.
func paramHash(params map[string]string, names ...string) string {
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%s\n", n, params[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func badNextToken() *apiError {
	return invalidParam(codeBadValue, "The NextToken is invalid or was issued for different request parameters.")
}

// lookupAttribute extracts the single LookupAttribute.N.{Key,Value}.
func lookupAttribute(params map[string]string) (key, value string, err error) {
	var keys []string
	for k := range params {
		if strings.HasPrefix(k, "LookupAttribute.") && strings.HasSuffix(k, ".Key") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", "", nil
	}
	if len(keys) > 1 {
		return "", "", invalidParam(codeBadValue, "Only one LookupAttribute is supported per query.")
	}
	n := strings.TrimSuffix(keys[0], ".Key")
	return params[keys[0]], params[n+".Value"], nil
}

func parseISO(name, v string) (time.Time, error) {
	t, err := time.Parse(trail.TimeLayout, v)
	if err != nil {
		return time.Time{}, invalidParam(codeBadValue, "The Specified parameter %s is not valid.", name)
	}
	return t, nil
}

func (s *Server) atLookupEvents(c *call) (obj, error) {
	if !s.limiter.allow(c.principal.AccessKeyID, s.now()) {
		// Alibaba POP flow control: HTTP 400 Throttling.User.
		return nil, &apiError{Status: http.StatusBadRequest, Code: "Throttling.User", Message: "Request was denied due to user flow control."}
	}
	if err := c.authorize("actiontrail:LookupEvents", "*"); err != nil {
		return nil, err
	}
	attrKey, attrValue, err := lookupAttribute(c.params)
	if err != nil {
		return nil, err
	}
	switch attrKey {
	case "", "ServiceName", "EventName", "User", "EventId", "ResourceType", "ResourceName", "EventRW", "EventAccessKeyId":
	default:
		return nil, invalidParam(codeBadValue, "The LookupAttribute key %q is not supported.", attrKey)
	}
	maxResults := 20
	if v := c.get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 50 {
			return nil, invalidParam(codeBadValue, "The parameter MaxResults must be between 1 and 50.")
		}
		if n > 0 {
			maxResults = n
		}
	}
	forward := false
	switch c.get("Direction") {
	case "", "BACKWARD":
	case "FORWARD":
		forward = true
	default:
		return nil, invalidParam(codeBadValue, "The parameter Direction must be FORWARD or BACKWARD.")
	}
	hash := paramHash(c.params, "StartTime", "EndTime", "Direction", "LookupAttribute.1.Key", "LookupAttribute.1.Value")
	hash = paramHash(map[string]string{"h": hash, "k": attrKey, "v": attrValue}, "h", "k", "v")
	var cur *lookupCursor
	if tok := c.get("NextToken"); tok != "" {
		cur = &lookupCursor{}
		if err := decodeToken(tok, cur); err != nil || cur.Hash != hash {
			return nil, badNextToken()
		}
	}
	now := s.now().UTC()
	var start, end time.Time
	switch {
	case cur != nil:
		if start, err = parseISO("StartTime", cur.Start); err != nil {
			return nil, badNextToken()
		}
		if end, err = parseISO("EndTime", cur.End); err != nil {
			return nil, badNextToken()
		}
	default:
		// The current API reference: "You must specify both StartTime and
		// EndTime, or leave both unspecified."
		if (c.get("StartTime") == "") != (c.get("EndTime") == "") {
			return nil, invalidParam(codeBadValue, "Specify both StartTime and EndTime, or neither.")
		}
		end = now
		if v := c.get("EndTime"); v != "" {
			if end, err = parseISO("EndTime", v); err != nil {
				return nil, err
			}
		}
		start = end.Add(-lookupDefWindow)
		if v := c.get("StartTime"); v != "" {
			if start, err = parseISO("StartTime", v); err != nil {
				return nil, err
			}
		}
		if start.After(end) {
			return nil, invalidParam(codeBadValue, "The StartTime must not be later than the EndTime.")
		}
		// Only the last 90 days are queryable.
		if oldest := now.Add(-lookupMaxWindow); start.Before(oldest) {
			start = oldest
		}
	}
	region := c.get("RegionId")
	if region == "" {
		region = s.env.Region
	}
	page, more, err := s.lookupPage(trail.Query{Start: start, End: end, AttrKey: attrKey, AttrValue: attrValue, Region: region, Forward: forward}, cur, maxResults)
	if err != nil {
		return nil, err
	}
	// Events are embedded as their own JSON, so the field names are the
	// trail's ActionTrail names without a decode/encode round trip.
	out := make([]json.RawMessage, 0, len(page))
	for i := range page {
		b, err := json.Marshal(&page[i])
		if err != nil {
			return nil, fmt.Errorf("encode event: %w", err)
		}
		out = append(out, b)
	}
	next := ""
	if more {
		last := page[len(page)-1]
		next = encodeToken(lookupCursor{Hash: hash, Time: last.EventTime, ID: last.EventID,
			Start: start.UTC().Format(trail.TimeLayout), End: end.UTC().Format(trail.TimeLayout)})
	}
	return obj{"StartTime": start.UTC().Format(trail.TimeLayout), "EndTime": end.UTC().Format(trail.TimeLayout),
		"NextToken": next, "Events": out}, nil
}

// lookupPage returns up to max events after the cursor in the query's
// direction, and whether more follow. Pages are cut in the total order
// (eventTime, eventId) — the store keeps insertion order within a second,
// so each second's events are sorted by ID before use — which keeps the
// cursor exact while new events are recorded during paging. The scan stops
// as soon as the page is full, so cost follows the page, not the trail.
func (s *Server) lookupPage(q trail.Query, cur *lookupCursor, max int) ([]trail.Event, bool, error) {
	if cur != nil {
		// Nothing before (FORWARD) or after (BACKWARD) the cursor's second
		// can be on later pages.
		if t, err := time.Parse(trail.TimeLayout, cur.Time); err == nil {
			if q.Forward && t.After(q.Start) {
				q.Start = t
			} else if !q.Forward && t.Before(q.End) {
				q.End = t
			}
		}
	}
	after := func(e *trail.Event) bool { // e comes after the cursor in scan order
		if cur == nil {
			return true
		}
		if e.EventTime != cur.Time {
			return (e.EventTime > cur.Time) == q.Forward
		}
		if e.EventID == cur.ID {
			return false
		}
		return (e.EventID > cur.ID) == q.Forward
	}
	var (
		out    []trail.Event
		bucket []trail.Event
	)
	flush := func() bool {
		sort.Slice(bucket, func(i, j int) bool {
			if q.Forward {
				return bucket[i].EventID < bucket[j].EventID
			}
			return bucket[i].EventID > bucket[j].EventID
		})
		for _, e := range bucket {
			if !after(&e) {
				continue
			}
			out = append(out, e)
			if len(out) > max {
				return false
			}
		}
		bucket = bucket[:0]
		return true
	}
	full := false
	err := s.env.Trail.Scan(q, func(e *trail.Event) bool {
		if len(bucket) > 0 && bucket[0].EventTime != e.EventTime && !flush() {
			full = true
			return false
		}
		bucket = append(bucket, *e)
		return true
	})
	if err != nil {
		return nil, false, invalidParam(codeBadValue, "The LookupAttribute is invalid.")
	}
	if !full {
		flush()
	}
	if len(out) > max {
		return out[:max], true, nil
	}
	return out, false, nil
}

// AccessKey audit ---------------------------------------------------------

var serviceNames = map[string][2]string{ // serviceName -> {Cn, En}
	"Ram":         {"访问控制", "Resource Access Management"},
	"Ims":         {"访问控制", "Resource Access Management"},
	"Sts":         {"访问控制", "Security Token Service"},
	"Oss":         {"对象存储", "Object Storage Service"},
	"Actiontrail": {"操作审计", "ActionTrail"},
	"Kms":         {"密钥管理服务", "Key Management Service"},
	"Mns":         {"消息服务", "Simple Message Queue"},
	"Fc":          {"函数计算", "Function Compute"},
	"Ecs":         {"云服务器 ECS", "Elastic Compute Service"},
}

// keyEvents returns the successful calls made with an AccessKey, newest
// first: "last used" means a call the key actually authorised.
func (s *Server) keyEvents(accessKey string) []trail.Event {
	var out []trail.Event
	q := trail.Query{Start: time.Unix(0, 0), End: s.now().Add(24 * time.Hour), AttrKey: "EventAccessKeyId", AttrValue: accessKey}
	_ = s.env.Trail.Scan(q, func(e *trail.Event) bool {
		if e.ErrorCode == "" {
			out = append(out, *e)
		}
		return true
	})
	return out
}

// lastEventOfKey is the newest successful call made with a key.
func (s *Server) lastEventOfKey(accessKey string) (trail.Event, bool) {
	evs := s.keyEvents(accessKey)
	if len(evs) == 0 {
		return trail.Event{}, false
	}
	return evs[0], true
}

func usedMillis(e *trail.Event) int64 { return e.Time().UnixMilli() }

func detailJSON(e *trail.Event) string {
	b, err := json.Marshal(e)
	if err != nil {
		return ""
	}
	return string(b)
}

func (s *Server) auditKey(c *call, action string) (string, error) {
	key, err := c.require("AccessKey")
	if err != nil {
		return "", err
	}
	c.setResource(typeAccessKey, key)
	if err := c.authorize("actiontrail:"+action, "*"); err != nil {
		return "", err
	}
	return key, nil
}

func (s *Server) atLastUsedInfo(c *call) (obj, error) {
	key, err := s.auditKey(c, "GetAccessKeyLastUsedInfo")
	if err != nil {
		return nil, err
	}
	out := obj{"AccessKeyId": key, "AccountId": s.env.AccountID, "OwnerId": s.env.AccountID}
	if k, ok := s.env.IAM.GetAccessKey(key); ok {
		if k.UserName == "" {
			out["AccountType"], out["UserName"] = "root-account", "root"
		} else {
			out["AccountType"], out["UserName"] = "ram-user", k.UserName
		}
	}
	if e, ok := s.lastEventOfKey(key); ok {
		if out["UserName"] == nil {
			out["UserName"], out["AccountType"] = e.UserIdentity.UserName, e.UserIdentity.Type
		}
		names := serviceNames[e.ServiceName]
		out["UsedTimestamp"] = usedMillis(&e)
		out["Detail"] = detailJSON(&e)
		out["Source"] = "ManagementEvent"
		out["ServiceName"], out["ServiceNameCn"], out["ServiceNameEn"] = e.ServiceName, names[0], names[1]
	}
	return out, nil
}

// latestBy keeps the newest event per group key, newest group first.
func latestBy(events []trail.Event, key func(*trail.Event) string) []trail.Event {
	seen := map[string]bool{}
	var out []trail.Event
	for i := range events { // events are newest first
		k := key(&events[i])
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, events[i])
	}
	return out
}

func (s *Server) atLastUsedProducts(c *call) (obj, error) {
	key, err := s.auditKey(c, "GetAccessKeyLastUsedProducts")
	if err != nil {
		return nil, err
	}
	items := []obj{}
	for _, e := range latestBy(s.keyEvents(key), func(e *trail.Event) string { return e.ServiceName }) {
		names := serviceNames[e.ServiceName]
		items = append(items, obj{"ServiceName": e.ServiceName, "ServiceNameCn": names[0], "ServiceNameEn": names[1],
			"UsedTimestamp": usedMillis(&e), "Detail": detailJSON(&e), "Source": "ManagementEvent"})
	}
	return obj{"Products": items}, nil
}

// auditPage groups a key's events of one service and pages the groups.
func (s *Server) auditPage(c *call, action string, group func(*trail.Event) string, render func(*trail.Event) obj) ([]obj, string, error) {
	key, err := s.auditKey(c, action)
	if err != nil {
		return nil, "", err
	}
	svc, err := c.require("ServiceName")
	if err != nil {
		return nil, "", err
	}
	size := 20
	if v := c.get("PageSize"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 100 {
			return nil, "", invalidParam(codeBadValue, "The parameter PageSize must be between 1 and 100.")
		}
	}
	hash := paramHash(c.params, "AccessKey", "ServiceName")
	offset := 0
	if tok := c.get("NextToken"); tok != "" {
		var t struct {
			Hash   string `json:"h"`
			Offset int    `json:"o"`
		}
		if err := decodeToken(tok, &t); err != nil || t.Hash != hash || t.Offset < 0 {
			return nil, "", badNextToken()
		}
		offset = t.Offset
	}
	var mine []trail.Event
	for _, e := range s.keyEvents(key) {
		if strings.EqualFold(e.ServiceName, svc) {
			mine = append(mine, e)
		}
	}
	groups := latestBy(mine, group)
	if offset > len(groups) {
		offset = len(groups)
	}
	end := min(offset+size, len(groups))
	items := []obj{}
	for i := offset; i < end; i++ {
		o := render(&groups[i])
		o["UsedTimestamp"], o["Detail"], o["Source"] = usedMillis(&groups[i]), detailJSON(&groups[i]), "ManagementEvent"
		items = append(items, o)
	}
	next := ""
	if end < len(groups) {
		next = encodeToken(struct {
			Hash   string `json:"h"`
			Offset int    `json:"o"`
		}{hash, end})
	}
	return items, next, nil
}

func (s *Server) atLastUsedEvents(c *call) (obj, error) {
	items, next, err := s.auditPage(c, "GetAccessKeyLastUsedEvents",
		func(e *trail.Event) string { return e.EventName },
		func(e *trail.Event) obj { return obj{"EventName": e.EventName} })
	if err != nil {
		return nil, err
	}
	return obj{"Events": items, "NextToken": next}, nil
}

func (s *Server) atLastUsedIps(c *call) (obj, error) {
	items, next, err := s.auditPage(c, "GetAccessKeyLastUsedIps",
		func(e *trail.Event) string { return e.SourceIPAddress },
		func(e *trail.Event) obj { return obj{"Ip": e.SourceIPAddress} })
	if err != nil {
		return nil, err
	}
	return obj{"Ips": items, "NextToken": next}, nil
}

func (s *Server) atLastUsedResources(c *call) (obj, error) {
	items, next, err := s.auditPage(c, "GetAccessKeyLastUsedResources",
		func(e *trail.Event) string {
			if e.ResourceName == "" {
				return ""
			}
			return e.ResourceType + "\x00" + e.ResourceName
		},
		func(e *trail.Event) obj { return obj{"ResourceName": e.ResourceName, "ResourceType": e.ResourceType} })
	if err != nil {
		return nil, err
	}
	return obj{"Resources": items, "NextToken": next}, nil
}
