package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/policies"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/store"
)

const demoUsage = `usage: akguard demo [--data DIR] [--functions DIR]

Plays the whole akguard story on the local cloud, in seconds: a RAM user's
AccessKey pair is uploaded next to a customer CSV, scan finds it, respond
contains it and notifies, an attacker uses the pair (download allowed,
PutBucketAcl and DeleteBucket denied), the next audit run flags the leaked
key's use and notifies again. Prints a timeline; exits 1 if a step fails.
`

// demoAttackerIP is where the "attacker" calls come from (TEST-NET-2,
// RFC 5737): the local cloud records it from X-Forwarded-For.
const demoAttackerIP = "198.51.100.23"

const demoInbox = "akguard-demo-inbox"

type demo struct {
	out     io.Writer
	start   time.Time
	step    int
	c       *cloud.Cloud
	root    aliyun.Clients
	vars    map[string]string
	secrets []string // planted secrets, to prove none leaked into outputs
}

func (d *demo) logf(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.out, "%6.0f ms  %2d. %s\n", float64(time.Since(d.start).Microseconds())/1000, d.step, fmt.Sprintf(format, args...))
}

func runDemo(ctx context.Context, args []string, s stdio) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.Usage = func() { fmt.Fprint(s.err, demoUsage); fs.PrintDefaults() }
	data := fs.String("data", ".demo", "directory for the demo's state (wiped at start, kept afterwards for inspection)")
	fnDir := fs.String("functions", "target/functions", "directory holding the built function binaries (<name>/main)")
	syaml := fs.String("s-yaml", "s.yaml", "the project's Serverless Devs file")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	d := &demo{out: s.out, start: time.Now()}
	if err := d.run(ctx, *data, *fnDir, *syaml); err != nil {
		fmt.Fprintf(s.out, "%6.0f ms  FAILED: %v\n", float64(time.Since(d.start).Microseconds())/1000, err)
		return exitFound
	}
	fmt.Fprintf(s.out, "%6.0f ms  done: leak found, contained and reported; state kept in %s\n", float64(time.Since(d.start).Microseconds())/1000, *data)
	return exitOK
}

