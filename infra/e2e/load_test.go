package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/akguard/akguard/infra/local/iam"
	localoss "github.com/akguard/akguard/infra/local/oss"
)

// loadSize is the burst: AKGUARD_LOAD_N, else 10,000 under AKGUARD_SOAK=1
// and 1,000 by default.
func loadSize(t *testing.T) int {
	if s := os.Getenv("AKGUARD_LOAD_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("AKGUARD_LOAD_N=%q", s)
		}
		return n
	}
	if soak() {
		return 10000
	}
	return 1000
}

// TestUploadFlood sends a burst of small uploads (one in 100 leaking one
// of three users' keys) through the OSS trigger and FC's instance limit,
// and reports the drain time. Nothing may be lost: one successful scan
// per upload, a record and a notification per leak.
func TestUploadFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of uploads; run without -short")
	}
	n := loadSize(t)
	f := start(t, fcOpts(), nil)
	users := []iam.AccessKey{f.user("kim"), f.user("lee"), f.user("max")}
	leaks := map[string]string{} // object key -> AccessKey ID
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i] = clean(i)
		if i%100 == 50 {
			k := users[(i/100)%len(users)]
			bodies[i], leaks[fmt.Sprintf("flood/%05d.txt", i)] = envFile(k), k.AccessKeyID
		}
	}
	// Uploads arrive concurrently, as from many clients; each one's event
	// is journaled (fsync) by FC before the upload returns.
	begin := time.Now()
	var (
		wg   sync.WaitGroup
		errs = make([]error, n)
		sem  = make(chan struct{}, 16)
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, errs[i] = f.env.Cloud.OSS.PutSynthetic(f.ctx, f.upload, fmt.Sprintf("flood/%05d.txt", i), localoss.Synthetic{
				Size: int64(len(bodies[i])), Gen: bytes.NewReader(bodies[i]), ContentType: "text/plain", Notify: true})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	uploaded := time.Since(begin)
	drain := f.settle(n)
	total := time.Since(begin)

	final := f.finalStatus(scanFn)
	failed, retried := 0, 0
	var queued []time.Duration
	for id, i := range final {
		if i.RetryCount > 0 {
			retried++
		}
		if i.Status != "success" {
			failed++
			if failed <= 5 {
				t.Errorf("scan invocation %s ended %s: %s", id, i.Status, i.Error)
			}
		}
	}
	for _, i := range f.env.Cloud.FC.Invocations(scanFn) {
		queued = append(queued, i.Queued)
	}
	sort.Slice(queued, func(i, j int) bool { return queued[i] < queued[j] })
	if len(final) != n {
		t.Errorf("scan ran for %d uploads, want %d", len(final), n)
	}
	recs := f.findings()
	got := map[string]string{}
	for _, r := range recs {
		got[r.Object.Key] = r.Finding.AccessKeyID
	}
	lost := n - len(final) + failed
	for k, id := range leaks {
		if got[k] != id {
			lost++
			t.Errorf("leak in %s: recorded %q, want %s", k, got[k], id)
		}
	}
	if len(recs) != len(leaks) {
		t.Errorf("%d finding records, want %d", len(recs), len(leaks))
	}
	msgs, _ := f.inbox()
	per := map[string]int{}
	for _, m := range msgs {
		per[m.IncidentID]++
	}
	for _, r := range recs {
		if per[r.IncidentID] != 1 {
			t.Errorf("incident %s: %d notifications, want 1", r.IncidentID, per[r.IncidentID])
		}
	}
	p := func(q float64) time.Duration {
		if len(queued) == 0 {
			return 0
		}
		return queued[int(q*float64(len(queued)-1))].Round(time.Millisecond)
	}
	t.Logf("%d uploads (%d leaks) put in %v; backlog drained %v later (total %v, %.0f objects/s); scans %d (retried %d, failed %d), notifications %d, lost %d; queue wait p50 %v p99 %v max %v",
		n, len(leaks), uploaded.Round(time.Millisecond), drain.Round(time.Millisecond), total.Round(time.Millisecond),
		float64(n)/total.Seconds(), len(final), retried, failed, len(msgs), lost, p(0.5), p(0.99), p(1))
}
