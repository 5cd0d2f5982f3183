package oss

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an OSS error response. The body layout follows the OSS "Error
// responses" documentation and the samples on the per-EC troubleshooting
// pages (e.g. help.aliyun.com/knowledge_detail/108790.html for
// SignatureDoesNotMatch, .../oss/support/0003-00000201 for a RAM explicit
// deny): Code, Message, RequestId, HostId, then error-specific elements,
// then EC and RecommendDoc.
type apiError struct {
	Status  int
	Code    string
	Message string
	EC      string  // x-oss-ec, only where the documentation shows it
	Extra   []field // error-specific elements, in document order
}

type field struct{ Name, Value string }

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, msg string, extra ...field) *apiError {
	return &apiError{Status: status, Code: code, Message: msg, Extra: extra}
}

func (e *apiError) withEC(ec string) *apiError { e.EC = ec; return e }

// Errors with the codes and messages OSS documents.
func errNoSuchBucket(bucket string) *apiError {
	return errf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.", field{"BucketName", bucket})
}

func errNoSuchKey(key string) *apiError {
	return errf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", field{"Key", key})
}

func errInvalidArgument(msg, name, value string) *apiError {
	return errf(http.StatusBadRequest, "InvalidArgument", msg, field{"ArgumentName", name}, field{"ArgumentValue", value})
}

// errInternal hides the cause from the client; the server logs it.
func errInternal() *apiError {
	return errf(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

// body renders the XML error document.
func (e *apiError) body(requestID, hostID string) []byte {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Error>\n")
	el := func(name, value string) {
		b.WriteString("  <" + name + ">")
		_ = xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">\n")
	}
	el("Code", e.Code)
	el("Message", e.Message)
	el("RequestId", requestID)
	el("HostId", hostID)
	for _, f := range e.Extra {
		if strings.HasPrefix(f.Name, "<") { // pre-rendered XML fragment
			b.WriteString(f.Value)
			continue
		}
		el(f.Name, f.Value)
	}
	if e.EC != "" {
		el("EC", e.EC)
		el("RecommendDoc", "https://api.aliyun.com/troubleshoot?q="+e.EC)
	}
	b.WriteString("</Error>\n")
	return []byte(b.String())
}

// write sends the error. HEAD responses carry no body, so OSS returns the
// error document base64-encoded in x-oss-err, which the SDK decodes
// (client.go tryConvertServiceError, HeaderOssERR).
func (e *apiError) write(w http.ResponseWriter, r *http.Request, requestID string) {
	body := e.body(requestID, r.Host)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if e.EC != "" {
		h.Set("x-oss-ec", e.EC)
	}
	if r.Method == http.MethodHead {
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
