package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/provision"
)

// subscriptionsFlag collects repeated --subscribe-queue NAME[:TAG].
type subscriptionsFlag []provision.Subscription

func (f *subscriptionsFlag) String() string { return fmt.Sprint([]provision.Subscription(*f)) }

func (f *subscriptionsFlag) Set(s string) error {
	sub, err := provision.ParseSubscription(s)
	if err != nil {
		return err
	}
	*f = append(*f, sub)
	return nil
}

// runSetup provisions what `s deploy` does not create: buckets, SMQ topic
// and queues, RAM roles and policies. It reads first and prints the plan;
// without --dry-run it then applies the changes and prints each result.
func runSetup(ctx context.Context, args []string, s stdio) int {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(s.err)
	endpoints := fs.String("endpoints", "", "local cloud: the DIR/endpoints.json `FILE` written by \"akguard local\" (account, region, root key, endpoints)")
	region := fs.String("region", "", "region (default: the endpoints file's, else s.yaml vars.region)")
	account := fs.String("account-id", "", "account UID (default: the endpoints file's, else asked of STS GetCallerIdentity)")
	syaml := fs.String("s-yaml", "s.yaml", "Serverless Devs file whose vars name the buckets, topic and queue")
	infra := fs.String("infra", "infra", "directory holding ram/<role>.json")
	createUpload := fs.Bool("create-upload-bucket", false, "create the upload bucket (private) when it is missing")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	verbose := fs.Bool("verbose", false, "log each applied step as JSON to stderr")
	printPolicy := fs.Bool("print-policy", false, "print the least-privilege RAM policy for whoever runs setup with these flags, and exit")
	vars := varsFlag{}
	fs.Var(vars, "var", "override an s.yaml variable: `name=value` (repeatable)")
	var subs subscriptionsFlag
	fs.Var(&subs, "subscribe-queue", "subscribe queue NAME to the topic, only messages tagged TAG when given: `NAME[:TAG]` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(s.err, "usage: akguard setup [--endpoints DIR/endpoints.json | --region R [--account-id ID]] [flags]")
		fmt.Fprintln(s.err, "\nreal accounts read ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and\noptionally ALIBABA_CLOUD_SECURITY_TOKEN\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		errorf(s.err, "setup takes no arguments, got %q", fs.Arg(0))
		return exitError
	}

	v, err := config.SYamlVars(*syaml)
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	for k, val := range vars {
		v[k] = val
	}
	cfg := provision.ConfigFromVars(v)
	cfg.InfraDir, cfg.CreateUploadBucket, cfg.Subscriptions = *infra, *createUpload, subs

	if *printPolicy {
		return printSetupPolicy(cfg, *endpoints, *region, *account, s)
	}

	clients := aliyun.Clients{Region: cfg.Region}
	if *endpoints != "" {
		lc, err := config.ReadLocalCloud(*endpoints)
		if err != nil {
			errorf(s.err, "%v", err)
			return exitError
		}
		clients = aliyun.Clients{Region: lc.Region, AccountID: lc.AccountID, Endpoints: lc.Endpoints,
			Creds: aliyun.Credentials{AccessKeyID: lc.Credentials.AccessKeyID, AccessKeySecret: lc.Credentials.AccessKeySecret}}
	} else {
		clients.Creds = aliyun.Credentials{AccessKeyID: os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
			AccessKeySecret: os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), SecurityToken: os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN")}
		if clients.Creds.AccessKeyID == "" || clients.Creds.AccessKeySecret == "" {
			errorf(s.err, "no credentials: pass --endpoints for the local cloud, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			return exitError
		}
	}
	if *region != "" {
		clients.Region = *region
	}
	if *account != "" {
		clients.AccountID = *account
	}
	if clients.Region == "" {
		errorf(s.err, "no region: pass --region or set vars.region in %s", *syaml)
		return exitError
	}
	if clients.AccountID == "" {
		id, err := callerAccount(clients)
		if err != nil {
			errorf(s.err, "find the account ID (or pass --account-id): %v", err)
			return exitError
		}
		clients.AccountID = id
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(s.err, &slog.HandlerOptions{Level: level}))
	p, err := provision.New(clients, cfg, log)
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	mode := ""
	if *dryRun {
		mode = " (dry run: nothing is changed)"
	}
	fmt.Fprintf(s.out, "akguard setup: account %s, region %s%s\n\n", clients.AccountID, clients.Region, mode)
	plan, err := p.Run(ctx, *dryRun)
	if plan == nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	if errors.Is(err, provision.ErrUnfixable) {
		// Nothing was applied: show the plan as a dry run would.
		if werr := plan.WriteTable(s.out, false); werr != nil {
			errorf(s.err, "%v", werr)
			return exitError
		}
		fmt.Fprintf(s.out, "\nnothing changed: %s\n", plan.Summary(false))
		errorf(s.err, "%v", err)
		hintf(s.err, "a bucket's versioning cannot be turned off once enabled, and OSS ignores x-oss-forbid-overwrite while it is enabled or suspended: "+
			"set vars.stateBucket in %s (or --var stateBucket=NAME) to a new bucket name and run setup again", *syaml)
		return exitError
	}
	if werr := plan.WriteTable(s.out, !*dryRun); werr != nil {
		errorf(s.err, "%v", werr)
		return exitError
	}
	switch {
	case err != nil:
		fmt.Fprintf(s.out, "\nfailed: %s\n", plan.Summary(true))
		errorf(s.err, "%v", err)
		return exitError
	case *dryRun:
		fmt.Fprintf(s.out, "\nplan: %s\n", plan.Summary(false))
		if plan.Changes() > 0 {
			hintf(s.err, "run again without --dry-run to apply")
		}
	case plan.Changes() == 0:
		fmt.Fprintf(s.out, "\nup to date: %s\n", plan.Summary(false))
	default:
		fmt.Fprintf(s.out, "\napplied: %s\n", plan.Summary(true))
	}
	return exitOK
}

// printSetupPolicy needs no credentials: the account comes from the flag
// or the local cloud's endpoints file.
func printSetupPolicy(cfg provision.Config, endpoints, region, account string, s stdio) int {
	if endpoints != "" {
		lc, err := config.ReadLocalCloud(endpoints)
		if err != nil {
			errorf(s.err, "%v", err)
			return exitError
		}
		cfg.Region, cfg.AccountID = lc.Region, lc.AccountID
	}
	if region != "" {
		cfg.Region = region
	}
	if account != "" {
		cfg.AccountID = account
	}
	if cfg.AccountID == "" {
		errorf(s.err, "--print-policy needs --account-id (or --endpoints)")
		return exitError
	}
	doc, err := cfg.SetupPolicy()
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	fmt.Fprintln(s.out, doc)
	return exitOK
}

// callerAccount asks STS whose credentials these are.
func callerAccount(c aliyun.Clients) (string, error) {
	cl, err := c.STS()
	if err != nil {
		return "", err
	}
	res, err := cl.GetCallerIdentity(sts.CreateGetCallerIdentityRequest())
	if err != nil {
		// The SDK's message quotes the response, never the request
		// URL; still, print only the code.
		return "", fmt.Errorf("sts GetCallerIdentity failed (%s)", errCode(err))
	}
	return res.AccountId, nil
}

func errCode(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return "request failed"
}
