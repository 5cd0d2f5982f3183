// Package store keeps akguard's records — findings, containment actions,
// audit checkpoints, baselines and locks — as JSON objects in the private
// state bucket. Create-once writes use OSS's x-oss-forbid-overwrite so
// duplicate deliveries and retries race safely: exactly one writer wins.
//
// That holds only on a bucket whose versioning was never enabled: with
// versioning Enabled or Suspended, OSS ignores the header and overwrites
// (a new version), so every Create "wins". CheckCreateOnce tells which.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// ErrNotFound reports a missing record.
var ErrNotFound = errors.New("record not found")

// maxRecord bounds what Get reads: records are small JSON documents, and a
// tampered object must not exhaust the function's memory.
const maxRecord = 8 << 20

// Store is a JSON record store over one bucket and prefix.
type Store struct {
	Client *oss.Client
	Bucket string
	Prefix string // e.g. "akguard/"; joined with record keys
	// Guard, when set, verifies before the first create-once write that
	// the bucket honours x-oss-forbid-overwrite (see CheckCreateOnce), so
	// a misconfigured versioned bucket fails loudly instead of letting
	// duplicates through.
	Guard *CreateOnceGuard
}

func (s *Store) key(k string) string { return s.Prefix + strings.TrimPrefix(k, "/") }

// Create writes v at key only if nothing is there. It reports whether this
// call created the record; false with a nil error means another writer
// (a duplicate delivery, a retry) got there first.
func (s *Store) Create(ctx context.Context, key string, v any) (bool, error) {
	if s.Guard != nil {
		if err := s.Guard.Check(ctx, s); err != nil {
			return false, fmt.Errorf("create record %s: %w", key, err)
		}
	}
	body, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("encode record %s: %w", key, err)
	}
	_, err = s.Client.PutObject(ctx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.key(key)), Body: bytes.NewReader(body),
		ContentType: oss.Ptr("application/json"), ForbidOverwrite: oss.Ptr("true"),
	})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "FileAlreadyExists" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create record %s: %w", key, err)
	}
	return true, nil
}

// Put writes v at key, replacing what is there (checkpoints, baselines).
func (s *Store) Put(ctx context.Context, key string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record %s: %w", key, err)
	}
	_, err = s.Client.PutObject(ctx, &oss.PutObjectRequest{
		Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.key(key)), Body: bytes.NewReader(body),
		ContentType: oss.Ptr("application/json"),
	})
	if err != nil {
		return fmt.Errorf("put record %s: %w", key, err)
	}
	return nil
}

// Get decodes the record at key into v; ErrNotFound when absent.
func (s *Store) Get(ctx context.Context, key string, v any) error {
	res, err := s.Client.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.key(key))})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "NoSuchKey" {
		return fmt.Errorf("get record %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("get record %s: %w", key, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxRecord+1))
	if err != nil {
		return fmt.Errorf("read record %s: %w", key, err)
	}
	if len(data) > maxRecord {
		return fmt.Errorf("read record %s: larger than %d bytes", key, maxRecord)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode record %s: %w", key, err)
	}
	return nil
}

// Delete removes a record; deleting a missing record is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.Client.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.key(key))})
	if err != nil {
		return fmt.Errorf("delete record %s: %w", key, err)
	}
	return nil
}

// List returns the record keys under prefix (without the store's Prefix).
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	p := s.Client.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(s.Bucket), Prefix: oss.Ptr(s.key(prefix))})
	var out []string
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list records %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(oss.ToString(o.Key), s.Prefix))
		}
	}
	return out, nil
}

// ReadAll returns the raw bytes of every record under prefix, keyed like
// List. It is for audits of what akguard wrote (the demo's and the tests'
// secret searches, operators' exports); each record is bounded like Get.
func (s *Store) ReadAll(ctx context.Context, prefix string) (map[string][]byte, error) {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		res, err := s.Client.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(s.Bucket), Key: oss.Ptr(s.key(k))})
		if err != nil {
			return nil, fmt.Errorf("read record %s: %w", k, err)
		}
		data, err := io.ReadAll(io.LimitReader(res.Body, maxRecord+1))
		res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read record %s: %w", k, err)
		}
		if len(data) > maxRecord {
			return nil, fmt.Errorf("read record %s: larger than %d bytes", k, maxRecord)
		}
		out[k] = data
	}
	return out, nil
}
