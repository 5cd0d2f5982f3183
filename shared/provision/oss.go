package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// bucketACL returns the bucket's canned ACL, or found=false when the
// bucket does not exist. GetBucketAcl doubles as the existence check.
func (p *Provisioner) bucketACL(ctx context.Context, bucket string) (acl string, found bool, err error) {
	res, err := p.oss.GetBucketAcl(ctx, &oss.GetBucketAclRequest{Bucket: oss.Ptr(bucket)})
	var se *oss.ServiceError
	switch {
	case errors.As(err, &se) && se.Code == "NoSuchBucket":
		return "", false, nil
	case errors.As(err, &se) && se.Code == "AccessDenied":
		// Bucket names are global: a denied read usually means another
		// account owns the name.
		return "", false, p.wrap("get acl of bucket "+bucket,
			fmt.Errorf("access denied: the name may belong to another account (choose another in s.yaml vars) or the caller lacks oss:GetBucketAcl: %w", err))
	case err != nil:
		return "", false, p.wrap("get acl of bucket "+bucket, err)
	}
	return oss.ToString(res.ACL), true, nil
}

func (p *Provisioner) createBucket(bucket string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := p.oss.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket), Acl: oss.BucketACLPrivate})
		var se *oss.ServiceError
		if errors.As(err, &se) && se.Code == "BucketAlreadyExists" {
			// Created since the plan read it, by a concurrent run or another
			// account: its ACL and versioning are unknown, so read again.
			return p.wrap("create bucket "+bucket,
				fmt.Errorf("the name was taken after setup read it (a concurrent run, or another account): run setup again: %w", err))
		}
		return p.wrap("create bucket "+bucket, err)
	}
}

func (p *Provisioner) setBucketACL(bucket string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := p.oss.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(bucket), Acl: oss.BucketACLPrivate})
		return p.wrap("set acl of bucket "+bucket, err)
	}
}

// planStateBucket: private, because it holds findings and containment
// records; and never versioned. akguard's exactly-once records (leases,
// dispatch claims, responses, breaker slots) are written with
// x-oss-forbid-overwrite, which OSS ignores on a bucket whose versioning
// is Enabled or Suspended (PutObject API reference, quoted in the SDK's
// PutObjectRequest.ForbidOverwrite doc). Versioning cannot be turned off
// once enabled, only suspended, so such a bucket is an error setup cannot
// fix: the user must choose another bucket.
func (p *Provisioner) planStateBucket(ctx context.Context, plan *Plan) error {
	b := p.cfg.StateBucket
	res := "oss bucket " + b
	acl, found, err := p.bucketACL(ctx, b)
	if err != nil {
		return err
	}
	if !found {
		plan.add(res, ActionCreate, "state bucket missing: create with private ACL, versioning off", p.createBucket(b))
		return nil
	}
	if acl == string(oss.BucketACLPrivate) {
		plan.add(res, ActionOK, "exists, ACL private", nil)
	} else {
		plan.add(res, ActionUpdate, fmt.Sprintf("ACL %s: the state holds findings, make it private", acl), p.setBucketACL(b))
	}
	v, err := p.oss.GetBucketVersioning(ctx, &oss.GetBucketVersioningRequest{Bucket: oss.Ptr(b)})
	if err != nil {
		return p.wrap("get versioning of bucket "+b, err)
	}
	switch st := oss.ToString(v.VersionStatus); st {
	case "":
		plan.add(res+" versioning", ActionOK, "never enabled: create-once writes hold", nil)
	default:
		plan.add(res+" versioning", ActionError,
			st+": OSS then ignores x-oss-forbid-overwrite and exactly-once records break; it cannot be turned off: use a new bucket", nil)
	}
	return nil
}

// planUploadBucket: the upload bucket is usually the user's own, so it is
// created only on request and its ACL is reported, never changed.
func (p *Provisioner) planUploadBucket(ctx context.Context, plan *Plan) error {
	b := p.cfg.UploadBucket
	res := "oss bucket " + b
	acl, found, err := p.bucketACL(ctx, b)
	switch {
	case err != nil:
		return err
	case !found && p.cfg.CreateUploadBucket:
		plan.add(res, ActionCreate, "upload bucket missing: create with private ACL", p.createBucket(b))
	case !found:
		plan.add(res, ActionWarn, "upload bucket missing: the OSS trigger needs it (create it, or rerun with --create-upload-bucket)", nil)
	case acl == string(oss.BucketACLPrivate):
		plan.add(res, ActionOK, "upload bucket exists, ACL private", nil)
	default:
		plan.add(res, ActionWarn, fmt.Sprintf("upload bucket ACL is %s: anyone may read uploaded files (not changed)", acl), nil)
	}
	return nil
}
