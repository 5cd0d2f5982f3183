// Package fault injects failures into the local cloud's services so tests
// can prove akguard survives 5xx, throttling, latency and dropped
// connections. Rules are data; decisions are reproducible from a seed.
package fault

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"sync"
	"time"
)

// Rule describes one kind of failure for matching requests.
type Rule struct {
	// Service is "oss", "ram", "ims", "sts", "actiontrail", "kms", "smq",
	// "fc", or "*". Operation is the API name (PutObject, LookupEvents, ...)
	// and may be a glob ("Get*", "*").
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Rate is the probability (0..1) that a matching request fails this way.
	Rate float64 `json:"rate"`
	// Kind selects the failure: "error" (Status+Code), "throttle" (the
	// service's own throttling error), "latency" (delay then proceed),
	// "drop" (close the connection without a response).
	Kind    string        `json:"kind"`
	Status  int           `json:"status,omitempty"`
	Code    string        `json:"code,omitempty"`
	Latency time.Duration `json:"latency,omitempty"`
	// Remaining limits how many times the rule fires; 0 means unlimited.
	Remaining int `json:"remaining,omitempty"`
}

// Decision is what a service must do with one request.
type Decision struct {
	Kind    string // "", "error", "throttle", "drop"
	Status  int
	Code    string
	Latency time.Duration // sleep before anything else
}

// Injector holds the active rules. The zero value injects nothing.
type Injector struct {
	mu    sync.Mutex
	rules []Rule
	rng   *rand.Rand
	fired map[string]int // "service/operation/kind" -> count
}

// New returns an injector with a deterministic random source.
func New(seed uint64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), fired: map[string]int{}}
}

// Set replaces the rules.
func (in *Injector) Set(rules []Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = append([]Rule(nil), rules...)
}

// Add appends one rule.
func (in *Injector) Add(r Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = append(in.rules, r)
}

// Clear removes every rule.
func (in *Injector) Clear() { in.Set(nil) }

// Fired reports how often faults fired, keyed "service/operation/kind".
func (in *Injector) Fired() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]int, len(in.fired))
	for k, v := range in.fired {
		out[k] = v
	}
	return out
}

// LoadFile reads rules from a JSON array file; a missing file means none.
func (in *Injector) LoadFile(p string) error {
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read fault rules: %w", err)
	}
	var rules []Rule
	if err := json.Unmarshal(data, &rules); err != nil {
		return fmt.Errorf("decode fault rules %s: %w", p, err)
	}
	in.Set(rules)
	return nil
}

// Decide returns the fault (if any) for one request. Latency rules combine
// with at most one failing rule.
func (in *Injector) Decide(service, operation string) Decision {
	if in == nil {
		return Decision{}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.rules) == 0 {
		return Decision{}
	}
	if in.rng == nil {
		in.rng = rand.New(rand.NewPCG(1, 2))
		in.fired = map[string]int{}
	}
	var d Decision
	for i := range in.rules {
		r := &in.rules[i]
		if !match(r.Service, service) || !match(r.Operation, operation) {
			continue
		}
		if r.Remaining < 0 || (r.Rate < 1 && in.rng.Float64() >= r.Rate) {
			continue
		}
		if r.Remaining > 0 {
			r.Remaining--
			if r.Remaining == 0 {
				r.Remaining = -1 // exhausted
			}
		}
		in.fired[service+"/"+operation+"/"+r.Kind]++
		if r.Kind == "latency" {
			d.Latency += r.Latency
			continue
		}
		if d.Kind == "" {
			d.Kind, d.Status, d.Code = r.Kind, r.Status, r.Code
		}
	}
	return d
}

func match(pattern, s string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}
