// Command fnecho is the local FC's test function, built with
// fc-runtime-go-sdk exactly like akguard's real functions. The payload's
// "op" selects a behaviour so one binary covers every test.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type request struct {
	Op        string `json:"op"`
	N         int    `json:"n"`
	SleepMs   int    `json:"sleepMs"`
	Nonce     string `json:"nonce"`
	Events    []any  `json:"events"`
	TriggerNm string `json:"triggerName"`
}

// proof shows possession of a secret without revealing it.
func proof(secret, nonce string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func handle(ctx context.Context, raw json.RawMessage) (map[string]any, error) {
	fctx, _ := fccontext.FromContext(ctx)
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	out := map[string]any{
		"requestId": fctx.RequestID, "retryCount": fctx.RetryCount, "function": fctx.Function.Name,
		"handler": fctx.Function.Handler, "memory": fctx.Function.Memory, "timeout": fctx.Function.Timeout,
		"region": fctx.Region, "accountId": fctx.AccountId, "pid": os.Getpid(),
	}
	if dl, ok := ctx.Deadline(); ok {
		out["deadlineInMs"] = time.Until(dl).Milliseconds()
	}
	switch {
	case req.Events != nil:
		var ev events.OssEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode oss event: %w", err)
		}
		r := ev.Events[0]
		out["oss"] = map[string]any{"bucket": *r.Oss.Bucket.Name, "key": *r.Oss.Object.Key, "size": *r.Oss.Object.Size,
			"eventName": *r.EventName, "eventTime": r.EventTime.UTC().Format(time.RFC3339)}
		return out, nil
	case req.TriggerNm != "":
		var ev events.TimerEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode timer event: %w", err)
		}
		out["timer"] = map[string]any{"name": *ev.TriggerName, "time": *ev.TriggerTime, "payload": *ev.Payload}
		return out, nil
	}
	switch req.Op {
	case "echo", "":
		out["payload"] = raw
	case "fail":
		return nil, errors.New("requested failure")
	case "failUntil":
		if fctx.RetryCount < req.N {
			return nil, fmt.Errorf("failing attempt with retry count %d", fctx.RetryCount)
		}
	case "sleep":
		time.Sleep(time.Duration(req.SleepMs) * time.Millisecond)
	case "crash":
		os.Exit(3)
	case "env":
		env := map[string]string{}
		for _, k := range []string{"FC_FUNCTION_NAME", "FC_REGION", "FC_ACCOUNT_ID", "FC_FUNCTION_HANDLER",
			"FC_FUNCTION_MEMORY_SIZE", "FC_TIMEOUT", "FC_RUNTIME_API", "AKGUARD_LOCAL_ENDPOINTS", "GREETING"} {
			env[k] = os.Getenv(k)
		}
		out["env"] = env
	case "creds":
		c := fctx.Credentials
		out["ctxCreds"] = map[string]string{"id": c.AccessKeyId, "proof": proof(c.AccessKeySecret, req.Nonce), "token": digest(c.SecurityToken)}
		out["envCreds"] = map[string]string{"id": os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
			"proof": proof(os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), req.Nonce), "token": digest(os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN"))}
	default:
		return nil, fmt.Errorf("unknown op %q", req.Op)
	}
	return out, nil
}

func main() {
	fc.Start(handle)
}
