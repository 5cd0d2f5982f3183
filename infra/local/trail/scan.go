package trail

import "sort"

// Scan calls fn for each event matching q, in q's direction (oldest first
// when q.Forward, else newest first), without copying the store, until fn
// returns false. fn runs under the store's read lock: it must not call
// back into the Store, and must copy any event it keeps.
func (s *Store) Scan(q Query, fn func(*Event) bool) error {
	match, err := matcher(q.AttrKey, q.AttrValue)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	startS := q.Start.UTC().Format(TimeLayout)
	endS := q.End.UTC().Format(TimeLayout)
	lo := sort.Search(len(s.events), func(i int) bool { return s.events[i].EventTime >= startS })
	hi := sort.Search(len(s.events), func(i int) bool { return s.events[i].EventTime > endS })
	visit := func(e *Event) bool {
		if q.Region != "" && e.AcsRegion != q.Region && !e.IsGlobal {
			return true
		}
		if !match(e) {
			return true
		}
		return fn(e)
	}
	if q.Forward {
		for i := lo; i < hi; i++ {
			if !visit(&s.events[i]) {
				return nil
			}
		}
		return nil
	}
	for i := hi - 1; i >= lo; i-- {
		if !visit(&s.events[i]) {
			return nil
		}
	}
	return nil
}
