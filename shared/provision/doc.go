// Package provision is `akguard setup`: it brings an Alibaba Cloud account
// to the state akguard's functions expect and that `s deploy` does not
// create — the private, unversioned state bucket (and optionally the upload
// bucket), the SMQ alert topic, dead-letter queue and queue subscriptions,
// the four RAM roles with their least-privilege policies from infra/ram,
// and the deny-high-risk containment policy respond attaches.
//
// Every run reads the current state first and turns the difference into a
// Plan of steps (create, update, attach, ok, warn, error); Apply executes
// only the steps that change something, in order, so a second run is all
// "ok" and issues no write call. A dry run stops after Plan. An error step
// is a difference setup cannot fix — a state bucket with versioning
// enabled or suspended, on which OSS ignores x-oss-forbid-overwrite and
// akguard's exactly-once records would overwrite — and the run changes
// nothing until the user resolves it.
//
// Policies are compared as canonical JSON, so RAM reformatting a stored
// document is not drift; a changed document becomes a new default policy
// version (CreatePolicyVersion, SetAsDefault, rotating the oldest
// non-default version out when RAM's limit of five is reached).
package provision
