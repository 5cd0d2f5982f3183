package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/localtest"
	localoss "github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/ossscan"
)

type backfillEnv struct {
	env    *localtest.Env
	dir    string
	ctx    context.Context
	oss    *oss.Client
	bucket string
	id     string
	secret string
}

// startBackfill brings up the local cloud with a bucket holding clean
// objects and, under "leaky/", n objects with a RAM user's key.
func startBackfill(t *testing.T, functions []string, leaky int) *backfillEnv {
	t.Helper()
	dir := t.TempDir()
	env := localtest.Start(t, localtest.Options{Functions: functions, Dir: dir})
	if _, err := env.Cloud.Env.IAM.CreateUser("legacy-app", "", ""); err != nil {
		t.Fatal(err)
	}
	k, err := env.Cloud.Env.IAM.CreateAccessKey("legacy-app")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b := &backfillEnv{env: env, dir: dir, ctx: ctx, oss: env.Root.OSS(), bucket: env.Vars["uploadBucket"],
		id: k.AccessKeyID, secret: k.AccessKeySecret}
	// Stored without notifying the OSS trigger: these objects predate
	// akguard, which is what a backfill is for.
	put := func(key, body string) {
		if _, err := env.Cloud.OSS.PutSynthetic(ctx, b.bucket, key, localoss.Synthetic{Size: int64(len(body)),
			Gen: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		put(fmt.Sprintf("clean/readme-%d.txt", i), "nothing to see here\n")
	}
	for i := range leaky {
		put(fmt.Sprintf("leaky/app-%d.env", i), "ALIBABA_CLOUD_ACCESS_KEY_ID="+k.AccessKeyID+"\nALIBABA_CLOUD_ACCESS_KEY_SECRET="+k.AccessKeySecret+"\n")
	}
	return b
}

func (b *backfillEnv) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runBackfill(b.ctx, append([]string{"--endpoints", b.dir}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestBackfillScansInProcess(t *testing.T) {
	b := startBackfill(t, nil, 2)
	code, out, errs := b.run("--format", "jsonl", "oss://"+b.bucket+"/")
	if code != exitFound {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFound, errs)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f finding.Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil || f.Rule == "" {
			continue // skips and the summary share the stream
		}
		if f.AccessKeyID != b.id {
			t.Errorf("finding for %s, want %s", f.AccessKeyID, b.id)
		}
		got = append(got, f.Path)
	}
	// jsonl streams findings as objects finish, in any order.
	slices.Sort(got)
	want := []string{"oss://" + b.bucket + "/leaky/app-0.env", "oss://" + b.bucket + "/leaky/app-1.env"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("findings in %v, want %v", got, want)
	}
	if !strings.Contains(errs, "5/5 objects") || !strings.Contains(errs, "2 findings") {
		t.Errorf("progress line missing from stderr:\n%s", errs)
	}
	if strings.Contains(out+errs, b.secret) {
		t.Error("the secret is in the output")
	}
	// Scan flags work with oss:// too: an ignore file drops the findings.
	var fps []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f finding.Finding
		if json.Unmarshal([]byte(line), &f) == nil && f.Fingerprint != "" {
			fps = append(fps, f.Fingerprint)
		}
	}
	ignore := filepath.Join(t.TempDir(), ".akguardignore")
	if err := os.WriteFile(ignore, []byte(strings.Join(fps, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := b.run("--ignore", ignore, "--verbose", "oss://"+b.bucket); code != exitOK {
		t.Errorf("with --ignore: exit %d, stderr:\n%s", code, errs)
	}
	// A prefix narrows the listing.
	if code, _, errs := b.run("oss://" + b.bucket + "/clean/"); code != exitOK || !strings.Contains(errs, "3/3 objects") {
		t.Errorf("clean prefix: exit %d, stderr:\n%s", code, errs)
	}
}

func TestBackfillFansOutToTheScanFunction(t *testing.T) {
	for _, tc := range []struct {
		name        string
		flags       []string
		invocations int
	}{
		{"forced", []string{"--fanout", "--batch", "2"}, 3},
		{"over threshold", []string{"--fanout-threshold", "4", "--batch", "4"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBackfill(t, []string{"scan"}, 3)
			code, out, errs := b.run(append(tc.flags, "oss://"+b.bucket)...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, errs)
			}
			if want := fmt.Sprintf("handed 6 objects to akguard-scan in %d asynchronous invocations", tc.invocations); !strings.Contains(out, want) {
				t.Errorf("stdout = %q, want %q", out, want)
			}
			if err := b.env.Cloud.FC.WaitIdle(b.ctx); err != nil {
				t.Fatal(err)
			}
			inv := b.env.Cloud.FC.Invocations("akguard-scan")
			if len(inv) != tc.invocations {
				t.Errorf("scan ran %d times, want %d", len(inv), tc.invocations)
			}
			for _, i := range inv {
				if i.Status != "success" {
					t.Errorf("scan invocation failed: %s %s", i.ErrorType, i.Error)
				}
			}
			keys := []string{}
			p := b.oss.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(b.env.Vars["stateBucket"]), Prefix: oss.Ptr("akguard/findings/")})
			for p.HasNext() {
				page, err := p.NextPage(b.ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					keys = append(keys, oss.ToString(o.Key))
				}
			}
			if len(keys) != 3 {
				t.Errorf("state bucket holds %d finding records, want 3: %v", len(keys), keys)
			}
		})
	}
}

func TestBackfillUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--endpoints", "/nonexistent", "oss://b"}, "read endpoints file"},
		{[]string{"--endpoints", "/nonexistent"}, "no oss:// URL"},
		{[]string{"--endpoints", "/nonexistent", "oss://b", "dir"}, "cannot be mixed"},
		{[]string{"--endpoints", "/nonexistent", "--format", "xml", "oss://b"}, "xml"},
	} {
		var out, errb bytes.Buffer
		code := runBackfill(context.Background(), tc.args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
		if code != exitError || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

func TestBatcherSplitsByCountAndBytes(t *testing.T) {
	bt := &ossscan.Batcher{Region: "cn-hangzhou", AccountID: "1", Bucket: "b", MaxObjects: 3, MaxBytes: 100,
		Now: func() time.Time { return time.Unix(0, 0) }}
	var sizes []int
	for _, sz := range []int64{10, 10, 10, 10, 95, 1, 1} {
		ev, err := bt.Add(ossscan.Listed{Key: "k", ETag: "E", Size: sz})
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil {
			sizes = append(sizes, strings.Count(string(ev), `"eventName"`))
		}
	}
	ev, _ := bt.Flush()
	sizes = append(sizes, strings.Count(string(ev), `"eventName"`))
	if fmt.Sprint(sizes) != "[3 1 3]" {
		t.Errorf("batches of %v, want [3 1 3]", sizes)
	}
}

func TestHasOSSURL(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"."}, false},
		{[]string{"--format", "json", "oss://b/p"}, true},
		{[]string{"--", "oss://b"}, true},
		{[]string{"dir/oss://x"}, false},
	} {
		if got := hasOSSURL(tc.args); got != tc.want {
			t.Errorf("hasOSSURL(%v) = %v", tc.args, got)
		}
	}
}
