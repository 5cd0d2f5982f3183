package fc

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

const (
	apiVersion      = "2023-03-30"
	invokePrefix    = "/" + apiVersion + "/functions/"
	invokeSuffix    = "/invocations"
	maxSyncPayload  = 32 << 20 // FC 3.0 limit for synchronous invocation payloads
	maxAsyncPayload = 128 << 10
)

// apiError is the FC 3.0 OpenAPI error body (FC 2023-03-30 data type
// "Error": Code, Message, RequestId), which alibaba-cloud-sdk-go's
// ServerError parses.
type apiError struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
}

// ServeHTTP serves the FC 3.0 InvokeFunction API:
// POST /2023-03-30/functions/{functionName}/invocations.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := core.NewRequestID()
	w.Header().Set("x-fc-request-id", reqID)
	writeErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(apiError{Code: code, Message: msg, RequestID: reqID})
	}
	rest, ok := strings.CutPrefix(r.URL.Path, invokePrefix)
	name, ok2 := strings.CutSuffix(rest, invokeSuffix)
	if !ok || !ok2 || name == "" || strings.Contains(name, "/") || r.Method != http.MethodPost {
		// FC error codes: 400 PathNotSupported "'%s' against '%s' is not supported".
		writeErr(http.StatusBadRequest, "PathNotSupported", "'"+r.Method+"' against '"+r.URL.Path+"' is not supported")
		return
	}
	call := core.Call{
		Service: "Fc", Action: "InvokeFunction", EventSource: r.Host, APIVersion: apiVersion,
		SourceIP: core.SourceIP(r), UserAgent: r.UserAgent(), RequestID: reqID,
		ResourceName: s.functionArn(name), ResourceType: "ACS::FC::Function",
		Params: map[string]any{"functionName": name, "invocationType": invocationType(r), "qualifier": r.URL.Query().Get("qualifier")},
	}
	fail := func(status int, code, msg string) {
		call.ErrorCode, call.ErrorMessage = code, msg
		s.env.Record(r.Context(), call)
		writeErr(status, code, msg)
	}
	// Injected failures happen before authentication, like a front-end
	// throttle; the trail still shows the key that was presented.
	if s.env.ApplyFault(w, "fc", "InvokeFunction", func(status int, code, msg string) {
		call.Principal.AccessKeyID = presentedKeyID(r)
		fail(status, code, msg)
	}) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
	if err != nil {
		fail(http.StatusBadRequest, "InvalidArgument", "read request body: "+err.Error())
		return
	}
	p, status, code, msg := s.authenticate(r, body)
	call.Principal = p
	if code != "" {
		if call.Principal.AccessKeyID == "" {
			call.Principal.AccessKeyID = presentedKeyID(r)
		}
		fail(status, code, msg)
		return
	}
	if err := s.env.IAM.Authorize(p, iam.Request{
		Action: "fc:InvokeFunction", Resource: s.functionArn(name),
		Context: map[string]string{"acs:SourceIp": call.SourceIP, "acs:SecureTransport": "false"},
	}); err != nil {
		var d *iam.DenyError
		explicit := errors.As(err, &d) && d.Explicit
		m := "the caller is not authorized to perform 'fc:InvokeFunction' on resource '" + s.functionArn(name) + "'"
		if explicit {
			m += " with an explicit deny in an identity-based policy"
		}
		fail(http.StatusForbidden, "AccessDenied", m)
		return
	}
	f := s.fns[name]
	if f == nil {
		fail(http.StatusNotFound, "FunctionNotFound", "function '"+name+"' does not exist")
		return
	}
	if q := r.URL.Query().Get("qualifier"); q != "" && q != "LATEST" {
		fail(http.StatusNotFound, "AliasNotFound", "qualifier '"+q+"' of function '"+name+"' does not exist (the local FC serves LATEST only)")
		return
	}
	it := invocationType(r)
	if !strings.EqualFold(it, "Sync") && !strings.EqualFold(it, "Async") {
		fail(http.StatusBadRequest, "InvalidArgument", "invalid x-fc-invocation-type '"+it+"': expected Sync or Async")
		return
	}
	async := strings.EqualFold(it, "Async")
	limit := maxSyncPayload
	if async {
		limit = maxAsyncPayload
	}
	if len(body) > limit {
		fail(http.StatusBadRequest, "EntityTooLarge", "payload size exceeds maximum allowed size ("+strconv.Itoa(limit)+" bytes)")
		return
	}
	if async {
		if err := f.enqueue(r.Context(), reqID, body, "api"); err != nil {
			fail(http.StatusInternalServerError, "InternalServerError", err.Error())
			return
		}
		s.env.Record(r.Context(), call)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.env.Record(r.Context(), call)
	res := f.invokeSync(r.Context(), reqID, body)
	if res.aborted != nil {
		writeErr(http.StatusServiceUnavailable, "ServiceUnavailable", res.aborted.Error())
		return
	}
	if res.errType != "" {
		// A function error is still HTTP 200; FC flags it with
		// X-Fc-Error-Type and puts {"errorMessage","errorType",...} in the body.
		w.Header().Set("x-fc-error-type", res.errType)
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

func invocationType(r *http.Request) string {
	if t := r.Header.Get("x-fc-invocation-type"); t != "" {
		return t
	}
	return "Sync"
}

func presentedKeyID(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if rest, ok := strings.CutPrefix(auth, "acs "); ok {
		id, _, _ := strings.Cut(rest, ":")
		return id
	}
	return ""
}

// authenticate verifies the ROA "acs" signature alibaba-cloud-sdk-go
// computes (sdk/auth/roa_signature_composer.go): HMAC-SHA1 over
// METHOD\nAccept\nContent-MD5\nContent-Type\nDate\n, the sorted x-acs-*
// headers as "key:value\n", then the path and sorted, unescaped query.
// Failures use the FC error codes (403 InvalidAccessKeyID,
// SignatureNotMatch).
func (s *Server) authenticate(r *http.Request, body []byte) (iam.Principal, int, string, string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "acs ")
	keyID, sig, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || keyID == "" || sig == "" {
		return iam.Principal{}, http.StatusBadRequest, "MissingRequiredHeader", "required HTTP header Authorization was not specified"
	}
	secret, p, err := s.env.IAM.Authenticate(keyID, r.Header.Get("x-acs-security-token"))
	if err != nil {
		var ie *iam.Error
		if errors.As(err, &ie) && strings.HasPrefix(ie.Code, "InvalidSecurityToken") {
			return iam.Principal{}, http.StatusForbidden, "InvalidSecurityToken", ie.Message
		}
		return iam.Principal{}, http.StatusForbidden, "InvalidAccessKeyID", "invalid access key ID '" + keyID + "'"
	}
	if md := r.Header.Get("Content-MD5"); md != "" {
		sum := md5.Sum(body)
		if md != base64.StdEncoding.EncodeToString(sum[:]) {
			return p, http.StatusBadRequest, "InvalidArgument", "Content-MD5 does not match the request body"
		}
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(roaStringToSign(r)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return p, http.StatusForbidden, "SignatureNotMatch", "The request signature we calculated does not match the signature you provided. Check your access key and signing method"
	}
	return p, 0, "", ""
}

func roaStringToSign(r *http.Request) string {
	var b bytes.Buffer
	b.WriteString(r.Method)
	b.WriteByte('\n')
	for _, h := range []string{"Accept", "Content-MD5", "Content-Type", "Date"} {
		if v := r.Header.Get(h); v != "" {
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	var acs []string
	vals := map[string]string{}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-acs-") && len(v) > 0 {
			acs = append(acs, lk)
			vals[lk] = v[0]
		}
	}
	sort.Strings(acs)
	for _, k := range acs {
		b.WriteString(k + ":" + vals[k] + "\n")
	}
	b.WriteString(r.URL.Path)
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := q.Get(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}
