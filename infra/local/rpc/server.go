// Package rpc is the local cloud's RPC-style ("POP") services: RAM, IMS,
// STS, ActionTrail and KMS Secrets Manager. They share one wire protocol —
// query/form parameters with Action and Version, HMAC-SHA1 signature
// version 1.0 — so one Server serves all five and dispatches on Version.
//
// The lead binds one listener per product: New(env) then Handler("ram"),
// Handler("ims"), ... Each handler only accepts its own product's Version,
// like the real endpoints (ram.aliyuncs.com does not answer Sts calls).
// ServeHTTP itself accepts every product, which tests and single-port
// setups may use.
//
// Wire formats come from alibaba-cloud-sdk-go v1.63.107 (request signing in
// sdk/auth/rpc_signature_composer.go, response structs in
// services/<product>/struct_*.go) and the products' API reference pages
// cited next to each handler.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

// Product names accepted by Handler.
const (
	ProductRAM         = "ram"
	ProductIMS         = "ims"
	ProductSTS         = "sts"
	ProductActionTrail = "actiontrail"
	ProductKMS         = "kms"
)

// DefaultLookupEventsPerSecond is ActionTrail's documented LookupEvents
// limit per caller (about 2 QPS).
const DefaultLookupEventsPerSecond = 2

type handlerFunc func(c *call) (obj, error)

// op is one API of a product.
type op struct {
	fn       handlerFunc
	readOnly bool
}

// product describes one RPC product.
type product struct {
	name     string // fault-injection service name: "ram", "ims", ...
	version  string
	service  string // ActionTrail serviceName
	global   bool
	ops      map[string]op
	denyCode string // the product's RAM denial code
	denyMsg  string
	endpoint string // real endpoint host, the trail's eventSource
}

// Server serves the five RPC products.
type Server struct {
	env      *core.Env
	products map[string]*product // by name
	versions map[string]*product // by Version
	nonces   *nonceCache
	secrets  *secretStore
	limiter  *rateLimiter
}

// New builds the RPC services over env. KMS secrets are persisted under
// env.ServiceDir("kms"); identities and the trail persist themselves.
func New(env *core.Env) (*Server, error) {
	if env == nil || env.IAM == nil {
		return nil, errors.New("rpc: env with IAM is required")
	}
	dir, err := env.ServiceDir("kms")
	if err != nil {
		return nil, err
	}
	secrets, err := openSecretStore(dir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		env:     env,
		nonces:  newNonceCache(),
		secrets: secrets,
		limiter: newRateLimiter(DefaultLookupEventsPerSecond),
	}
	s.products = map[string]*product{
		ProductRAM:         s.ramProduct(),
		ProductIMS:         s.imsProduct(),
		ProductSTS:         s.stsProduct(),
		ProductActionTrail: s.actionTrailProduct(),
		ProductKMS:         s.kmsProduct(),
	}
	s.versions = map[string]*product{}
	for _, p := range s.products {
		s.versions[p.version] = p
	}
	return s, nil
}

// Close releases the server's resources. State is written on every change,
// so there is nothing to flush.
func (s *Server) Close() error { return nil }

// SetLookupEventsRate sets how many LookupEvents calls per second one
// AccessKey may make before getting Throttling.User; n <= 0 disables the
// guard.
func (s *Server) SetLookupEventsRate(n int) { s.limiter.setRate(n) }

// ImportEvents loads an event history (JSON array, LookupEvents response or
// JSON lines) into the trail, for `akguard local --import-events`.
func (s *Server) ImportEvents(ctx context.Context, r io.Reader) (int, error) {
	if s.env.Trail == nil {
		return 0, errors.New("import events: no trail store")
	}
	n, err := s.env.Trail.Import(ctx, r)
	if err != nil {
		return n, fmt.Errorf("import events: %w", err)
	}
	return n, nil
}

// Handler returns the listener handler for one product ("ram", "ims",
// "sts", "actiontrail", "kms"); it panics on an unknown name, which is a
// wiring bug.
func (s *Server) Handler(productName string) http.Handler {
	p := s.products[productName]
	if p == nil {
		panic(fmt.Sprintf("rpc: unknown product %q", productName))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, p) })
}

// ServeHTTP serves every product, dispatching on Version.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, nil) }

