// Package localtest starts the local cloud the way the project deploys:
// the real function binaries built from ./functions, the functions,
// triggers and environment of the project's s.yaml, the execution roles
// with the policies in infra/ram, and the state bucket. Tests of cloud
// behaviour use it instead of fakes.
package localtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"gopkg.in/yaml.v3"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/shared/aliyun"
	"github.com/akguard/akguard/shared/store"
)

// Root is the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]error{}
)

// BuildFunction compiles ./functions/<name> once per test process and
// returns the directory holding its "main" binary.
func BuildFunction(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		d, err := os.MkdirTemp("", "akguard-functions-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	dir := filepath.Join(buildDir, name)
	err, done := built[name]
	if !done {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "main"), "./functions/"+name)
		cmd.Dir = Root()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if e := cmd.Run(); e != nil {
			err = fmt.Errorf("build functions/%s: %v\n%s", name, e, out.String())
		}
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Options select what Start sets up.
type Options struct {
	// Functions to build and run, by s.yaml resource name ("scan",
	// "audit", "respond"); others in s.yaml are left out.
	Functions []string
	// Vars override s.yaml vars (e.g. "dryRun": "false").
	Vars map[string]string
	// Env overrides environment variables of every function.
	Env map[string]string
	// FC tunes the local Function Compute (retry backoff, timers).
	FC fc.Options
	// Dir keeps state; default t.TempDir().
	Dir string
}

// Env is a started local cloud with the project deployed on it.
type Env struct {
	Cloud *cloud.Cloud
	// Root holds clients signed with the account owner's key.
	Root aliyun.Clients
	Vars map[string]string
}

// Start brings up the local cloud with the project's functions. It stops
// when the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	root := Root()
	vars, err := SYamlVars(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range o.Vars {
		vars[k] = v
	}
	overrides := map[string]string{"config.AccountID": "1234567890123456"}
	for k, v := range vars {
		overrides["vars."+k] = v
	}
	cfg, err := fc.LoadSYaml(filepath.Join(root, "s.yaml"), overrides)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range o.Functions {
		want[f] = true
	}
	var fns []fc.Function
	for _, f := range cfg.Functions {
		if !want[f.Resource] {
			continue
		}
		f.Code = BuildFunction(t, f.Resource)
		for k, v := range o.Env {
			if f.Environment == nil {
				f.Environment = map[string]string{}
			}
			f.Environment[k] = v
		}
		fns = append(fns, f)
	}
	cfg.Functions = fns
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	fopts := o.FC
	if fopts.RetryBase == 0 {
		fopts.RetryBase = 50 * time.Millisecond
	}
	fopts.DisableTimers = true
	c, err := cloud.Start(context.Background(), cloud.Options{DataDir: dir, AccountID: "1234567890123456",
		Region: vars["region"], Functions: cfg, FC: fopts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rk := c.Env.IAM.RootKey()
	e := &Env{Cloud: c, Vars: vars, Root: aliyun.Clients{Region: c.Env.Region, AccountID: c.Env.AccountID,
		Creds: aliyun.Credentials{AccessKeyID: rk.AccessKeyID, AccessKeySecret: rk.AccessKeySecret}, Endpoints: c.Endpoints}}
	if err := e.provision(); err != nil {
		t.Fatal(err)
	}
	return e
}

// SYamlVars reads the vars block of an s.yaml.
func SYamlVars(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read s.yaml: %w", err)
	}
	var doc struct {
		Vars map[string]string `yaml:"vars"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode s.yaml vars: %w", err)
	}
	if doc.Vars == nil {
		doc.Vars = map[string]string{}
	}
	return doc.Vars, nil
}

// Policy returns infra/ram/<name>.json with its placeholders filled.
func (e *Env) Policy(name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(Root(), "infra", "ram", name+".json"))
	if err != nil {
		return "", err
	}
	r := strings.NewReplacer("${accountId}", e.Cloud.Env.AccountID, "${region}", e.Cloud.Env.Region,
		"${stateBucket}", e.Vars["stateBucket"], "${uploadBucket}", e.Vars["uploadBucket"],
		"${topic}", e.Vars["topic"], "${deadLetterQueue}", e.Vars["deadLetterQueue"])
	return r.Replace(string(data)), nil
}

const fcTrust = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`
const ossTrust = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["oss.aliyuncs.com"]}}]}`

// provision creates what `akguard setup` would: roles with their
// least-privilege policies, the state bucket and the upload bucket.
// (Until setup exists this mirrors it; setup's own tests will replace it.)
func (e *Env) provision() error {
	ids := e.Cloud.Env.IAM
	roles := map[string]string{"akguard-scan": fcTrust, "akguard-audit": fcTrust, "akguard-respond": fcTrust, "akguard-oss-trigger": ossTrust}
	for role, trust := range roles {
		if _, err := ids.CreateRole(role, trust, "akguard "+role, 3600); err != nil {
			return fmt.Errorf("create role %s: %w", role, err)
		}
		doc, err := e.Policy(role)
		if os.IsNotExist(err) {
			continue // that function's policy is not written yet: it gets no permissions
		}
		if err != nil {
			return err
		}
		if _, err := ids.CreatePolicy(role, doc, "akguard "+role); err != nil {
			return fmt.Errorf("create policy %s: %w", role, err)
		}
		if err := ids.AttachPolicyToRole("Custom", role, role); err != nil {
			return fmt.Errorf("attach policy %s: %w", role, err)
		}
	}
	cl := e.Root.OSS()
	for _, b := range []string{e.Vars["stateBucket"], e.Vars["uploadBucket"]} {
		if _, err := cl.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	mc, err := e.Root.SMQ()
	if err != nil {
		return err
	}
	qm := ali_mns.NewMNSQueueManager(mc)
	for _, q := range []string{e.Vars["deadLetterQueue"], InboxQueue} {
		if err := qm.CreateQueue(q, 0, 65536, 345600, 30, 0, 3); err != nil {
			return fmt.Errorf("create queue %s: %w", q, err)
		}
	}
	if err := ali_mns.NewMNSTopicManager(mc).CreateSimpleTopic(e.Vars["topic"]); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	topic := ali_mns.NewMNSTopic(e.Vars["topic"], mc)
	if err := topic.Subscribe("inbox", ali_mns.MessageSubsribeRequest{Endpoint: topic.GenerateQueueEndpoint(InboxQueue),
		NotifyContentFormat: ali_mns.SIMPLIFIED}); err != nil {
		return fmt.Errorf("subscribe inbox: %w", err)
	}
	return nil
}

// InboxQueue is subscribed to the alerts topic (all tags), so tests read
// back what respond notified.
const InboxQueue = "akguard-alerts-inbox"

// User creates a RAM user with one live key and the system policy named:
// the owner of the key a test leaks.
func (e *Env) User(t testing.TB, name, policy string) iam.AccessKey {
	t.Helper()
	ids := e.Cloud.Env.IAM
	if _, err := ids.CreateUser(name, name, "leaks its key in a test"); err != nil {
		t.Fatal(err)
	}
	if err := ids.AttachPolicyToUser("System", policy, name); err != nil {
		t.Fatal(err)
	}
	k, err := ids.CreateAccessKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Records reads every object of the state bucket whose key starts with
// prefix, keyed by the whole object key.
func (e *Env) Records(ctx context.Context, t testing.TB, prefix string) map[string][]byte {
	t.Helper()
	out, err := (&store.Store{Client: e.Root.OSS(), Bucket: e.Vars["stateBucket"]}).ReadAll(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Decode decodes every record as JSON into a T.
func Decode[T any](t testing.TB, recs map[string][]byte) []T {
	t.Helper()
	out := make([]T, 0, len(recs))
	for k, b := range recs {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("record %s: %v", k, err)
		}
		out = append(out, v)
	}
	return out
}

// Drain receives and deletes every message waiting in the queue named and
// returns their bodies in the order received.
func (e *Env) Drain(t testing.TB, queue string) []string {
	t.Helper()
	mc, err := e.Root.SMQ()
	if err != nil {
		t.Fatal(err)
	}
	q := ali_mns.NewMNSQueue(queue, mc)
	var out []string
	for {
		rc, ec := make(chan ali_mns.MessageReceiveResponse, 1), make(chan error, 1)
		q.ReceiveMessage(rc, ec)
		select {
		case m := <-rc:
			out = append(out, m.MessageBody)
			if err := q.DeleteMessage(m.ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		case err := <-ec:
			if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				return out
			}
			t.Fatalf("receive from %s: %v", queue, err)
		}
	}
}
