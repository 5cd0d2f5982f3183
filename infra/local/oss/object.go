package oss

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ossdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// maxPutSize is the largest object a single PutObject (or part) may carry.
const maxPutSize = 5 << 30

// copyBufSize is the buffer for streaming request bodies to disk.
const copyBufSize = 1 << 20

func md5Base64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// crcTable is CRC-64/ECMA-182 as OSS computes x-oss-hash-crc64ecma (the
// SDK uses hash/crc64 with crc64.ECMA, oss/utils_crc.go).
func crcTable() *crc64.Table { return crc64.MakeTable(crc64.ECMA) }

// sink streams a body to a temp file while hashing it.
type sink struct {
	f       *os.File
	durable bool
	md5     hash.Hash
	crc     hash.Hash64
	size    int64
}

func (s *Server) newSink() (*sink, error) {
	f, err := s.store.tempFile()
	if err != nil {
		return nil, err
	}
	return &sink{f: f, md5: md5.New(), crc: crc64.New(crcTable()), durable: s.store.durable.Load()}, nil
}

func (k *sink) Write(p []byte) (int, error) {
	n, err := k.f.Write(p)
	k.md5.Write(p[:n])
	k.crc.Write(p[:n])
	k.size += int64(n)
	return n, err
}

// fill copies r into the sink; want < 0 means unknown length.
func (k *sink) fill(r io.Reader, want int64) error {
	n := int64(copyBufSize)
	if want >= 0 && want < n {
		n = max(want, 512)
	}
	buf := make([]byte, n)
	if _, err := io.CopyBuffer(struct{ io.Writer }{k}, r, buf); err != nil {
		return fmt.Errorf("receive object data: %w", err)
	}
	if want >= 0 && k.size != want {
		return errf(http.StatusBadRequest, "IncompleteBody", "You did not send the full object.")
	}
	return nil
}

// finish syncs and closes the file, returning its path.
func (k *sink) finish() (string, error) {
	if k.durable {
		if err := k.f.Sync(); err != nil {
			k.abort()
			return "", fmt.Errorf("sync object data: %w", err)
		}
	}
	if err := k.f.Close(); err != nil {
		_ = os.Remove(k.f.Name())
		return "", fmt.Errorf("close object data: %w", err)
	}
	return k.f.Name(), nil
}

func (k *sink) abort() {
	k.f.Close()
	_ = os.Remove(k.f.Name())
}

func (k *sink) etag() string { return `"` + strings.ToUpper(hex.EncodeToString(k.md5.Sum(nil))) + `"` }

func crcString(v uint64) string { return strconv.FormatUint(v, 10) }

// objectFromHeaders reads the metadata headers PutObject,
// InitiateMultipartUpload and AppendObject accept.
func (s *Server) objectFromHeaders(rq *request) (objectMeta, error) {
	h := rq.r.Header
	m := objectMeta{
		Key: rq.key, ContentType: h.Get("Content-Type"), CacheControl: h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"), ContentEncoding: h.Get("Content-Encoding"),
		Expires: h.Get("Expires"), ACL: h.Get("x-oss-object-acl"), StorageClass: h.Get("x-oss-storage-class"),
		LastModified: s.now().UTC().Truncate(time.Second), Type: "Normal",
	}
	if m.ContentType == "" {
		m.ContentType = "application/octet-stream"
	}
	if m.ACL == "" {
		m.ACL = "default"
	}
	if !validACL(m.ACL, true) {
		return m, errInvalidArgument("no such object access control exists", "x-oss-object-acl", m.ACL)
	}
	if m.StorageClass == "" {
		m.StorageClass = "Standard"
	}
	for name, vals := range h {
		ln := strings.ToLower(name)
		if strings.HasPrefix(ln, "x-oss-meta-") && len(vals) > 0 {
			if m.Meta == nil {
				m.Meta = map[string]string{}
			}
			m.Meta[strings.TrimPrefix(ln, "x-oss-meta-")] = vals[0]
		}
	}
	if t := h.Get("x-oss-tagging"); t != "" {
		tags, err := parseTaggingHeader(t)
		if err != nil {
			return m, err
		}
		m.Tags = tags
		// Tagging on upload also needs oss:PutObjectTagging
		// (help.aliyun.com/zh/oss/support/0003-00000905).
		b, _ := s.store.bucket(rq.bucket)
		if err := s.authorize(rq, b, "oss:PutObjectTagging", rq.bucket, rq.key, ""); err != nil {
			return m, err
		}
	}
	return m, nil
}

