// Package oss is the local cloud's Object Storage Service: a wire-compatible
// OSS endpoint driven by the official Go SDK (alibabacloud-oss-go-sdk-v2).
//
// It checks V1 and V4 signatures (header and presigned URL forms) against
// the secrets in iam, authorizes RAM users and role sessions with RAM
// policy evaluation (action "oss:<Api>", resource
// "acs:oss:*:<uid>:<bucket>[/<key>]": the Action list and the
// acs:oss:{region}:{bucket_owner}:{bucket_name}/{object_name} resource form
// of alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements),
// falls back to bucket/object ACLs for anonymous callers, records every
// call in the trail, persists objects on disk (streamed, never held in
// memory) and notifies env.Hooks.ObjectCreated of new objects.
//
// Object versioning is not emulated: PutBucketVersioning stores the bucket's
// versioning status and GetBucketVersioning/GetBucketInfo report it, but an
// overwrite replaces the object and no version IDs are issued. One effect
// of the status is emulated because code depends on it: on a bucket whose
// versioning is Enabled or Suspended, x-oss-forbid-overwrite is ignored and
// the write overwrites, as the PutObject API reference documents.
//
// Wiring: srv, _ := oss.New(env); serve srv (an http.Handler) on a
// listener and set env.Endpoints["oss"] to its URL. Clients use the SDK
// with WithEndpoint(url) (an IP endpoint makes the SDK use path-style URLs)
// and WithRegion(env.Region), signing V4 by default or V1 with
// WithSignatureVersion(oss.SignatureVersionV1). Virtual-hosted requests
// (Host: <bucket>.oss-<region>.aliyuncs.com, <bucket>.localhost,
// <bucket>.<endpoint host>) are recognised from the Host header.
//
// Local-only hooks, for tests: PutSynthetic creates (multi-GiB, sparse)
// objects without HTTP, and SetDurable(false) skips fsync for bulk setup.
//
// Where the emulation knowingly differs from OSS: security tokens are
// redacted from echoed StringToSign/CanonicalRequest; the code OSS uses for
// a disabled AccessKey and for QPS throttling could not be confirmed from
// its documentation (InvalidAccessKeyId and 503 ServiceUnavailable are
// used); PostObject, UploadPartCopy, ListMultipartUploads, bucket policies
// and object versions are not implemented.
package oss
