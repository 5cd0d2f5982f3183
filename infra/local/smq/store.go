package smq

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Persistence layout under env.ServiceDir("smq"):
//
//	meta.json            queues, topics and subscriptions; rewritten atomically
//	queues/<name>.jsonl  one append-only journal per queue
//
// A message is appended to its queue's journal before the API call that
// created it returns, so an acknowledged message survives a crash of the
// local cloud. Journals are compacted (rewritten with only the live
// messages, then renamed into place) on open and when they grow large. A
// torn final line, the only damage an interrupted append can do, is skipped.

// QueueAttrs are a queue's settable attributes (CreateQueue reference).
type QueueAttrs struct {
	DelaySeconds           int   `json:"delaySeconds"`
	MaximumMessageSize     int   `json:"maximumMessageSize"`
	MessageRetentionPeriod int   `json:"messageRetentionPeriod"`
	VisibilityTimeout      int   `json:"visibilityTimeout"`
	PollingWaitSeconds     int   `json:"pollingWaitSeconds"`
	LoggingEnabled         bool  `json:"loggingEnabled"`
	CreateTime             int64 `json:"createTime"`     // unix seconds
	LastModifyTime         int64 `json:"lastModifyTime"` // unix seconds
}

// TopicAttrs are a topic's attributes (CreateTopic reference).
type TopicAttrs struct {
	MaximumMessageSize int   `json:"maximumMessageSize"`
	LoggingEnabled     bool  `json:"loggingEnabled"`
	CreateTime         int64 `json:"createTime"`
	LastModifyTime     int64 `json:"lastModifyTime"`
}

// Subscription is a topic subscription (Subscribe reference).
type Subscription struct {
	Name                string `json:"name"`
	Endpoint            string `json:"endpoint"`
	FilterTag           string `json:"filterTag,omitempty"`
	NotifyStrategy      string `json:"notifyStrategy"`
	NotifyContentFormat string `json:"notifyContentFormat"`
	CreateTime          int64  `json:"createTime"`
	LastModifyTime      int64  `json:"lastModifyTime"`
}

type metaState struct {
	Queues        map[string]QueueAttrs              `json:"queues"`
	Topics        map[string]TopicAttrs              `json:"topics"`
	Subscriptions map[string]map[string]Subscription `json:"subscriptions"` // topic -> name -> sub
}

func loadMeta(dir string) (metaState, error) {
	st := metaState{Queues: map[string]QueueAttrs{}, Topics: map[string]TopicAttrs{}, Subscriptions: map[string]map[string]Subscription{}}
	if dir == "" {
		return st, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if os.IsNotExist(err) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read smq state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("decode smq state: %w", err)
	}
	if st.Queues == nil {
		st.Queues = map[string]QueueAttrs{}
	}
	if st.Topics == nil {
		st.Topics = map[string]TopicAttrs{}
	}
	if st.Subscriptions == nil {
		st.Subscriptions = map[string]map[string]Subscription{}
	}
	return st, nil
}

// writeFileAtomic writes via a synced temporary file and a rename, so a
// reader (or a restart after a crash) sees the old or the new content only.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	return nil
}

func saveMeta(dir string, st metaState) error {
	if dir == "" {
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode smq state: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "meta.json"), data); err != nil {
		return fmt.Errorf("save smq state: %w", err)
	}
	return nil
}

// record is one journal line.
type record struct {
	Op string   `json:"op"` // put | upd | del
	M  *message `json:"m,omitempty"`
	ID string   `json:"id,omitempty"`
	// upd fields: the state a receive or visibility change leaves behind.
	Handle       string `json:"h,omitempty"`
	NextVisible  int64  `json:"nv,omitempty"`
	DequeueCount int    `json:"dc,omitempty"`
	FirstDequeue int64  `json:"fd,omitempty"`
}

type journal struct {
	path    string
	f       *os.File
	w       *bufio.Writer
	records int
}

// openJournal replays path into msgs (keyed by ID) and reopens it compacted.
func openJournal(path string) (*journal, map[string]*message, error) {
	msgs := map[string]*message{}
	f, err := os.Open(path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, nil, fmt.Errorf("open queue journal: %w", err)
	default:
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 8*1024*1024)
		for sc.Scan() {
			var rec record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				continue // torn write at the tail
			}
			applyRecord(msgs, rec)
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read queue journal: %w", err)
		}
	}
	j := &journal{path: path}
	if err := j.rewrite(msgs); err != nil {
		return nil, nil, err
	}
	return j, msgs, nil
}

func applyRecord(msgs map[string]*message, rec record) {
	switch rec.Op {
	case "put":
		if rec.M != nil {
			m := *rec.M
			msgs[m.ID] = &m
		}
	case "upd":
		if m := msgs[rec.ID]; m != nil {
			m.Handle, m.NextVisible, m.DequeueCount, m.FirstDequeue = rec.Handle, rec.NextVisible, rec.DequeueCount, rec.FirstDequeue
		}
	case "del":
		delete(msgs, rec.ID)
	}
}

// rewrite replaces the journal with one put record per live message.
func (j *journal) rewrite(msgs map[string]*message) error {
	if j.f != nil {
		if err := j.w.Flush(); err != nil {
			return fmt.Errorf("flush queue journal: %w", err)
		}
		j.f.Close()
		j.f = nil
	}
	var buf []byte
	for _, m := range msgs {
		line, err := json.Marshal(record{Op: "put", M: m})
		if err != nil {
			return fmt.Errorf("encode message: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	if err := writeFileAtomic(j.path, buf); err != nil {
		return fmt.Errorf("compact queue journal: %w", err)
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open queue journal: %w", err)
	}
	j.f, j.w, j.records = f, bufio.NewWriterSize(f, 16*1024), len(msgs)
	return nil
}

// append writes records and hands them to the OS before returning, which
// is what makes an acknowledged send survive a process crash. (No fsync per
// message: this is a test cloud, and power loss is out of scope.)
func (j *journal) append(recs ...record) error {
	for _, rec := range recs {
		line, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode journal record: %w", err)
		}
		j.w.Write(line)
		j.w.WriteByte('\n')
	}
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("append queue journal: %w", err)
	}
	j.records += len(recs)
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.w.Flush()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	return err
}

func (j *journal) remove() error {
	j.close()
	if err := os.Remove(j.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove queue journal: %w", err)
	}
	return nil
}
