// Package e2e holds the pipeline's end-to-end proofs: the real scan,
// respond and audit binaries on the local cloud, under duplicate
// deliveries, killed instances, injected faults and upload floods, with
// every output searched for the secrets that went in. It has no API; see
// its tests. Long variants run with AKGUARD_SOAK=1.
package e2e
