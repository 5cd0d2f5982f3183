package oss

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

// Server is the OSS endpoint.
type Server struct {
	env      *core.Env
	store    *store
	root     string
	ownsRoot bool // in-memory Env: objects still stream to a temp dir, removed on Close
	log      *slog.Logger

	routes   map[string]route
	appendMu sync.Mutex     // serializes AppendObject, which writes in place
	hooks    sync.WaitGroup // in-flight ObjectCreated notifications
}

// New opens (or creates) the OSS state under env.ServiceDir("oss"). With
// an in-memory Env, objects go to a temporary directory removed by Close.
func New(env *core.Env) (*Server, error) {
	root, err := env.ServiceDir("oss")
	if err != nil {
		return nil, err
	}
	owns := false
	if root == "" {
		if root, err = os.MkdirTemp("", "akguard-oss-*"); err != nil {
			return nil, fmt.Errorf("create oss temp dir: %w", err)
		}
		owns = true
	}
	st, err := openStore(root)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{env: env, store: st, root: root, ownsRoot: owns, log: log.With("service", "oss"), routes: routeTable()}, nil
}

// Close waits for pending notifications and releases the server. State
// on disk stays for the next New on the same directory.
func (s *Server) Close() error {
	s.hooks.Wait()
	if s.ownsRoot {
		if err := os.RemoveAll(s.root); err != nil {
			return fmt.Errorf("remove oss temp dir: %w", err)
		}
	}
	return nil
}

// SetDurable chooses whether committed files are fsynced before they are
// renamed into place (the default). Turning it off keeps every write atomic
// against a crash of this process and only gives up power-loss durability;
// tests that create thousands of objects use it.
func (s *Server) SetDurable(on bool) { s.store.durable.Store(on) }

func (s *Server) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

// request is one API call in flight.
type request struct {
	w         http.ResponseWriter
	r         *http.Request
	ctx       context.Context
	id        string
	bucket    string
	key       string
	api       string
	route     route
	principal iam.Principal
	anonymous bool
	keyID     string
	err       *apiError
	params    map[string]any
}

const (
	scopeService = iota
	scopeBucket
	scopeObject
)

// route describes an API: its RAM action, whether it reads, what it acts
// on, which ACL permission lets a non-authorized caller in ("" = owner and
// RAM grants only), and its handler.
type route struct {
	action string
	read   bool
	scope  int
	acl    string // "read" | "write" | ""
	handle func(*Server, *request, *bucketState) error
}

// routeTable lists every API the server implements.
func routeTable() map[string]route {
	return map[string]route{
		"ListBuckets":             {"oss:ListBuckets", true, scopeService, "", (*Server).listBuckets},
		"PutBucket":               {"oss:PutBucket", false, scopeBucket, "", (*Server).putBucket},
		"DeleteBucket":            {"oss:DeleteBucket", false, scopeBucket, "", (*Server).deleteBucket},
		"GetBucketInfo":           {"oss:GetBucketInfo", true, scopeBucket, "", (*Server).getBucketInfo},
		"GetBucketLocation":       {"oss:GetBucketLocation", true, scopeBucket, "", (*Server).getBucketLocation},
		"GetBucketAcl":            {"oss:GetBucketAcl", true, scopeBucket, "", (*Server).getBucketACL},
		"PutBucketAcl":            {"oss:PutBucketAcl", false, scopeBucket, "", (*Server).putBucketACL},
		"GetBucketVersioning":     {"oss:GetBucketVersioning", true, scopeBucket, "", (*Server).getBucketVersioning},
		"PutBucketVersioning":     {"oss:PutBucketVersioning", false, scopeBucket, "", (*Server).putBucketVersioning},
		"ListObjects":             {"oss:ListObjects", true, scopeBucket, "read", (*Server).listObjects},
		"ListObjectsV2":           {"oss:ListObjects", true, scopeBucket, "read", (*Server).listObjects},
		"DeleteMultipleObjects":   {"oss:DeleteObject", false, scopeBucket, "write", (*Server).deleteMultiple},
		"PutObject":               {"oss:PutObject", false, scopeObject, "write", (*Server).putObject},
		"CopyObject":              {"oss:PutObject", false, scopeObject, "write", (*Server).copyObject},
		"AppendObject":            {"oss:PutObject", false, scopeObject, "write", (*Server).appendObject},
		"GetObject":               {"oss:GetObject", true, scopeObject, "read", (*Server).getObject},
		"HeadObject":              {"oss:GetObject", true, scopeObject, "read", (*Server).getObject},
		"GetObjectMeta":           {"oss:GetObject", true, scopeObject, "read", (*Server).getObjectMeta},
		"DeleteObject":            {"oss:DeleteObject", false, scopeObject, "write", (*Server).deleteObject},
		"GetObjectAcl":            {"oss:GetObjectAcl", true, scopeObject, "", (*Server).getObjectACL},
		"PutObjectAcl":            {"oss:PutObjectAcl", false, scopeObject, "", (*Server).putObjectACL},
		"GetObjectTagging":        {"oss:GetObjectTagging", true, scopeObject, "", (*Server).getObjectTagging},
		"PutObjectTagging":        {"oss:PutObjectTagging", false, scopeObject, "", (*Server).putObjectTagging},
		"DeleteObjectTagging":     {"oss:DeleteObjectTagging", false, scopeObject, "", (*Server).deleteObjectTagging},
		"InitiateMultipartUpload": {"oss:PutObject", false, scopeObject, "write", (*Server).initiateMultipart},
		"UploadPart":              {"oss:PutObject", false, scopeObject, "write", (*Server).uploadPart},
		"CompleteMultipartUpload": {"oss:PutObject", false, scopeObject, "write", (*Server).completeMultipart},
		"AbortMultipartUpload":    {"oss:AbortMultipartUpload", false, scopeObject, "write", (*Server).abortMultipart},
		"ListParts":               {"oss:ListParts", true, scopeObject, "read", (*Server).listParts},
	}
}

