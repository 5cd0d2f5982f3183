package trail

import "github.com/akguard/akguard/shared/aliyun"

// The error cleaning every function shares lives in shared/aliyun; these
// names keep trail's API stable for its callers.
type (
	// APIError is a service error reduced to what is safe to log.
	APIError = aliyun.APIError
	// NetError is a transport failure without the request URL (which
	// carries the STS token and signature).
	NetError = aliyun.NetError
)

// CleanError removes credentials from an SDK error.
func CleanError(err error) error { return aliyun.CleanError(err) }

// Retryable says whether another attempt can help, and whether the
// failure was throttling.
func Retryable(err error) (retry, throttled bool) { return aliyun.Retryable(err) }
