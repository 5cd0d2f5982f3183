package iam

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a RAM/STS API error with the code and HTTP status the real
// service returns (codes from the RAM "Error codes" reference and the
// per-API pages, collected in ../shared/reference/cloud-apis.md B3.2).
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is matches on Code, so errors.Is(err, &Error{Code: "EntityNotExist.User"}) works.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

func newErr(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Authentication failures, shared by every service's signature check.
var (
	ErrKeyNotFound  = &Error{Code: "InvalidAccessKeyId.NotFound", Status: http.StatusNotFound, Message: "Specified access key is not found."}
	ErrKeyInactive  = &Error{Code: "InvalidAccessKeyId.Inactive", Status: http.StatusBadRequest, Message: "Specified access key is disabled."}
	ErrTokenInvalid = &Error{Code: "InvalidSecurityToken.Malformed", Status: http.StatusBadRequest, Message: "Specified SecurityToken is malformed."}
	ErrTokenExpired = &Error{Code: "InvalidSecurityToken.Expired", Status: http.StatusBadRequest, Message: "Specified SecurityToken is expired."}
	ErrTokenMissing = &Error{Code: "InvalidSecurityToken.MismatchWithAccessKey", Status: http.StatusBadRequest, Message: "Specified SecurityToken mismatch with the AccessKey."}
)

// DenyError is returned by Authorize. Explicit tells an explicit Deny
// statement from the absence of any Allow, which matters to responders
// reading the trail (a contained key shows explicit denies).
type DenyError struct {
	Action   string
	Resource string
	Explicit bool
	Policy   string // the policy whose Deny matched, when Explicit
}

func (e *DenyError) Error() string {
	if e.Explicit {
		return fmt.Sprintf("explicit deny of %s on %s by policy %s", e.Action, e.Resource, e.Policy)
	}
	return fmt.Sprintf("no policy allows %s on %s", e.Action, e.Resource)
}