func parseTaggingHeader(v string) ([]tag, error) {
	var tags []tag
	for _, kv := range strings.Split(v, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			return nil, errInvalidArgument("The tag provided was not a valid tag.", "x-oss-tagging", v)
		}
		tags = append(tags, tag{dk, dv})
	}
	return tags, validateTags(tags)
}

func validateTags(tags []tag) error {
	if len(tags) > 10 {
		return errf(http.StatusBadRequest, "BadRequest", "Object tags cannot be greater than 10.")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || utf8.RuneCountInString(t.Value) > 256 || seen[t.Key] {
			return errf(http.StatusBadRequest, "InvalidTag", "The tag provided was not a valid tag.")
		}
		seen[t.Key] = true
	}
	return nil
}

// forbidOverwrite reports whether the write must fail when the key exists.
// OSS ignores x-oss-forbid-overwrite on a bucket whose versioning is
// Enabled or Suspended and overwrites the object (a new version): the
// PutObject, CopyObject and InitiateMultipartUpload API references, quoted
// in the SDK's PutObjectRequest.ForbidOverwrite doc
// (alibabacloud-oss-go-sdk-v2 oss/api_op_object.go). Emulating that keeps
// create-once code honest about which buckets it can rely on.
func forbidOverwrite(r *http.Request, b *bucketState) bool {
	if v := b.snapshot().Versioning; v == "Enabled" || v == "Suspended" {
		return false
	}
	return strings.EqualFold(r.Header.Get("x-oss-forbid-overwrite"), "true")
}

func (s *Server) putObject(rq *request, b *bucketState) error {
	r := rq.r
	if r.ContentLength > maxPutSize {
		return errf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	m, err := s.objectFromHeaders(rq)
	if err != nil {
		return err
	}
	forbid := forbidOverwrite(r, b)
	if _, exists := b.get(rq.key); exists && forbid {
		return errFileExists()
	}
	k, err := s.newSink()
	if err != nil {
		return err
	}
	if err := k.fill(io.LimitReader(r.Body, maxPutSize+1), r.ContentLength); err != nil {
		k.abort()
		return err
	}
	if k.size > maxPutSize {
		k.abort()
		return errf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	sum := k.md5.Sum(nil)
	md5b64 := base64.StdEncoding.EncodeToString(sum)
	if want := r.Header.Get("Content-MD5"); want != "" && want != md5b64 {
		k.abort()
		return errf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified did not match what we received.")
	}
	m.Size, m.ETag, m.ContentMD5, m.CRC64 = k.size, k.etag(), md5b64, crcString(k.crc.Sum64())
	path, err := k.finish()
	if err != nil {
		return err
	}
	if err := b.commit(m, path, forbid); err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", m.ETag)
	h.Set("Content-MD5", m.ContentMD5)
	h.Set("x-oss-hash-crc64ecma", m.CRC64)
	rq.w.WriteHeader(http.StatusOK)
	s.notify(rq, "ObjectCreated:PutObject", m)
	return nil
}

// byteRange is an inclusive range within an object.
type byteRange struct{ start, end int64 }

// parseRange reads a single "bytes=a-b", "bytes=a-" or "bytes=-n" range.
// ok is false when the header is absent, malformed or unsatisfiable; OSS
// then serves the whole object unless x-oss-range-behavior: standard asks
// for 416 (GetObject API reference, "Range").
func parseRange(h string, size int64) (br byteRange, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return br, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return br, false
	}
	switch {
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 || size == 0 {
			return br, false
		}
		if n > size {
			n = size
		}
		return byteRange{size - n, size - 1}, true
	default:
		start, err := strconv.ParseInt(a, 10, 64)
		if err != nil || start < 0 || start >= size {
			return br, false
		}
		end := size - 1
		if b != "" {
			e, err := strconv.ParseInt(b, 10, 64)
			if err != nil || e < start {
				return br, false
			}
			if e < end {
				end = e
			}
		}
		return byteRange{start, end}, true
	}
}

func (s *Server) setObjectHeaders(h http.Header, m objectMeta) {
	h.Set("Content-Type", m.ContentType)
	h.Set("ETag", m.ETag)
	h.Set("Last-Modified", httpDate(m.LastModified))
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-oss-object-type", m.Type)
	h.Set("x-oss-storage-class", m.StorageClass)
	if m.CRC64 != "" {
		h.Set("x-oss-hash-crc64ecma", m.CRC64)
	}
	if len(m.Tags) > 0 {
		h.Set("x-oss-tagging-count", strconv.Itoa(len(m.Tags)))
	}
	if m.Type == "Appendable" {
		h.Set("x-oss-next-append-position", strconv.FormatInt(m.Size, 10))
	}
	for k, v := range map[string]string{"Cache-Control": m.CacheControl, "Content-Disposition": m.ContentDisposition,
		"Content-Encoding": m.ContentEncoding, "Expires": m.Expires} {
		if v != "" {
			h.Set(k, v)
		}
	}
	for k, v := range m.Meta {
		h.Set("x-oss-meta-"+k, v)
	}
}

// preconditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since; status 0 means proceed.
func preconditions(r *http.Request, m objectMeta) (int, *apiError) {
	etagMatch := func(v string) bool {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if e == "*" || strings.Trim(e, `"`) == strings.Trim(m.ETag, `"`) {
				return true
			}
		}
		return false
	}
	if v := r.Header.Get("If-Match"); v != "" && !etagMatch(v) {
		return http.StatusPreconditionFailed, errf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.", field{"Condition", "If-Match"})
	}
	if v := r.Header.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && m.LastModified.After(t) {
			return http.StatusPreconditionFailed, errf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.", field{"Condition", "If-Unmodified-Since"})
		}
	}
	if v := r.Header.Get("If-None-Match"); v != "" && etagMatch(v) {
		return http.StatusNotModified, nil
	}
	if v := r.Header.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !m.LastModified.After(t) {
			return http.StatusNotModified, nil
		}
	}
	return 0, nil
}

