package oss

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/akguard/akguard/infra/local/iam"
)

// Signature verification re-computes what the client signed, following the
// OSS "Signature version 1" and "Signature version 4" documents and the
// SDK's signer (alibabacloud-oss-go-sdk-v2 oss/signer/v1.go, v4.go).

// signedSubResource reports whether V1 signs a query parameter in the
// CanonicalizedResource: the SDK's requiredSignedParametersMap plus every
// sub-resource its operations declare (grep signer.SubResource in the SDK),
// and any x-oss-* parameter.
func signedSubResource(k string) bool {
	if strings.HasPrefix(k, "x-oss-") {
		return true
	}
	switch k {
	case "acl", "bucketInfo", "location", "stat", "delete", "append", "tagging", "objectMeta", "uploads",
		"uploadId", "partNumber", "security-token", "position", "response-content-type",
		"response-content-language", "response-expires", "response-cache-control",
		"response-content-disposition", "response-content-encoding", "restore", "callback", "callback-var",
		"versions", "versioning", "versionId", "sequential", "continuation-token", "regionList",
		"cloudboxes", "symlink", "accessPoint", "accessPointConfigForObjectProcess",
		"accessPointForObjectProcess", "accessPointPolicy", "accessPointPolicyForObjectProcess",
		"bucketArchiveDirectRead", "cleanRestoredObject", "cname", "comp", "cors", "encryption",
		"httpsConfig", "inventory", "inventoryId", "legalHold", "lifecycle", "logging", "metaQuery",
		"metadataConfiguration", "metadataInventoryTable", "metadataJournalTable", "objectWorm",
		"overwriteConfig", "policy", "policyStatus", "publicAccessBlock", "quota", "redundancyTransition",
		"referer", "regions", "replication", "replicationLocation", "replicationProgress", "requestPayment",
		"resourceGroup", "retention", "rtc", "seal", "style", "styleName", "transferAcceleration",
		"userDefinedLogFieldsConfig", "website", "worm", "wormExtend", "wormId":
		return true
	}
	return false
}

// maxSkew is how far a header-signed request's date may be from the
// server's clock (OSS: 15 minutes, RequestTimeTooSkewed).
const maxSkew = 15 * time.Minute

type credential struct {
	keyID     string
	token     string
	anonymous bool
	verify    func(secret string) *apiError // checks the signature with the key's secret
	expiry    func(now time.Time) *apiError // presigned URL expiry, header date skew
}

// parseCredential extracts the presented key and a verifier from a
// request. A request with no signature at all is anonymous.
func (s *Server) parseCredential(r *http.Request, bucket, key string) (credential, *apiError) {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch {
	case strings.HasPrefix(auth, "OSS4-HMAC-SHA256 "):
		return s.parseV4Header(r, auth, bucket, key)
	case strings.HasPrefix(auth, "OSS "):
		idSig := strings.TrimPrefix(auth, "OSS ")
		i := strings.LastIndexByte(idSig, ':')
		if i <= 0 {
			return credential{}, errInvalidArgument("Authorization header is invalid.", "Authorization", auth)
		}
		keyID, sig := idSig[:i], idSig[i+1:]
		date := r.Header.Get("Date")
		return credential{
			keyID: keyID, token: r.Header.Get("x-oss-security-token"),
			verify: func(secret string) *apiError {
				sts := stringToSignV1(r, date, bucket, key)
				return compareV1(secret, sts, sig, keyID)
			},
			expiry: func(now time.Time) *apiError {
				t, err := http.ParseTime(date)
				if err != nil {
					return errf(http.StatusForbidden, "AccessDenied", "Invalid date format of header Date.")
				}
				if d := now.Sub(t); d > maxSkew || d < -maxSkew {
					return errf(http.StatusForbidden, "RequestTimeTooSkewed",
						"The difference between the request time and the current time is too large.",
						field{"RequestTime", date}, field{"ServerTime", now.UTC().Format("2006-01-02T15:04:05.000Z")},
						field{"MaxAllowedSkewMilliseconds", "900000"})
				}
				return nil
			},
		}, nil
	case auth != "":
		return credential{}, errInvalidArgument("Authorization header is invalid.", "Authorization", auth)
	case q.Get("OSSAccessKeyId") != "":
		keyID, sig, expires := q.Get("OSSAccessKeyId"), q.Get("Signature"), q.Get("Expires")
		return credential{
			keyID: keyID, token: q.Get("security-token"),
			verify: func(secret string) *apiError {
				sts := stringToSignV1(r, expires, bucket, key)
				return compareV1(secret, sts, sig, keyID)
			},
			expiry: func(now time.Time) *apiError {
				exp, err := strconv.ParseInt(expires, 10, 64)
				if err != nil {
					return errInvalidArgument("Expires is invalid.", "Expires", expires)
				}
				if now.Unix() > exp {
					return errf(http.StatusForbidden, "AccessDenied", "Request has expired.",
						field{"Expires", time.Unix(exp, 0).UTC().Format("2006-01-02T15:04:05.000Z")},
						field{"ServerTime", now.UTC().Format("2006-01-02T15:04:05.000Z")})
				}
				return nil
			},
		}, nil
	case q.Get("x-oss-signature-version") == "OSS4-HMAC-SHA256":
		return s.parseV4Query(r, bucket, key)
	}
	return credential{anonymous: true}, nil
}

