// Package trail is the cloud side of the audit function: it reads
// ActionTrail and keeps the audit's place in it.
//
// Reader pages LookupEvents (no LookupAttribute, FORWARD, MaxResults 50,
// NextToken to the end) in every configured region — ActionTrail is
// regional; global services' events come back from each region and are
// deduplicated by eventId — paced to the API's ~2 calls/s and retried with
// exponential backoff and jitter on Throttling.*, 5xx and network errors.
// Errors are cleaned of request details (the URL carries the caller's key
// ID and STS token).
//
// Watcher is one timer run:
//
//  1. take the lease audit/lock.json (store.Acquire) for the invocation's
//     lifetime plus a minute, so overlapping deliveries never share a window;
//  2. load the rules (audit/config.json, else the built-in defaults), add
//     the leaked-key index (leaked/<AccessKeyId>.json, see store.LeakedKey)
//     and akguard's own allowances (SelfAllowances);
//  3. load audit/state.json: the checkpoint (every window ending by it is
//     judged), the IDs of judged events still inside the overlap, and the
//     baseline — one object, so they can never disagree after a crash;
//  4. read from checkpoint−overlap to the next batch end (at most now−lag,
//     aligned to the window), drop events already judged, and judge window
//     by window; late events (before the checkpoint, not yet judged) are
//     judged with the first window read;
//  5. for each incident: record audit/incidents/<day>/<id>.json, invoke
//     respond asynchronously, then mark the record escalated. A record
//     already escalated (a re-run after a crash) is not sent again; one
//     recorded but not escalated is sent;
//  6. save the state after each batch; stop before the invocation's
//     deadline (a backlog continues on the next tick) and return an error
//     only when retrying can help (OSS, ActionTrail or respond failing).
//
// A crash anywhere leaves the last saved state, which is consistent: the
// windows after it are judged again by the next run, their events were not
// learned, and their incidents have the same IDs (audit.Incident.ID is per
// subject and window), so respond sees each at most once more — and
// deduplicates by ID.
//
// The LookupEvents quota bounds what one account can audit: about 100
// events/s (2 calls/s × 50 events). Busier accounts should deliver the
// trail to SLS and alert there; this package then still audits, behind.
package trail
