package store

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/shared/aliyun"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestLockLease(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	steps := []struct {
		op    string // acquire, release
		owner string
		at    time.Time
		want  bool
	}{
		{"acquire", "run-1", t0, true},
		{"acquire", "run-2", t0.Add(time.Minute), false},     // held
		{"acquire", "run-2", t0.Add(11 * time.Minute), true}, // run-1 crashed: lease expired, taken over
		{"acquire", "run-1", t0.Add(12 * time.Minute), false},
		{"acquire", "run-2", t0.Add(12 * time.Minute), true},  // its own lease: an FC retry of the crashed attempt
		{"release", "run-1", t0.Add(13 * time.Minute), false}, // not the holder: no-op
		{"acquire", "run-3", t0.Add(13 * time.Minute), false},
		{"release", "run-2", t0.Add(13 * time.Minute), false},
		{"acquire", "run-3", t0.Add(13 * time.Minute), true}, // free after release
		{"release", "run-3", t0.Add(14 * time.Minute), false},
		{"release", "run-3", t0.Add(14 * time.Minute), false}, // twice: no-op
		{"acquire", "run-4", t0.Add(14 * time.Minute), true},
	}
	for i, st := range steps {
		switch st.op {
		case "acquire":
			got, err := s.Acquire(ctx, "locks/audit", st.owner, 10*time.Minute, st.at)
			if err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Fatalf("step %d: %s acquire = %v, want %v", i, st.owner, got, st.want)
			}
		case "release":
			if err := s.Release(ctx, "locks/audit", st.owner); err != nil {
				t.Fatalf("step %d: %s release: %v", i, st.owner, err)
			}
		}
	}
	// Winners collect the generations below theirs: the key does not grow.
	keys, err := s.List(ctx, "locks/audit/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != genKey("locks/audit", 7) {
		t.Errorf("lease objects after 5 takes and 2 releases: %v, want only generation 7", keys)
	}
}

