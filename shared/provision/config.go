package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/akguard/akguard/infra/policies"
)

// Config is the desired state of one account.
type Config struct {
	Region    string
	AccountID string
	// From s.yaml vars: stateBucket, uploadBucket, topic, deadLetterQueue.
	StateBucket     string
	UploadBucket    string
	Topic           string
	DeadLetterQueue string
	// CreateUploadBucket creates the upload bucket when it is missing;
	// otherwise a missing upload bucket is only a warning, since it is
	// usually the user's existing bucket.
	CreateUploadBucket bool
	// Subscriptions are queues subscribed to the topic.
	Subscriptions []Subscription
	// InfraDir holds ram/<role>.json (default "infra").
	InfraDir string
}

// ConfigFromVars takes the names from an s.yaml vars block.
func ConfigFromVars(vars map[string]string) Config {
	return Config{
		Region: vars["region"], StateBucket: vars["stateBucket"], UploadBucket: vars["uploadBucket"],
		Topic: vars["topic"], DeadLetterQueue: vars["deadLetterQueue"],
	}
}

// Validate reports the first missing or malformed name.
func (c Config) Validate() error {
	for _, f := range []struct{ name, v string }{
		{"region", c.Region}, {"account ID", c.AccountID}, {"stateBucket", c.StateBucket},
		{"uploadBucket", c.UploadBucket}, {"topic", c.Topic}, {"deadLetterQueue", c.DeadLetterQueue},
	} {
		if f.v == "" {
			return fmt.Errorf("%s is required", f.name)
		}
	}
	if !regionRE.MatchString(c.Region) {
		return fmt.Errorf("region %q is not a region ID such as cn-hangzhou", c.Region)
	}
	if !accountRE.MatchString(c.AccountID) {
		return fmt.Errorf("account ID %q is not a numeric UID", c.AccountID)
	}
	for _, b := range []string{c.StateBucket, c.UploadBucket} {
		if !bucketRE.MatchString(b) {
			return fmt.Errorf("bucket name %q is invalid: 3-63 lower-case letters, digits and hyphens", b)
		}
	}
	if c.StateBucket == c.UploadBucket {
		// Findings written to the scanned bucket would trigger scans of
		// themselves, and the state must stay private.
		return fmt.Errorf("stateBucket and uploadBucket must differ (both %q)", c.StateBucket)
	}
	for _, q := range []string{c.Topic, c.DeadLetterQueue} {
		if !smqNameRE.MatchString(q) {
			return fmt.Errorf("SMQ name %q is invalid: a letter, then up to 255 letters, digits and hyphens", q)
		}
	}
	seen := map[string]bool{}
	for _, s := range c.Subscriptions {
		if err := s.validate(); err != nil {
			return err
		}
		if seen[s.Queue] {
			return fmt.Errorf("queue %s is subscribed twice", s.Queue)
		}
		if s.Queue == c.DeadLetterQueue {
			// Alerts would mix with failed invocations nobody replays.
			return fmt.Errorf("queue %s is the dead-letter queue: subscribe another queue", s.Queue)
		}
		seen[s.Queue] = true
	}
	return nil
}

// Names follow the OSS bucket naming rules, the SMQ queue/topic naming
// rules and RAM's region IDs; checking them here turns a typo in s.yaml
// into a clear error instead of a service error halfway through a run.
var (
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	smqNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{0,255}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	accountRE = regexp.MustCompile(`^[0-9]{1,32}$`)
)

// Subscription is a queue subscribed to the alert topic, receiving the
// messages tagged Tag (all messages when Tag is empty).
type Subscription struct {
	Queue string
	Tag   string
}

// maxFilterTag is SMQ's limit on a subscription's FilterTag (Subscribe
// API reference: up to 16 characters).
const maxFilterTag = 16

// ParseSubscription reads the --subscribe-queue value NAME[:TAG].
func ParseSubscription(s string) (Subscription, error) {
	q, tag, _ := strings.Cut(s, ":")
	sub := Subscription{Queue: q, Tag: tag}
	return sub, sub.validate()
}

func (s Subscription) validate() error {
	if !smqNameRE.MatchString(s.Queue) {
		return fmt.Errorf("subscription queue %q is invalid: a letter, then up to 255 letters, digits and hyphens", s.Queue)
	}
	if len(s.Tag) > maxFilterTag || strings.ContainsAny(s.Tag, " \t\r\n") {
		return fmt.Errorf("subscription tag %q is invalid: up to %d characters, no spaces", s.Tag, maxFilterTag)
	}
	return nil
}

