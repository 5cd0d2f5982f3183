package main

import (
	"context"
	"fmt"

	"github.com/akguard/akguard/shared/provision"
)

// demoSetup runs exactly what `akguard setup --create-upload-bucket
// --subscribe-queue akguard-demo-inbox` does against the demo's local
// cloud: the inbox queue lets the timeline show each notification.
func demoSetup(ctx context.Context, d *demo) (int, error) {
	cfg := provision.ConfigFromVars(d.vars)
	cfg.AccountID = d.root.AccountID
	cfg.CreateUploadBucket = true
	cfg.Subscriptions = []provision.Subscription{{Queue: demoInbox}}
	p, err := provision.New(d.root, cfg, nil)
	if err != nil {
		return 0, err
	}
	plan, err := p.Run(ctx, false)
	if err != nil {
		return 0, fmt.Errorf("run setup: %w", err)
	}
	return plan.Changes(), nil
}
