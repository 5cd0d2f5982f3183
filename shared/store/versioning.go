package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// ErrVersionedBucket reports a state bucket on which Create cannot be
// exactly-once. Versioning cannot be turned off once enabled (only
// suspended, which ignores the header too), so the fix is a new bucket.
var ErrVersionedBucket = errors.New("state bucket has versioning enabled or suspended: OSS ignores x-oss-forbid-overwrite there, " +
	"so create-once records (leases, claims, responses) would silently overwrite; use a new bucket whose versioning was never enabled")

// CheckCreateOnce verifies that the state bucket honours
// x-oss-forbid-overwrite: its versioning must never have been enabled
// (GetBucketVersioning returns no Status). The PutObject API reference
// (quoted in the SDK's PutObjectRequest.ForbidOverwrite doc) says the
// header does not take effect when versioning is Enabled or Suspended.
// Call it before relying on Create or Acquire; it needs
// oss:GetBucketVersioning on the bucket and costs one request.
func (s *Store) CheckCreateOnce(ctx context.Context) error {
	res, err := s.Client.GetBucketVersioning(ctx, &oss.GetBucketVersioningRequest{Bucket: oss.Ptr(s.Bucket)})
	if err != nil {
		return fmt.Errorf("get versioning of bucket %s: %w", s.Bucket, err)
	}
	// Only "never enabled" is safe: any other status, including one this
	// code does not know, fails closed.
	if st := oss.ToString(res.VersionStatus); st != "" {
		return fmt.Errorf("check bucket %s (versioning %s): %w", s.Bucket, st, ErrVersionedBucket)
	}
	return nil
}

// CreateOnceGuard runs CheckCreateOnce until it first succeeds, so a warm
// function instance pays the extra request once, not per invocation. A
// failure is not remembered: the next invocation checks again. The zero
// value is ready to use; keep one per handler, never a package variable.
type CreateOnceGuard struct{ ok atomic.Bool }

// Check verifies s unless an earlier call on this guard already did.
func (g *CreateOnceGuard) Check(ctx context.Context, s *Store) error {
	if g.ok.Load() {
		return nil
	}
	if err := s.CheckCreateOnce(ctx); err != nil {
		return err
	}
	g.ok.Store(true)
	return nil
}
