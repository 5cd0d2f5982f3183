// Package ossscan is the scan function's logic: it scans the OSS objects
// named by ObjectCreated trigger events, records each finding in the state
// bucket and hands each leaked AccessKey (ID and secret) to the respond
// function.
//
// # Reading objects
//
// An object is pinned by the ETag HeadObject returns, and every GET sends
// If-Match, so an object replaced or deleted while it is read ends as a
// clean "missing" skip (ErrGone) instead of a scan of mixed versions. Small
// objects (one part) are one streaming GET. Larger ones go through a
// Prefetcher: Readers ranged GETs of PartBytes run at once into a ring of
// Readers+1 buffers and are delivered in order, so memory is bounded by
// (Readers+1)×PartBytes whatever the object's size. The first part is small
// and read-ahead starts only once it is consumed: the walker sniffs the
// stream and, for a zip, switches to the ReaderAt, which serves the central
// directory and members from cached 1 MiB ranged reads.
//
// # Exactly one record, one incident
//
// Records are keyed by finding fingerprint and object ETag
// (findings/<bucket>/<fingerprint>-<etag>.json) and created with
// x-oss-forbid-overwrite, so duplicate deliveries and FC retries find them
// already there. Incidents (one per AccessKey ID, ID stable over bucket,
// key, ETag and key ID) are sent once: a dispatch record
// (dispatch/scan/<incident-id>.json) created with forbid-overwrite elects
// the sender; it is marked sent after FC accepts the async invocation,
// released on a retryable failure so the retry sends it, marked failed on
// a permanent one (no such function, denied), and taken over after
// claimTTL when its holder crashed or failed. Takers of one stale claim
// race to create a marker named after it
// (dispatch/scan/takeover/<incident-id>-<claim>-<window>.json), so one of
// them sends; respond deduplicates by incident ID in any case.
//
// # What is sent to respond
//
// Only a key found with proof that it leaked: a finding of the key
// holding the hash of its secret or of an STS token (SecretEvidence). An
// ID alone — quoted in a ticket, a log, a URL — is recorded as a finding
// but not sent: otherwise anyone able to upload an object could have any
// user contained by naming their key ID. One object sends at most
// MaxIncidentsPerObject keys (the most severe first); the others are
// recorded and named in the object's cap record
// (dispatch/scan/capped/<bucket>/<key-hash>-<etag>.json). Events for a
// bucket not in AKGUARD_SCAN_BUCKETS (when it is set) are ignored.
//
// # Retries
//
// The handler returns an error only when another attempt can help
// (Retryable: throttling, 5xx, network, the deadline); a malformed event,
// a missing object, a denial or an unreadable object is logged and
// acknowledged. Objects in the state or quarantine bucket, and multipart
// progress events, are never read.
package ossscan
