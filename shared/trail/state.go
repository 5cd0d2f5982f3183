package trail

import (
	"fmt"
	"slices"
	"time"

	"github.com/akguard/akguard/shared/audit"
)

// StateVersion is the schema of State.
const StateVersion = 1

// State is the audit function's progress, stored as one object so the
// checkpoint, the judged-event set and the baseline they produced always
// change together: a crash between two writes cannot leave a baseline that
// learned windows the checkpoint says are still to do.
type State struct {
	Version int `json:"version"`
	// Checkpoint: every window ending at or before it has been judged.
	Checkpoint time.Time `json:"checkpoint"`
	// Judged are the events already judged that a later read can return
	// again (eventTime within the overlap before Checkpoint), so a re-read
	// never judges an event twice.
	Judged   []JudgedEvent  `json:"judged,omitempty"`
	Baseline audit.Baseline `json:"baseline"`
	// UpdatedAt and Saves are for operators.
	UpdatedAt time.Time `json:"updatedAt"`
	Saves     int64     `json:"saves"`
}

// JudgedEvent is an event ID and its time (for pruning), in Unix
// seconds: ActionTrail's precision, and a third of RFC 3339's bytes.
type JudgedEvent struct {
	ID   string `json:"id"`
	Unix int64  `json:"t"`
}

// Time is when the event happened.
func (j JudgedEvent) Time() time.Time { return time.Unix(j.Unix, 0).UTC() }

// judgedSet is State.Judged in memory.
type judgedSet map[string]time.Time

func (s *State) judged() judgedSet {
	m := make(judgedSet, len(s.Judged))
	for _, j := range s.Judged {
		m[j.ID] = j.Time()
	}
	return m
}

// setJudged stores m in s, keeping the events at or after keepFrom and, of
// those, at most max (the newest): older ones can no longer come back in a
// read, which starts at Checkpoint minus the overlap.
func (s *State) setJudged(m judgedSet, keepFrom time.Time, max int) {
	out := make([]JudgedEvent, 0, len(m))
	for id, t := range m {
		if !t.Before(keepFrom) {
			out = append(out, JudgedEvent{ID: id, Unix: t.Unix()})
		} else {
			delete(m, id)
		}
	}
	slices.SortFunc(out, func(a, b JudgedEvent) int {
		if a.Unix != b.Unix {
			return int(a.Unix - b.Unix)
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	if max > 0 && len(out) > max {
		for _, j := range out[:len(out)-max] {
			delete(m, j.ID)
		}
		out = out[len(out)-max:]
	}
	s.Judged = out
}

func (s *State) validate() error {
	if s.Version != StateVersion {
		return fmt.Errorf("audit state version %d, want %d", s.Version, StateVersion)
	}
	if s.Checkpoint.IsZero() {
		return fmt.Errorf("audit state has no checkpoint")
	}
	if s.Baseline.Subjects != nil && s.Baseline.Version != audit.BaselineVersion {
		return fmt.Errorf("audit baseline version %d, want %d", s.Baseline.Version, audit.BaselineVersion)
	}
	return nil
}
