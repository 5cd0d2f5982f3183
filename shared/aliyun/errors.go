package aliyun

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/akguard/akguard/shared/logx"
)

// APIError is a service's error reduced to what is safe to log, record and
// notify: code, HTTP status, request ID and — unless the code says the
// service echoed the request back — a clipped, redacted message. The SDK's
// own error text embeds the response headers and, for signature errors,
// the client's string-to-sign, which holds the security token.
type APIError struct {
	Code      string
	Status    int
	RequestID string
	Message   string
}

func (e *APIError) Error() string {
	s := e.Code + " (HTTP " + strconv.Itoa(e.Status) + ", request " + e.RequestID + ")"
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// NetError is a call that got no answer (refused, reset, timed out),
// without the request URL: alibaba-cloud-sdk-go signs RPC calls in the
// query string, so the URL carries AccessKeyId, SecurityToken and
// Signature.
type NetError struct {
	Op   string // the HTTP method or the SDK's client error code
	Host string // the endpoint, never the path or query
	Err  error
}

func (e *NetError) Error() string {
	s := e.Op
	if e.Host != "" {
		s += " " + e.Host
	}
	return s + ": " + logx.Redact(e.Err.Error())
}

func (e *NetError) Unwrap() error { return e.Err }

// Timeout reports whether the call timed out (net.Error).
func (e *NetError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// maxMessage bounds the server message kept in an APIError: enough for
// "The specified user does not exist", not enough for a request dump.
const maxMessage = 200

// CleanError makes an SDK error safe to log, store and return to FC:
// alibaba-cloud-sdk-go's ServerError becomes an *APIError, its
// ClientError and any *url.Error a *NetError, wherever they sit in err's
// chain; the text of the wrappers around them ("ram get user: …") is kept.
// Errors without an SDK or transport error pass through unchanged unless
// their text holds a credential, which is then redacted. A cleaned error
// unwraps only to its *APIError or *NetError: nothing reachable from it
// holds the request any more (nor, so, a sentinel wrapped beside it).
func CleanError(err error) error {
	if err == nil {
		return nil
	}
	var culprit, clean error
	var ae *APIError
	var ne *NetError
	var se *sdkerrors.ServerError
	var ce *sdkerrors.ClientError
	var ue *url.Error
	switch {
	case errors.As(err, &ae):
		culprit, clean = ae, ae
	case errors.As(err, &ne):
		culprit, clean = ne, ne
	case errors.As(err, &se):
		culprit, clean = se, cleanServer(se)
	case errors.As(err, &ce):
		culprit, clean = ce, cleanClient(ce)
	case errors.As(err, &ue):
		culprit, clean = ue, cleanURL(ue.Op, ue)
	default:
		if s := err.Error(); logx.Redact(s) != s {
			return &cleaned{msg: logx.Redact(s)}
		}
		return err
	}
	if err == culprit {
		return clean
	}
	// Keep the operation the wrappers name; the redaction is for wrappers
	// that quoted the SDK error with %v or %s rather than wrapping it.
	msg := strings.Replace(err.Error(), culprit.Error(), clean.Error(), 1)
	return &cleaned{msg: logx.Redact(msg), err: clean}
}

// cleaned is a wrapped SDK error with its text rebuilt around the clean
// error; it unwraps to the clean error only.
type cleaned struct {
	msg string
	err error
}

func (c *cleaned) Error() string { return c.msg }
func (c *cleaned) Unwrap() error { return c.err }

func cleanServer(se *sdkerrors.ServerError) *APIError {
	e := &APIError{Code: se.ErrorCode(), Status: se.HttpStatus(), RequestID: se.RequestId()}
	if !echoesRequest(e.Code) {
		e.Message = clip(logx.Redact(se.Message()), maxMessage)
	}
	return e
}

// echoesRequest names the codes whose message quotes the request: POP's
// SignatureDoesNotMatch and IncompleteSignature append "server string to
// sign is:" and the canonical query, SecurityToken included (the SDK's
// SignatureDostNotMatchWrapper parses exactly that), and credential
// errors quote the key or token they rejected.
func echoesRequest(code string) bool {
	return strings.Contains(code, "Signature") || strings.HasPrefix(code, "InvalidAccessKeyId") ||
		strings.Contains(code, "SecurityToken") || strings.HasPrefix(code, "InvalidAccessKeySecret")
}

func cleanClient(ce *sdkerrors.ClientError) *NetError {
	var ue *url.Error
	if errors.As(ce.OriginError(), &ue) {
		return cleanURL(ce.ErrorCode(), ue)
	}
	if o := ce.OriginError(); o != nil {
		return &NetError{Op: ce.ErrorCode(), Err: o}
	}
	return &NetError{Op: ce.ErrorCode(), Err: errors.New(clip(ce.Message(), maxMessage))}
}

func cleanURL(op string, ue *url.Error) *NetError {
	ne := &NetError{Op: op, Err: ue.Err}
	if u, err := url.Parse(ue.URL); err == nil {
		ne.Host = u.Host
	}
	if ne.Err == nil {
		ne.Err = errors.New("no response")
	}
	return ne
}

// Retryable reports whether calling again can help and whether the
// service asked us to slow down: throttling (a Throttling* code or HTTP
// 429), 5xx and calls that got no answer are retried; denials, bad
// requests and untrusted certificates are not. It understands raw SDK
// errors and CleanError's.
func Retryable(err error) (retry, throttled bool) {
	if err == nil {
		return false, false
	}
	if ae := asAPIError(err); ae != nil {
		switch {
		case IsThrottle(ae.Code) || ae.Status == http.StatusTooManyRequests:
			// FC answers 429 (ResourceThrottled, ResourceExhausted).
			return true, true
		case ae.Status >= 500 || ae.Code == "ServiceUnavailable" || ae.Code == "InternalError":
			return true, false
		}
		return false, false
	}
	if certificate(err) {
		return false, false
	}
	var ne *NetError
	var ce *sdkerrors.ClientError
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ce) || errors.As(err, &ue) {
		return true, false
	}
	// context.DeadlineExceeded is a net.Error too, but the caller's own
	// deadline will not move by trying again.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false, false
	}
	var nerr net.Error
	return errors.As(err, &nerr), false
}

// ErrorCode is the service's error code in err ("" when the call got no
// answer or err is not a service error).
func ErrorCode(err error) string {
	if ae := asAPIError(err); ae != nil {
		return ae.Code
	}
	return ""
}

func asAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return &APIError{Code: se.ErrorCode(), Status: se.HttpStatus(), RequestID: se.RequestId()}
	}
	return nil
}

// IsThrottle matches POP flow-control codes: Throttling, Throttling.User,
// Throttling.Api, ServiceUnavailable.Throttling...
func IsThrottle(code string) bool {
	return strings.HasPrefix(code, "Throttling") || code == "ServiceUnavailable.Throttling"
}

// certificate is a TLS trust failure: retrying reaches the same
// certificate (the SDK itself stops retrying on these).
func certificate(err error) bool {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var he x509.HostnameError
	return errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &he) ||
		strings.Contains(err.Error(), "x509: certificate")
}

// clip cuts s to at most n bytes on a rune boundary (POP messages may be
// Chinese), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
