// Command scan is akguard's scan function: triggered by OSS ObjectCreated
// events, it scans each new object for leaked AccessKey pairs, records what
// it finds in the state bucket and hands each leaked key to the respond
// function. The logic lives in shared/ossscan; this file only wires it.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/logx"
	"github.com/akguard/akguard/shared/ossscan"
	"github.com/akguard/akguard/shared/scan"
	"github.com/akguard/akguard/shared/unpack"
)

func main() {
	log := logx.New(nil)
	cfg, err := config.LoadScan(os.Getenv)
	if err != nil {
		// A configuration that could make the function scan its own
		// records is refused before the first event is taken.
		log.Error("refusing to start", "err", err)
		os.Exit(1)
	}
	engine, err := scan.New(scan.Options{Limits: unpack.Limits{MaxMemberBytes: cfg.MaxObjectBytes}})
	if err != nil {
		log.Error("build scan engine", "err", err)
		os.Exit(1)
	}
	h := &handler{cfg: cfg, scanner: &ossscan.Scanner{Config: cfg, Engine: engine, Log: log}}
	fc.Start(h.invoke)
}

type handler struct {
	cfg     config.Scan
	scanner *ossscan.Scanner
}

// invoke takes the raw payload ([]byte is passed through by the runtime
// SDK unparsed) so that a payload that is not even JSON is still ours to
// reject (logged, acknowledged) rather than a runtime error FC retries.
func (h *handler) invoke(ctx context.Context, payload []byte) (ossscan.Summary, error) {
	inv, ok := aliyun.FromContext(ctx)
	if !ok {
		return ossscan.Summary{}, errors.New("scan: no function compute context")
	}
	cl := aliyun.Clients{Region: inv.Region, AccountID: inv.AccountID, Creds: inv.Creds,
		Endpoints: h.cfg.Endpoints, Internal: h.cfg.Endpoints.OSS == ""}
	if cl.Region == "" {
		cl.Region = h.cfg.Region
	}
	if cl.AccountID == "" {
		cl.AccountID = h.cfg.AccountID
	}
	return h.scanner.HandleEvent(ctx, cl, payload)
}
