package contain

import (
	"errors"
	"strconv"

	"github.com/akguard/akguard/shared/aliyun"
)

// code returns the service error code of an SDK call ("" when the call
// failed before the service answered).
func code(err error) string { return aliyun.ErrorCode(err) }

// Retryable reports whether calling again can help: throttling, a 5xx, or
// no answer from the service at all (network, timeout). A transport
// failure reaches us as a bare *url.Error (the clients run with
// AutoRetry off, so the SDK does not wrap it in a ClientError).
func Retryable(err error) bool {
	retry, _ := aliyun.Retryable(err)
	return retry
}

// brief is an SDK error cut down for records, notifications and skip
// reasons: a service error keeps code, status and request ID (never the
// message: SignatureDoesNotMatch quotes the string-to-sign, security
// token included); a transport error keeps the failed operation, the
// endpoint host and the cause, never the URL, whose query carries
// SecurityToken and Signature; anything else is redacted.
func brief(err error) string {
	if err == nil {
		return ""
	}
	err = aliyun.CleanError(err)
	var ae *aliyun.APIError
	if errors.As(err, &ae) {
		return ae.Code + " (HTTP " + strconv.Itoa(ae.Status) + ", request " + ae.RequestID + ")"
	}
	return err.Error()
}
