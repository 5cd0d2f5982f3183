package ossscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// ErrGone reports that the object was deleted or replaced while it was
// being read: a later event covers the new version, so it is a clean skip.
var ErrGone = errors.New("object deleted or replaced while being read")

// Object is one version of an OSS object, pinned by its ETag: every read
// sends If-Match, so a concurrent overwrite is noticed instead of mixing
// bytes of two versions.
type Object struct {
	Client *oss.Client
	Bucket string
	Key    string
	ETag   string // as returned by HeadObject, quotes included
	Size   int64
}

// Range opens bytes [off, off+n) of the object.
func (o *Object) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	req := &oss.GetObjectRequest{Bucket: oss.Ptr(o.Bucket), Key: oss.Ptr(o.Key), IfMatch: oss.Ptr(o.ETag)}
	if off != 0 || n != o.Size {
		req.Range = oss.Ptr("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10))
		// Standard behaviour makes OSS fail an out-of-range request (416)
		// instead of silently returning the whole object.
		req.RangeBehavior = oss.Ptr("standard")
	}
	res, err := o.Client.GetObject(ctx, req)
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("get object range %d+%d: %w", off, n, ErrGone)
		}
		return nil, fmt.Errorf("get object range %d+%d: %w", off, n, err)
	}
	return res.Body, nil
}

// readRange reads bytes [off, off+len(p)) into p, retrying transient
// failures (a reset connection halfway through a part) a few times.
func (o *Object) readRange(ctx context.Context, p []byte, off int64) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			}
		}
		var body io.ReadCloser
		body, err = o.Range(ctx, off, int64(len(p)))
		if err == nil {
			_, err = io.ReadFull(body, p)
			body.Close()
			if err == nil {
				return nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				err = fmt.Errorf("read object range %d+%d: %w", off, len(p), ErrGone)
			} else {
				err = fmt.Errorf("read object range %d+%d: %w", off, len(p), err)
			}
		}
		if !Retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// isGone recognises the object disappearing (404) or changing (412
// PreconditionFailed on If-Match).
func isGone(err error) bool {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code == "NoSuchKey" || se.StatusCode == 412 || se.Code == "PreconditionFailed"
	}
	return false
}

// Retryable reports whether another attempt may succeed: throttling,
// server errors and network failures, but never a denial, a missing
// object or a malformed request.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrGone) || errors.Is(err, context.Canceled) {
		return false
	}
	var re *retryError
	if errors.As(err, &re) {
		return true
	}
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || se.StatusCode == 429 || se.Code == "Throttling" || se.Code == "RequestTimeout"
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ce *oss.ClientError
	var pe *oss.SerializationError
	var ip oss.InvalidParamError
	if errors.As(err, &ce) || errors.As(err, &pe) || errors.As(err, &ip) {
		return false
	}
	// What is left of the SDK's operation errors is the transport failing
	// (connection refused or reset, wrapped as *url.Error).
	var oe *oss.OperationError
	return errors.As(err, &oe)
}

// retryError marks a failure of another service (FC's InvokeFunction)
// that was already judged retryable where it happened.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// ReaderAt gives random access to the object through ranged GETs, for zip
// central directories and members read in place. archive/zip issues many
// small reads (4 KiB through bufio), so whole aligned blocks are fetched
// and the last few kept: memory is bounded by blocks*blockSize.
type ReaderAt struct {
	obj       *Object
	ctx       context.Context
	blockSize int64
	mu        sync.Mutex
	cache     []block // most recently used last
	maxBlocks int
}

type block struct {
	off  int64
	data []byte
}

// NewReaderAt returns a ReaderAt over obj; ctx bounds every request.
func NewReaderAt(ctx context.Context, obj *Object) *ReaderAt {
	return &ReaderAt{obj: obj, ctx: ctx, blockSize: 1 << 20, maxBlocks: 4}
}

// Size is the object's length (unpack uses it to open a zip in place).
func (r *ReaderAt) Size() int64 { return r.obj.Size }

// ReadAt implements io.ReaderAt.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("read object: negative offset")
	}
	if off >= r.obj.Size {
		return 0, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) && off < r.obj.Size {
		// A large read (a stored zip member through a SectionReader) goes
		// straight to p rather than through the cache.
		if rem := int64(len(p) - n); rem >= r.blockSize && off%r.blockSize == 0 {
			k := min(rem, r.obj.Size-off)
			k -= k % r.blockSize
			if k > 0 {
				if err := r.obj.readRange(r.ctx, p[n:n+int(k)], off); err != nil {
					return n, err
				}
				n += int(k)
				off += k
				continue
			}
		}
		b, err := r.block(off - off%r.blockSize)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], b.data[off-b.off:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *ReaderAt) block(off int64) (block, error) {
	for i, b := range r.cache {
		if b.off == off {
			r.cache = append(append(r.cache[:i:i], r.cache[i+1:]...), b)
			return b, nil
		}
	}
	size := min(r.blockSize, r.obj.Size-off)
	var buf []byte
	if len(r.cache) >= r.maxBlocks {
		buf = r.cache[0].data[:cap(r.cache[0].data)]
		r.cache = r.cache[1:]
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if err := r.obj.readRange(r.ctx, buf, off); err != nil {
		return block{}, err
	}
	b := block{off: off, data: buf}
	r.cache = append(r.cache, b)
	return b, nil
}
