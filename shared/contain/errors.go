package contain

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// code returns the service error code of an SDK call ("" when the call
// failed before the service answered).
func code(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func status(err error) int {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.HttpStatus()
	}
	return 0
}

// Retryable reports whether calling again can help: throttling, a 5xx, or
// no answer from the service at all (network, timeout).
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.HttpStatus() >= http.StatusInternalServerError || strings.HasPrefix(se.ErrorCode(), "Throttling") ||
			se.ErrorCode() == "ServiceUnavailable"
	}
	var ce *sdkerrors.ClientError
	return errors.As(err, &ce)
}

// brief is an SDK error cut down for records and notifications: the
// SDK's ServerError text embeds the request URL (for KMS, the secret
// data), so only code, status and request ID are kept.
func brief(err error) string {
	if err == nil {
		return ""
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode() + " (HTTP " + strconv.Itoa(se.HttpStatus()) + ", request " + se.RequestId() + ")"
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		return "client error " + ce.ErrorCode()
	}
	return err.Error()
}