// getObject serves GetObject and HeadObject from the object's file; a
// ranged read seeks and streams only that section (sendfile where the
// platform has it), so memory stays bounded for any object size.
func (s *Server) getObject(rq *request, b *bucketState) error {
	m, f, err := b.open(rq.key)
	if err != nil {
		return err
	}
	defer f.Close()
	r, w := rq.r, rq.w
	h := w.Header()
	if status, e := preconditions(r, m); e != nil {
		return e
	} else if status == http.StatusNotModified {
		h.Set("ETag", m.ETag)
		h.Set("Last-Modified", httpDate(m.LastModified))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	s.setObjectHeaders(h, m)
	q := r.URL.Query()
	for param, header := range map[string]string{"response-content-type": "Content-Type",
		"response-content-language": "Content-Language", "response-expires": "Expires",
		"response-cache-control": "Cache-Control", "response-content-disposition": "Content-Disposition",
		"response-content-encoding": "Content-Encoding"} {
		if v := q.Get(param); v != "" {
			h.Set(header, v)
		}
	}
	status := http.StatusOK
	br := byteRange{0, m.Size - 1}
	if rh := r.Header.Get("Range"); rh != "" {
		if got, ok := parseRange(rh, m.Size); ok {
			br = got
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", br.start, br.end, m.Size))
		} else if strings.EqualFold(r.Header.Get("x-oss-range-behavior"), "standard") {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", m.Size))
			return errf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range cannot be satisfied.")
		}
	}
	if status == http.StatusOK && m.ContentMD5 != "" {
		h.Set("Content-MD5", m.ContentMD5)
	}
	n := br.end - br.start + 1
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead || n <= 0 {
		return nil
	}
	if _, err := f.Seek(br.start, io.SeekStart); err != nil {
		s.log.ErrorContext(rq.ctx, "seek object", "err", err)
		return nil
	}
	// io.LimitedReader over *os.File lets net/http use sendfile.
	if _, err := io.Copy(w, io.LimitReader(f, n)); err != nil {
		s.log.DebugContext(rq.ctx, "client stopped reading object", "err", err)
	}
	return nil
}

func (s *Server) getObjectMeta(rq *request, b *bucketState) error {
	m, ok := b.get(rq.key)
	if !ok {
		return errNoSuchKey(rq.key)
	}
	h := rq.w.Header()
	h.Set("ETag", m.ETag)
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	h.Set("Last-Modified", httpDate(m.LastModified))
	if m.CRC64 != "" {
		h.Set("x-oss-hash-crc64ecma", m.CRC64)
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteObject(rq *request, b *bucketState) error {
	if err := b.remove(rq.key); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// copyObject copies within or across buckets. The caller needs
// oss:GetObject on the source as well as oss:PutObject on the target.
func (s *Server) copyObject(rq *request, b *bucketState) error {
	r := rq.r
	src := r.Header.Get("x-oss-copy-source")
	src, _, _ = strings.Cut(src, "?") // versionId: versions are not kept
	srcBucket, srcKeyEsc, ok := strings.Cut(strings.TrimPrefix(src, "/"), "/")
	srcKey, err := url.PathUnescape(srcKeyEsc)
	if !ok || err != nil || srcKey == "" {
		return errInvalidArgument("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.", "x-oss-copy-source", src)
	}
	rq.params["sourceBucket"], rq.params["sourceObject"] = srcBucket, srcKey
	sb, ok := s.store.bucket(srcBucket)
	if !ok {
		return errNoSuchBucket(srcBucket)
	}
	if err := s.authorize(rq, sb, "oss:GetObject", srcBucket, srcKey, "read"); err != nil {
		return err
	}
	sm, f, err := sb.open(srcKey)
	if err != nil {
		return err
	}
	defer f.Close()
	if copyPreconditionsFail(r, sm) {
		return errf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	}
	forbid := forbidOverwrite(r, b)
	if _, exists := b.get(rq.key); exists && forbid {
		return errFileExists()
	}
	m := sm.clone()
	m.Key = rq.key
	m.LastModified = s.now().UTC().Truncate(time.Second)
	m.ACL = "default"
	if acl := r.Header.Get("x-oss-object-acl"); acl != "" {
		if !validACL(acl, true) {
			return errInvalidArgument("no such object access control exists", "x-oss-object-acl", acl)
		}
		m.ACL = acl
	}
	if strings.EqualFold(r.Header.Get("x-oss-metadata-directive"), "REPLACE") {
		nm, err := s.objectFromHeaders(rq)
		if err != nil {
			return err
		}
		m.ContentType, m.CacheControl, m.ContentDisposition = nm.ContentType, nm.CacheControl, nm.ContentDisposition
		m.ContentEncoding, m.Expires, m.Meta = nm.ContentEncoding, nm.Expires, nm.Meta
	}
	if strings.EqualFold(r.Header.Get("x-oss-tagging-directive"), "Replace") {
		tags, err := parseTaggingHeader(r.Header.Get("x-oss-tagging"))
		if err != nil {
			return err
		}
		m.Tags = tags
	}
	tmp, err := s.store.tempFile()
	if err != nil {
		return err
	}
	// File-to-file io.Copy (an *os.File under an io.LimitedReader) uses
	// copy_file_range on Linux: no bytes pass through user space.
	if _, err := io.Copy(tmp, io.LimitReader(f, sm.Size)); err != nil {
		tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("copy object data: %w", err)
	}
	k := &sink{f: tmp, durable: s.store.durable.Load()}
	path, err := k.finish()
	if err != nil {
		return err
	}
	if err := b.commit(m, path, forbid); err != nil {
		return err
	}
	rq.w.Header().Set("x-oss-hash-crc64ecma", m.CRC64)
	type result struct {
		XMLName      xml.Name `xml:"CopyObjectResult"`
		LastModified string   `xml:"LastModified"`
		ETag         string   `xml:"ETag"`
	}
	if err := writeXML(rq.w, result{LastModified: m.LastModified.Format(isoMillis), ETag: m.ETag}); err != nil {
		return err
	}
	s.notify(rq, "ObjectCreated:CopyObject", m)
	return nil
}

// copyPreconditionsFail evaluates the x-oss-copy-source-if-* headers; any
// unmet one fails the copy with 412.
func copyPreconditionsFail(r *http.Request, m objectMeta) bool {
	h := http.Header{}
	for _, k := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := r.Header.Get("x-oss-copy-source-" + strings.ToLower(k)); v != "" {
			h.Set(k, v)
		}
	}
	status, _ := preconditions(&http.Request{Header: h}, m)
	return status != 0
}

// appendObject writes in place: bytes land after the committed size and
// become visible only when the sidecar records the new size, so a crash
// mid-append leaves the object as it was (the tail is truncated on the
// next append).
func (s *Server) appendObject(rq *request, b *bucketState) error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	r := rq.r
	pos, err := strconv.ParseInt(r.URL.Query().Get("position"), 10, 64)
	if err != nil || pos < 0 {
		return errInvalidArgument("Invalid position.", "position", r.URL.Query().Get("position"))
	}
	cur, exists := b.get(rq.key)
	if exists && cur.Type != "Appendable" {
		return errf(http.StatusConflict, "ObjectNotAppendable", "The object is not appendable.")
	}
	if (exists && pos != cur.Size) || (!exists && pos != 0) {
		rq.w.Header().Set("x-oss-next-append-position", strconv.FormatInt(cur.Size, 10))
		return errf(http.StatusConflict, "PositionNotEqualToLength", "Position is not equal to file length.")
	}
	if !exists {
		m, err := s.objectFromHeaders(rq)
		if err != nil {
			return err
		}
		m.Type = "Appendable"
		k, err := s.newSink()
		if err != nil {
			return err
		}
		if err := k.fill(r.Body, r.ContentLength); err != nil {
			k.abort()
			return err
		}
		m.Size, m.ETag, m.CRC64 = k.size, k.etag(), crcString(k.crc.Sum64())
		path, err := k.finish()
		if err != nil {
			return err
		}
		if err := b.commit(m, path, false); err != nil {
			return err
		}
		return s.appended(rq, m)
	}
	f, err := os.OpenFile(b.dataPath(cur.DataFile), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open appendable object: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(cur.Size); err != nil {
		return fmt.Errorf("truncate appendable object: %w", err)
	}
	if _, err := f.Seek(cur.Size, io.SeekStart); err != nil {
		return fmt.Errorf("seek appendable object: %w", err)
	}
	crc := crc64.New(crcTable())
	n, err := io.CopyBuffer(io.MultiWriter(f, crc), r.Body, make([]byte, copyBufSize))
	if err != nil {
		return fmt.Errorf("append object data: %w", err)
	}
	if r.ContentLength >= 0 && n != r.ContentLength {
		return errf(http.StatusBadRequest, "IncompleteBody", "You did not send the full object.")
	}
	if s.store.durable.Load() {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync appendable object: %w", err)
		}
	}
	// The ETag of an appendable object covers all of its bytes.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("seek appendable object: %w", err)
	}
	h := md5.New()
	if _, err := io.Copy(h, io.LimitReader(f, cur.Size+n)); err != nil {
		return fmt.Errorf("hash appendable object: %w", err)
	}
	prevCRC, _ := strconv.ParseUint(cur.CRC64, 10, 64)
	var m objectMeta
	err = b.update(rq.key, func(o *objectMeta) error {
		if o.DataFile != cur.DataFile || o.Size != cur.Size {
			// Replaced by a PutObject while appending: the append lost.
			return errf(http.StatusConflict, "PositionNotEqualToLength", "Position is not equal to file length.")
		}
		o.Size = cur.Size + n
		o.ETag = `"` + strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + `"`
		o.CRC64 = crcString(ossdk.CRC64Combine(prevCRC, crc.Sum64(), uint64(n)))
		o.LastModified = s.now().UTC().Truncate(time.Second)
		m = *o
		return nil
	})
	if err != nil {
		return err
	}
	return s.appended(rq, m)
}

func (s *Server) appended(rq *request, m objectMeta) error {
	h := rq.w.Header()
	h.Set("ETag", m.ETag)
	h.Set("x-oss-next-append-position", strconv.FormatInt(m.Size, 10))
	h.Set("x-oss-hash-crc64ecma", m.CRC64)
	rq.w.WriteHeader(http.StatusOK)
	s.notify(rq, "ObjectCreated:AppendObject", m)
	return nil
}

func (s *Server) getObjectACL(rq *request, b *bucketState) error {
	m, ok := b.get(rq.key)
	if !ok {
		return errNoSuchKey(rq.key)
	}
	return writeXML(rq.w, accessControlPolicy{Owner: s.owner(), Grant: m.ACL})
}

func (s *Server) putObjectACL(rq *request, b *bucketState) error {
	acl := rq.r.Header.Get("x-oss-object-acl")
	if !validACL(acl, true) {
		return errInvalidArgument("no such object access control exists", "x-oss-object-acl", acl)
	}
	rq.params["acl"] = acl
	if err := b.update(rq.key, func(m *objectMeta) error { m.ACL = acl; return nil }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	} `xml:"TagSet>Tag"`
}

func (s *Server) getObjectTagging(rq *request, b *bucketState) error {
	m, ok := b.get(rq.key)
	if !ok {
		return errNoSuchKey(rq.key)
	}
	var out taggingXML
	for _, t := range m.Tags {
		out.Tags = append(out.Tags, struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		}{t.Key, t.Value})
	}
	return writeXML(rq.w, out)
}

func (s *Server) putObjectTagging(rq *request, b *bucketState) error {
	var in taggingXML
	if err := readXMLBody(rq.r, &in, false); err != nil {
		return err
	}
	tags := make([]tag, 0, len(in.Tags))
	for _, t := range in.Tags {
		tags = append(tags, tag{t.Key, t.Value})
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	if err := b.update(rq.key, func(m *objectMeta) error { m.Tags = tags; return nil }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteObjectTagging(rq *request, b *bucketState) error {
	if err := b.update(rq.key, func(m *objectMeta) error { m.Tags = nil; return nil }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
