package rpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/akguard/akguard/infra/local/iam"
)

// timestampSkew is how far Timestamp may be from the server clock: POP
// rejects requests outside 15 minutes with InvalidTimeStamp.Expired.
const timestampSkew = 15 * time.Minute

// nonceTTL covers the whole window in which a request's Timestamp is
// accepted (±15 min), so a captured request cannot be replayed at all.
const nonceTTL = 2*timestampSkew + time.Minute

// stringToSign reproduces buildRpcStringToSign from alibaba-cloud-sdk-go
// (sdk/auth/rpc_signature_composer.go): every query and form parameter but
// Signature, form-encoded with sorted keys, "+"→"%20", "*"→"%2A",
// "%7E"→"~", then URL-escaped again and prefixed with "<METHOD>&%2F&".
func stringToSign(method string, params map[string]string) string {
	v := url.Values{}
	for k, val := range params {
		if k == "Signature" {
			continue
		}
		v.Set(k, val)
	}
	s := v.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	return method + "&%2F&" + url.QueryEscape(s)
}

// stringToSignMarker is what the SDK looks for in SignatureDoesNotMatch
// messages (sdk/errors/signature_does_not_match_wrapper.go).
const stringToSignMarker = " server string to sign is:"

// sign is the SDK's utils.ShaHmac1 with the "<secret>&" key.
func sign(toSign, secret string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// authenticate checks an RPC request's signature, timestamp and nonce the
// way the POP gateway does, and returns the caller.
func (s *Server) authenticate(method string, params map[string]string) (iam.Principal, *apiError) {
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureNonce", "Timestamp"} {
		if params[name] == "" {
			return iam.Principal{}, missingParam(name)
		}
	}
	if m := params["SignatureMethod"]; m != "" && m != "HMAC-SHA1" {
		return iam.Principal{}, invalidParam("InvalidSignatureMethod", "Specified signature method is not valid.")
	}
	if v := params["SignatureVersion"]; v != "" && v != "1.0" {
		return iam.Principal{}, invalidParam("InvalidSignatureVersion", "Specified signature version is not valid.")
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params["Timestamp"])
	if err != nil {
		return iam.Principal{}, invalidParam("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	now := s.now()
	if d := now.Sub(ts); d > timestampSkew || d < -timestampSkew {
		return iam.Principal{}, invalidParam("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	secret, principal, err := s.env.IAM.Authenticate(params["AccessKeyId"], params["SecurityToken"])
	if err != nil {
		return iam.Principal{}, toAPIError(err)
	}
	toSign := stringToSign(method, params)
	if !hmac.Equal([]byte(sign(toSign, secret)), []byte(params["Signature"])) {
		msg := "Specified signature is not matched with our calculation."
		// The real gateway appends its string to sign so the SDK can tell a
		// wrong secret from a signing bug (sdk/errors/signature_does_not_match_wrapper.go).
		// It carries every parameter, so requests holding a SecurityToken or
		// secret material (KMS SecretData) get the bare message: those must
		// never be echoed.
		if params["SecurityToken"] == "" && params["SecretData"] == "" {
			msg += stringToSignMarker + toSign
		}
		return iam.Principal{}, &apiError{Status: http.StatusBadRequest, Code: "SignatureDoesNotMatch", Message: msg}
	}
	if !s.nonces.use(params["SignatureNonce"], now) {
		return iam.Principal{}, invalidParam("SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return principal, nil
}

// nonceCache remembers SignatureNonce values for at least nonceTTL in two
// generations: when the current one is nonceTTL old it becomes the previous
// one and the older generation is dropped. Each operation is O(1) and
// memory is bounded by two TTLs of traffic.
type nonceCache struct {
	mu       sync.Mutex
	cur      map[string]struct{}
	prev     map[string]struct{}
	curSince time.Time
}

func newNonceCache() *nonceCache {
	return &nonceCache{cur: map[string]struct{}{}, prev: map[string]struct{}{}}
}

// use records a nonce and reports whether it was fresh.
func (n *nonceCache) use(nonce string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.curSince.IsZero() {
		n.curSince = now
	}
	if now.Sub(n.curSince) >= nonceTTL {
		n.prev, n.cur, n.curSince = n.cur, map[string]struct{}{}, now
	}
	if _, ok := n.cur[nonce]; ok {
		return false
	}
	if _, ok := n.prev[nonce]; ok {
		return false
	}
	n.cur[nonce] = struct{}{}
	return true
}

// rateLimiter allows n calls per AccessKey per wall-clock second.
type rateLimiter struct {
	mu    sync.Mutex
	rate  int
	slots map[string]*slot
}

type slot struct {
	sec   int64
	count int
}

func newRateLimiter(rate int) *rateLimiter {
	return &rateLimiter{rate: rate, slots: map[string]*slot{}}
}

func (l *rateLimiter) setRate(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate = n
}

// allow reports whether key may make another call at now.
func (l *rateLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate <= 0 {
		return true
	}
	sec := now.Unix()
	sl := l.slots[key]
	if sl == nil {
		if len(l.slots) > 4096 {
			for k, v := range l.slots {
				if v.sec < sec {
					delete(l.slots, k)
				}
			}
		}
		sl = &slot{}
		l.slots[key] = sl
	}
	if sl.sec != sec {
		sl.sec, sl.count = sec, 0
	}
	if sl.count >= l.rate {
		return false
	}
	sl.count++
	return true
}
