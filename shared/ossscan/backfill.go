package ossscan

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/shared/fcevent"
)

// Listed is an object found by List.
type Listed struct {
	Key  string
	ETag string // normalized (no quotes)
	Size int64
}

// List calls fn for every object under prefix, in key order, paging
// through ListObjectsV2 (1000 keys a page). Directory placeholders
// (keys ending in "/" with no content) are passed over.
func List(ctx context.Context, cl *oss.Client, bucket, prefix string, fn func(Listed) error) error {
	p := cl.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr(prefix),
		MaxKeys: 1000})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list oss://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			k := oss.ToString(o.Key)
			if o.Size == 0 && len(k) > 0 && k[len(k)-1] == '/' {
				continue
			}
			if err := fn(Listed{Key: k, ETag: NormalizeETag(oss.ToString(o.ETag)), Size: o.Size}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Batcher groups listed objects into synthetic OSS trigger events, so the
// scan function handles a backfill exactly as it handles uploads. A batch
// closes at MaxObjects objects or MaxBytes of object data, whichever comes
// first, so each invocation fits in the function's timeout.
type Batcher struct {
	Region, AccountID, Bucket string
	MaxObjects                int
	MaxBytes                  int64
	Now                       func() time.Time

	cur   []Listed
	bytes int64
}

// Add appends an object and returns a full batch's event when one closes.
func (b *Batcher) Add(o Listed) ([]byte, error) {
	if len(b.cur) > 0 && (len(b.cur) >= max(b.MaxObjects, 1) || (b.MaxBytes > 0 && b.bytes+o.Size > b.MaxBytes)) {
		ev, err := b.Flush()
		b.cur, b.bytes = append(b.cur, o), o.Size
		return ev, err
	}
	b.cur = append(b.cur, o)
	b.bytes += o.Size
	return nil, nil
}

// Flush returns the event of what is pending (nil when nothing is).
func (b *Batcher) Flush() ([]byte, error) {
	if len(b.cur) == 0 {
		return nil, nil
	}
	ev, err := SyntheticEvent(b.Region, b.AccountID, b.Bucket, b.cur, b.now())
	b.cur, b.bytes = nil, 0
	return ev, err
}

func (b *Batcher) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// SyntheticEvent builds an OSS trigger event (the shape of
// fc-runtime-go-sdk events.OssEvent, cloud-apis.md B1.1) naming objs, one
// record each, marked as a backfill in responseElements.requestId.
func SyntheticEvent(region, accountID, bucket string, objs []Listed, now time.Time) ([]byte, error) {
	ev := fcevent.OSSEvent{}
	for _, o := range objs {
		var r fcevent.OSSRecord
		r.EventName = "ObjectCreated:PutObject"
		r.EventSource = "acs:oss"
		r.EventTime = now.UTC().Format("2006-01-02T15:04:05.000Z")
		r.EventVersion = "1.0"
		r.Region = region
		r.OSS.Bucket = fcevent.Bucket{Arn: fmt.Sprintf("acs:oss:%s:%s:%s", region, accountID, bucket), Name: bucket, OwnerIdentity: accountID}
		r.OSS.Object = fcevent.Object{Key: o.Key, ETag: o.ETag, Size: o.Size, DeltaSize: o.Size}
		r.OSS.OSSSchemaVersion = "1.0"
		r.OSS.RuleID = "akguard-backfill"
		r.ResponseElements.RequestID = "akguard-backfill"
		r.UserIdentity.PrincipalID = accountID
		ev.Events = append(ev.Events, r)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode backfill event: %w", err)
	}
	return data, nil
}

// Head pins the current version of a listed object for reading.
func Head(ctx context.Context, cl *oss.Client, bucket, key string) (*Object, error) {
	h, err := cl.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("head object: %w", ErrGone)
		}
		return nil, fmt.Errorf("head object: %w", err)
	}
	return &Object{Client: cl, Bucket: bucket, Key: key, ETag: oss.ToString(h.ETag), Size: h.ContentLength}, nil
}
