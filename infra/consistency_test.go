// Package infra_test checks that s.yaml, infra/ and the code agree: the
// functions s.yaml deploys exist and are built as FC expects, every role
// it names is provisioned by `akguard setup` with a policy file, every
// resource it points at (buckets, topic, dead-letter queue) is one setup
// creates, and every environment variable it sets is read by the code and
// documented. CI runs it with the rest of `make test`.
package infra_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/shared/config"
	"github.com/akguard/akguard/shared/provision"
)

const (
	root    = ".." // the repository; tests run in infra/
	account = "1234567890123456"
	// maxPolicyChars is RAM's limit on a policy document (CreatePolicy
	// reference: PolicyDocument up to 6,144 characters).
	maxPolicyChars = 6144
)

// check collects problems so the same checks run on the project (no
// problem allowed) and on a broken sample (every problem found).
type check struct {
	problems []string
	// pending are checks whose other half may legitimately be absent in
	// a partial checkout (README.md, Makefile targets): problems unless
	// AKGUARD_STRICT_CONSISTENCY=0.
	pending []string
}

func (c *check) Errorf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *check) Pendingf(format string, args ...any) {
	c.pending = append(c.pending, fmt.Sprintf(format, args...))
}

// project is a repository layout: s.yaml, functions/, infra/ram,
// shared/config, README.md, Makefile under dir.
type project struct {
	dir  string
	vars map[string]string
	fns  []fc.Function
}

func loadProject(dir string) (project, error) {
	path := filepath.Join(dir, "s.yaml")
	vars, err := config.SYamlVars(path)
	if err != nil {
		return project{}, err
	}
	cfg, err := fc.LoadSYaml(path, map[string]string{"config.AccountID": account})
	if err != nil {
		return project{}, fmt.Errorf("s.yaml does not load as the local FC (and fc3) reads it: %w", err)
	}
	if len(cfg.Functions) == 0 {
		return project{}, fmt.Errorf("s.yaml deploys no function")
	}
	return project{dir: dir, vars: vars, fns: cfg.Functions}, nil
}

func (p project) path(elem ...string) string {
	return filepath.Join(append([]string{p.dir}, elem...)...)
}

var checks = []struct {
	name string
	fn   func(project, *check)
}{
	{"functions match code", checkFunctions},
	{"resources are provisioned", checkResources},
	{"roles have policies", checkRoles},
	{"environment is read and documented", checkEnvironment},
	{"deploy actions exist", checkDeployActions},
}

func TestProjectIsConsistent(t *testing.T) {
	p, err := loadProject(root)
	if err != nil {
		t.Fatal(err)
	}
	strict := os.Getenv("AKGUARD_STRICT_CONSISTENCY") != "0"
	for _, c := range checks {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			var ck check
			c.fn(p, &ck)
			for _, msg := range ck.problems {
				t.Error(msg)
			}
			for _, msg := range ck.pending {
				if strict {
					t.Error(msg)
				} else {
					t.Log("PENDING: " + msg)
				}
			}
		})
	}
}

// The checks catch each kind of inconsistency, on a sample project that
// has one of each.
func TestChecksFindInconsistencies(t *testing.T) {
	p, err := loadProject(filepath.Join("testdata", "inconsistent"))
	if err != nil {
		t.Fatal(err)
	}
	var ck check
	for _, c := range checks {
		c.fn(p, &ck)
	}
	got := strings.Join(append(ck.problems, ck.pending...), "\n")
	for _, want := range []string{
		"akguard-scan: runtime go1 handler bin/main: want go1 and main",
		"akguard-scan: code ", "does not end in /target/functions/scan",
		"akguard-audit: no package for the function",
		"functions/extra is not deployed by s.yaml",
		"akguard-scan: AKGUARD_RESPOND_FUNCTION=akguard-responder is not a function of s.yaml",
		`akguard-scan: AKGUARD_STATE_BUCKET="other-state", want vars.stateBucket "akguard-state"`,
		`akguard-scan: onFailure destination "acs:mns:cn-hangzhou:1234567890123456:/queues/elsewhere/messages", want the dead-letter queue`,
		`akguard-audit: AKGUARD_DENY_POLICY_NAME="my-deny", but setup and infra/ram know only "akguard-deny-high-risk"`,
		"akguard-scan: trigger uploads on bucket not-uploads, want vars.uploadBucket akguard-demo-uploads",
		"akguard-audit: role akguard-admin is not created by akguard setup",
		"akguard-scan trigger uploads: role akguard-scan is trusted by fc.aliyuncs.com, but oss.aliyuncs.com assumes it",
		"setup creates role akguard-oss-trigger, which s.yaml never uses",
		"setup creates role akguard-respond, which s.yaml never uses",
		"infra/ram/akguard-respond.json is missing",
		"unknown placeholder ${bucket}",
		"infra/ram/akguard-old.json belongs to no role setup creates",
		"akguard-scan sets AKGUARD_UNREAD, which shared/config never reads",
		"README.md does not document AKGUARD_UNDOCUMENTED",
		"scan pre-deploy runs make build-functions, which the Makefile does not define",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem %q found in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "README.md does not document AKGUARD_STATE_BUCKET") {
		t.Errorf("a documented variable was reported:\n%s", got)
	}
}

