package e2e

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/infra/local/localtest"
	localoss "github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/infra/local/trail"
	"github.com/akguard/akguard/shared/notify"
	"github.com/akguard/akguard/shared/ossscan"
)

const (
	scanFn    = "akguard-scan"
	respondFn = "akguard-respond"
	auditFn   = "akguard-audit"
	prefix    = "akguard/"
)

func soak() bool { return os.Getenv("AKGUARD_SOAK") == "1" }

type fixture struct {
	t      testing.TB
	env    *localtest.Env
	dir    string
	ctx    context.Context
	oss    *oss.Client
	upload string
	state  string
	// errs collects every error string the test saw (function errors,
	// invocation records), to be searched for secrets too.
	errs []string
}

// start deploys scan, respond and audit with containment live (dryRun
// false) and the circuit breaker out of the way: these tests count
// containments, they do not test the breaker.
func start(t testing.TB, fopts fc.Options, env map[string]string) *fixture {
	t.Helper()
	e := map[string]string{"AKGUARD_MAX_CONTAINMENTS_PER_HOUR": "1000"}
	for k, v := range env {
		e[k] = v
	}
	dir := t.TempDir()
	le := localtest.Start(t, localtest.Options{Functions: []string{"scan", "respond", "audit"},
		Vars: map[string]string{"dryRun": "false"}, Env: e, Dir: dir, FC: fopts})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	f := &fixture{t: t, env: le, dir: dir, ctx: ctx, oss: le.Root.OSS(), upload: le.Vars["uploadBucket"], state: le.Vars["stateBucket"]}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, fn := range []string{scanFn, respondFn, auditFn} {
			b, _ := os.ReadFile(filepath.Join(dir, "fc", "logs", fn+".log"))
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("%s log (tail):\n%s", fn, b)
		}
	})
	return f
}

// user creates a RAM user with one live key: the leak's victim.
func (f *fixture) user(name string) iam.AccessKey {
	f.t.Helper()
	return f.env.User(f.t, name, "AliyunOSSFullAccess")
}

// put uploads through the SDK, so OSS fires the trigger as it would.
func (f *fixture) put(key string, body []byte) string {
	f.t.Helper()
	res, err := f.oss.PutObject(f.ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(f.upload), Key: oss.Ptr(key), Body: bytes.NewReader(body)})
	if err != nil {
		f.t.Fatalf("put object %s: %v", key, err)
	}
	return ossscan.NormalizeETag(oss.ToString(res.ETag))
}

// putDirect stores the object in the local OSS without an HTTP request
// (immune to injected OSS faults) and fires the trigger.
func (f *fixture) putDirect(key string, body []byte) string {
	f.t.Helper()
	info, err := f.env.Cloud.OSS.PutSynthetic(f.ctx, f.upload, key, localoss.Synthetic{Size: int64(len(body)),
		Gen: bytes.NewReader(body), ContentType: "text/plain", Notify: true})
	if err != nil {
		f.t.Fatalf("put synthetic %s: %v", key, err)
	}
	return ossscan.NormalizeETag(info.ETag)
}

// distinct counts a function's distinct invocations (retries share the
// request ID).
func (f *fixture) distinct(fn string) int {
	ids := map[string]bool{}
	for _, i := range f.env.Cloud.FC.Invocations(fn) {
		ids[i.RequestID] = true
	}
	return len(ids)
}

// settle waits for n distinct scan invocations, then for the whole
// pipeline (scan → respond) to go idle. OSS notifies FC from a goroutine
// after PutObject returns, so FC may look idle before the event arrives.
func (f *fixture) settle(n int) time.Duration {
	f.t.Helper()
	begin := time.Now()
	for f.distinct(scanFn) < n {
		select {
		case <-f.ctx.Done():
			f.t.Fatalf("scan invoked for %d events, want %d", f.distinct(scanFn), n)
		case <-time.After(2 * time.Millisecond):
		}
	}
	// respond is invoked asynchronously by scan: idle twice over a short
	// gap so an invocation accepted just now is not missed.
	for range 2 {
		if err := f.env.Cloud.FC.WaitIdle(f.ctx); err != nil {
			f.t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(begin)
}

// finalStatus reduces a function's attempts to the last status of each
// distinct invocation, collecting error strings on the way.
func (f *fixture) finalStatus(fn string) map[string]fc.Invocation {
	out := map[string]fc.Invocation{}
	for _, i := range f.env.Cloud.FC.Invocations(fn) {
		if i.Error != "" {
			f.errs = append(f.errs, i.Error)
		}
		if prev, ok := out[i.RequestID]; !ok || i.RetryCount >= prev.RetryCount {
			out[i.RequestID] = i
		}
	}
	return out
}

// records reads every object under prefix p of the state bucket.
func (f *fixture) records(p string) map[string][]byte {
	f.t.Helper()
	// No store prefix: keys are whole object keys, as callers index them.
	return f.env.Records(f.ctx, f.t, prefix+p)
}

func (f *fixture) findings() []ossscan.Record {
	f.t.Helper()
	return localtest.Decode[ossscan.Record](f.t, f.records("findings/"))
}

// inbox drains the queue subscribed to the alerts topic, keeping the raw
// bodies for the secret search.
func (f *fixture) inbox() ([]notify.Message, []string) {
	f.t.Helper()
	raw := f.env.Drain(f.t, localtest.InboxQueue)
	var out []notify.Message
	for _, body := range raw {
		msg, err := notify.Decode(body)
		if err != nil {
			f.t.Fatalf("inbox message: %v", err)
		}
		out = append(out, msg)
	}
	return out, raw
}

// trailEvents returns the trail's events matching service and event name.
func (f *fixture) trailEvents(service, name string) []trail.Event {
	var out []trail.Event
	for _, e := range f.env.Cloud.Env.Trail.All() {
		if e.ServiceName == service && e.EventName == name {
			out = append(out, e)
		}
	}
	return out
}

// attachSuccesses counts successful AttachPolicyToUser calls per user.
func (f *fixture) attachSuccesses() map[string]int {
	out := map[string]int{}
	for _, e := range f.trailEvents("Ram", "AttachPolicyToUser") {
		if e.ErrorCode == "" {
			out[fmt.Sprint(e.RequestParameters["UserName"])]++
		}
	}
	return out
}

// pids lists the running instances of a function in this fixture's
// cloud: processes whose executable is the binary localtest built and
// whose endpoints file is in this fixture's data directory.
func (f *fixture) pids(name string) []int {
	t := f.t
	t.Helper()
	mine := []byte("AKGUARD_LOCAL_ENDPOINTS=" + filepath.Join(f.dir, "endpoints.json") + "\x00")
	exe := filepath.Join(localtest.BuildFunction(t, name), "main")
	dirs, _ := os.ReadDir("/proc")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe")); err != nil || target != exe {
			continue
		}
		if env, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ")); err == nil && bytes.Contains(append(env, 0), mine) {
			out = append(out, pid)
		}
	}
	return out
}

