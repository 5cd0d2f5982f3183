package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/akguard/akguard/shared/aliyun"
)

// Provisioner reads an account's state and plans the changes. It is not
// safe for concurrent use (the RAM SDK client is not).
type Provisioner struct {
	cfg     Config
	oss     *oss.Client
	ram     *ram.Client
	mns     ali_mns.MNSClient
	log     *slog.Logger
	secrets []string
}

// New builds the SDK clients. The clients' region and account win over
// cfg's when set, so ARNs in policies name the account being changed.
func New(clients aliyun.Clients, cfg Config, log *slog.Logger) (*Provisioner, error) {
	if clients.Region != "" {
		cfg.Region = clients.Region
	}
	if clients.AccountID != "" {
		cfg.AccountID = clients.AccountID
	}
	clients.Region, clients.AccountID = cfg.Region, cfg.AccountID
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("setup config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rc, err := clients.RAM()
	if err != nil {
		return nil, err
	}
	mc, err := clients.SMQ()
	if err != nil {
		return nil, err
	}
	p := &Provisioner{cfg: cfg, oss: clients.OSS(), ram: rc, mns: mc, log: log}
	for _, s := range []string{clients.Creds.AccessKeySecret, clients.Creds.SecurityToken} {
		if s != "" {
			p.secrets = append(p.secrets, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	return p, nil
}

// Config is the desired state the provisioner works towards.
func (p *Provisioner) Config() Config { return p.cfg }

// Plan reads the current state of every resource and returns the steps
// that would bring it to the desired state. It only reads.
func (p *Provisioner) Plan(ctx context.Context) (*Plan, error) {
	// Policy files first: a missing or broken one fails the run before
	// any call is made.
	docs := map[string]string{}
	for _, r := range Roles() {
		doc, err := p.cfg.RolePolicy(r.Name)
		if err != nil {
			return nil, err
		}
		docs[r.Name] = doc
	}
	if _, err := Canonical(DenyPolicy()); err != nil {
		return nil, fmt.Errorf("policy %s: %w", DenyPolicyName, err)
	}
	plan := &Plan{}
	for _, step := range []func(context.Context, *Plan) error{
		p.planStateBucket, p.planUploadBucket,
		p.planQueue(p.cfg.DeadLetterQueue, "dead-letter queue of the functions' async invocations"),
		p.planTopic,
	} {
		if err := step(ctx, plan); err != nil {
			return nil, err
		}
	}
	for _, s := range p.cfg.Subscriptions {
		if err := p.planQueue(s.Queue, "subscribed to "+p.cfg.Topic)(ctx, plan); err != nil {
			return nil, err
		}
		if err := p.planSubscription(ctx, plan, s); err != nil {
			return nil, err
		}
	}
	for _, r := range Roles() {
		if err := p.planRole(ctx, plan, r, docs[r.Name]); err != nil {
			return nil, err
		}
	}
	if err := p.planPolicy(ctx, plan, DenyPolicyName, DenyPolicy(), "infra/policies/deny-high-risk.json",
		"akguard containment: denies high-risk actions to the owner of a leaked AccessKey"); err != nil {
		return nil, err
	}
	return plan, nil
}

// Run plans and, unless dryRun, applies. The plan is returned even when
// applying fails, so the caller can show how far it got. A plan with a
// difference setup cannot fix (ActionError) is returned with an
// ErrUnfixable, dry run or not, and nothing is applied.
func (p *Provisioner) Run(ctx context.Context, dryRun bool) (*Plan, error) {
	plan, err := p.Plan(ctx)
	if err != nil {
		return nil, err
	}
	p.log.InfoContext(ctx, "setup plan", "changes", plan.Changes(), "summary", plan.Summary(false), "dry_run", dryRun)
	if dryRun {
		return plan, plan.Unfixable()
	}
	err = plan.Apply(ctx)
	for _, s := range plan.Steps {
		if s.Status == StatusDone {
			p.log.InfoContext(ctx, "setup step", "action", string(s.Action), "resource", s.Resource)
		}
	}
	return plan, err
}

// wrap names the failed operation and keeps the caller's secret and
// token out of the message: transport errors of the RPC SDK quote the
// request URL, whose query carries the security token.
func (p *Provisioner) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		// The SDK's message spans lines with a recommendation URL; keep
		// what a person needs to act or to ask support.
		msg = fmt.Sprintf("%s (HTTP %d): %s (request %s)", se.ErrorCode(), se.HttpStatus(), se.Message(), se.RequestId())
	}
	for _, s := range p.secrets {
		msg = strings.ReplaceAll(msg, s, "<redacted>")
	}
	return fmt.Errorf("%s: %w", op, &redacted{msg: msg, err: err})
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
