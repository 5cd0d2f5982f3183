// Package logx gives every function the same JSON logs: log/slog to
// stdout, one event per line, with FC's request ID on every record so a
// run can be followed across scan, respond and audit.
package logx

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// New returns a JSON logger writing to w (stdout when nil) at the level
// named by AKGUARD_LOG_LEVEL (debug, info, warn, error; default info).
// Every record passes through Redacting, so an STS token or signature
// that slipped into an error never reaches the log.
func New(w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("AKGUARD_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	// Redacting is outermost so attributes added by With are cleaned too.
	return slog.New(Redacting(&requestID{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})}))
}

// requestID adds "request_id" from the FC context to each record.
type requestID struct{ slog.Handler }

func (h *requestID) Handle(ctx context.Context, r slog.Record) error {
	if fc, ok := fccontext.FromContext(ctx); ok && fc != nil && fc.RequestID != "" {
		r.AddAttrs(slog.String("request_id", fc.RequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *requestID) WithAttrs(as []slog.Attr) slog.Handler {
	return &requestID{Handler: h.Handler.WithAttrs(as)}
}

func (h *requestID) WithGroup(name string) slog.Handler {
	return &requestID{Handler: h.Handler.WithGroup(name)}
}