// Many takers break the same expired lease at once, round after round:
// exactly one wins each round, and the winner is the holder.
func TestLeaseConcurrentBreakersOneWins(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if ok, err := s.Acquire(ctx, "locks/breaker", "crashed", time.Minute, t0); err != nil || !ok {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	const takers = 16
	for round := 1; round <= 5; round++ {
		at := t0.Add(time.Duration(round) * 2 * time.Minute) // every earlier lease expired
		var wins atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for i := range takers {
			wg.Go(func() {
				owner := fmt.Sprintf("r%d-taker-%d", round, i)
				ok, err := s.Acquire(ctx, "locks/breaker", owner, time.Minute, at)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					wins.Add(1)
					winner.Store(owner)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d takers won the expired lease, want exactly 1", round, n)
		}
		if ok, _ := s.Acquire(ctx, "locks/breaker", "latecomer", time.Minute, at.Add(time.Second)); ok {
			t.Fatalf("round %d: lease free right after %v won it", round, winner.Load())
		}
	}
}

// hookTransport runs hook once, before the first write (PUT or DELETE)
// that follows a read of a record: the moment between a taker's decision
// and its action, where a non-atomic lease lets another writer in.
type hookTransport struct {
	read  bool
	fired bool
	hook  func()
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/akguard/"):
		h.read = true
	case (r.Method == http.MethodPut || r.Method == http.MethodDelete) && h.read && !h.fired:
		h.fired = true
		h.hook()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// leaseCloud is a state bucket with a plain store and a way to make
// stores whose requests pass through a hookTransport.
type leaseCloud struct {
	plain *Store
	cl    aliyun.Clients
}

func newLeaseCloud(t *testing.T) *leaseCloud {
	t.Helper()
	cl := rootClients(startCloud(t))
	c := cl.OSS()
	if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr("akguard-state")}); err != nil {
		t.Fatal(err)
	}
	return &leaseCloud{plain: &Store{Client: c, Bucket: "akguard-state", Prefix: "akguard/"}, cl: cl}
}

func (lc *leaseCloud) hooked(hook func()) (*Store, *hookTransport) {
	ht := &hookTransport{hook: hook}
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(osscred.NewStaticCredentialsProvider(lc.cl.Creds.AccessKeyID, lc.cl.Creds.AccessKeySecret)).
		WithRegion(lc.cl.Region).WithEndpoint(lc.cl.Endpoints.OSS).WithUsePathStyle(true).
		WithHttpClient(&http.Client{Transport: ht})
	return &Store{Client: oss.NewClient(cfg), Bucket: "akguard-state", Prefix: "akguard/"}, ht
}

// Two takers read the same expired lease; the second finishes taking it
// over before the first acts. The first must lose.
func TestLeaseBreakRaceOneWins(t *testing.T) {
	ctx := context.Background()
	lc := newLeaseCloud(t)
	at := t0.Add(5 * time.Minute)
	var fastWon bool
	var fastErr error
	slow, ht := lc.hooked(func() {
		fastWon, fastErr = lc.plain.Acquire(ctx, "locks/x", "fast", time.Minute, at)
	})
	if ok, err := lc.plain.Acquire(ctx, "locks/x", "crashed", time.Minute, t0); err != nil || !ok {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	slowWon, err := slow.Acquire(ctx, "locks/x", "slow", time.Minute, at)
	if err != nil || fastErr != nil {
		t.Fatal(err, fastErr)
	}
	if !ht.fired {
		t.Fatal("the race was not staged")
	}
	if !fastWon || slowWon {
		t.Fatalf("fast taker won %v, slow taker won %v: want exactly the fast one", fastWon, slowWon)
	}
	if ok, _ := lc.plain.Acquire(ctx, "locks/x", "third", time.Minute, at.Add(time.Second)); ok {
		t.Fatal("the fast taker's lease was lost")
	}
}

// A holder whose lease expired releases just as a successor takes over:
// the successor keeps the lease.
func TestLeaseStaleReleaseKeepsSuccessor(t *testing.T) {
	ctx := context.Background()
	lc := newLeaseCloud(t)
	at := t0.Add(5 * time.Minute)
	var successorWon bool
	var successorErr error
	stale, ht := lc.hooked(func() {
		successorWon, successorErr = lc.plain.Acquire(ctx, "locks/y", "successor", time.Minute, at)
	})
	if ok, err := lc.plain.Acquire(ctx, "locks/y", "stale", time.Minute, t0); err != nil || !ok {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	if err := stale.Release(ctx, "locks/y", "stale"); err != nil || successorErr != nil {
		t.Fatal(err, successorErr)
	}
	if !ht.fired || !successorWon {
		t.Fatalf("race not staged: hook fired %v, successor won %v", ht.fired, successorWon)
	}
	if ok, _ := lc.plain.Acquire(ctx, "locks/y", "third", time.Minute, at.Add(time.Second)); ok {
		t.Fatal("the stale holder's release dropped its successor's lease")
	}
	// Released after the takeover is done, it is a plain no-op too.
	if err := lc.plain.Release(ctx, "locks/y", "stale"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := lc.plain.Acquire(ctx, "locks/y", "third", time.Minute, at.Add(time.Second)); ok {
		t.Fatal("a stale release dropped the successor's lease")
	}
}

// A taker reads the top generation, then stalls while the lease moves on
// twice and the winners collect the old generations. Its create of the
// next generation then succeeds (that key was collected), but it must
// still lose: the lease is at a higher generation.
func TestLeaseStaleListingLoses(t *testing.T) {
	ctx := context.Background()
	lc := newLeaseCloud(t)
	var errs []error
	slow, ht := lc.hooked(func() {
		for i, at := range []time.Time{t0.Add(2 * time.Minute), t0.Add(4 * time.Minute)} {
			ok, err := lc.plain.Acquire(ctx, "locks/z", fmt.Sprintf("fast-%d", i), time.Minute, at)
			if !ok || err != nil {
				errs = append(errs, fmt.Errorf("fast-%d acquire: %v %w", i, ok, err))
			}
		}
	})
	if ok, err := lc.plain.Acquire(ctx, "locks/z", "crashed", time.Minute, t0); err != nil || !ok {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	won, err := slow.Acquire(ctx, "locks/z", "slow", time.Minute, t0.Add(2*time.Minute))
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	if !ht.fired {
		t.Fatal("the race was not staged")
	}
	if won {
		t.Fatal("a taker with a stale listing won the lease from fast-1")
	}
	if ok, _ := lc.plain.Acquire(ctx, "locks/z", "other", time.Minute, t0.Add(4*time.Minute+time.Second)); ok {
		t.Fatal("fast-1 lost the lease")
	}
}

// An operator breaks a live lease of a killed holder: the next taker gets
// it at once, and the broken holder's late Release does not free the new
// holder's lease.
func TestBreakLease(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.BreakLease(ctx, "audit/lock.json"); err != nil { // no lease yet: no-op
		t.Fatal(err)
	}
	if ok, err := s.Acquire(ctx, "audit/lock.json", "killed", time.Hour, t0); err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	if ok, _ := s.Acquire(ctx, "audit/lock.json", "next", time.Hour, t0.Add(time.Minute)); ok {
		t.Fatal("lease not held before the break")
	}
	if err := s.BreakLease(ctx, "audit/lock.json"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Acquire(ctx, "audit/lock.json", "next", time.Hour, t0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("acquire after break: %v %v", ok, err)
	}
	if err := s.Release(ctx, "audit/lock.json", "killed"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Acquire(ctx, "audit/lock.json", "third", time.Hour, t0.Add(2*time.Minute)); ok {
		t.Fatal("the broken holder's release freed its successor's lease")
	}
}

// BenchmarkAcquireRelease is one lease cycle against the local OSS:
// Acquire is two listings, a read, a create and a delete; Release a
// listing, a read, a create and a delete.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	c, err := cloud.Start(ctx, cloud.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.OSS.SetDurable(false)
	cl := rootClients(c).OSS()
	if _, err := cl.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr("akguard-state")}); err != nil {
		b.Fatal(err)
	}
	s := &Store{Client: cl, Bucket: "akguard-state", Prefix: "akguard/"}
	for b.Loop() {
		if ok, err := s.Acquire(ctx, "locks/bench", "owner", time.Minute, t0); err != nil || !ok {
			b.Fatalf("acquire: %v %v", ok, err)
		}
		if err := s.Release(ctx, "locks/bench", "owner"); err != nil {
			b.Fatal(err)
		}
	}
}