// stringToSignV1 is VERB\nContent-MD5\nContent-Type\nDate\n
// CanonicalizedOSSHeaders CanonicalizedResource (date is the Expires value
// for presigned URLs).
func stringToSignV1(r *http.Request, date, bucket, key string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	b.WriteString(date + "\n")
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-oss-") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		vals := r.Header.Values(k)
		trimmed := make([]string, len(vals))
		for i, v := range vals {
			trimmed[i] = strings.TrimSpace(v)
		}
		b.WriteString(k + ":" + strings.Join(trimmed, ",") + "\n")
	}
	b.WriteString(canonicalResource(bucket, key))
	q := r.URL.Query()
	var params []string
	for k := range q {
		if signedSubResource(k) {
			params = append(params, k)
		}
	}
	sort.Strings(params)
	for i, k := range params {
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

func canonicalResource(bucket, key string) string {
	switch {
	case bucket == "":
		return "/"
	case key == "":
		return "/" + bucket + "/"
	}
	return "/" + bucket + "/" + key
}

func compareV1(secret, sts, provided, keyID string) *apiError {
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	if hmac.Equal([]byte(want), []byte(provided)) {
		return nil
	}
	return errSignature(keyID, provided, sts).withEC("0002-00000040")
}

// errSignature includes StringToSign, as OSS does: it is derived from the
// request, not from the secret, and is what a client needs to debug.
func errSignature(keyID, provided, sts string) *apiError {
	return errf(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		field{"OSSAccessKeyId", keyID}, field{"SignatureProvided", provided},
		field{"StringToSign", sts}, field{"StringToSignBytes", hexBytes(sts)})
}

// V4.

type v4Parts struct {
	keyID, date, region, product string
	additional                   []string
	signature                    string
	datetime                     string // x-oss-date
}

func parseScope(cred string) (v4Parts, bool) {
	f := strings.Split(cred, "/")
	if len(f) != 5 || f[4] != "aliyun_v4_request" {
		return v4Parts{}, false
	}
	return v4Parts{keyID: f[0], date: f[1], region: f[2], product: f[3]}, true
}

func (s *Server) parseV4Header(r *http.Request, auth, bucket, key string) (credential, *apiError) {
	var cred, additional, signature string
	for _, item := range strings.Split(strings.TrimPrefix(auth, "OSS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "Credential":
			cred = v
		case "AdditionalHeaders":
			additional = v
		case "Signature":
			signature = v
		}
	}
	p, ok := parseScope(cred)
	if !ok || signature == "" {
		return credential{}, errInvalidArgument("Authorization header is invalid.", "Authorization", "OSS4-HMAC-SHA256")
	}
	p.signature = signature
	if additional != "" {
		p.additional = strings.Split(additional, ";")
	}
	p.datetime = r.Header.Get("x-oss-date")
	payload := r.Header.Get("x-oss-content-sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	return credential{
		keyID: p.keyID, token: r.Header.Get("x-oss-security-token"),
		verify: func(secret string) *apiError {
			return s.verifyV4(r, p, r.URL.RawQuery, payload, secret, bucket, key)
		},
		expiry: func(now time.Time) *apiError {
			t, err := time.Parse("20060102T150405Z", p.datetime)
			if err != nil {
				return errf(http.StatusForbidden, "AccessDenied", "Invalid date format of header x-oss-date.")
			}
			if d := now.Sub(t); d > maxSkew || d < -maxSkew {
				return errf(http.StatusForbidden, "RequestTimeTooSkewed",
					"The difference between the request time and the current time is too large.",
					field{"RequestTime", p.datetime}, field{"ServerTime", now.UTC().Format("2006-01-02T15:04:05.000Z")},
					field{"MaxAllowedSkewMilliseconds", "900000"})
			}
			return nil
		},
	}, nil
}

func (s *Server) parseV4Query(r *http.Request, bucket, key string) (credential, *apiError) {
	q := r.URL.Query()
	p, ok := parseScope(q.Get("x-oss-credential"))
	if !ok {
		return credential{}, errInvalidArgument("x-oss-credential is invalid.", "x-oss-credential", q.Get("x-oss-credential"))
	}
	p.signature = q.Get("x-oss-signature")
	p.datetime = q.Get("x-oss-date")
	if h := q.Get("x-oss-additional-headers"); h != "" {
		p.additional = strings.Split(h, ";")
	}
	// The signature itself is the only query parameter not signed.
	var kept []string
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if !strings.HasPrefix(kv, "x-oss-signature=") {
			kept = append(kept, kv)
		}
	}
	rawQuery := strings.Join(kept, "&")
	expires := q.Get("x-oss-expires")
	return credential{
		keyID: p.keyID, token: q.Get("x-oss-security-token"),
		verify: func(secret string) *apiError {
			return s.verifyV4(r, p, rawQuery, "UNSIGNED-PAYLOAD", secret, bucket, key)
		},
		expiry: func(now time.Time) *apiError {
			t, err1 := time.Parse("20060102T150405Z", p.datetime)
			secs, err2 := strconv.ParseInt(expires, 10, 64)
			if err1 != nil || err2 != nil {
				return errInvalidArgument("x-oss-date or x-oss-expires is invalid.", "x-oss-expires", expires)
			}
			if now.After(t.Add(time.Duration(secs) * time.Second)) {
				return errf(http.StatusForbidden, "AccessDenied", "Request has expired.",
					field{"Expires", t.Add(time.Duration(secs) * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")},
					field{"ServerTime", now.UTC().Format("2006-01-02T15:04:05.000Z")})
			}
			return nil
		},
	}, nil
}

// verifyV4 rebuilds the canonical request (SDK signer/v4.go
// calcCanonicalRequest) and compares signatures.
func (s *Server) verifyV4(r *http.Request, p v4Parts, rawQuery, payload, secret, bucket, key string) *apiError {
	uri := escapePath(canonicalResource(bucket, key))

	// Canonical query: sorted by raw (encoded) name, values as sent.
	query := strings.ReplaceAll(rawQuery, "+", "%20")
	values := map[string]string{}
	var names []string
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
		names = append(names, k)
	}
	sort.Strings(names)
	var cq strings.Builder
	for _, k := range names {
		if cq.Len() > 0 {
			cq.WriteByte('&')
		}
		cq.WriteString(k)
		if values[k] != "" {
			cq.WriteString("=" + values[k])
		}
	}

	addl := map[string]bool{}
	for _, h := range p.additional {
		addl[strings.ToLower(h)] = true
	}
	var hnames []string
	header := r.Header.Clone()
	if addl["host"] {
		header.Set("Host", r.Host)
	}
	for k := range header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-") || lk == "content-type" || lk == "content-md5" || addl[lk] {
			hnames = append(hnames, lk)
		}
	}
	sort.Strings(hnames)
	var ch strings.Builder
	for _, k := range hnames {
		vals := header.Values(k)
		trimmed := make([]string, len(vals))
		for i, v := range vals {
			trimmed[i] = strings.TrimSpace(v)
		}
		ch.WriteString(k + ":" + strings.Join(trimmed, ",") + "\n")
	}
	canonical := r.Method + "\n" + uri + "\n" + cq.String() + "\n" + ch.String() + "\n" +
		strings.Join(p.additional, ";") + "\n" + payload
	sum := sha256.Sum256([]byte(canonical))
	scope := p.date + "/" + p.region + "/" + p.product + "/aliyun_v4_request"
	sts := "OSS4-HMAC-SHA256\n" + p.datetime + "\n" + scope + "\n" + hex.EncodeToString(sum[:])

	mac := func(k []byte, s string) []byte {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("aliyun_v4"+secret), p.date)
	k = mac(k, p.region)
	k = mac(k, p.product)
	k = mac(k, "aliyun_v4_request")
	want := hex.EncodeToString(mac(k, sts))
	// A scope for another region or product cannot match what this endpoint
	// signs with, so it fails like any other wrong signature.
	if p.product == "oss" && p.region == s.env.Region && hmac.Equal([]byte(want), []byte(p.signature)) {
		return nil
	}
	e := errSignature(p.keyID, p.signature, sts)
	e.Extra = append(e.Extra, field{"CanonicalRequest", canonical})
	return e
}

