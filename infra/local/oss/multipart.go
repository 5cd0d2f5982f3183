package oss

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	ossdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Multipart upload limits from the OSS API reference (UploadPart,
// CompleteMultipartUpload): part numbers 1-10000, every part but the last
// at least 100 KiB, each at most 5 GiB.
const (
	maxPartNumber = 10000
	minPartSize   = 100 << 10
)

func (s *Server) initiateMultipart(rq *request, b *bucketState) error {
	m, err := s.objectFromHeaders(rq)
	if err != nil {
		return err
	}
	m.Type = "Multipart"
	if forbidOverwrite(rq.r, b) {
		if _, exists := b.get(rq.key); exists {
			return errFileExists()
		}
	}
	id, err := b.createUpload(m, s.now().UTC())
	if err != nil {
		return err
	}
	rq.params["uploadId"] = id
	encode := rq.r.URL.Query().Get("encoding-type") == "url"
	type result struct {
		XMLName      xml.Name `xml:"InitiateMultipartUploadResult"`
		Bucket       string   `xml:"Bucket"`
		Key          string   `xml:"Key"`
		UploadID     string   `xml:"UploadId"`
		EncodingType string   `xml:"EncodingType,omitempty"`
	}
	out := result{Bucket: rq.bucket, Key: rq.key, UploadID: id}
	if encode {
		out.Key, out.EncodingType = url.QueryEscape(rq.key), "url"
	}
	return writeXML(rq.w, out)
}

func (s *Server) uploadPart(rq *request, b *bucketState) error {
	q := rq.r.URL.Query()
	id := q.Get("uploadId")
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > maxPartNumber {
		return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.", "partNumber", q.Get("partNumber"))
	}
	rq.params["uploadId"], rq.params["partNumber"] = id, n
	if rq.r.ContentLength > maxPutSize {
		return errf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	if _, err := b.getUpload(id, rq.key); err != nil {
		return err
	}
	k, err := s.newSink()
	if err != nil {
		return err
	}
	if err := k.fill(io.LimitReader(rq.r.Body, maxPutSize+1), rq.r.ContentLength); err != nil {
		k.abort()
		return err
	}
	md5b64 := encodeB64(k.md5.Sum(nil))
	if want := rq.r.Header.Get("Content-MD5"); want != "" && want != md5b64 {
		k.abort()
		return errf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified did not match what we received.")
	}
	p := partInfo{Number: n, ETag: k.etag(), Size: k.size, CRC64: k.crc.Sum64(), LastModified: s.now().UTC()}
	path, err := k.finish()
	if err != nil {
		return err
	}
	if err := b.putPart(id, rq.key, p, path); err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", p.ETag)
	h.Set("Content-MD5", md5b64)
	h.Set("x-oss-hash-crc64ecma", crcString(p.CRC64))
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// completeMultipart concatenates the listed parts into the object. The
// ETag is the upper-case hex MD5 of the parts' binary MD5s followed by
// "-<part count>", the form OSS gives multipart objects.
func (s *Server) completeMultipart(rq *request, b *bucketState) error {
	id := rq.r.URL.Query().Get("uploadId")
	rq.params["uploadId"] = id
	u, err := b.getUpload(id, rq.key)
	if err != nil {
		return err
	}
	parts := b.partsOf(id)
	var numbers []int
	if strings.EqualFold(rq.r.Header.Get("x-oss-complete-all"), "yes") {
		for n := range parts {
			numbers = append(numbers, n)
		}
		sort.Ints(numbers)
	} else {
		var in struct {
			Parts []struct {
				PartNumber int    `xml:"PartNumber"`
				ETag       string `xml:"ETag"`
			} `xml:"Part"`
		}
		if err := readXMLBody(rq.r, &in, false); err != nil {
			return err
		}
		for i, p := range in.Parts {
			if i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber {
				return errf(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
			}
			got, ok := parts[p.PartNumber]
			if !ok || strings.Trim(got.ETag, `"`) != strings.Trim(p.ETag, `"`) {
				return errf(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
					field{"PartNumber", strconv.Itoa(p.PartNumber)})
			}
			numbers = append(numbers, p.PartNumber)
		}
	}
	if len(numbers) == 0 {
		return errf(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found.")
	}
	for i, n := range numbers {
		if i < len(numbers)-1 && parts[n].Size < minPartSize {
			return errf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.",
				field{"PartNumber", strconv.Itoa(n)})
		}
	}
	forbid := forbidOverwrite(rq.r, b)
	if _, exists := b.get(rq.key); exists && forbid {
		return errFileExists()
	}
	tmp, err := s.store.tempFile()
	if err != nil {
		return err
	}
	etags := md5.New()
	var crc uint64
	var size int64
	for _, n := range numbers {
		p := parts[n]
		if err := appendFile(tmp, b.partPath(id, n)); err != nil {
			tmp.Close()
			_ = os.Remove(tmp.Name())
			return err
		}
		raw, _ := hex.DecodeString(strings.Trim(p.ETag, `"`))
		etags.Write(raw)
		crc = ossdk.CRC64Combine(crc, p.CRC64, uint64(p.Size))
		size += p.Size
	}
	path, err := (&sink{f: tmp, durable: s.store.durable.Load()}).finish()
	if err != nil {
		return err
	}
	m := u.Object
	m.Size = size
	m.ETag = fmt.Sprintf(`"%s-%d"`, strings.ToUpper(hex.EncodeToString(etags.Sum(nil))), len(numbers))
	m.CRC64 = crcString(crc)
	m.LastModified = s.now().UTC().Truncate(time.Second)
	if err := b.commit(m, path, forbid); err != nil {
		return err
	}
	if err := b.dropUpload(id); err != nil {
		s.log.WarnContext(rq.ctx, "remove completed upload", "err", err)
	}
	encode := rq.r.URL.Query().Get("encoding-type") == "url"
	type result struct {
		XMLName      xml.Name `xml:"CompleteMultipartUploadResult"`
		EncodingType string   `xml:"EncodingType,omitempty"`
		Location     string   `xml:"Location"`
		Bucket       string   `xml:"Bucket"`
		Key          string   `xml:"Key"`
		ETag         string   `xml:"ETag"`
	}
	out := result{Location: "http://" + rq.r.Host + "/" + rq.bucket + "/" + rq.key, Bucket: rq.bucket, Key: rq.key, ETag: m.ETag}
	if encode {
		out.Key, out.EncodingType = url.QueryEscape(rq.key), "url"
	}
	rq.w.Header().Set("x-oss-hash-crc64ecma", m.CRC64)
	if err := writeXML(rq.w, out); err != nil {
		return err
	}
	s.notify(rq, "ObjectCreated:CompleteMultipartUpload", m)
	return nil
}

// appendFile copies a part onto the end of dst; file-to-file io.Copy uses
// copy_file_range on Linux, so parts are never staged in memory.
func appendFile(dst *os.File, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open part: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(dst, f); err != nil {
		return fmt.Errorf("assemble parts: %w", err)
	}
	return nil
}

func (s *Server) abortMultipart(rq *request, b *bucketState) error {
	id := rq.r.URL.Query().Get("uploadId")
	rq.params["uploadId"] = id
	if _, err := b.getUpload(id, rq.key); err != nil {
		return err
	}
	if err := b.dropUpload(id); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(rq *request, b *bucketState) error {
	q := rq.r.URL.Query()
	id := q.Get("uploadId")
	rq.params["uploadId"] = id
	if _, err := b.getUpload(id, rq.key); err != nil {
		return err
	}
	maxParts := 1000
	if v := q.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errInvalidArgument("max-parts must be an integer between 1 and 1000.", "max-parts", v)
		}
		maxParts = n
	}
	marker, _ := strconv.Atoi(q.Get("part-number-marker"))
	parts := b.partsOf(id)
	var numbers []int
	for n := range parts {
		if n > marker {
			numbers = append(numbers, n)
		}
	}
	sort.Ints(numbers)
	type partXML struct {
		PartNumber   int    `xml:"PartNumber"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		HashCRC64    string `xml:"HashCrc64ecma"`
	}
	type result struct {
		XMLName              xml.Name  `xml:"ListPartsResult"`
		Bucket               string    `xml:"Bucket"`
		Key                  string    `xml:"Key"`
		UploadID             string    `xml:"UploadId"`
		PartNumberMarker     int       `xml:"PartNumberMarker"`
		NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
		MaxParts             int       `xml:"MaxParts"`
		IsTruncated          bool      `xml:"IsTruncated"`
		Parts                []partXML `xml:"Part"`
	}
	out := result{Bucket: rq.bucket, Key: rq.key, UploadID: id, PartNumberMarker: marker, MaxParts: maxParts}
	for _, n := range numbers {
		if len(out.Parts) == maxParts {
			out.IsTruncated = true
			break
		}
		p := parts[n]
		out.Parts = append(out.Parts, partXML{n, p.LastModified.Format(isoMillis), p.ETag, p.Size, crcString(p.CRC64)})
		out.NextPartNumberMarker = n
	}
	return writeXML(rq.w, out)
}
