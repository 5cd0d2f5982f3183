package logx

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

func TestRequestIDOnEveryRecord(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf).With("function", "scan")
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-1"})
	log.InfoContext(ctx, "scanned object", "bucket", "b")
	log.InfoContext(context.Background(), "outside fc")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("got %d lines", len(lines))
	}
	var first, second map[string]any
	_ = json.Unmarshal(lines[0], &first)
	_ = json.Unmarshal(lines[1], &second)
	if first["request_id"] != "req-1" || first["function"] != "scan" || first["bucket"] != "b" {
		t.Fatalf("first record %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Fatalf("request_id outside an invocation: %v", second)
	}
}
