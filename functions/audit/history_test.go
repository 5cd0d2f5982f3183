package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	localtrail "github.com/akguard/akguard/infra/local/trail"
)

// The generated history: several keys with steady habits, days of it,
// then attacks. Every value is synthetic; keys and IDs come from a seeded
// source, addresses from the documentation ranges (RFC 5737) plus a few
// "attacker" networks.

const account = "1234567890123456"

type actor struct {
	name    string // RAM user or role
	key     string // LTAI… ("" for a role: STS keys rotate)
	role    bool
	ips     []string
	ops     [][2]string // service, event
	hours   [2]int      // active UTC hours [from, to); {0, 24} for automation
	pActive float64     // share of windows in those hours with activity
	maxCall int         // calls per active window, 1..maxCall
}

type history struct {
	rng    *rand.Rand
	events []localtrail.Event
	// attack holds the IDs of injected attack events, by actor name.
	attack map[string][]string
	stsKey string
	stsAt  time.Time
}

func newHistory(seed uint64) *history {
	return &history{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), attack: map[string][]string{}}
}

func (h *history) id() string { return fmt.Sprintf("%08X%016X", h.rng.Uint32(), h.rng.Uint64()) }

func (h *history) keyID() string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("LTAI5t")
	for len(b) < 24 {
		b = append(b, alnum[h.rng.IntN(len(alnum))])
	}
	return string(b)
}

func (h *history) stsFor(t time.Time) string {
	// One token per hour, as an instance refreshes its role credentials.
	if h.stsKey == "" || t.Sub(h.stsAt) >= time.Hour {
		h.stsKey, h.stsAt = "STS.NT"+h.keyID()[6:]+h.keyID()[6:], t
	}
	return h.stsKey
}

func (h *history) event(a *actor, t time.Time, op [2]string, ip, errorCode, resource string) localtrail.Event {
	ev := localtrail.Event{
		EventID: h.id(), EventVersion: 1, EventName: op[1], ServiceName: op[0], EventType: "ApiCall", EventRW: "Read",
		EventTime: t.UTC().Format(localtrail.TimeLayout), AcsRegion: "cn-hangzhou", SourceIPAddress: ip,
		UserAgent: "aliyun-sdk-go/1.63.107", RequestID: h.id(), ErrorCode: errorCode, ResourceName: resource,
		IsGlobal: op[0] == "Ram" || op[0] == "Sts",
	}
	if errorCode != "" {
		ev.ErrorMessage = "You are not authorized to do this action."
	}
	switch {
	case a.role:
		ev.UserIdentity = localtrail.UserIdentity{Type: "assumed-role", PrincipalID: "300000000000000001:" + a.name + "-session",
			AccountID: account, AccessKeyID: h.stsFor(t), UserName: a.name + ":" + a.name + "-session"}
	default:
		ev.UserIdentity = localtrail.UserIdentity{Type: "ram-user", PrincipalID: "2000000000000" + fmt.Sprint(len(a.name)*1111),
			AccountID: account, AccessKeyID: a.key, UserName: a.name}
	}
	return ev
}

// normal generates a's habits over [start, end), window by window.
func (h *history) normal(a *actor, start, end time.Time, win time.Duration) {
	for ws := start; ws.Before(end); ws = ws.Add(win) {
		if hr := ws.Hour(); hr < a.hours[0] || hr >= a.hours[1] {
			continue
		}
		if h.rng.Float64() >= a.pActive {
			continue
		}
		n := 1 + h.rng.IntN(a.maxCall)
		for range n {
			t := ws.Add(time.Duration(h.rng.Int64N(int64(win))))
			h.events = append(h.events, h.event(a, t, a.ops[h.rng.IntN(len(a.ops))], a.ips[h.rng.IntN(len(a.ips))], "", ""))
		}
	}
}

// inject adds an attack event by (or with the key of) a.
func (h *history) inject(a *actor, t time.Time, op [2]string, ip, errorCode, resource string) localtrail.Event {
	ev := h.event(a, t, op, ip, errorCode, resource)
	h.events = append(h.events, ev)
	h.attack[a.name] = append(h.attack[a.name], ev.EventID)
	return ev
}

// lastAt is the latest time before limit at hh:mm UTC.
func lastAt(limit time.Time, hh, mm int) time.Time {
	t := time.Date(limit.Year(), limit.Month(), limit.Day(), hh, mm, 0, 0, time.UTC)
	for !t.Before(limit) {
		t = t.Add(-24 * time.Hour)
	}
	return t
}

var (
	readOps  = [][2]string{{"Oss", "GetObject"}, {"Oss", "ListObjects"}, {"Ecs", "DescribeInstances"}, {"Oss", "GetBucketInfo"}}
	adminOps = [][2]string{{"Ecs", "DescribeInstances"}, {"Ram", "ListUsers"}, {"Ecs", "StartInstance"}, {"Ecs", "StopInstance"}}
	ciOps    = [][2]string{{"Oss", "PutObject"}, {"Oss", "GetObject"}, {"Oss", "ListObjects"}}
)

// actors returns the cast with fresh keys.
func (h *history) actors() map[string]*actor {
	human := func(name string, ops [][2]string, ips ...string) *actor {
		return &actor{name: name, key: h.keyID(), ips: ips, ops: ops, hours: [2]int{9, 17}, pActive: 0.6, maxCall: 6}
	}
	return map[string]*actor{
		"alice": human("alice", readOps, "198.51.100.10", "198.51.100.11"),
		"bob":   human("bob", adminOps, "198.51.100.20"),
		"dave":  human("dave", readOps, "203.0.113.40"),
		"eve":   human("eve", readOps, "203.0.113.50"),
		"frank": human("frank", readOps, "192.0.2.60"),
		"ci":    {name: "ci", key: h.keyID(), ips: []string{"203.0.113.5"}, ops: ciOps, hours: [2]int{0, 24}, pActive: 1, maxCall: 4},
		"app":   {name: "app-role", role: true, ips: []string{"192.0.2.10", "192.0.2.11"}, ops: readOps, hours: [2]int{0, 24}, pActive: 0.9, maxCall: 4},
	}
}
