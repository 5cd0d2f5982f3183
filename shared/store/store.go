// Package store keeps akguard's records — findings, containment actions,
// audit checkpoints, baselines and locks — as JSON objects in the private
// state bucket. Create-once writes use OSS's x-oss-forbid-overwrite so
// duplicate deliveries and retries race safely: exactly one writer wins.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

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
}

func (s *Store) key(k string) string { return s.Prefix + strings.TrimPrefix(k, "/") }

// Create writes v at key only if nothing is there. It reports whether this
// call created the record; false with a nil error means another writer
// (a duplicate delivery, a retry) got there first.
func (s *Store) Create(ctx context.Context, key string, v any) (bool, error) {
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

// Lock is a lease held in the state bucket.
type Lock struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// Acquire takes the lease at key for ttl. An expired lease left by a
// crashed holder is broken — deleted, then re-created with forbid-overwrite
// so two breakers cannot both win.
func (s *Store) Acquire(ctx context.Context, key, owner string, ttl time.Duration, now time.Time) (bool, error) {
	ok, err := s.Create(ctx, key, Lock{Owner: owner, Expires: now.Add(ttl)})
	if err != nil || ok {
		return ok, err
	}
	var cur Lock
	if err := s.Get(ctx, key, &cur); err != nil {
		if errors.Is(err, ErrNotFound) {
			return s.Create(ctx, key, Lock{Owner: owner, Expires: now.Add(ttl)})
		}
		return false, err
	}
	if now.Before(cur.Expires) {
		return false, nil
	}
	if err := s.Delete(ctx, key); err != nil {
		return false, err
	}
	return s.Create(ctx, key, Lock{Owner: owner, Expires: now.Add(ttl)})
}

// Release drops the lease if this owner still holds it.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	var cur Lock
	if err := s.Get(ctx, key, &cur); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if cur.Owner != owner {
		return nil
	}
	return s.Delete(ctx, key)
}