func (d *demo) run(ctx context.Context, data, fnDir, syaml string) error {
	if err := os.RemoveAll(data); err != nil {
		return fmt.Errorf("clean %s: %w", data, err)
	}
	vars, err := config.SYamlVars(syaml)
	if err != nil {
		return err
	}
	vars["dryRun"] = "false"
	d.vars = vars
	overrides := map[string]string{"config.AccountID": "1234567890123456"}
	for k, v := range vars {
		overrides["vars."+k] = v
	}
	cfg, err := fc.LoadSYaml(syaml, overrides)
	if err != nil {
		return err
	}
	for i := range cfg.Functions {
		dir, err := filepath.Abs(filepath.Join(fnDir, cfg.Functions[i].Resource))
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(dir, "main")); err != nil {
			return fmt.Errorf("function binary for %s missing (run make build-functions): %w", cfg.Functions[i].Resource, err)
		}
		cfg.Functions[i].Code = dir
	}
	c, err := cloud.Start(ctx, cloud.Options{DataDir: filepath.Join(data, "cloud"), AccountID: "1234567890123456",
		Region: vars["region"], Functions: cfg, FC: fc.Options{DisableTimers: true, RetryBase: 200 * time.Millisecond}})
	if err != nil {
		return err
	}
	defer c.Close()
	d.c = c
	rk := c.Env.IAM.RootKey()
	d.root = aliyun.Clients{Region: c.Env.Region, AccountID: c.Env.AccountID, Endpoints: c.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: rk.AccessKeyID, AccessKeySecret: rk.AccessKeySecret}}
	d.logf("local cloud up: OSS, RAM, IMS, STS, ActionTrail, KMS, SMQ and FC on loopback; functions %s", strings.Join(functionNames(cfg), ", "))

	changes, err := demoSetup(ctx, d)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	d.logf("akguard setup made %d changes: state bucket, alerts topic, dead-letter queue, roles with least-privilege policies, deny policy", changes)

	// The victim: an application's RAM user with OSS access.
	rc, err := d.root.RAM()
	if err != nil {
		return err
	}
	cu := ram.CreateCreateUserRequest()
	cu.UserName = "app-uploader"
	if _, err := rc.CreateUser(cu); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	ck := ram.CreateCreateAccessKeyRequest()
	ck.UserName = "app-uploader"
	key, err := rc.CreateAccessKey(ck)
	if err != nil {
		return fmt.Errorf("create access key: %w", err)
	}
	ap := ram.CreateAttachPolicyToUserRequest()
	ap.PolicyType, ap.PolicyName, ap.UserName = "System", "AliyunOSSFullAccess", "app-uploader"
	if _, err := rc.AttachPolicyToUser(ap); err != nil {
		return fmt.Errorf("attach policy: %w", err)
	}
	leakedID, leakedSecret := key.AccessKey.AccessKeyId, key.AccessKey.AccessKeySecret
	d.secrets = append(d.secrets, leakedSecret)
	d.logf("RAM user app-uploader has AccessKey %s (OSS full access)", leakedID)

	// The leak: a config backup with the pair lands next to customer data.
	bucket := vars["uploadBucket"]
	ro := d.root.OSS()
	csv := "id,name,email\n1,Ada Lovelace,ada@example.com\n2,Alan Turing,alan@example.com\n"
	if _, err := ro.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("exports/customers.csv"), Body: strings.NewReader(csv)}); err != nil {
		return fmt.Errorf("upload csv: %w", err)
	}
	leak := fmt.Sprintf("# backup of app.env\nALIBABA_CLOUD_ACCESS_KEY_ID=%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\nOSS_BUCKET=%s\n", leakedID, leakedSecret, bucket)
	uploaded := time.Now()
	if _, err := ro.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("exports/config-backup.txt"), Body: strings.NewReader(leak)}); err != nil {
		return fmt.Errorf("upload leak: %w", err)
	}
	d.logf("uploaded exports/customers.csv and exports/config-backup.txt (holding the pair) to oss://%s", bucket)

	st := &store.Store{Client: ro, Bucket: vars["stateBucket"], Prefix: "akguard/"}
	if err := waitFor(ctx, 30*time.Second, func() (bool, error) {
		keys, err := st.List(ctx, "findings/")
		return len(keys) > 0, err
	}); err != nil {
		return fmt.Errorf("no finding recorded: %w", err)
	}
	d.logf("scan recorded a redacted finding in oss://%s/akguard/findings/ (%.0f ms after upload)", vars["stateBucket"], float64(time.Since(uploaded).Microseconds())/1000)

	if err := waitFor(ctx, 30*time.Second, func() (bool, error) {
		lp := ram.CreateListPoliciesForUserRequest()
		lp.UserName = "app-uploader"
		resp, err := rc.ListPoliciesForUser(lp)
		if err != nil {
			return false, err
		}
		for _, p := range resp.Policies.Policy {
			if p.PolicyName == policies.DenyHighRiskName {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return fmt.Errorf("deny policy not attached: %w", err)
	}
	d.logf("respond attached %s to app-uploader (%.0f ms after upload)", policies.DenyHighRiskName, float64(time.Since(uploaded).Microseconds())/1000)

	msg, err := d.receive(ctx, "scan", leakedID)
	if err != nil {
		return fmt.Errorf("no notification: %w", err)
	}
	d.logf("notification received on SMQ topic %s: %s", vars["topic"], msg)

	// The attacker, from an address never seen before.
	atk := attackerOSS(d.root, leakedID, leakedSecret)
	res, err := atk.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("exports/customers.csv")})
	if err != nil {
		return fmt.Errorf("attacker download: %w", err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	d.logf("attacker at %s downloaded exports/customers.csv with the leaked pair (%d bytes: reads stay allowed)", demoAttackerIP, n)
	if err := expectDenied(atk.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(bucket), Acl: oss.BucketACLPublicRead})); err != nil {
		return fmt.Errorf("PutBucketAcl: %w", err)
	}
	d.logf("attacker PutBucketAcl public-read: AccessDenied")
	if err := expectDenied(atk.DeleteBucket(ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr(bucket)})); err != nil {
		return fmt.Errorf("DeleteBucket: %w", err)
	}
	d.logf("attacker DeleteBucket: AccessDenied")

	// The demo judges 10-second windows instead of the default 5 minutes
	// (an audit rules file in the state bucket, as an operator would
	// write one) and holds nothing back for delivery lag, so the "next
	// run" comes in seconds.
	if err := st.Put(ctx, "audit/config.json", map[string]any{"window": int64(10 * time.Second)}); err != nil {
		return fmt.Errorf("write audit rules: %w", err)
	}
	closes := time.Now().Truncate(10 * time.Second).Add(10*time.Second + 200*time.Millisecond)
	select {
	case <-time.After(time.Until(closes)):
	case <-ctx.Done():
		return ctx.Err()
	}
	timer := fmt.Sprintf(`{"triggerTime":%q,"triggerName":"audit-every-5m","payload":"{\"lagMinutes\":0}"}`, time.Now().UTC().Format(time.RFC3339))
	if _, err := c.FC.Invoke(ctx, "akguard-audit", []byte(timer), false); err != nil {
		return fmt.Errorf("audit run: %w", err)
	}
	d.logf("audit function ran over ActionTrail since its checkpoint")
	msg, err = d.receive(ctx, "audit", leakedID)
	if err != nil {
		return fmt.Errorf("no audit notification: %w", err)
	}
	d.logf("audit notification received: %s", msg)

	if err := c.FC.WaitIdle(ctx); err != nil {
		return err
	}
	hits, checked, err := d.secretOccurrences(ctx, data)
	if err != nil {
		return err
	}
	if hits != nil {
		return fmt.Errorf("plaintext secret found in %s", strings.Join(hits, ", "))
	}
	d.logf("no plaintext secret in %d outputs: function logs, state-bucket records, SMQ stores, the trail", checked)
	return nil
}