// apiName maps method and sub-resources to the OSS API name (the names in
// the OSS API reference, which are also ActionTrail's eventName values).
func apiName(r *http.Request, bucket, key string) string {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		switch r.Method {
		case http.MethodPut:
			switch {
			case has("acl"):
				return "PutBucketAcl"
			case has("versioning"):
				return "PutBucketVersioning"
			case len(q) == 0:
				return "PutBucket"
			}
		case http.MethodGet:
			switch {
			case has("acl"):
				return "GetBucketAcl"
			case has("bucketInfo"):
				return "GetBucketInfo"
			case has("location"):
				return "GetBucketLocation"
			case has("versioning"):
				return "GetBucketVersioning"
			case q.Get("list-type") == "2":
				return "ListObjectsV2"
			case !has("uploads") && !has("versions"):
				return "ListObjects"
			}
		case http.MethodDelete:
			if len(q) == 0 {
				return "DeleteBucket"
			}
		case http.MethodPost:
			if has("delete") {
				return "DeleteMultipleObjects"
			}
		}
	default:
		switch r.Method {
		case http.MethodPut:
			switch {
			case has("acl"):
				return "PutObjectAcl"
			case has("tagging"):
				return "PutObjectTagging"
			case has("uploadId") && has("partNumber"):
				if r.Header.Get("x-oss-copy-source") == "" {
					return "UploadPart"
				}
			case r.Header.Get("x-oss-copy-source") != "":
				return "CopyObject"
			default:
				return "PutObject"
			}
		case http.MethodGet:
			switch {
			case has("acl"):
				return "GetObjectAcl"
			case has("tagging"):
				return "GetObjectTagging"
			case has("uploadId"):
				return "ListParts"
			default:
				return "GetObject"
			}
		case http.MethodHead:
			if has("objectMeta") {
				return "GetObjectMeta"
			}
			return "HeadObject"
		case http.MethodDelete:
			switch {
			case has("tagging"):
				return "DeleteObjectTagging"
			case has("uploadId"):
				return "AbortMultipartUpload"
			default:
				return "DeleteObject"
			}
		case http.MethodPost:
			switch {
			case has("uploads"):
				return "InitiateMultipartUpload"
			case has("uploadId"):
				return "CompleteMultipartUpload"
			case has("append"):
				return "AppendObject"
			}
		}
	}
	return ""
}

// ServeHTTP handles one OSS API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{w: w, r: r, ctx: r.Context(), id: core.NewRequestID(), params: map[string]any{}}
	h := w.Header()
	h.Set("x-oss-request-id", rq.id)
	h.Set("Server", "AliyunOSS")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	rq.bucket, rq.key = s.address(r)
	rq.api = apiName(r, rq.bucket, rq.key)
	rq.route = s.routes[rq.api]
	defer s.record(rq)

	if rq.api != "" && s.env.ApplyFault(w, "oss", rq.api, func(status int, code, msg string) {
		e := errf(status, code, msg)
		if code == "Throttling" {
			// OSS signals an exceeded request rate with 503 (EC 0004-00000302,
			// "The queries per second (QPS) limit is exceeded").
			e = errf(http.StatusServiceUnavailable, "ServiceUnavailable", "Please reduce your request rate.").withEC("0004-00000302")
		}
		rq.err = e
		e.write(w, r, rq.id)
	}) {
		return
	}
	if err := s.serve(rq); err != nil {
		var e *apiError
		if !errors.As(err, &e) {
			s.log.ErrorContext(rq.ctx, "oss request failed", "api", rq.api, "bucket", rq.bucket, "request_id", rq.id, "err", err)
			e = errInternal()
		}
		rq.err = e
		e.write(w, r, rq.id)
	}
}

