package oss

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"strings"
	"time"

	ossdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/iam"
)

// Synthetic describes a test object created directly in the store, without
// HTTP, so tests can have multi-GiB objects in seconds. It is a local-only
// hook: real OSS has nothing like it.
type Synthetic struct {
	Size int64
	// Gen supplies exactly Size bytes. When nil the object is zeros, stored
	// as a sparse file, with Patches written over them.
	Gen     io.Reader
	Patches []Patch
	// ContentType defaults to application/octet-stream.
	ContentType string
	// Notify calls Hooks.ObjectCreated with "ObjectCreated:PutObject", as an
	// upload would.
	Notify bool
}

// Patch is data placed at an offset of a sparse synthetic object.
type Patch struct {
	Offset int64
	Data   []byte
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Bucket, Key string
	Size        int64
	ETag        string // quoted, as in the ETag header
	CRC64       string // x-oss-hash-crc64ecma
}

// syntheticChunk is the part size used to give sparse objects a multipart
// ETag: zero chunks share one precomputed MD5, so a 5 GiB object costs only
// the patched chunks' hashing.
const syntheticChunk = 8 << 20

// PutSynthetic stores an object in an existing bucket. With Gen, the bytes
// are streamed to disk and the ETag is their MD5, as PutObject would give;
// without Gen, the ETag is the multipart form over 8 MiB parts, as if the
// object had been uploaded in parts of that size.
func (s *Server) PutSynthetic(ctx context.Context, bucket, key string, obj Synthetic) (ObjectInfo, error) {
	b, ok := s.store.bucket(bucket)
	if !ok {
		return ObjectInfo{}, fmt.Errorf("put synthetic object: %w", errNoSuchBucket(bucket))
	}
	if key == "" || len(key) > 1023 || obj.Size < 0 {
		return ObjectInfo{}, errors.New("put synthetic object: invalid key or size")
	}
	m := objectMeta{Key: key, ContentType: obj.ContentType, ACL: "default", StorageClass: "Standard",
		LastModified: s.now().UTC().Truncate(time.Second), Type: "Normal"}
	if m.ContentType == "" {
		m.ContentType = "application/octet-stream"
	}
	var path string
	if obj.Gen != nil {
		k, err := s.newSink()
		if err != nil {
			return ObjectInfo{}, err
		}
		if err := k.fill(io.LimitReader(obj.Gen, obj.Size), obj.Size); err != nil {
			k.abort()
			return ObjectInfo{}, fmt.Errorf("put synthetic object: generator gave fewer than %d bytes: %w", obj.Size, err)
		}
		m.Size, m.ETag, m.CRC64 = k.size, k.etag(), crcString(k.crc.Sum64())
		m.ContentMD5 = encodeB64(k.md5.Sum(nil))
		if path, err = k.finish(); err != nil {
			return ObjectInfo{}, err
		}
	} else {
		var err error
		if path, err = s.sparse(&m, obj); err != nil {
			return ObjectInfo{}, err
		}
	}
	if err := b.commit(m, path, false); err != nil {
		return ObjectInfo{}, fmt.Errorf("put synthetic object: %w", err)
	}
	if obj.Notify {
		s.notifyEvent(ctx, core.ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: bucket, Key: key,
			ETag: strings.Trim(m.ETag, `"`), Size: m.Size, MimeType: m.ContentType, SourceIP: "127.0.0.1",
			RequestID: core.NewRequestID(), Principal: s.rootPrincipal(), EventTime: m.LastModified})
	}
	return ObjectInfo{Bucket: bucket, Key: key, Size: m.Size, ETag: m.ETag, CRC64: m.CRC64}, nil
}

func (s *Server) sparse(m *objectMeta, obj Synthetic) (string, error) {
	for _, p := range obj.Patches {
		if p.Offset < 0 || p.Offset+int64(len(p.Data)) > obj.Size {
			return "", fmt.Errorf("put synthetic object: patch at %d outside object of %d bytes", p.Offset, obj.Size)
		}
	}
	f, err := s.store.tempFile()
	if err != nil {
		return "", err
	}
	k := &sink{f: f, durable: s.store.durable.Load()}
	if err := f.Truncate(obj.Size); err != nil {
		k.abort()
		return "", fmt.Errorf("size synthetic object: %w", err)
	}
	for _, p := range obj.Patches {
		if _, err := f.WriteAt(p.Data, p.Offset); err != nil {
			k.abort()
			return "", fmt.Errorf("patch synthetic object: %w", err)
		}
	}
	table := crcTable()
	zero := make([]byte, syntheticChunk)
	zeroMD5 := md5.Sum(zero)
	zeroCRC := crc64.Checksum(zero, table)
	buf := make([]byte, syntheticChunk)
	etags := md5.New()
	var crc uint64
	parts := 0
	for off := int64(0); off < obj.Size; off += syntheticChunk {
		n := min(int64(syntheticChunk), obj.Size-off)
		touched := false
		for _, p := range obj.Patches {
			if p.Offset < off+n && p.Offset+int64(len(p.Data)) > off {
				touched = true
				break
			}
		}
		var sum [md5.Size]byte
		var c uint64
		switch {
		case touched:
			if _, err := f.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
				k.abort()
				return "", fmt.Errorf("hash synthetic object: %w", err)
			}
			sum, c = md5.Sum(buf[:n]), crc64.Checksum(buf[:n], table)
		case n < syntheticChunk:
			sum, c = md5.Sum(zero[:n]), crc64.Checksum(zero[:n], table)
		default:
			sum, c = zeroMD5, zeroCRC
		}
		etags.Write(sum[:])
		crc = ossdk.CRC64Combine(crc, c, uint64(n))
		parts++
	}
	m.Size = obj.Size
	if parts == 0 {
		sum := md5.Sum(nil)
		m.ETag = fmt.Sprintf(`"%X"`, sum[:])
		m.CRC64 = "0"
	} else {
		m.ETag = fmt.Sprintf(`"%X-%d"`, etags.Sum(nil), parts)
		m.CRC64 = crcString(crc)
		m.Type = "Multipart"
	}
	return k.finish()
}

// rootPrincipal is the account owner, the uploader of synthetic objects.
func (s *Server) rootPrincipal() iam.Principal {
	return iam.Principal{Type: "root-account", AccountID: s.env.AccountID, PrincipalID: s.env.AccountID,
		UserName: "root", AccessKeyID: s.env.IAM.RootKey().AccessKeyID}
}