func functionNames(cfg fc.Config) []string {
	var out []string
	for _, f := range cfg.Functions {
		out = append(out, f.Name)
	}
	return out
}

func waitFor(ctx context.Context, limit time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if last != nil {
		return fmt.Errorf("timed out after %s: %w", limit, last)
	}
	return fmt.Errorf("timed out after %s", limit)
}

func expectDenied(_ any, err error) error {
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "AccessDenied" {
		return nil
	}
	if err == nil {
		return errors.New("allowed, want AccessDenied")
	}
	return fmt.Errorf("want AccessDenied, got %w", err)
}

// attackerOSS is an OSS client with the leaked pair, calling from the
// attacker's address.
func attackerOSS(root aliyun.Clients, id, secret string) *oss.Client {
	hc := &http.Client{Transport: xff{base: http.DefaultTransport, ip: demoAttackerIP}, Timeout: 30 * time.Second}
	cfg := oss.LoadDefaultConfig().WithCredentialsProvider(osscred.NewStaticCredentialsProvider(id, secret)).
		WithRegion(root.Region).WithEndpoint(root.Endpoints.OSS).WithUsePathStyle(true).WithHttpClient(hc)
	return oss.NewClient(cfg)
}

type xff struct {
	base http.RoundTripper
	ip   string
}

func (x xff) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", x.ip)
	return x.base.RoundTrip(r)
}

// receive waits for the notification from source ("scan", "audit") about
// keyID on the demo's inbox queue and returns its one-line summary. Other
// notifications are consumed and reported on the way (the audit also
// flags the account owner's key the demo's setup used).
func (d *demo) receive(ctx context.Context, source, keyID string) (string, error) {
	mc, err := d.root.SMQ()
	if err != nil {
		return "", err
	}
	q := ali_mns.NewMNSQueue(demoInbox, mc)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		respChan, errChan := make(chan ali_mns.MessageReceiveResponse, 1), make(chan error, 1)
		go q.ReceiveMessage(respChan, errChan, 2)
		select {
		case m := <-respChan:
			_ = q.DeleteMessage(m.ReceiptHandle)
			body := []byte(m.MessageBody)
			if dec, err := base64.StdEncoding.DecodeString(m.MessageBody); err == nil {
				body = dec
			}
			var n struct {
				Source  string `json:"source"`
				KeyID   string `json:"access_key_id"`
				Summary string `json:"summary"`
				Text    string `json:"text"`
			}
			_ = json.Unmarshal(body, &n)
			if n.Source != source || n.KeyID != keyID {
				if n.Summary != "" {
					d.logf("also notified: %s", n.Summary)
				}
				continue
			}
			line := n.Summary
			if line == "" {
				line = strings.SplitN(n.Text, "\n", 2)[0]
			}
			if line == "" {
				line = fmt.Sprintf("%d bytes", len(body))
			}
			return line, nil
		case err := <-errChan:
			if !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				return "", err
			}
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return "", errors.New("timed out after 30s")
}

// secretOccurrences scans what the functions produced — their logs, every
// object in the state bucket (read through the OSS API), the SMQ stores and
// the trail — for any planted secret. The identity store (which must hold
// secrets) and the uploaded leak itself are not outputs and are skipped.
func (d *demo) secretOccurrences(ctx context.Context, data string) ([]string, int, error) {
	var hits []string
	checked := 0
	look := func(name string, b []byte) {
		checked++
		for _, s := range d.secrets {
			if bytes.Contains(b, []byte(s)) {
				hits = append(hits, name)
			}
		}
	}
	for _, root := range []string{
		filepath.Join(data, "cloud", "fc", "logs"),
		filepath.Join(data, "cloud", "smq"),
		filepath.Join(data, "cloud", "actiontrail"),
	} {
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if e.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			look(p, b)
			return nil
		})
		if err != nil {
			return nil, checked, err
		}
	}
	recs, err := (&store.Store{Client: d.root.OSS(), Bucket: d.vars["stateBucket"]}).ReadAll(ctx, "")
	if err != nil {
		return nil, checked, fmt.Errorf("read state bucket: %w", err)
	}
	for k, b := range recs {
		look("oss://"+d.vars["stateBucket"]+"/"+k, b)
	}
	return hits, checked, nil
}
