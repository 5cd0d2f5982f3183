package fc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the set of functions the local Function Compute runs, as
// Serverless Devs' fc3 component would deploy them from s.yaml.
type Config struct {
	Name      string     `json:"name"`
	Functions []Function `json:"functions"`
}

// Function is one fc3 resource's props, resolved and with defaults applied.
type Function struct {
	Resource            string            `json:"resource,omitempty"` // key under resources: in s.yaml
	Name                string            `json:"functionName"`
	Region              string            `json:"region,omitempty"`
	Runtime             string            `json:"runtime"`
	Handler             string            `json:"handler"`
	Code                string            `json:"code"`               // directory holding the handler binary
	Role                string            `json:"role,omitempty"`     // execution role ARN
	RoleName            string            `json:"roleName,omitempty"` // parsed from Role
	Timeout             int               `json:"timeout"`            // seconds
	MemorySize          int               `json:"memorySize"`         // MB
	InstanceConcurrency int               `json:"instanceConcurrency"`
	Environment         map[string]string `json:"environmentVariables,omitempty"`
	Async               AsyncConfig       `json:"asyncInvokeConfig"`
	Triggers            []Trigger         `json:"triggers,omitempty"`
}

// AsyncConfig is asyncInvokeConfig.
type AsyncConfig struct {
	MaxRetryAttempts int    `json:"maxAsyncRetryAttempts"`
	MaxEventAge      int    `json:"maxAsyncEventAgeInSeconds"`
	OnSuccess        string `json:"onSuccess,omitempty"` // destination ARN
	OnFailure        string `json:"onFailure,omitempty"`
}

// Trigger is one entry of triggers; exactly one of OSS and Timer is set.
type Trigger struct {
	Name           string        `json:"triggerName"`
	Type           string        `json:"triggerType"`
	Qualifier      string        `json:"qualifier"`
	SourceArn      string        `json:"sourceArn,omitempty"`
	InvocationRole string        `json:"invocationRole,omitempty"`
	OSS            *OSSTrigger   `json:"oss,omitempty"`
	Timer          *TimerTrigger `json:"timer,omitempty"`
}

// OSSTrigger is an oss trigger's triggerConfig.
type OSSTrigger struct {
	Bucket string   `json:"bucket"` // from sourceArn acs:oss:<region>:<uid>:<bucket>
	Events []string `json:"events"` // "oss:ObjectCreated:*", ...
	Prefix string   `json:"prefix"`
	Suffix string   `json:"suffix"`
}

// TimerTrigger is a timer trigger's triggerConfig.
type TimerTrigger struct {
	CronExpression string `json:"cronExpression"`
	Enable         bool   `json:"enable"`
	Payload        string `json:"payload,omitempty"`
}

// Defaults from the FC 3.0 CreateFunction API reference (timeout 3 s,
// memorySize 128 MB, instanceConcurrency 1) and the asynchronous
// invocation docs (3 retries, events kept at most 24 h).
const (
	defaultTimeout     = 3
	defaultMemory      = 128
	defaultConcurrency = 1
	defaultMaxRetries  = 3
	defaultMaxEventAge = 86400
)

