package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/shared/aliyun"
)

// setup against the local cloud with the project's own s.yaml and infra/:
// the dry run plans everything and writes nothing, the run applies it,
// and the next run is up to date. This is what `make demo` runs.
func TestSetupCommand(t *testing.T) {
	c, err := cloud.Start(context.Background(), cloud.Options{DataDir: t.TempDir(), AccountID: "1234567890123456", Region: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rk := c.Env.IAM.RootKey()
	base := []string{"--endpoints", c.EndpointsFile(), "--s-yaml", "../../s.yaml", "--infra", "../../infra",
		"--create-upload-bucket", "--subscribe-queue", "akguard-oncall:critical"}
	run := func(extra ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runSetup(context.Background(), append(append([]string{}, base...), extra...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
		for _, s := range []string{out.String(), errb.String()} {
			if strings.Contains(s, rk.AccessKeySecret) {
				t.Fatal("the root secret was printed")
			}
		}
		return code, out.String(), errb.String()
	}
	writes := func() int {
		n := 0
		for _, ev := range c.Env.Trail.All() {
			if ev.EventRW == "Write" {
				n++
			}
		}
		return n
	}

	code, out, stderr := run("--dry-run")
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	checkGolden(t, "setup-dry-run.txt", []byte(out))
	if !strings.Contains(stderr, "run again without --dry-run") || writes() != 0 {
		t.Errorf("dry run: stderr %q, %d writes", stderr, writes())
	}

	code, out, stderr = run()
	if code != exitOK {
		t.Fatalf("setup: exit %d\n%s%s", code, out, stderr)
	}
	checkGolden(t, "setup-apply.txt", []byte(out))
	applied := writes()

	code, out, stderr = run()
	if code != exitOK || !strings.Contains(out, "\nup to date: ") || writes() != applied {
		t.Errorf("second run: exit %d, %d new writes\n%s%s", code, writes()-applied, out, stderr)
	}
}

func TestSetupPrintPolicy(t *testing.T) {
	var out, errb bytes.Buffer
	code := runSetup(context.Background(), []string{"--s-yaml", "../../s.yaml", "--account-id", "1234567890123456", "--print-policy",
		"--subscribe-queue", "akguard-oncall:critical"}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	checkGolden(t, "setup-policy.json", out.Bytes())
}

func TestSetupHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runSetup(context.Background(), []string{"-h"}, stdio{in: strings.NewReader(""), out: &out, err: &errb}); code != exitOK {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{"usage: akguard setup", "-dry-run", "-subscribe-queue NAME[:TAG]", "-endpoints FILE", "ALIBABA_CLOUD_ACCESS_KEY_ID"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestSetupCommandErrors(t *testing.T) {
	dir := t.TempDir()
	ep := filepath.Join(dir, "endpoints.json")
	if err := os.WriteFile(ep, []byte(`{"account_id":"1234567890123456","region":"cn-hangzhou","credentials":{"access_key_id":"id","access_key_secret":"sec"},"endpoints":{"ram":"http://127.0.0.1:1","oss":"http://127.0.0.1:1","smq":"http://127.0.0.1:1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyInfra := t.TempDir()
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"argument", []string{"--endpoints", ep, "--s-yaml", "../../s.yaml", "extra"}, nil, "setup takes no arguments"},
		{"bad subscription", []string{"--subscribe-queue", "bad name"}, nil, "subscription queue"},
		{"missing s.yaml", []string{"--endpoints", ep, "--s-yaml", filepath.Join(dir, "nope.yaml")}, nil, "read s.yaml"},
		{"no credentials", []string{"--s-yaml", "../../s.yaml"}, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}, "no credentials"},
		{"bad var", []string{"--endpoints", ep, "--s-yaml", "../../s.yaml", "--var", "stateBucket=Bad_Name"}, nil, `bucket name "Bad_Name" is invalid`},
		{"print policy without account", []string{"--s-yaml", "../../s.yaml", "--print-policy"}, nil, "--print-policy needs --account-id"},
		{"missing role policy", []string{"--endpoints", ep, "--s-yaml", "../../s.yaml", "--infra", emptyInfra}, nil, "read policy of role akguard-scan"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := runSetup(context.Background(), tc.args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != exitError || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, errb.String(), tc.want)
			}
			if strings.Contains(out.String()+errb.String(), `"sec"`) {
				t.Error("secret printed")
			}
		})
	}
}

// A state bucket with versioning enabled breaks akguard's exactly-once
// writes and cannot be fixed in place: setup shows the plan, changes
// nothing, exits with an error and tells the user to pick a new bucket.
func TestSetupCommandVersionedStateBucket(t *testing.T) {
	ctx := context.Background()
	c, err := cloud.Start(ctx, cloud.Options{DataDir: t.TempDir(), AccountID: "1234567890123456", Region: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rk := c.Env.IAM.RootKey()
	cl := aliyun.Clients{Region: "cn-hangzhou", AccountID: "1234567890123456", Endpoints: c.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: rk.AccessKeyID, AccessKeySecret: rk.AccessKeySecret}}.OSS()
	if _, err := cl.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr("akguard-state")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr("akguard-state"),
		VersioningConfiguration: &oss.VersioningConfiguration{Status: oss.VersionEnabled}}); err != nil {
		t.Fatal(err)
	}
	before := len(c.Env.Trail.All())
	for i, extra := range [][]string{{"--dry-run"}, nil} {
		var out, errb bytes.Buffer
		args := append([]string{"--endpoints", c.EndpointsFile(), "--s-yaml", "../../s.yaml", "--infra", "../../infra",
			"--var", "stateBucket=akguard-state", "--create-upload-bucket"}, extra...)
		code := runSetup(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
		if code != exitError {
			t.Fatalf("%v: exit %d, want an error\n%s%s", extra, code, out.String(), errb.String())
		}
		checkGolden(t, []string{"setup-versioned-dry-run.txt", "setup-versioned.txt"}[i], out.Bytes())
		for _, want := range []string{"setup cannot fix: oss bucket akguard-state versioning: Enabled", "x-oss-forbid-overwrite", "new bucket name"} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("%v: stderr lacks %q:\n%s", extra, want, errb.String())
			}
		}
	}
	for _, ev := range c.Env.Trail.All()[before:] {
		if ev.EventRW == "Write" {
			t.Errorf("setup wrote %s:%s to an account it refused", ev.ServiceName, ev.EventName)
		}
	}
}