func kill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// fcOpts are the local FC settings of these tests: fast async retries.
func fcOpts() fc.Options { return fc.Options{RetryBase: 50 * time.Millisecond} }

// --- test data ---------------------------------------------------------

// envFile is a config file holding a key pair.
func envFile(k iam.AccessKey) []byte {
	return []byte("# deploy settings\nREGION=cn-hangzhou\nALIBABA_CLOUD_ACCESS_KEY_ID=" + k.AccessKeyID +
		"\nALIBABA_CLOUD_ACCESS_KEY_SECRET=" + k.AccessKeySecret + "\n")
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range sortedKeys(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tgzOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, name := range sortedKeys(files) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// clean is text with no credential: identifiers that look a little like
// keys but are not pairs.
func clean(i int) []byte {
	return []byte(fmt.Sprintf("id,name,region,build\n%d,service-%d,cn-hangzhou,LTAI-build-%04d\n# no credentials here\n", i, i, i))
}

// --- secret search -----------------------------------------------------

// needles returns, for each planted secret, the whole string and its
// first 12 characters (a truncated secret is still a leak), each also as
// it reads inside base64 text: SMQ message bodies are base64 (notify's
// encoding), and so are their journals on disk.
func needles(secrets []string) map[string]int {
	out := map[string]int{}
	for i, s := range secrets {
		plain := []string{s}
		if len(s) > 12 {
			plain = append(plain, s[:12])
		}
		for _, p := range plain {
			out[p] = i
			for _, b := range base64Forms(p) {
				out[b] = i
			}
		}
	}
	return out
}

// base64Forms returns the characters base64 text holds wherever p is
// encoded, for each of the three alignments p can have in the encoded
// stream: the encoding of filler+p minus the characters that depend on
// the bytes around p.
func base64Forms(p string) []string {
	var out []string
	for k := range 3 {
		enc := base64.RawStdEncoding.EncodeToString(append(make([]byte, k), p...))
		if bits := (k + len(p)) * 8; bits%6 != 0 {
			enc = enc[:len(enc)-1]
		}
		enc = enc[[]int{0, 2, 3}[k]:]
		if len(enc) >= 8 {
			out = append(out, enc)
		}
	}
	return out
}

// leakSearch walks every file under the data directory except the
// identity store (which must hold secrets) and the upload bucket's
// objects (the leaks themselves), plus extra in-memory outputs, and
// reports where any needle appears. It returns the number of files read.
func (f *fixture) leakSearch(secrets []string, extra map[string]string) (hits []string, files int) {
	f.t.Helper()
	ns := needles(secrets)
	check := func(where string, b []byte) {
		for n, i := range ns {
			if bytes.Contains(b, []byte(n)) {
				hits = append(hits, fmt.Sprintf("%s holds %d chars of planted secret #%d", where, len(n), i))
			}
		}
	}
	excluded := []string{filepath.Join(f.dir, "iam"), filepath.Join(f.dir, "endpoints.json")}
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, x := range excluded {
			if p == x {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			// The upload bucket's object data holds the leaks by design.
			if d.Name() == f.upload && strings.Contains(p, string(filepath.Separator)+"oss"+string(filepath.Separator)) {
				return fs.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		check(strings.TrimPrefix(p, f.dir+"/"), b)
		return nil
	})
	if err != nil {
		f.t.Fatalf("walk data dir: %v", err)
	}
	for where, s := range extra {
		check(where, []byte(s))
	}
	return hits, files
}
