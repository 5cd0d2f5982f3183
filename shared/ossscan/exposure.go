package ossscan

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/akguard/akguard/shared/incident"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// exposure returns the object's effective ACL: its own, or the bucket's
// when the object's is "default" (OSS GetObjectAcl: "default" means the
// object inherits the bucket ACL).
func (r *run) exposure(ctx context.Context, bucket, key string) (string, error) {
	res, err := r.oss.GetObjectAcl(ctx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		return "", fmt.Errorf("get object acl: %w", err)
	}
	acl := oss.ToString(res.ACL)
	if acl != "" && acl != "default" {
		return acl, nil
	}
	if acl, ok := r.bucketACL[bucket]; ok {
		return acl, nil
	}
	bres, err := r.oss.GetBucketAcl(ctx, &oss.GetBucketAclRequest{Bucket: oss.Ptr(bucket)})
	if err != nil {
		return "", fmt.Errorf("get bucket acl: %w", err)
	}
	acl = oss.ToString(bres.ACL)
	r.bucketACL[bucket] = acl
	return acl, nil
}

func isPublic(acl string) bool {
	return acl == string(oss.ObjectACLPublicRead) || acl == string(oss.ObjectACLPublicReadWrite)
}

// remediate applies the configured object remediation: a public object is
// made private, and the object is tagged. Existing tags are kept, since
// PutObjectTagging replaces the whole set.
func (r *run) remediate(ctx context.Context, where incident.Object) ([]string, error) {
	var done []string
	cfg := r.s.Config
	if cfg.MakePrivate && where.Public {
		_, err := r.oss.PutObjectAcl(ctx, &oss.PutObjectAclRequest{Bucket: oss.Ptr(where.Bucket), Key: oss.Ptr(where.Key),
			Acl: oss.ObjectACLPrivate})
		if err != nil {
			if Retryable(err) {
				return done, fmt.Errorf("put object acl: %w", err)
			}
			r.s.log().ErrorContext(ctx, "cannot make object private", "bucket", where.Bucket, "key", where.Key, "err", err)
		} else {
			r.s.log().InfoContext(ctx, "object made private", "bucket", where.Bucket, "key", where.Key, "was", where.ACL)
			done = append(done, "acl:private")
		}
	}
	if cfg.Tag == "" {
		return done, nil
	}
	k, v, err := cfg.TagPair()
	if err != nil {
		return done, nil // refused at start-up
	}
	cur, err := r.oss.GetObjectTagging(ctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(where.Bucket), Key: oss.Ptr(where.Key)})
	if err != nil {
		if Retryable(err) {
			return done, fmt.Errorf("get object tagging: %w", err)
		}
		r.s.log().ErrorContext(ctx, "cannot read object tags", "bucket", where.Bucket, "key", where.Key, "err", err)
		return done, nil
	}
	tags := []oss.Tag{{Key: oss.Ptr(k), Value: oss.Ptr(v)}}
	for _, t := range cur.Tags {
		switch oss.ToString(t.Key) {
		case k:
			if oss.ToString(t.Value) == v {
				return append(done, "tag:"+k+"="+v), nil // already tagged (a duplicate delivery)
			}
		default:
			tags = append(tags, t)
		}
	}
	// OSS allows at most 10 tags per object; ours goes first and wins.
	tags = tags[:min(len(tags), 10)]
	_, err = r.oss.PutObjectTagging(ctx, &oss.PutObjectTaggingRequest{Bucket: oss.Ptr(where.Bucket), Key: oss.Ptr(where.Key),
		Tagging: &oss.Tagging{TagSet: &oss.TagSet{Tags: tags}}})
	if err != nil {
		if Retryable(err) {
			return done, fmt.Errorf("put object tagging: %w", err)
		}
		r.s.log().ErrorContext(ctx, "cannot tag object", "bucket", where.Bucket, "key", where.Key, "err", err)
		return done, nil
	}
	return append(done, "tag:"+k+"="+v), nil
}

// invokeRetryable classifies an InvokeFunction failure: throttling, FC
// server errors and transport failures may pass on retry; a missing
// function, a denial or a rejected payload will not.
func invokeRetryable(err error) bool {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		s := se.HttpStatus()
		return s >= http.StatusInternalServerError || s == http.StatusTooManyRequests
	}
	return true
}