// Validate applies defaults and checks what the local FC needs to run the
// function. It is called by LoadSYaml and by NewServer for configs built in Go.
func (f *Function) Validate() error {
	if f.Name == "" {
		return errors.New("functionName is required")
	}
	if !functionNameRE.MatchString(f.Name) {
		return fmt.Errorf("function %s: functionName must match %s", f.Name, functionNameRE)
	}
	switch {
	case f.Runtime == "":
		return fmt.Errorf("function %s: runtime is required", f.Name)
	case strings.HasPrefix(f.Runtime, "custom"):
		return fmt.Errorf("function %s: runtime %s is not supported by the local FC: it runs fc-runtime-go-sdk binaries, use runtime go1", f.Name, f.Runtime)
	case f.Runtime != "go1":
		return fmt.Errorf("function %s: runtime %s is not supported by the local FC (only go1)", f.Name, f.Runtime)
	}
	if f.Handler == "" {
		return fmt.Errorf("function %s: handler is required for runtime go1", f.Name)
	}
	if f.Code == "" {
		return fmt.Errorf("function %s: code is required", f.Name)
	}
	if f.Role != "" && f.RoleName == "" {
		name, err := roleNameFromArn(f.Role)
		if err != nil {
			return fmt.Errorf("function %s: %w", f.Name, err)
		}
		f.RoleName = name
	}
	if f.Timeout == 0 {
		f.Timeout = defaultTimeout
	}
	if f.Timeout < 1 || f.Timeout > 86400 {
		return fmt.Errorf("function %s: timeout %d out of range 1-86400", f.Name, f.Timeout)
	}
	if f.MemorySize == 0 {
		f.MemorySize = defaultMemory
	}
	if f.InstanceConcurrency == 0 {
		f.InstanceConcurrency = defaultConcurrency
	}
	if f.InstanceConcurrency < 1 || f.InstanceConcurrency > 200 {
		return fmt.Errorf("function %s: instanceConcurrency %d out of range 1-200", f.Name, f.InstanceConcurrency)
	}
	if f.Async.MaxRetryAttempts < 0 || f.Async.MaxRetryAttempts > 8 {
		return fmt.Errorf("function %s: maxAsyncRetryAttempts %d out of range 0-8", f.Name, f.Async.MaxRetryAttempts)
	}
	if f.Async.MaxEventAge == 0 {
		f.Async.MaxEventAge = defaultMaxEventAge
	}
	seen := map[string]bool{}
	for i := range f.Triggers {
		t := &f.Triggers[i]
		if err := t.validate(); err != nil {
			return fmt.Errorf("function %s: trigger %q: %w", f.Name, t.Name, err)
		}
		if seen[t.Name] {
			return fmt.Errorf("function %s: duplicate trigger %q", f.Name, t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

func (t *Trigger) validate() error {
	if t.Name == "" {
		return errors.New("triggerName is required")
	}
	if t.Qualifier == "" {
		t.Qualifier = "LATEST"
	}
	switch t.Type {
	case "oss":
		if t.OSS == nil {
			return errors.New("triggerConfig is required")
		}
		if t.OSS.Bucket == "" {
			b, err := bucketFromArn(t.SourceArn)
			if err != nil {
				return err
			}
			t.OSS.Bucket = b
		}
		if len(t.OSS.Events) == 0 {
			return errors.New("triggerConfig.events is required")
		}
		for _, e := range t.OSS.Events {
			if !strings.HasPrefix(e, "oss:") {
				return fmt.Errorf("event %q: want the oss: prefix", e)
			}
		}
	case "timer":
		if t.Timer == nil {
			return errors.New("triggerConfig is required")
		}
		if _, err := ParseSchedule(t.Timer.CronExpression); err != nil {
			return err
		}
	case "":
		return errors.New("triggerType is required")
	default:
		return fmt.Errorf("triggerType %s is not supported by the local FC (oss, timer)", t.Type)
	}
	return nil
}

var functionNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_-]{0,127}$`)

// roleNameFromArn parses acs:ram::<uid>:role/<name>.
func roleNameFromArn(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) != 5 || parts[0] != "acs" || parts[1] != "ram" || !strings.HasPrefix(parts[4], "role/") || len(parts[4]) == len("role/") {
		return "", fmt.Errorf("role %q is not a RAM role ARN (acs:ram::<uid>:role/<name>)", arn)
	}
	return strings.TrimPrefix(parts[4], "role/"), nil
}

// bucketFromArn parses acs:oss:<region>:<uid>:<bucket>.
func bucketFromArn(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 5 || parts[0] != "acs" || parts[1] != "oss" || parts[4] == "" || strings.Contains(parts[4], "/") {
		return "", fmt.Errorf("sourceArn %q is not an OSS bucket ARN (acs:oss:<region>:<uid>:<bucket>)", arn)
	}
	return parts[4], nil
}

// ---------------------------------------------------------------------------
// s.yaml

// sYaml is the Serverless Devs 3 template (edition 3.0.0).
type sYaml struct {
	Edition   string               `yaml:"edition"`
	Name      string               `yaml:"name"`
	Access    string               `yaml:"access"`
	Vars      map[string]any       `yaml:"vars"`
	Template  yaml.Node            `yaml:"template"`
	Flow      yaml.Node            `yaml:"flow"`
	Resources map[string]sResource `yaml:"resources"`
}

type sResource struct {
	Component string    `yaml:"component"`
	Actions   yaml.Node `yaml:"actions"`
	Extend    yaml.Node `yaml:"extend"`
	Props     yaml.Node `yaml:"props"`
}

// fc3Props are the fc3 component's function props (devsapp/fc3
// src/schema.json). Fields the local FC does not use are accepted so a
// real s.yaml loads, and anything else is rejected as a typo.
type fc3Props struct {
	Region                  string            `yaml:"region"`
	FunctionName            string            `yaml:"functionName"`
	Runtime                 string            `yaml:"runtime"`
	Handler                 string            `yaml:"handler"`
	Code                    yaml.Node         `yaml:"code"`
	Role                    string            `yaml:"role"`
	Timeout                 int               `yaml:"timeout"`
	MemorySize              int               `yaml:"memorySize"`
	InstanceConcurrency     int               `yaml:"instanceConcurrency"`
	EnvironmentVariables    map[string]string `yaml:"environmentVariables"`
	AsyncInvokeConfig       *fc3Async         `yaml:"asyncInvokeConfig"`
	Triggers                []fc3Trigger      `yaml:"triggers"`
	Description             yaml.Node         `yaml:"description"`
	CPU                     yaml.Node         `yaml:"cpu"`
	DiskSize                yaml.Node         `yaml:"diskSize"`
	InternetAccess          yaml.Node         `yaml:"internetAccess"`
	LogConfig               yaml.Node         `yaml:"logConfig"`
	VpcConfig               yaml.Node         `yaml:"vpcConfig"`
	NasConfig               yaml.Node         `yaml:"nasConfig"`
	OssMountConfig          yaml.Node         `yaml:"ossMountConfig"`
	Layers                  yaml.Node         `yaml:"layers"`
	InstanceLifecycleConfig yaml.Node         `yaml:"instanceLifecycleConfig"`
	CustomRuntimeConfig     yaml.Node         `yaml:"customRuntimeConfig"`
	CustomContainerConfig   yaml.Node         `yaml:"customContainerConfig"`
	CustomDNS               yaml.Node         `yaml:"customDNS"`
	GpuConfig               yaml.Node         `yaml:"gpuConfig"`
	TracingConfig           yaml.Node         `yaml:"tracingConfig"`
	ConcurrencyConfig       yaml.Node         `yaml:"concurrencyConfig"`
	ProvisionConfig         yaml.Node         `yaml:"provisionConfig"`
	CustomDomain            yaml.Node         `yaml:"customDomain"`
	VpcBinding              yaml.Node         `yaml:"vpcBinding"`
	Tags                    yaml.Node         `yaml:"tags"`
	SessionAffinity         yaml.Node         `yaml:"sessionAffinity"`
	InstanceIsolationMode   yaml.Node         `yaml:"instanceIsolationMode"`
	ResourceGroupID         yaml.Node         `yaml:"resourceGroupId"`
}

type fc3Async struct {
	MaxAsyncRetryAttempts     *int `yaml:"maxAsyncRetryAttempts"`
	MaxAsyncEventAgeInSeconds int  `yaml:"maxAsyncEventAgeInSeconds"`
	DestinationConfig         struct {
		OnSuccess struct {
			Destination string `yaml:"destination"`
		} `yaml:"onSuccess"`
		OnFailure struct {
			Destination string `yaml:"destination"`
		} `yaml:"onFailure"`
	} `yaml:"destinationConfig"`
	AsyncTask yaml.Node `yaml:"asyncTask"`
	Qualifier yaml.Node `yaml:"qualifier"`
}

type fc3Trigger struct {
	TriggerName    string    `yaml:"triggerName"`
	TriggerType    string    `yaml:"triggerType"`
	TriggerConfig  yaml.Node `yaml:"triggerConfig"`
	InvocationRole string    `yaml:"invocationRole"`
	SourceArn      string    `yaml:"sourceArn"`
	Qualifier      string    `yaml:"qualifier"`
	Description    yaml.Node `yaml:"description"`
}

type ossTriggerConfig struct {
	Events []string `yaml:"events"`
	Filter struct {
		Key struct {
			Prefix *string `yaml:"prefix"`
			Suffix *string `yaml:"suffix"`
		} `yaml:"key"`
	} `yaml:"filter"`
}

type timerTriggerConfig struct {
	CronExpression string `yaml:"cronExpression"`
	Enable         *bool  `yaml:"enable"`
	Payload        string `yaml:"payload"`
}

// LoadSYaml reads a Serverless Devs 3 s.yaml and returns its fc3 functions.
// Expressions ${vars.x}, ${env('X')} (also ${env("X")} and the older
// ${env.X}) and ${config('AccountID')} are resolved; overrides win over
// both vars and the environment and are keyed "vars.x" (or just "x"),
// "env.X" and "config.AccountID". Code directories are made absolute
// relative to the s.yaml's directory.
func LoadSYaml(path string, overrides map[string]string) (Config, error) {
	var cfg Config
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read s.yaml: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return cfg, fmt.Errorf("resolve s.yaml dir: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, fmt.Errorf("parse %s: %w", path, err)
	}
	// vars may use env/config expressions but not each other: resolve the
	// vars block first, then the rest of the document against it.
	r := &resolver{overrides: overrides, vars: map[string]string{}}
	if doc := docMap(&root); doc != nil {
		if v := mapValue(doc, "vars"); v != nil {
			if err := r.walk(v, "vars"); err != nil {
				return cfg, err
			}
			var vars map[string]any
			if err := v.Decode(&vars); err != nil {
				return cfg, fmt.Errorf("decode vars: %w", err)
			}
			for k, val := range vars {
				r.vars[k] = fmt.Sprint(val)
			}
		}
	}
	r.varsReady = true
	if err := r.walk(&root, ""); err != nil {
		return cfg, err
	}
	var doc sYaml
	if err := strictDecode(&root, &doc); err != nil {
		return cfg, fmt.Errorf("decode %s: %w", path, err)
	}
	if doc.Edition != "" && !strings.HasPrefix(doc.Edition, "3.") {
		return cfg, fmt.Errorf("s.yaml edition %s is not supported (Serverless Devs 3: edition 3.0.0)", doc.Edition)
	}
	cfg.Name = doc.Name
	names := make([]string, 0, len(doc.Resources))
	for k := range doc.Resources {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, key := range names {
		res := doc.Resources[key]
		if res.Component != "fc3" && !strings.HasPrefix(res.Component, "fc3@") && !strings.HasSuffix(res.Component, "/fc3") {
			continue
		}
		fn, err := decodeFunction(key, &res.Props, dir)
		if err != nil {
			return cfg, fmt.Errorf("resource %s: %w", key, err)
		}
		cfg.Functions = append(cfg.Functions, fn)
	}
	if len(cfg.Functions) == 0 {
		return cfg, fmt.Errorf("%s has no fc3 resources", path)
	}
	seen := map[string]string{}
	for _, f := range cfg.Functions {
		if other, dup := seen[f.Name]; dup {
			return cfg, fmt.Errorf("resources %s and %s both define function %s", other, f.Resource, f.Name)
		}
		seen[f.Name] = f.Resource
	}
	return cfg, nil
}

func decodeFunction(key string, props *yaml.Node, dir string) (Function, error) {
	var p fc3Props
	if props.Kind == 0 {
		return Function{}, errors.New("props is required")
	}
	if err := strictDecode(props, &p); err != nil {
		return Function{}, fmt.Errorf("decode props: %w", err)
	}
	if p.FunctionName == "" {
		return Function{}, errors.New("props.functionName is required")
	}
	if p.Region == "" {
		return Function{}, fmt.Errorf("function %s: region is required", p.FunctionName)
	}
	f := Function{
		Resource: key, Name: p.FunctionName, Region: p.Region, Runtime: p.Runtime, Handler: p.Handler,
		Role: p.Role, Timeout: p.Timeout, MemorySize: p.MemorySize, InstanceConcurrency: p.InstanceConcurrency,
		Environment: p.EnvironmentVariables,
	}
	switch p.Code.Kind {
	case 0:
	case yaml.ScalarNode:
		code := p.Code.Value
		if strings.HasSuffix(strings.ToLower(code), ".zip") || strings.HasSuffix(strings.ToLower(code), ".jar") {
			return f, fmt.Errorf("function %s: code %s is an archive; the local FC runs an unpacked directory", f.Name, code)
		}
		if !filepath.IsAbs(code) {
			code = filepath.Join(dir, code)
		}
		f.Code = filepath.Clean(code)
	default:
		return f, fmt.Errorf("function %s: code stored in OSS is not supported locally; point code at a directory", f.Name)
	}
	f.Async.MaxRetryAttempts = defaultMaxRetries
	if a := p.AsyncInvokeConfig; a != nil {
		if a.MaxAsyncRetryAttempts != nil {
			f.Async.MaxRetryAttempts = *a.MaxAsyncRetryAttempts
		}
		f.Async.MaxEventAge = a.MaxAsyncEventAgeInSeconds
		f.Async.OnSuccess = a.DestinationConfig.OnSuccess.Destination
		f.Async.OnFailure = a.DestinationConfig.OnFailure.Destination
	}
	for i, t := range p.Triggers {
		tr := Trigger{Name: t.TriggerName, Type: t.TriggerType, Qualifier: t.Qualifier, SourceArn: t.SourceArn, InvocationRole: t.InvocationRole}
		if t.TriggerConfig.Kind == 0 {
			return f, fmt.Errorf("function %s: trigger %d (%s): triggerConfig is required", f.Name, i, t.TriggerName)
		}
		switch t.TriggerType {
		case "oss":
			var c ossTriggerConfig
			if err := strictDecode(&t.TriggerConfig, &c); err != nil {
				return f, fmt.Errorf("function %s: trigger %s: %w", f.Name, t.TriggerName, err)
			}
			// fc3 requires both keys (an empty string is allowed).
			if c.Filter.Key.Prefix == nil || c.Filter.Key.Suffix == nil {
				return f, fmt.Errorf("function %s: trigger %s: triggerConfig.filter.key needs both prefix and suffix ('' allowed)", f.Name, t.TriggerName)
			}
			tr.OSS = &OSSTrigger{Events: c.Events, Prefix: *c.Filter.Key.Prefix, Suffix: *c.Filter.Key.Suffix}
		case "timer":
			var c timerTriggerConfig
			if err := strictDecode(&t.TriggerConfig, &c); err != nil {
				return f, fmt.Errorf("function %s: trigger %s: %w", f.Name, t.TriggerName, err)
			}
			if c.Enable == nil {
				return f, fmt.Errorf("function %s: trigger %s: triggerConfig.enable is required", f.Name, t.TriggerName)
			}
			tr.Timer = &TimerTrigger{CronExpression: c.CronExpression, Enable: *c.Enable, Payload: c.Payload}
		}
		f.Triggers = append(f.Triggers, tr)
	}
	if err := f.Validate(); err != nil {
		return f, err
	}
	return f, nil
}

// strictDecode decodes a node rejecting unknown fields (yaml.v3 only
// offers KnownFields on a Decoder, so the node is re-encoded).
func strictDecode(n *yaml.Node, v any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	return dec.Decode(v)
}

func docMap(root *yaml.Node) *yaml.Node {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

type resolver struct {
	overrides map[string]string
	vars      map[string]string
	varsReady bool
}

var exprRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// walk resolves expressions in every scalar under n. A scalar that was one
// whole expression loses its quoting so `timeout: ${vars.t}` decodes as
// an int, as Serverless Devs does.
func (r *resolver) walk(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			if err := r.walk(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p := k
			if path != "" {
				p = path + "." + k
			}
			if path == "" && k == "vars" && r.varsReady {
				continue
			}
			if err := r.walk(n.Content[i+1], p); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		whole := exprRE.FindStringIndex(n.Value)
		isWhole := whole != nil && whole[0] == 0 && whole[1] == len(n.Value)
		var firstErr error
		out := exprRE.ReplaceAllStringFunc(n.Value, func(m string) string {
			v, err := r.eval(strings.TrimSpace(m[2 : len(m)-1]))
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s: %s: %w", path, m, err)
			}
			return v
		})
		if firstErr != nil {
			return firstErr
		}
		n.Value = out
		if isWhole {
			n.Tag = ""
			n.Style = 0
		}
	}
	return nil
}

var (
	envCallRE    = regexp.MustCompile(`^env\(\s*['"]([^'"]+)['"]\s*\)$`)
	configCallRE = regexp.MustCompile(`^config\(\s*['"]([^'"]+)['"]\s*\)$`)
)

func (r *resolver) eval(expr string) (string, error) {
	switch {
	case strings.HasPrefix(expr, "vars."):
		name := strings.TrimPrefix(expr, "vars.")
		if v, ok := r.overrides["vars."+name]; ok {
			return v, nil
		}
		if v, ok := r.overrides[name]; ok {
			return v, nil
		}
		if !r.varsReady {
			return "", errors.New("vars cannot refer to other vars")
		}
		if v, ok := r.vars[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("undefined variable vars.%s", name)
	case strings.HasPrefix(expr, "env."):
		return r.env(strings.TrimPrefix(expr, "env."))
	}
	if m := envCallRE.FindStringSubmatch(expr); m != nil {
		return r.env(m[1])
	}
	if m := configCallRE.FindStringSubmatch(expr); m != nil {
		if v, ok := r.overrides["config."+m[1]]; ok {
			return v, nil
		}
		return "", fmt.Errorf("config %s is not set (pass override config.%s)", m[1], m[1])
	}
	return "", fmt.Errorf("unsupported expression (local FC resolves vars.x, env('X'), env.X, config('X'))")
}

func (r *resolver) env(name string) (string, error) {
	if v, ok := r.overrides["env."+name]; ok {
		return v, nil
	}
	if v, ok := os.LookupEnv(name); ok {
		return v, nil
	}
	return "", fmt.Errorf("environment variable %s is not set", name)
}

// timeout is the function timeout as a duration.
func (f *Function) timeout() time.Duration { return time.Duration(f.Timeout) * time.Second }