func checkFunctions(p project, t *check) {
	names := map[string]bool{}
	for _, f := range p.fns {
		names[f.Name] = true
	}
	for _, f := range p.fns {
		if f.Runtime != "go1" || f.Handler != "main" {
			t.Errorf("%s: runtime %s handler %s: want go1 and main (the binary fc-runtime-go-sdk builds)", f.Name, f.Runtime, f.Handler)
		}
		// code: ./target/functions/<resource>, built from ./functions/<resource>.
		if got, want := filepath.ToSlash(f.Code), "/target/functions/"+f.Resource; !strings.HasSuffix(got, want) {
			t.Errorf("%s: code %s does not end in %s", f.Name, f.Code, want)
		}
		if f.Name != "akguard-"+f.Resource {
			t.Errorf("%s: functionName, want akguard-%s (roles and policies name functions so)", f.Name, f.Resource)
		}
		if r := f.Environment["AKGUARD_RESPOND_FUNCTION"]; r != "" && !names[r] {
			t.Errorf("%s: AKGUARD_RESPOND_FUNCTION=%s is not a function of s.yaml", f.Name, r)
		}
		src, err := os.ReadFile(p.path("functions", f.Resource, "main.go"))
		if err != nil {
			t.Errorf("%s: no package for the function: %v", f.Name, err)
			continue
		}
		if !regexp.MustCompile(`(?m)^package main$`).Match(src) || !strings.Contains(string(src), "fc.Start(") {
			t.Errorf("%s: functions/%s/main.go is not a main package calling fc.Start", f.Name, f.Resource)
		}
	}
	entries, err := os.ReadDir(p.path("functions"))
	if err != nil {
		t.Errorf("read functions: %v", err)
		return
	}
	for _, e := range entries {
		if e.IsDir() && !names["akguard-"+e.Name()] {
			t.Errorf("functions/%s is not deployed by s.yaml", e.Name())
		}
	}
}

// Resources the functions point at are the ones setup creates.
func checkResources(p project, t *check) {
	cfg := provision.ConfigFromVars(p.vars)
	cfg.AccountID = account
	if err := cfg.Validate(); err != nil {
		t.Errorf("s.yaml vars: %v", err)
	}
	dlq := fmt.Sprintf("acs:mns:%s:%s:/queues/%s/messages", cfg.Region, account, cfg.DeadLetterQueue)
	for _, f := range p.fns {
		if got := f.Environment["AKGUARD_STATE_BUCKET"]; got != cfg.StateBucket {
			t.Errorf("%s: AKGUARD_STATE_BUCKET=%q, want vars.stateBucket %q", f.Name, got, cfg.StateBucket)
		}
		if got, ok := f.Environment["AKGUARD_SMQ_TOPIC"]; ok && got != cfg.Topic {
			t.Errorf("%s: AKGUARD_SMQ_TOPIC=%q, want vars.topic %q", f.Name, got, cfg.Topic)
		}
		// setup pre-creates the deny policy under its default name, and the
		// respond role may attach only that one.
		if got, ok := f.Environment["AKGUARD_DENY_POLICY_NAME"]; ok && got != provision.DenyPolicyName {
			t.Errorf("%s: AKGUARD_DENY_POLICY_NAME=%q, but setup and infra/ram know only %q", f.Name, got, provision.DenyPolicyName)
		}
		if f.Async.OnFailure != dlq {
			t.Errorf("%s: onFailure destination %q, want the dead-letter queue %s", f.Name, f.Async.OnFailure, dlq)
		}
		for _, tr := range f.Triggers {
			if tr.OSS != nil && tr.OSS.Bucket != cfg.UploadBucket {
				t.Errorf("%s: trigger %s on bucket %s, want vars.uploadBucket %s", f.Name, tr.Name, tr.OSS.Bucket, cfg.UploadBucket)
			}
		}
	}
}

