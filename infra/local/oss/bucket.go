package oss

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// XML documents of the bucket APIs, element names as in the OSS API
// reference and the SDK's result types (oss/api_op_bucket.go,
// api_op_service.go).

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

const isoMillis = "2006-01-02T15:04:05.000Z"

func (s *Server) owner() owner { return owner{ID: s.env.AccountID, DisplayName: s.env.AccountID} }

func (s *Server) endpoints() (extranet, intranet string) {
	return "oss-" + s.env.Region + ".aliyuncs.com", "oss-" + s.env.Region + "-internal.aliyuncs.com"
}

func validACL(acl string, object bool) bool {
	switch acl {
	case "private", "public-read", "public-read-write":
		return true
	case "default":
		return object
	}
	return false
}

func errACL(acl string) *apiError {
	return errInvalidArgument("no such bucket access control exists", "x-oss-acl", acl)
}

func (s *Server) listBuckets(rq *request, _ *bucketState) error {
	type bucketXML struct {
		Name             string `xml:"Name"`
		CreationDate     string `xml:"CreationDate"`
		Location         string `xml:"Location"`
		ExtranetEndpoint string `xml:"ExtranetEndpoint"`
		IntranetEndpoint string `xml:"IntranetEndpoint"`
		Region           string `xml:"Region"`
		StorageClass     string `xml:"StorageClass"`
	}
	type result struct {
		XMLName     xml.Name    `xml:"ListAllMyBucketsResult"`
		Prefix      string      `xml:"Prefix,omitempty"`
		Marker      string      `xml:"Marker,omitempty"`
		MaxKeys     int         `xml:"MaxKeys,omitempty"`
		IsTruncated bool        `xml:"IsTruncated,omitempty"`
		NextMarker  string      `xml:"NextMarker,omitempty"`
		Owner       owner       `xml:"Owner"`
		Buckets     []bucketXML `xml:"Buckets>Bucket"`
	}
	q := rq.r.URL.Query()
	prefix, marker := q.Get("prefix"), q.Get("marker")
	maxKeys, e := parseMaxKeys(q.Get("max-keys"))
	if e != nil {
		return e
	}
	ext, in := s.endpoints()
	res := result{Prefix: prefix, Marker: marker, Owner: s.owner()}
	if q.Has("max-keys") {
		res.MaxKeys = maxKeys
	}
	for _, b := range s.store.listBuckets() {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= marker {
			continue
		}
		if len(res.Buckets) == maxKeys {
			res.IsTruncated = true
			res.NextMarker = res.Buckets[len(res.Buckets)-1].Name
			break
		}
		res.Buckets = append(res.Buckets, bucketXML{
			Name: b.Name, CreationDate: b.Created.UTC().Format(isoMillis), Location: "oss-" + b.Region,
			ExtranetEndpoint: ext, IntranetEndpoint: in, Region: b.Region, StorageClass: b.StorageClass,
		})
	}
	return writeXML(rq.w, res)
}