// obj is a JSON response body.
type obj = map[string]any

// call is one API request being served.
type call struct {
	ctx       context.Context
	srv       *Server
	prod      *product
	action    string
	params    map[string]string
	principal iam.Principal
	requestID string
	sourceIP  string
	// Set by handlers for the trail record.
	resourceName string
	resourceType string
}

func (c *call) get(name string) string { return c.params[name] }

// require returns a parameter or the real MissingParameter error.
func (c *call) require(name string) (string, error) {
	v := c.params[name]
	if v == "" {
		return "", missingParam(name)
	}
	return v, nil
}

func (c *call) setResource(typ, name string) { c.resourceType, c.resourceName = typ, name }

// authorize checks the caller's RAM policies for action on every resource.
func (c *call) authorize(action string, resources ...string) error {
	for _, res := range resources {
		err := c.srv.env.IAM.Authorize(c.principal, iam.Request{Action: action, Resource: res, Context: map[string]string{
			"acs:SourceIp":        c.sourceIP,
			"acs:SecureTransport": "false",
			"acs:CurrentTime":     c.srv.now().UTC().Format(time.RFC3339),
		}})
		var de *iam.DenyError
		if errors.As(err, &de) {
			return c.denied(de)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// denied builds the product's 403 with the AccessDeniedDetail block POP
// gateways return (field names as in the Alibaba Cloud SDKs' generated
// AccessDeniedDetail models).
func (c *call) denied(de *iam.DenyError) *apiError {
	typ := "ImplicitDeny"
	if de.Explicit {
		typ = "ExplicitDeny"
	}
	ptype := "SubUser"
	switch c.principal.Type {
	case "assumed-role":
		ptype = "AssumedRoleUser"
	case "root-account":
		ptype = "Account"
	}
	return &apiError{Status: http.StatusForbidden, Code: c.prod.denyCode, Message: c.prod.denyMsg, Detail: obj{
		"AuthAction":               de.Action,
		"AuthPrincipalType":        ptype,
		"AuthPrincipalDisplayName": c.principal.UserName,
		"AuthPrincipalOwnerId":     c.principal.AccountID,
		"NoPermissionType":         typ,
		"PolicyType":               "AccountLevelIdentityBasedPolicy",
		"EncodedDiagnosticMessage": "",
	}}
}

func (s *Server) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

// ramARN is the RAM resource ARN format ("acs:ram:*:<uid>:user/<name>",
// policy/<name>, role/<name>) from the RAM documentation's authorization
// rules for each API.
func (s *Server) ramARN(kind, name string) string {
	return fmt.Sprintf("acs:ram:*:%s:%s/%s", s.env.AccountID, kind, name)
}

// requestParams parses query and form parameters. Form values win, as in
// the SDK's buildRpcStringToSign, which signs query then form into one map.
func requestParams(r *http.Request) (map[string]string, error) {
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(r.Form))
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, only *product) {
	requestID := core.NewRequestID()
	host := r.Host
	params, err := requestParams(r)
	if err != nil {
		writeError(w, requestID, host, &apiError{Status: http.StatusBadRequest, Code: "InvalidParameter", Message: "The request body is malformed."})
		return
	}
	version := params["Version"]
	p := s.versions[version]
	if p == nil || (only != nil && p != only) {
		writeError(w, requestID, host, &apiError{Status: http.StatusBadRequest, Code: "InvalidVersion", Message: "Specified parameter Version is not valid."})
		return
	}
	// Errors name the service endpoint as HostId, as the real ones do.
	host = p.endpoint
	action := params["Action"]
	o, ok := p.ops[action]
	if !ok {
		writeError(w, requestID, host, &apiError{Status: http.StatusNotFound, Code: "InvalidAction.NotFound", Message: "Specified api is not found, please check your url and method."})
		return
	}
	c := &call{ctx: r.Context(), srv: s, prod: p, action: action, params: params, requestID: requestID, sourceIP: core.SourceIP(r)}
	rec := core.Call{
		Service: p.service, Action: action, ReadOnly: o.readOnly, Global: p.global,
		// The real endpoint, not the local listener: trail consumers match
		// on it (e.g. "ram.aliyuncs.com").
		EventSource: p.endpoint,
		APIVersion:  p.version, SourceIP: c.sourceIP, UserAgent: r.UserAgent(), RequestID: requestID,
		Params: trailParams(params),
	}
	if s.env.ApplyFault(w, p.name, action, func(status int, code, msg string) {
		writeError(w, requestID, host, &apiError{Status: status, Code: code, Message: msg})
	}) {
		return
	}
	principal, aerr := s.authenticate(r.Method, params)
	if aerr != nil {
		// Failed authentications are recorded with the presented key ID:
		// a disabled leaked key being tried is what the audit must see.
		rec.Principal = iam.Principal{AccessKeyID: params["AccessKeyId"], AccountID: s.env.AccountID}
		// The trail keeps the message without the echoed string to sign.
		msg, _, _ := strings.Cut(aerr.Message, stringToSignMarker)
		rec.ErrorCode, rec.ErrorMessage = aerr.Code, msg
		s.env.Record(c.ctx, rec)
		writeError(w, requestID, host, aerr)
		return
	}
	c.principal = principal
	rec.Principal = principal
	res, err := o.fn(c)
	rec.ResourceName, rec.ResourceType = c.resourceName, c.resourceType
	if err != nil {
		ae := toAPIError(err)
		if ae.Status >= 500 && s.env.Log != nil {
			s.env.Log.ErrorContext(c.ctx, "rpc call failed", "product", p.name, "action", action, "err", err)
		}
		rec.ErrorCode, rec.ErrorMessage = ae.Code, ae.Message
		s.env.Record(c.ctx, rec)
		writeError(w, requestID, host, ae)
		return
	}
	s.env.Record(c.ctx, rec)
	if res == nil {
		res = obj{}
	}
	res["RequestId"] = requestID
	writeJSON(w, http.StatusOK, res)
}

// secretParams never reach the trail or logs.
var secretParams = map[string]bool{
	"Signature": true, "SecurityToken": true, "SignatureNonce": true, "SecretData": true,
	"BearerToken": true, "AccessKeySecret": true,
}

// commonParams are the RPC common parameters, not part of the API's own
// requestParameters.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "Timestamp": true, "SignatureMethod": true,
	"SignatureVersion": true, "SignatureType": true, "AccessKeyId": true, "RegionId": true,
}

func trailParams(params map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range params {
		if secretParams[k] || commonParams[k] {
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// apiError is an error in the POP JSON format.
type apiError struct {
	Status  int
	Code    string
	Message string
	Detail  obj // AccessDeniedDetail, for denials
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func missingParam(name string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "MissingParameter",
		Message: fmt.Sprintf("The input parameter %q that is mandatory for processing this request is not supplied.", name)}
}

func invalidParam(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ie *iam.Error
	if errors.As(err, &ie) {
		return &apiError{Status: ie.Status, Code: ie.Code, Message: ie.Message}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "InternalError",
		Message: "The request processing has failed due to some unknown error, exception or failure."}
}

func writeError(w http.ResponseWriter, requestID, host string, e *apiError) {
	body := obj{"RequestId": requestID, "HostId": host, "Code": e.Code, "Message": e.Message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.Code + "&product=local"}
	if e.Detail != nil {
		body["AccessDeniedDetail"] = e.Detail
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"Code":"InternalError","Message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// page slices items for Marker/MaxItems pagination (RAM List* APIs): the
// marker is the index of the next item, opaque to callers.
func page[T any](items []T, marker string, maxItems string, def, max int) (out []T, next string, truncated bool, err error) {
	n := def
	if maxItems != "" {
		if _, e := fmt.Sscanf(maxItems, "%d", &n); e != nil || n < 1 || n > max {
			return nil, "", false, invalidParam("InvalidParameter.MaxItems", "The parameter MaxItems must be between 1 and %d.", max)
		}
	}
	start := 0
	if marker != "" {
		if _, e := fmt.Sscanf(marker, "%d", &start); e != nil || start < 0 || start > len(items) {
			return nil, "", false, invalidParam("InvalidParameter.Marker", "The parameter Marker is invalid.")
		}
	}
	end := min(start+n, len(items))
	out = items[start:end]
	if end < len(items) {
		return out, fmt.Sprint(end), true, nil
	}
	return out, "", false, nil
}

// sortedKeys is used where deterministic iteration matters.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
