package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/akguard/akguard/shared/finding"
)

// JSON Lines format: one JSON object per line, each with a "type" member,
// "finding" or "skip". Apart from "type", a finding line has exactly the
// fields of finding.Finding and a skip line those of finding.Skip, so a
// consumer can decode any line straight into either struct:
//
//	{"type":"finding","path":"a/.env","line":3,"rule":"alibaba-access-key-pair",...}
//	{"type":"skip","path":"big.bin","reason":"too_large","detail":"..."}
const (
	TypeFinding = "finding"
	TypeSkip    = "skip"
)

type jsonlFinding struct {
	Type string `json:"type"`
	finding.Finding
}

type jsonlSkip struct {
	Type string `json:"type"`
	finding.Skip
}

// JSONL writes a complete result set as JSON Lines: findings first, then
// skips, each group in report order.
type JSONL struct{}

var _ Reporter = JSONL{}

func (JSONL) Write(w io.Writer, fs []finding.Finding, skips []finding.Skip) error {
	fs, skips = Sorted(fs, skips)
	s := NewStream(w)
	for _, f := range fs {
		s.Finding(f)
	}
	for _, sk := range skips {
		s.Skip(sk)
	}
	return s.Err()
}

// Stream writes JSON Lines as results arrive, so a long scan shows its first
// finding at once and holds nothing in memory. It is safe for concurrent
// use; lines are never interleaved. After the first write error it stops
// writing and Err reports that error.
type Stream struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

// NewStream returns a Stream writing to w.
func NewStream(w io.Writer) *Stream {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &Stream{enc: enc}
}

// Finding writes one finding line.
func (s *Stream) Finding(f finding.Finding) { s.write(jsonlFinding{Type: TypeFinding, Finding: f}) }

// Skip writes one skip line.
func (s *Stream) Skip(sk finding.Skip) { s.write(jsonlSkip{Type: TypeSkip, Skip: sk}) }

func (s *Stream) write(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if err := s.enc.Encode(v); err != nil {
		s.err = fmt.Errorf("write jsonl line: %w", err)
	}
}

// Err returns the first write error, if any.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
