// Command respond is the akguard-respond function: it contains one leaked
// AccessKey per incident (deny policy, optionally disabling the key) and
// notifies through SMQ. The logic lives in shared/contain.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"regexp"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/contain"
	"github.com/akguard/akguard/shared/incident"
	"github.com/akguard/akguard/shared/logx"
	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/store"
)

// secretShaped matches AccessKey-secret-like runs (30 alphanumerics): a
// hand-written event may carry a pasted secret in a field the incident
// parser quotes in its error.
var secretShaped = regexp.MustCompile(`[A-Za-z0-9+/]{30,}`)

type handler struct {
	cfg        config.Respond
	cfgErr     error
	log        *slog.Logger
	createOnce store.CreateOnceGuard
}

func main() {
	h := &handler{log: logx.New(nil)}
	h.cfg, h.cfgErr = config.LoadRespond(os.Getenv)
	if h.cfgErr != nil {
		h.log.Error("load configuration", "err", h.cfgErr)
	}
	fc.Start(h.handle)
}

func (h *handler) handle(ctx context.Context, event json.RawMessage) (any, error) {
	if h.cfgErr != nil {
		// Fail so FC keeps the incident (retries, then the dead-letter
		// queue) until the configuration is fixed.
		return nil, h.cfgErr
	}
	in, err := incident.Parse(event)
	if err != nil {
		// No retry can fix the document: acknowledge it.
		h.log.ErrorContext(ctx, "invalid incident: acknowledged without action", "err", secretShaped.ReplaceAllString(err.Error(), "<redacted>"))
		return map[string]string{"outcome": "invalid", "error": "invalid incident"}, nil
	}
	inv, _ := aliyun.FromContext(ctx)
	cl := aliyun.Clients{Region: inv.Region, AccountID: inv.AccountID, Creds: inv.Creds, Endpoints: h.cfg.Endpoints,
		Internal: h.cfg.Endpoints.OSS == ""}
	if cl.Region == "" {
		cl.Region = h.cfg.Region
	}
	if cl.AccountID == "" {
		cl.AccountID = h.cfg.AccountID
	}
	mc, err := cl.SMQ()
	if err != nil {
		return nil, err
	}
	r := &contain.Responder{
		Config: h.cfg, Clients: cl, Invocation: inv, PolicyDocument: policies.DenyHighRisk, Log: h.log,
		Store:     &store.Store{Client: cl.OSS(), Bucket: h.cfg.StateBucket, Prefix: h.cfg.StatePrefix, Guard: &h.createOnce},
		Publisher: &notify.Publisher{Client: mc, Topic: h.cfg.Topic, Attempts: h.cfg.NotifyAttempts, Backoff: h.cfg.NotifyBackoff},
	}
	res, err := r.Handle(ctx, in)
	if err != nil {
		// The SDK's raw errors can carry the STS token in a URL.
		err = aliyun.CleanError(err)
		switch {
		case errors.Is(err, contain.ErrBusy):
			h.log.InfoContext(ctx, "incident busy: FC will retry", "incident_id", in.ID)
		case errors.Is(err, contain.ErrTransient):
			// Not the last attempt: the incident stays open and the
			// retry resumes it (see shared/contain).
			h.log.WarnContext(ctx, "transient failure: FC will retry", "incident_id", in.ID, "retry", inv.RetryCount, "err", err)
		default:
			h.log.ErrorContext(ctx, "respond failed: FC will retry", "incident_id", in.ID, "err", err)
		}
		return nil, err
	}
	return res, nil
}