// escapePath percent-encodes everything but unreserved characters and '/',
// as the SDK's escapePath(path, false) does.
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// authenticate resolves the presented key with IAM and checks the
// signature. The returned key ID is whatever was presented, for the trail.
func (s *Server) authenticate(r *http.Request, c credential) (iam.Principal, *apiError) {
	secret, p, err := s.env.IAM.Authenticate(c.keyID, c.token)
	if err != nil {
		return iam.Principal{}, authError(err, c.keyID, c.token)
	}
	if e := c.verify(secret); e != nil {
		redactToken(e, c.token)
		return iam.Principal{}, e
	}
	if e := c.expiry(s.now()); e != nil {
		return iam.Principal{}, e
	}
	return p, nil
}

// authError maps IAM's authentication failures to OSS errors. Codes and
// messages: "InvalidAccessKeyId ... does not exist in our records"
// (alibabacloud.com/help/en/oss/the-the-oss-access-key-id-you-provided-does-not-exist-...),
// STS token errors per the OSS error-code list (InvalidSecurityToken,
// SecurityTokenExpired); an STS key sent without its token is
// InvalidAccessKeyId (help.aliyun.com/zh/oss/support/0002-00000002). For a
// disabled key OSS answers InvalidAccessKeyId too; that message wording is
// not in the pages we could reach.
func authError(err error, keyID, token string) *apiError {
	id := field{"OSSAccessKeyId", keyID}
	switch {
	case errors.Is(err, iam.ErrKeyInactive):
		return errf(http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided is disabled.", id)
	case errors.Is(err, iam.ErrTokenExpired):
		return errf(http.StatusForbidden, "SecurityTokenExpired", "The security token you provided has expired.", id)
	case errors.Is(err, iam.ErrTokenMissing) && token != "":
		return errf(http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is invalid.", id)
	}
	return errf(http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.", id)
}

// redactToken masks an STS security token where it would be echoed back
// (StringToSign, CanonicalRequest). Real OSS echoes it verbatim; akguard's
// rule is that no credential ever appears in an output, and the token is
// one.
func redactToken(e *apiError, token string) {
	if token == "" {
		return
	}
	for i := range e.Extra {
		if e.Extra[i].Name == "StringToSignBytes" {
			continue
		}
		e.Extra[i].Value = strings.ReplaceAll(e.Extra[i].Value, token, "<redacted-security-token>")
		e.Extra[i].Value = strings.ReplaceAll(e.Extra[i].Value, url.QueryEscape(token), "<redacted-security-token>")
	}
	for i := range e.Extra {
		if e.Extra[i].Name == "StringToSignBytes" {
			for _, f := range e.Extra {
				if f.Name == "StringToSign" {
					e.Extra[i].Value = hexBytes(f.Value)
				}
			}
		}
	}
}

func hexBytes(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%02X ", c)
	}
	return strings.TrimSpace(b.String())
}