// String is the NAME[:TAG] form.
func (s Subscription) String() string {
	if s.Tag == "" {
		return s.Queue
	}
	return s.Queue + ":" + s.Tag
}

// Role is one of akguard's RAM roles.
type Role struct {
	Name string
	// Service is the trusted principal that assumes the role.
	Service string
	Purpose string
}

// Roles are the identities akguard runs as: one per function (trusted by
// Function Compute) and the one OSS uses to invoke scan. Each has a custom
// policy of the same name from infra/ram/<name>.json.
func Roles() []Role {
	return []Role{
		{Name: "akguard-scan", Service: "fc.aliyuncs.com", Purpose: "akguard scan function"},
		{Name: "akguard-audit", Service: "fc.aliyuncs.com", Purpose: "akguard audit function"},
		{Name: "akguard-respond", Service: "fc.aliyuncs.com", Purpose: "akguard respond function"},
		{Name: "akguard-oss-trigger", Service: "oss.aliyuncs.com", Purpose: "OSS trigger invoking akguard scan"},
	}
}

// TrustPolicy is the role's AssumeRolePolicyDocument: only the service may
// assume it (the documented trust policy of a service role).
func (r Role) TrustPolicy() string {
	return fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":[%q]}}]}`, r.Service)
}

// RolePolicy reads InfraDir/ram/<role>.json and fills its placeholders.
// A missing file is an error: a role without its policy would make the
// function fail at its first API call.
func (c Config) RolePolicy(role string) (string, error) {
	dir := c.InfraDir
	if dir == "" {
		dir = "infra"
	}
	path := filepath.Join(dir, "ram", role+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read policy of role %s: %w", role, err)
	}
	doc, err := c.Fill(string(data))
	if err != nil {
		return "", fmt.Errorf("policy %s: %w", path, err)
	}
	return doc, nil
}

// DenyPolicy is the containment policy from infra/policies.
func DenyPolicy() string { return policies.DenyHighRisk }

// DenyPolicyName is its name in RAM.
const DenyPolicyName = policies.DenyHighRiskName

var placeholderRE = regexp.MustCompile(`\$\{[^}]*\}`)

// Fill replaces the placeholders of infra/ram documents (see
// infra/ram/README.md) and checks the result is one JSON document with no
// placeholder left.
func (c Config) Fill(doc string) (string, error) {
	vals := map[string]string{
		"${accountId}": c.AccountID, "${region}": c.Region, "${stateBucket}": c.StateBucket,
		"${uploadBucket}": c.UploadBucket, "${topic}": c.Topic, "${deadLetterQueue}": c.DeadLetterQueue,
	}
	var unknown []string
	out := placeholderRE.ReplaceAllStringFunc(doc, func(p string) string {
		if v, ok := vals[p]; ok {
			return v
		}
		unknown = append(unknown, p)
		return p
	})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return "", fmt.Errorf("unknown placeholder %s", strings.Join(unknown, ", "))
	}
	if _, err := Canonical(out); err != nil {
		return "", err
	}
	return out, nil
}

// Canonical renders a policy document so that two documents RAM treats as
// equal compare equal: keys sorted, no insignificant space, and a single
// string where the policy grammar also accepts a one-element list (Action,
// NotAction, Resource, NotResource, and Principal's Service/RAM lists).
func Canonical(doc string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("decode policy document: %w", err)
	}
	if dec.More() {
		return "", fmt.Errorf("decode policy document: trailing data after the document")
	}
	root, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("decode policy document: not a JSON object")
	}
	if st, ok := root["Statement"].([]any); ok {
		for _, s := range st {
			m, ok := s.(map[string]any)
			if !ok {
				continue
			}
			for _, k := range []string{"Action", "NotAction", "Resource", "NotResource"} {
				m[k] = unwrapSingle(m[k])
			}
			if p, ok := m["Principal"].(map[string]any); ok {
				for k := range p {
					p[k] = unwrapSingle(p[k])
				}
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return "", fmt.Errorf("encode policy document: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func unwrapSingle(v any) any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		return l[0]
	}
	return v
}
