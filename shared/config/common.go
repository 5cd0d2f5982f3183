package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Common is the configuration every function shares. Each function adds
// its own variables in its own file of this package; every variable is
// documented in the README's configuration reference.
type Common struct {
	// StateBucket holds findings, containment records, checkpoints and
	// baselines (AKGUARD_STATE_BUCKET, required).
	StateBucket string
	// StatePrefix is the key prefix inside it (AKGUARD_STATE_PREFIX, default "akguard/").
	StatePrefix string
	// RespondFunction is invoked asynchronously with incidents
	// (AKGUARD_RESPOND_FUNCTION, default "akguard-respond").
	RespondFunction string
	// Region and AccountID come from FC (FC_REGION, FC_ACCOUNT_ID).
	Region    string
	AccountID string
	Endpoints Endpoints
}

// Getenv abstracts os.Getenv so tests pass maps.
type Getenv func(string) string

// LoadCommon reads the shared variables.
func LoadCommon(getenv Getenv) (Common, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Common{
		StateBucket:     getenv("AKGUARD_STATE_BUCKET"),
		StatePrefix:     orDefault(getenv("AKGUARD_STATE_PREFIX"), "akguard/"),
		RespondFunction: orDefault(getenv("AKGUARD_RESPOND_FUNCTION"), "akguard-respond"),
		Region:          getenv("FC_REGION"),
		AccountID:       getenv("FC_ACCOUNT_ID"),
	}
	if c.StateBucket == "" {
		return c, fmt.Errorf("AKGUARD_STATE_BUCKET is required")
	}
	if !strings.HasSuffix(c.StatePrefix, "/") {
		c.StatePrefix += "/"
	}
	if p := getenv(EndpointsEnv); p != "" {
		lc, err := ReadLocalCloud(p)
		if err != nil {
			return c, err
		}
		c.Endpoints = lc.Endpoints
	}
	return c, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// Bool parses a boolean variable ("true"/"false"/"1"/"0"), with a default.
func Bool(getenv Getenv, name string, def bool) (bool, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, fmt.Errorf("%s=%q is not a boolean", name, v)
	}
	return b, nil
}

// Int parses an integer variable with a default and a minimum.
func Int(getenv Getenv, name string, def, min int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return def, fmt.Errorf("%s=%q is not an integer >= %d", name, v, min)
	}
	return n, nil
}

// Duration parses a Go duration ("10m") with a default.
func Duration(getenv Getenv, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return def, fmt.Errorf("%s=%q is not a duration such as 10m", name, v)
	}
	return d, nil
}

// List splits a comma-separated variable, dropping blanks.
func List(getenv Getenv, name string) []string {
	var out []string
	for _, p := range strings.Split(getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
