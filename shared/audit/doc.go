// Package audit turns ActionTrail events into AccessKey incidents. It is the
// cloud-independent rule engine behind the audit function and
// `akguard audit --events FILE`: inputs are events, a baseline and a
// config; outputs are incidents and the updated baseline. Nothing here does
// I/O, so every result is reproducible from its inputs.
//
// The audit function, on each timer run:
//
//	eng, err := audit.NewEngine(cfg)               // once per process
//	base, err := audit.ParseBaseline(stored)       // from the state bucket
//	evs, err := audit.DecodeEventMaps(resp.Events) // each LookupEvents page
//	res := eng.Evaluate(base, audit.Window{Start: checkpoint, End: now.Add(-lag)}, evs)
//	// store res.Baseline, send each of res.Incidents, advance the checkpoint
//
// ActionTrail is regional: pass the events of every region for a window in
// one call, or a subject is judged on a part of what it did.
//
// Offline, eng.Replay(baseline, events) runs a whole exported history
// window by window, exactly as the timer would have.
//
// Incidents are per subject and window: a subject is a long-term AccessKey,
// or a role for STS tokens (many short-lived keys, one behaviour). The rules
// (Rules) that need history compare with the subject's own Profile and stay
// silent until it is mature (Config.BaselineMinDays and BaselineMinWindows).
// A profile learns only from windows in which no rule fired for it, so an
// attacker's activity never becomes normal. Incidents carry identifiers,
// addresses, names and counts, never request parameters, which may hold
// secrets.
package audit