var roleArnRE = regexp.MustCompile(`^acs:ram::[0-9]+:role/([a-zA-Z0-9.-]+)$`)

func checkRoles(p project, t *check) {
	cfg := provision.ConfigFromVars(p.vars)
	cfg.AccountID, cfg.InfraDir = account, p.path("infra")
	roles := map[string]provision.Role{}
	for _, r := range provision.Roles() {
		roles[r.Name] = r
	}
	used := map[string]bool{}
	use := func(where, arn, service string) {
		m := roleArnRE.FindStringSubmatch(arn)
		if m == nil {
			t.Errorf("%s: role %q is not a role ARN", where, arn)
			return
		}
		r, ok := roles[m[1]]
		switch {
		case !ok:
			t.Errorf("%s: role %s is not created by akguard setup (shared/provision.Roles)", where, m[1])
		case r.Service != service:
			t.Errorf("%s: role %s is trusted by %s, but %s assumes it", where, m[1], r.Service, service)
		}
		used[m[1]] = true
	}
	for _, f := range p.fns {
		use(f.Name, f.Role, "fc.aliyuncs.com")
		for _, tr := range f.Triggers {
			if tr.Type == "oss" {
				use(f.Name+" trigger "+tr.Name, tr.InvocationRole, "oss.aliyuncs.com")
			}
		}
	}
	var names []string
	for name := range roles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !used[name] {
			t.Errorf("setup creates role %s, which s.yaml never uses", name)
		}
		doc, err := cfg.RolePolicy(name)
		if os.IsNotExist(unwrap(err)) {
			t.Pendingf("infra/ram/%s.json is missing", name)
			continue
		}
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(doc) > maxPolicyChars {
			t.Errorf("infra/ram/%s.json is %d characters once filled; RAM accepts %d", name, len(doc), maxPolicyChars)
		}
	}
	files, err := filepath.Glob(p.path("infra", "ram", "*.json"))
	if err != nil {
		t.Errorf("list infra/ram: %v", err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); roles[name].Name == "" {
			t.Errorf("infra/ram/%s.json belongs to no role setup creates", name)
		}
	}
}

func unwrap(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

var envNameRE = regexp.MustCompile(`"(AKGUARD_[A-Z0-9_]+)"`)

// configVars are the AKGUARD_* names quoted in shared/config's code.
func configVars(p project, t *check) map[string]bool {
	files, err := filepath.Glob(p.path("shared", "config", "*.go"))
	if err != nil || len(files) == 0 {
		t.Errorf("no Go files in shared/config (%v)", err)
	}
	out := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, m := range envNameRE.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
	}
	return out
}

func checkEnvironment(p project, t *check) {
	read := configVars(p, t)
	for _, f := range p.fns {
		for name := range f.Environment {
			if strings.HasPrefix(name, "AKGUARD_") && !read[name] {
				t.Errorf("%s sets %s, which shared/config never reads", f.Name, name)
			}
		}
	}
	readme, err := os.ReadFile(p.path("README.md"))
	if os.IsNotExist(err) {
		t.Pendingf("README.md is missing: the configuration reference is not checked")
		return
	}
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	var missing []string
	for name := range read {
		if !strings.Contains(string(readme), name) {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		t.Errorf("README.md does not document %s", name)
	}
}

// s.yaml's pre-deploy actions run make targets; they must exist, or
// `s deploy` fails before deploying anything.
func checkDeployActions(p project, t *check) {
	data, err := os.ReadFile(p.path("s.yaml"))
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	var doc struct {
		Resources map[string]struct {
			Actions map[string][]struct {
				Run string `yaml:"run"`
			} `yaml:"actions"`
		} `yaml:"resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Errorf("decode s.yaml: %v", err)
		return
	}
	makefile, err := os.ReadFile(p.path("Makefile"))
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	for res, r := range doc.Resources {
		for hook, acts := range r.Actions {
			for _, a := range acts {
				target, ok := strings.CutPrefix(strings.TrimSpace(a.Run), "make ")
				if !ok {
					continue
				}
				for _, tg := range strings.Fields(target) {
					if strings.Contains(tg, "=") || strings.HasPrefix(tg, "-") {
						continue
					}
					if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(tg) + `:`).Match(makefile) {
						t.Pendingf("%s %s runs make %s, which the Makefile does not define", res, hook, tg)
					}
				}
			}
		}
	}
}
