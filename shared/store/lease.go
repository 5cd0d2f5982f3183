package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A lease at key K is a sequence of create-once generation objects
//
//	<prefix>K/<generation>
//
// with the generation zero-padded to genDigits so that ListObjects, which
// returns keys in lexicographic order, returns them in numeric order. The
// highest generation decides: the lease is held when that record is
// neither expired nor released. Taking the lease over (free, expired, or
// one's own) is creating generation top+1 with x-oss-forbid-overwrite, so
// of any number of concurrent takers exactly one succeeds; nothing is
// deleted to take over. Release creates top+1 as a released marker, which
// fails when someone took over meanwhile, so a holder whose lease expired
// cannot drop its successor's lease.
//
// The highest generation is only ever deleted by a holder of a higher one,
// so it never goes down. A winner deletes the generations below its own.
// Because those may be re-created by a taker that read a stale listing,
// the winner lists again after creating and wins only if its generation
// is still the highest.
//
// Needs oss:ListObjects on the bucket and oss:GetObject, oss:PutObject and
// oss:DeleteObject on <prefix>K/*.
const genDigits = 20

// attempts bounds how often Acquire looks again when the top generation
// vanished between listing and reading it (collected by a newer holder).
const attempts = 3

// Lock is one generation of a lease held in the state bucket.
type Lock struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires,omitzero"`
	// Released marks the generation written by Release: the lease is free.
	Released bool `json:"released,omitempty"`
}

func (l Lock) held(now time.Time) bool { return !l.Released && now.Before(l.Expires) }

func genKey(key string, gen uint64) string { return fmt.Sprintf("%s/%0*d", key, genDigits, gen) }

// generations lists the lease's generation numbers, ascending. Objects
// under the key that are not generations are ignored.
func (s *Store) generations(ctx context.Context, key string) ([]uint64, error) {
	keys, err := s.List(ctx, key+"/")
	if err != nil {
		return nil, fmt.Errorf("list lease %s: %w", key, err)
	}
	var out []uint64
	for _, k := range keys {
		g, ok := strings.CutPrefix(k, key+"/")
		if !ok || len(g) != genDigits {
			continue
		}
		n, err := strconv.ParseUint(g, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// top reads the highest generation. found is false when there is none;
// vanished when it was collected between the listing and the read.
func (s *Store) top(ctx context.Context, key string) (gen uint64, cur Lock, found, vanished bool, err error) {
	gens, err := s.generations(ctx, key)
	if err != nil || len(gens) == 0 {
		return 0, Lock{}, false, false, err
	}
	gen = gens[len(gens)-1]
	err = s.Get(ctx, genKey(key, gen), &cur)
	if errors.Is(err, ErrNotFound) {
		return gen, Lock{}, false, true, nil
	}
	if err != nil {
		return 0, Lock{}, false, false, err
	}
	return gen, cur, true, false, nil
}

// Acquire takes the lease at key for ttl. It fails (false, nil) while
// another owner holds an unexpired lease. The same owner takes its own
// lease back, with a new expiry: FC retries an async invocation under the
// same request ID after the attempt crashed. An expired lease left by a
// crashed holder is taken over; of concurrent takers exactly one wins.
func (s *Store) Acquire(ctx context.Context, key, owner string, ttl time.Duration, now time.Time) (bool, error) {
	key = strings.TrimPrefix(key, "/")
	for range attempts {
		top, cur, found, vanished, err := s.top(ctx, key)
		if err != nil {
			return false, fmt.Errorf("acquire lease %s: %w", key, err)
		}
		if vanished {
			continue
		}
		if found && cur.held(now) && cur.Owner != owner {
			return false, nil
		}
		next := top + 1
		ok, err := s.Create(ctx, genKey(key, next), Lock{Owner: owner, Expires: now.Add(ttl)})
		if err != nil {
			return false, fmt.Errorf("acquire lease %s: %w", key, err)
		}
		if !ok {
			return false, nil // another taker created this generation first
		}
		gens, err := s.generations(ctx, key)
		if err != nil {
			return false, fmt.Errorf("acquire lease %s: %w", key, err)
		}
		if len(gens) == 0 || gens[len(gens)-1] != next {
			// Our listing was stale: this generation had been created and
			// collected before, and a newer one holds the lease. Ours sits
			// below it and is collected by the next winner.
			return false, nil
		}
		// Best effort: a generation left behind only costs a list entry
		// until the next winner collects it.
		for _, g := range gens[:len(gens)-1] {
			_ = s.Delete(ctx, genKey(key, g))
		}
		return true, nil
	}
	return false, nil
}

// Release frees the lease if this owner still holds it (expired or not,
// as long as nobody took it over). A stale holder's Release is a no-op.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	key = strings.TrimPrefix(key, "/")
	top, cur, found, _, err := s.top(ctx, key)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", key, err)
	}
	// Vanished means a newer generation exists: not ours any more.
	if !found || cur.Released || cur.Owner != owner {
		return nil
	}
	ok, err := s.Create(ctx, genKey(key, top+1), Lock{Owner: owner, Released: true})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", key, err)
	}
	if ok {
		// Our generation is below the marker now; the next winner would
		// collect it anyway.
		_ = s.Delete(ctx, genKey(key, top))
	}
	return nil
}

// ErrLeaseBusy reports a BreakLease that kept losing to concurrent takers.
var ErrLeaseBusy = errors.New("lease changed while breaking it")

// BreakLease frees the lease whoever holds it: an operator's "break the
// lock" after a holder was killed before its lease expired. Like Release
// it only adds a released generation above the top, so it cannot leave
// two holders; the broken holder's own Release then finds it is no longer
// the top and does nothing.
func (s *Store) BreakLease(ctx context.Context, key string) error {
	key = strings.TrimPrefix(key, "/")
	for range attempts {
		top, cur, found, vanished, err := s.top(ctx, key)
		if err != nil {
			return fmt.Errorf("break lease %s: %w", key, err)
		}
		if vanished {
			continue
		}
		if !found || cur.Released {
			return nil
		}
		ok, err := s.Create(ctx, genKey(key, top+1), Lock{Owner: cur.Owner, Released: true})
		if err != nil {
			return fmt.Errorf("break lease %s: %w", key, err)
		}
		if ok {
			_ = s.Delete(ctx, genKey(key, top))
			return nil
		}
	}
	return fmt.Errorf("break lease %s: %w", key, ErrLeaseBusy)
}
