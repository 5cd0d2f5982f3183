package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	localoss "github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/shared/finding"
	"github.com/akguard/akguard/shared/ossscan"
)

// recordKey is where the scan function stores the finding of the
// fixture's key pair in the given object version.
func (f *fixture) recordKey(key, etag string) string {
	fp := finding.Fingerprint("oss://"+f.upload+"/"+key, "alibaba-access-key-pair", f.key.AccessKeyID, finding.HashSecret(f.key.AccessKeySecret))
	return prefix + ossscan.FindingKey(f.upload, fp, etag)
}

func (f *fixture) waitRecord(tb testing.TB, key string, deadline time.Duration) {
	end := time.Now().Add(deadline)
	for {
		_, err := f.oss.HeadObject(f.ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(f.state), Key: oss.Ptr(key)})
		if err == nil {
			return
		}
		var se *oss.ServiceError
		if !errors.As(err, &se) || se.StatusCode != 404 {
			tb.Fatal(err)
		}
		if time.Now().After(end) {
			tb.Fatalf("record %s not written within %v", key, deadline)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkUploadToRecord measures, on the local cloud with the real
// function binary, the time from PutObject returning to the finding record
// existing in the state bucket, for a small object (warm instance).
func BenchmarkUploadToRecord(b *testing.B) {
	f := start(b, nil)
	body := f.leak()
	// Warm the instance: the first invocation starts the process.
	etag := f.put("bench/warm.env", body, "")
	f.waitRecord(b, f.recordKey("bench/warm.env", etag), 30*time.Second)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("bench/obj-%06d.env", i)
		i++
		start := time.Now()
		etag := f.put(key, body, "")
		f.waitRecord(b, f.recordKey(key, etag), 30*time.Second)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkFunctionLargeObject uploads a 1 GiB object (sparse, with the key
// in its last MiB) and measures the scan function end to end: event to
// recorded finding, and the function process's peak RSS (VmHWM).
func BenchmarkFunctionLargeObject(b *testing.B) {
	f := start(b, nil)
	const size = 1 << 30
	b.SetBytes(size)
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("bench/disk-%d.img", i)
		i++
		info, err := f.env.Cloud.OSS.PutSynthetic(f.ctx, f.upload, key, localoss.Synthetic{Size: size,
			Patches: []localoss.Patch{{Offset: size - 1<<20, Data: f.leak()}}, Notify: true})
		if err != nil {
			b.Fatal(err)
		}
		f.waitRecord(b, f.recordKey(key, ossscan.NormalizeETag(info.ETag)), 5*time.Minute)
	}
	if hwm, ok := functionHWM("scan"); ok {
		b.ReportMetric(float64(hwm)/1024, "fn-peak-rss-MiB")
	}
}

// functionHWM finds the running function process built from
// ./functions/<name> and returns its VmHWM in KiB.
func functionHWM(name string) (int64, bool) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var best int64
	for _, p := range procs {
		exe, err := os.Readlink(filepath.Join(p, "exe"))
		if err != nil || !strings.HasSuffix(exe, string(filepath.Separator)+filepath.Join(name, "main")) || !strings.Contains(exe, "akguard-functions-") {
			continue
		}
		status, err := os.ReadFile(filepath.Join(p, "status"))
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(status, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
				if err == nil && n > best {
					best = n
				}
			}
		}
	}
	return best, best > 0
}