func (s *Server) putBucket(rq *request, _ *bucketState) error {
	acl := rq.r.Header.Get("x-oss-acl")
	if acl == "" {
		acl = "private"
	}
	if !validACL(acl, false) {
		return errACL(acl)
	}
	var cfg struct {
		StorageClass string `xml:"StorageClass"`
	}
	if err := readXMLBody(rq.r, &cfg, true); err != nil {
		return err
	}
	if cfg.StorageClass == "" {
		cfg.StorageClass = "Standard"
	}
	rq.params["acl"] = acl
	meta := bucketMeta{Name: rq.bucket, Created: s.now().UTC(), ACL: acl, StorageClass: cfg.StorageClass, Region: s.env.Region}
	if err := s.store.createBucket(meta); err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(rq *request, _ *bucketState) error {
	if err := s.store.deleteBucket(rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getBucketInfo(rq *request, b *bucketState) error {
	m := b.snapshot()
	type info struct {
		Name                   string `xml:"Name"`
		AccessMonitor          string `xml:"AccessMonitor"`
		Location               string `xml:"Location"`
		CreationDate           string `xml:"CreationDate"`
		ExtranetEndpoint       string `xml:"ExtranetEndpoint"`
		IntranetEndpoint       string `xml:"IntranetEndpoint"`
		ACL                    string `xml:"AccessControlList>Grant"`
		DataRedundancyType     string `xml:"DataRedundancyType"`
		Owner                  owner  `xml:"Owner"`
		StorageClass           string `xml:"StorageClass"`
		Versioning             string `xml:"Versioning,omitempty"`
		TransferAcceleration   string `xml:"TransferAcceleration"`
		CrossRegionReplication string `xml:"CrossRegionReplication"`
		SSEAlgorithm           string `xml:"ServerSideEncryptionRule>SSEAlgorithm"`
	}
	type result struct {
		XMLName xml.Name `xml:"BucketInfo"`
		Bucket  info     `xml:"Bucket"`
	}
	ext, in := s.endpoints()
	return writeXML(rq.w, result{Bucket: info{
		Name: m.Name, AccessMonitor: "Disabled", Location: "oss-" + m.Region, CreationDate: m.Created.UTC().Format(isoMillis),
		ExtranetEndpoint: ext, IntranetEndpoint: in, ACL: m.ACL, DataRedundancyType: "LRS", Owner: s.owner(),
		StorageClass: m.StorageClass, Versioning: m.Versioning, TransferAcceleration: "Disabled",
		CrossRegionReplication: "Disabled", SSEAlgorithm: "None",
	}})
}

func (s *Server) getBucketLocation(rq *request, b *bucketState) error {
	type result struct {
		XMLName  xml.Name `xml:"LocationConstraint"`
		Location string   `xml:",chardata"`
	}
	return writeXML(rq.w, result{Location: "oss-" + b.snapshot().Region})
}

type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   owner    `xml:"Owner"`
	Grant   string   `xml:"AccessControlList>Grant"`
}

func (s *Server) getBucketACL(rq *request, b *bucketState) error {
	return writeXML(rq.w, accessControlPolicy{Owner: s.owner(), Grant: b.snapshot().ACL})
}

func (s *Server) putBucketACL(rq *request, b *bucketState) error {
	acl := rq.r.Header.Get("x-oss-acl")
	if !validACL(acl, false) {
		return errACL(acl)
	}
	rq.params["acl"] = acl
	if err := b.updateMeta(func(m *bucketMeta) { m.ACL = acl }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Status  string   `xml:"Status,omitempty"`
}

func (s *Server) getBucketVersioning(rq *request, b *bucketState) error {
	return writeXML(rq.w, versioningConfiguration{Status: b.snapshot().Versioning})
}

func (s *Server) putBucketVersioning(rq *request, b *bucketState) error {
	var cfg versioningConfiguration
	if err := readXMLBody(rq.r, &cfg, false); err != nil {
		return err
	}
	if cfg.Status != "Enabled" && cfg.Status != "Suspended" {
		return errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	rq.params["status"] = cfg.Status
	if err := b.updateMeta(func(m *bucketMeta) { m.Versioning = cfg.Status }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func parseMaxKeys(v string) (int, *apiError) {
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1000 {
		return 0, errInvalidArgument("Argument max-keys must be an integer between 0 and 1000.", "max-keys", v)
	}
	return n, nil
}

type objectXML struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Type         string `xml:"Type"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
	Owner        *owner `xml:"Owner,omitempty"`
}

// listObjects serves ListObjects (marker) and ListObjectsV2
// (continuation-token, start-after, fetch-owner). Continuation tokens are
// opaque to clients; here they are the base64 of the last key or common
// prefix returned.
func (s *Server) listObjects(rq *request, b *bucketState) error {
	q := rq.r.URL.Query()
	v2 := rq.api == "ListObjectsV2"
	prefix, delimiter := q.Get("prefix"), q.Get("delimiter")
	maxKeys, e := parseMaxKeys(q.Get("max-keys"))
	if e != nil {
		return e
	}
	encode := q.Get("encoding-type")
	if encode != "" && encode != "url" {
		return errInvalidArgument("The encoding-type parameter is invalid.", "encoding-type", encode)
	}
	enc := func(s string) string {
		if encode == "url" {
			return url.QueryEscape(s)
		}
		return s
	}
	after, skip := "", ""
	if v2 {
		after = q.Get("start-after")
		if tok := q.Get("continuation-token"); tok != "" {
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return errInvalidArgument("The continuation token provided is incorrect.", "continuation-token", tok)
			}
			after = string(raw)
		}
	} else {
		after = q.Get("marker")
	}
	// A page may end on a common prefix; its keys sort after it and must
	// not roll up into the same prefix again on the next page.
	if delimiter != "" && (!v2 || q.Get("continuation-token") != "") &&
		strings.HasSuffix(after, delimiter) && strings.HasPrefix(after, prefix) {
		skip = after
	}
	res := b.list(prefix, after, delimiter, maxKeys, skip)
	fetchOwner := !v2 || q.Get("fetch-owner") == "true"
	contents := make([]objectXML, 0, len(res.Objects))
	for _, m := range res.Objects {
		o := objectXML{Key: enc(m.Key), LastModified: m.LastModified.UTC().Format(isoMillis), ETag: m.ETag,
			Type: m.Type, Size: m.Size, StorageClass: m.StorageClass}
		if fetchOwner {
			ow := s.owner()
			o.Owner = &ow
		}
		contents = append(contents, o)
	}
	type commonPrefix struct {
		Prefix string `xml:"Prefix"`
	}
	prefixes := make([]commonPrefix, 0, len(res.Prefixes))
	for _, p := range res.Prefixes {
		prefixes = append(prefixes, commonPrefix{enc(p)})
	}
	if v2 {
		type result struct {
			XMLName               xml.Name       `xml:"ListBucketResult"`
			Name                  string         `xml:"Name"`
			Prefix                string         `xml:"Prefix"`
			StartAfter            string         `xml:"StartAfter,omitempty"`
			ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
			MaxKeys               int            `xml:"MaxKeys"`
			Delimiter             string         `xml:"Delimiter"`
			EncodingType          string         `xml:"EncodingType,omitempty"`
			IsTruncated           bool           `xml:"IsTruncated"`
			NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
			Contents              []objectXML    `xml:"Contents"`
			CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
			KeyCount              int            `xml:"KeyCount"`
		}
		out := result{Name: rq.bucket, Prefix: enc(prefix), StartAfter: enc(q.Get("start-after")),
			ContinuationToken: enc(q.Get("continuation-token")), MaxKeys: maxKeys, Delimiter: enc(delimiter),
			EncodingType: encode, IsTruncated: res.Truncated, Contents: contents, CommonPrefixes: prefixes,
			KeyCount: len(contents) + len(prefixes)}
		if res.Truncated {
			out.NextContinuationToken = enc(base64.RawURLEncoding.EncodeToString([]byte(res.Next)))
		}
		return writeXML(rq.w, out)
	}
	type result struct {
		XMLName        xml.Name       `xml:"ListBucketResult"`
		Name           string         `xml:"Name"`
		Prefix         string         `xml:"Prefix"`
		Marker         string         `xml:"Marker"`
		MaxKeys        int            `xml:"MaxKeys"`
		Delimiter      string         `xml:"Delimiter"`
		EncodingType   string         `xml:"EncodingType,omitempty"`
		IsTruncated    bool           `xml:"IsTruncated"`
		NextMarker     string         `xml:"NextMarker,omitempty"`
		Contents       []objectXML    `xml:"Contents"`
		CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
	}
	out := result{Name: rq.bucket, Prefix: enc(prefix), Marker: enc(after), MaxKeys: maxKeys, Delimiter: enc(delimiter),
		EncodingType: encode, IsTruncated: res.Truncated, Contents: contents, CommonPrefixes: prefixes}
	if res.Truncated {
		out.NextMarker = enc(res.Next)
	}
	return writeXML(rq.w, out)
}

// deleteMultiple is DeleteMultipleObjects: each key is authorized as
// oss:DeleteObject on its own resource.
func (s *Server) deleteMultiple(rq *request, b *bucketState) error {
	var req struct {
		Quiet   bool `xml:"Quiet"`
		Objects []struct {
			Key string `xml:"Key"`
		} `xml:"Object"`
	}
	if err := readXMLBody(rq.r, &req, false); err != nil {
		return err
	}
	if len(req.Objects) > 1000 {
		return errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	encode := rq.r.URL.Query().Get("encoding-type") == "url"
	type deleted struct {
		Key string `xml:"Key"`
	}
	type result struct {
		XMLName      xml.Name  `xml:"DeleteResult"`
		EncodingType string    `xml:"EncodingType,omitempty"`
		Deleted      []deleted `xml:"Deleted"`
	}
	out := result{}
	if encode {
		out.EncodingType = "url"
	}
	var keys []string
	for _, o := range req.Objects {
		key := o.Key
		if encode {
			k, err := url.QueryUnescape(key)
			if err != nil {
				return errInvalidArgument("The object key is not url-encoded.", "Key", key)
			}
			key = k
		}
		if err := s.authorize(rq, b, "oss:DeleteObject", rq.bucket, key, "write"); err != nil {
			return err
		}
		keys = append(keys, key)
	}
	rq.params["objects"] = keys
	for _, key := range keys {
		if err := b.remove(key); err != nil {
			return err
		}
		if !req.Quiet {
			k := key
			if encode {
				k = url.QueryEscape(k)
			}
			out.Deleted = append(out.Deleted, deleted{k})
		}
	}
	return writeXML(rq.w, out)
}

// readXMLBody decodes a small XML request body (at most 1 MiB).
func readXMLBody(r *http.Request, v any, optional bool) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		if optional {
			return nil
		}
		return errf(http.StatusBadRequest, "MissingArgument", "Missing Some Required Arguments.")
	}
	if md5h := r.Header.Get("Content-MD5"); md5h != "" && md5Base64(data) != md5h {
		return errf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified did not match what we received.")
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	return nil
}

func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