func (s *Server) serve(rq *request) error {
	r := rq.r
	if rq.api == "" {
		return errf(http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented.")
	}
	if rq.bucket != "" {
		if !validBucketName(rq.bucket) {
			return errf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.", field{"BucketName", rq.bucket})
		}
		rq.params["bucketName"] = rq.bucket
	}
	if rq.key != "" {
		// Object names are 1-1023 bytes of UTF-8 and may not start with '/'
		// or '\' (OSS "Object naming conventions").
		if len(rq.key) > 1023 || rq.key[0] == '/' || rq.key[0] == '\\' || !utf8.ValidString(rq.key) {
			return errf(http.StatusBadRequest, "InvalidObjectName", "The specified object is not valid.", field{"ObjectName", rq.key})
		}
		rq.params["objectName"] = rq.key
	}
	cred, e := s.parseCredential(r, rq.bucket, rq.key)
	if e != nil {
		return e
	}
	rq.keyID = cred.keyID
	rq.anonymous = cred.anonymous
	if !cred.anonymous {
		p, e := s.authenticate(r, cred)
		if e != nil {
			return e
		}
		rq.principal = p
	}
	var b *bucketState
	if rq.route.scope != scopeService && rq.api != "PutBucket" {
		var ok bool
		if b, ok = s.store.bucket(rq.bucket); !ok {
			return errNoSuchBucket(rq.bucket)
		}
	}
	if err := s.authorize(rq, b, rq.route.action, rq.bucket, rq.key, rq.route.acl); err != nil {
		return err
	}
	return rq.route.handle(s, rq, b)
}

// address finds bucket and key from a virtual-hosted Host
// (<bucket>.oss-<region>.aliyuncs.com, <bucket>.localhost, <bucket>.<ip>,
// <bucket>.<configured endpoint host>) or from a path-style URL
// (/<bucket>/<key>), which the SDK uses for IP endpoints.
func (s *Server) address(r *http.Request) (bucket, key string) {
	path := r.URL.Path
	if b := s.vhostBucket(r.Host); b != "" {
		return b, strings.TrimPrefix(path, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key
}

func (s *Server) vhostBucket(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return ""
	}
	first, rest, ok := strings.Cut(host, ".")
	if !ok || rest == "" {
		return ""
	}
	endpointHost := ""
	if ep := s.env.Endpoints["oss"]; ep != "" {
		if i := strings.Index(ep, "://"); i >= 0 {
			ep = ep[i+3:]
		}
		endpointHost = ep
		if h, _, err := net.SplitHostPort(ep); err == nil {
			endpointHost = h
		}
	}
	if rest == "localhost" || net.ParseIP(rest) != nil || strings.HasPrefix(rest, "oss-") ||
		(endpointHost != "" && rest == endpointHost) {
		return first
	}
	return ""
}

// validBucketName follows the OSS naming rules: 3-63 characters of
// lower-case letters, digits and hyphens, not starting or ending with a
// hyphen.
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// resourceARN is the RAM resource of a bucket or object.
func (s *Server) resourceARN(bucket, key string) string {
	switch {
	case bucket == "":
		return fmt.Sprintf("acs:oss:*:%s:*", s.env.AccountID)
	case key == "":
		return fmt.Sprintf("acs:oss:*:%s:%s", s.env.AccountID, bucket)
	}
	return fmt.Sprintf("acs:oss:*:%s:%s/%s", s.env.AccountID, bucket, key)
}

// authorize decides one action on one resource. The account owner may do
// anything. RAM users and role sessions need a policy Allow; an explicit
// Deny always wins. Without an Allow, the bucket/object ACL may still grant
// reads (public-read) or writes (public-read-write), to anyone.
func (s *Server) authorize(rq *request, b *bucketState, action, bucket, key, aclPerm string) error {
	if !rq.anonymous && rq.principal.IsRoot() {
		return nil
	}
	explicit := false
	var deny *iam.DenyError
	if !rq.anonymous {
		ctx := map[string]string{
			"acs:SourceIp":        core.SourceIP(rq.r),
			"acs:SecureTransport": strconv.FormatBool(rq.r.TLS != nil),
			"acs:CurrentTime":     s.now().UTC().Format(time.RFC3339),
		}
		err := s.env.IAM.Authorize(rq.principal, iam.Request{Action: action, Resource: s.resourceARN(bucket, key), Context: ctx})
		if err == nil {
			return nil
		}
		if !errors.As(err, &deny) {
			return fmt.Errorf("authorize %s: %w", action, err)
		}
		explicit = deny.Explicit
	}
	if !explicit && b != nil && aclGrants(s.effectiveACL(b, key), aclPerm) {
		return nil
	}
	switch {
	case explicit:
		// Documented response: help.aliyun.com/en/oss/user-guide/0003-00000201.
		detail := "<AccessDeniedDetail>" +
			"<PolicyType>AccountLevelIdentityBasedPolicy</PolicyType>" +
			"<AuthPrincipalOwnerId>" + s.env.AccountID + "</AuthPrincipalOwnerId>" +
			"<AuthPrincipalType>" + principalType(rq.principal) + "</AuthPrincipalType>" +
			"<NoPermissionType>ExplicitDeny</NoPermissionType>" +
			"<AuthAction>" + xmlEscape(action) + "</AuthAction>" +
			"</AccessDeniedDetail>"
		return errf(http.StatusForbidden, "AccessDenied", "Access denied by bucket policy.",
			field{"<AccessDeniedDetail>", detail}, field{"Bucket", bucket}, field{"User", rq.principal.PrincipalID}).withEC("0003-00000201")
	case !rq.anonymous:
		// No Allow: help.aliyun.com/en/oss/user-guide/0003-00000202.
		return errf(http.StatusForbidden, "AccessDenied", "You have no right to access this object because of bucket acl.").withEC("0003-00000202")
	}
	// Anonymous and not granted by ACL: .../oss/support/0003-00000001.
	return errf(http.StatusForbidden, "AccessDenied", "You have no right to access this object because of bucket acl.").withEC("0003-00000001")
}

func principalType(p iam.Principal) string {
	if p.Type == "assumed-role" {
		return "AssumedRoleUser"
	}
	return "SubUser"
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) effectiveACL(b *bucketState, key string) string {
	if key != "" {
		if m, ok := b.get(key); ok && m.ACL != "" && m.ACL != "default" {
			return m.ACL
		}
	}
	return b.snapshot().ACL
}

func aclGrants(acl, perm string) bool {
	switch perm {
	case "read":
		return acl == "public-read" || acl == "public-read-write"
	case "write":
		return acl == "public-read-write"
	}
	return false
}

// record writes the ActionTrail event of a call, successful or not.
func (s *Server) record(rq *request) {
	c := core.Call{
		Service: "Oss", Action: rq.api, ReadOnly: rq.route.read, EventSource: rq.r.Host,
		Principal: rq.principal, SourceIP: core.SourceIP(rq.r), UserAgent: rq.r.UserAgent(),
		RequestID: rq.id, Params: rq.params,
	}
	if c.Action == "" {
		c.Action = "UnknownOperation"
	}
	if c.Principal.AccessKeyID == "" {
		c.Principal.AccessKeyID = rq.keyID
	}
	if rq.anonymous {
		c.Principal.Type = "anonymous"
	}
	switch {
	case rq.key != "" && rq.route.scope == scopeObject:
		c.ResourceName, c.ResourceType = rq.bucket+"/"+rq.key, "ACS::OSS::Object"
	case rq.bucket != "":
		c.ResourceName, c.ResourceType = rq.bucket, "ACS::OSS::Bucket"
	}
	if rq.err != nil {
		c.ErrorCode, c.ErrorMessage = rq.err.Code, rq.err.Message
	}
	s.env.Record(context.WithoutCancel(rq.ctx), c)
}

// writeXML sends a 200 response with an XML document.
func writeXML(w http.ResponseWriter, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
	return nil
}

// notify tells the hook about a new object after the response is sent.
func (s *Server) notify(rq *request, event string, m objectMeta) {
	s.notifyEvent(rq.ctx, core.ObjectEvent{
		EventName: event, Bucket: rq.bucket, Key: m.Key, ETag: strings.Trim(m.ETag, `"`), Size: m.Size,
		MimeType: m.ContentType, RequestID: rq.id, Principal: rq.principal, EventTime: m.LastModified,
		SourceIP: core.SourceIP(rq.r),
	})
}

// notifyEvent runs the ObjectCreated hook in a goroutine so a slow
// subscriber never delays the client (as OSS event notification is
// asynchronous); Close waits for pending notifications.
func (s *Server) notifyEvent(ctx context.Context, ev core.ObjectEvent) {
	hook := s.env.Hooks.ObjectCreated
	if hook == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	s.hooks.Add(1)
	go func() {
		defer s.hooks.Done()
		hook(ctx, ev)
	}()
}
