package ossscan

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/akguard/akguard/infra/local/localtest"
	localoss "github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/shared/scan"
)

// objects starts a local cloud (no functions) and returns a helper that
// stores random objects in the upload bucket.
func objects(t testing.TB) (*localtest.Env, func(key string, size int) (*Object, []byte)) {
	t.Helper()
	env := localtest.Start(t, localtest.Options{})
	cl := env.Root.OSS()
	bucket := env.Vars["uploadBucket"]
	rng := rand.New(rand.NewPCG(1, 2))
	return env, func(key string, size int) (*Object, []byte) {
		t.Helper()
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if _, err := env.Cloud.OSS.PutSynthetic(context.Background(), bucket, key, localoss.Synthetic{Size: int64(size), Gen: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
		o, err := Head(context.Background(), cl, bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		return o, data
	}
}

func TestPrefetcherDeliversTheObjectInOrder(t *testing.T) {
	_, put := objects(t)
	for _, size := range []int{0, 1, firstPart - 1, firstPart, firstPart + 1, 1<<20 + 17, 3<<20 + 5} {
		o, data := put(fmt.Sprintf("obj-%d", size), size)
		for _, tc := range []struct {
			part    int64
			workers int
		}{{64 << 10, 1}, {1 << 20, 1}, {512 << 10, 3}, {1 << 20, 8}} {
			t.Run(fmt.Sprintf("size=%d/part=%d/workers=%d", size, tc.part, tc.workers), func(t *testing.T) {
				p := NewPrefetcher(context.Background(), o, tc.part, tc.workers)
				defer p.Close()
				if err := iotest.TestReader(p, data); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestPrefetcherCloseBeforeEnd(t *testing.T) {
	_, put := objects(t)
	o, data := put("big", 4<<20)
	p := NewPrefetcher(context.Background(), o, 256<<10, 4)
	buf := make([]byte, 300<<10)
	if _, err := io.ReadFull(p, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data[:len(buf)]) {
		t.Fatal("wrong bytes")
	}
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestReaderAtRandomReads(t *testing.T) {
	_, put := objects(t)
	size := 3<<20 + 123
	o, data := put("random-access", size)
	ra := NewReaderAt(context.Background(), o)
	rng := rand.New(rand.NewPCG(3, 4))
	reads := []struct{ off, n int }{{0, 10}, {size - 10, 10}, {size - 10, 20}, {1<<20 - 3, 6}, {0, size}, {1 << 20, 2 << 20}, {size, 1}}
	for range 200 {
		off := rng.IntN(size)
		reads = append(reads, struct{ off, n int }{off, rng.IntN(70_000) + 1})
	}
	for _, rd := range reads {
		p := make([]byte, rd.n)
		n, err := ra.ReadAt(p, int64(rd.off))
		want := min(rd.n, max(size-rd.off, 0))
		if n != want || !bytes.Equal(p[:n], data[rd.off:rd.off+n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d bytes", rd.n, rd.off, n, err, want)
		}
		if (n < rd.n) != (err == io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v: EOF only on short reads", rd.n, rd.off, n, err)
		}
	}
}

func TestReplacedOrDeletedObjectIsGone(t *testing.T) {
	env, put := objects(t)
	cl := env.Root.OSS()
	for _, tc := range []struct {
		name   string
		change func(o *Object)
	}{
		{"deleted", func(o *Object) {
			if _, err := cl.DeleteObject(context.Background(), &oss.DeleteObjectRequest{Bucket: oss.Ptr(o.Bucket), Key: oss.Ptr(o.Key)}); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced", func(o *Object) { put(o.Key, int(o.Size)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := put("changing-"+tc.name, 2<<20)
			p := NewPrefetcher(context.Background(), o, 256<<10, 1)
			defer p.Close()
			if _, err := io.ReadFull(p, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			tc.change(o)
			_, err := io.Copy(io.Discard, p)
			if !errors.Is(err, ErrGone) {
				t.Errorf("prefetcher: %v, want ErrGone", err)
			}
			if _, err := NewReaderAt(context.Background(), o).ReadAt(make([]byte, 10), 1<<20); !errors.Is(err, ErrGone) {
				t.Errorf("reader at: %v, want ErrGone", err)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&oss.ServiceError{StatusCode: 503, Code: "ServiceUnavailable"}, true},
		{&oss.ServiceError{StatusCode: 429, Code: "Throttling"}, true},
		{&oss.ServiceError{StatusCode: 403, Code: "AccessDenied"}, false},
		{&oss.ServiceError{StatusCode: 404, Code: "NoSuchKey"}, false},
		{fmt.Errorf("read: %w", ErrGone), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{io.ErrUnexpectedEOF, true},
		{&retryError{errors.New("fc 503")}, true},
		{errors.New("something else"), false},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !invokeRetryable(sdkerrors.NewServerError(503, `{"Code":"ServiceUnavailable"}`, "")) ||
		invokeRetryable(sdkerrors.NewServerError(404, `{"Code":"FunctionNotFound"}`, "")) ||
		!invokeRetryable(sdkerrors.NewClientError("SDK.TimeoutError", "timeout", nil)) {
		t.Error("invokeRetryable misclassifies FC errors")
	}
}

// countingTransport sums the object bytes OSS sends back.
type countingTransport struct {
	gets  atomic.Int64
	bytes atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && res.ContentLength > 0 {
		c.gets.Add(1)
		c.bytes.Add(res.ContentLength)
	}
	return res, err
}

// A zip is read through the ReaderAt after the walker sniffs its start:
// the Prefetcher must not have downloaded parts ahead that nobody reads.
func TestZipIsNotPrefetched(t *testing.T) {
	env, _ := objects(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 8 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("blob-%d.bin", i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		w.Write(b)
	}
	zw.Close()
	bucket := env.Vars["uploadBucket"]
	if _, err := env.Cloud.OSS.PutSynthetic(context.Background(), bucket, "app.zip", localoss.Synthetic{Size: int64(buf.Len()), Gen: bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{}
	cl := oss.NewClient(oss.LoadDefaultConfig().WithRegion(env.Root.Region).WithEndpoint(env.Root.Endpoints.OSS).WithUsePathStyle(true).
		WithCredentialsProvider(osscred.NewStaticCredentialsProvider(env.Root.Creds.AccessKeyID, env.Root.Creds.AccessKeySecret)).
		WithHttpClient(&http.Client{Transport: ct}))
	o, err := Head(context.Background(), cl, bucket, "app.zip")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := scan.New(scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, closeSrc := Open(context.Background(), o, 1<<20, 4)
	c := &collector{}
	err = engine.Scan(context.Background(), src, c)
	closeSrc()
	if err != nil || len(c.skips) != 0 {
		t.Fatalf("scan: %v, skips %+v", err, c.skips)
	}
	// Everything is read once through the ReaderAt; the Prefetcher adds its
	// small first part only (and the last cached block may overlap).
	if waste := ct.bytes.Load() - o.Size; waste > firstPart+1<<20 {
		t.Errorf("fetched %d bytes in %d GETs for a %d-byte zip: %d bytes wasted", ct.bytes.Load(), ct.gets.Load(), o.Size, waste)
	}
	t.Logf("fetched %d bytes in %d GETs for a %d-byte zip", ct.bytes.Load(), ct.gets.Load(), o.Size)
}
