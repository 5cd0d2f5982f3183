package logx

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// secretPatterns are the shapes in which a credential reaches a log line
// by accident: RPC-style request URLs (alibaba-cloud-sdk-go signs in the
// query, so a *url.Error carries SecurityToken=…&Signature=…), the
// string-to-sign a SignatureDoesNotMatch answer echoes (the same query,
// percent-encoded once more), Authorization headers, JSON or Go-printed
// credential structs, and the STS token itself, which starts with "CAIS"
// (base64 of the token's protobuf header).
var secretPatterns = []*regexp.Regexp{
	// key=value, key%3Dvalue (one level of encoding), key%253Dvalue (two).
	// The value runs to the next separator; inside a percent-encoded
	// string-to-sign that is the end of the string, which over-redacts
	// but never under-redacts.
	regexp.MustCompile(`(?i)(` + secretKeys + `(?:=|%3D|%253D))[^&\s"',;)\]}]+`),
	// "key":"value", key: value, key:value (JSON, headers, %+v of a
	// struct). Prose such as "bad signature: dial tcp" must survive, so the
	// value has to look like a credential.
	regexp.MustCompile(`(?i)(` + secretKeys + `(?:"\s*:\s*"|\s*:\s*))[A-Za-z0-9+/=%._-]{16,}`),
	// The token on its own, raw or percent-encoded (+ / = become %2B…);
	// some STS tokens start "CAES" (shared/detect's STS rules).
	regexp.MustCompile(`CA[IE]S[A-Za-z0-9+/=%]{20,}`),
}

// secretKeys are the parameter names whose values are credentials; KMS
// SecretData (RotateSecret, PutSecretValue) carries whole AccessKey pairs.
const secretKeys = `(?:security[-_]?token|signature|access[-_]?key[-_]?secret|secret[-_]?data)`

// Redacted replaces every secret a log line must not carry.
const Redacted = "<redacted>"

// Redact removes STS tokens, request signatures, AccessKey secrets and
// KMS secret data from s. It is the last line of defence — errors should
// be cleaned where they are made (aliyun.CleanError) — so it errs towards
// removing too much.
func Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	s = secretPatterns[0].ReplaceAllString(s, "${1}"+Redacted)
	s = secretPatterns[1].ReplaceAllString(s, "${1}"+Redacted)
	return secretPatterns[2].ReplaceAllString(s, Redacted)
}

// mayHoldSecret is a cheap pre-filter so ordinary log lines skip the
// regular expressions.
func mayHoldSecret(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "token") || strings.Contains(l, "signature") || strings.Contains(l, "secret") ||
		strings.Contains(s, "CAIS") || strings.Contains(s, "CAES")
}

// Redacting wraps h so the message and every attribute (strings, errors,
// Stringers and values that marshal to JSON, at any depth of groups) are
// passed through Redact before h sees them.
func Redacting(h slog.Handler) slog.Handler { return &redacting{h: h} }

type redacting struct{ h slog.Handler }

func (r *redacting) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r *redacting) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redacting) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = redactAttr(a)
	}
	return &redacting{h: r.h.WithAttrs(clean)}
}

func (r *redacting) WithGroup(name string) slog.Handler { return &redacting{h: r.h.WithGroup(name)} }

func redactAttr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() != slog.KindGroup && secretKey.MatchString(a.Key) {
		// log.Info("…", "security_token", tok): the key says what it is.
		a.Value = slog.StringValue(Redacted)
		return a
	}
	a.Value = redactValue(a.Value)
	return a
}

// secretKey matches attribute keys that name a credential.
var secretKey = regexp.MustCompile(`(?i)^(?:x-(?:acs|oss)-)?` + secretKeys + `$`)

func redactValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); mayHoldSecret(s) {
			return slog.StringValue(Redact(s))
		}
		return v
	case slog.KindGroup:
		as := v.Group()
		clean := make([]slog.Attr, len(as))
		for i, a := range as {
			clean[i] = redactAttr(a)
		}
		return slog.GroupValue(clean...)
	case slog.KindAny:
		return redactAny(v)
	}
	return v
}

// redactAny renders an arbitrary value the way the JSON handler would
// (error text, JSON) and substitutes the redacted text only when
// something had to go, so clean values keep their structure.
func redactAny(v slog.Value) slog.Value {
	var s string
	switch x := v.Any().(type) {
	case error:
		s = x.Error()
	case []byte:
		s = string(x)
	default:
		// What the JSON handler would write.
		b, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprintf("%+v", x)
		} else {
			s = string(b)
		}
	}
	if r := Redact(s); r != s {
		return slog.StringValue(r)
	}
	return v
}
