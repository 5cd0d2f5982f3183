package audit

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The checks behind the rule table. Each reads one subject's window and
// says, in a sentence an on-call engineer can act on, why it fired. No
// reason may quote request parameters: they can carry secrets.

func checkLeaked(c *compiled, _ *subjectWindow, evs []*Event) (string, []*Event, bool) {
	if len(c.LeakedKeys) == 0 {
		return "", nil, false
	}
	var m []*Event
	for _, ev := range evs {
		if _, ok := c.LeakedKeys[ev.UserIdentity.AccessKeyID]; ok {
			m = append(m, ev)
		}
	}
	if len(m) == 0 {
		return "", nil, false
	}
	var parts []string
	for _, k := range distinct(m, func(ev *Event) string { return ev.UserIdentity.AccessKeyID }) {
		li := c.LeakedKeys[k]
		about := []string{"reported leaked"}
		if li.Source != "" {
			about = append(about, "source "+li.Source)
		}
		if li.Location != "" {
			about = append(about, li.Location)
		}
		if !li.ReportedAt.IsZero() {
			about = append(about, li.ReportedAt.UTC().Format(time.RFC3339))
		}
		parts = append(parts, k+" ("+strings.Join(about, ", ")+")")
	}
	return fmt.Sprintf("%s signed %s to %s from %s",
		strings.Join(parts, ", "), plural(len(m), "call"),
		strings.Join(distinct(m, func(ev *Event) string { return ev.ServiceName }), ", "),
		strings.Join(distinct(m, func(ev *Event) string { return orNone(ev.SourceIPAddress) }), ", ")), m, true
}

func checkRoot(_ *compiled, _ *subjectWindow, evs []*Event) (string, []*Event, bool) {
	var m []*Event
	for _, ev := range evs {
		if ev.UserIdentity.Type == TypeRootAccount {
			m = append(m, ev)
		}
	}
	if len(m) == 0 {
		return "", nil, false
	}
	return fmt.Sprintf("%s signed with the root account's AccessKey %s; root keys should not exist",
		plural(len(m), "call"), m[0].UserIdentity.AccessKeyID), m, true
}

func checkDangerous(_ *compiled, w *subjectWindow, evs []*Event) (string, []*Event, bool) {
	type opStat struct{ calls, denied int }
	byFamily := map[string]map[string]*opStat{}
	var m []*Event
	ns := map[string]string{} // serviceName -> RAM namespace, a handful per window
	for _, ev := range evs {
		n, ok := ns[ev.ServiceName]
		if !ok {
			n = ramNamespace(strings.ToLower(ev.ServiceName))
			ns[ev.ServiceName] = n
		}
		fam, ok := w.ops[[2]string{n, ev.EventName}]
		if !ok {
			continue
		}
		m = append(m, ev)
		if byFamily[fam] == nil {
			byFamily[fam] = map[string]*opStat{}
		}
		op := ev.ServiceName + ":" + ev.EventName
		s := byFamily[fam][op]
		if s == nil {
			s = &opStat{}
			byFamily[fam][op] = s
		}
		s.calls++
		if isDenied(ev.ErrorCode) {
			s.denied++
		}
	}
	if len(m) == 0 {
		return "", nil, false
	}
	var parts []string
	for _, fam := range slices.Sorted(maps.Keys(byFamily)) {
		var ops []string
		for _, op := range slices.Sorted(maps.Keys(byFamily[fam])) {
			s := byFamily[fam][op]
			t := fmt.Sprintf("%s ×%d", op, s.calls)
			if s.denied > 0 {
				t += fmt.Sprintf(" (%d denied)", s.denied)
			}
			ops = append(ops, t)
		}
		parts = append(parts, fam+": "+strings.Join(ops, ", "))
	}
	return strings.Join(parts, "; "), m, true
}

func isDenied(code string) bool {
	if code == "" {
		return false
	}
	for _, p := range deniedCodePrefixes() {
		if strings.HasPrefix(code, p) {
			return true
		}
	}
	return false
}

func checkDeniedBurst(c *compiled, _ *subjectWindow, evs []*Event) (string, []*Event, bool) {
	var denied []*Event
	for _, ev := range evs {
		if isDenied(ev.ErrorCode) {
			denied = append(denied, ev)
		}
	}
	if len(denied) < c.DeniedBurst.Count {
		return "", nil, false
	}
	// Densest run of errors no longer than the burst window (evs are in
	// time order).
	bestI, bestJ := 0, 0
	for i, j := 0, 0; j < len(denied); j++ {
		for denied[j].EventTime.Sub(denied[i].EventTime) >= c.DeniedBurst.Window {
			i++
		}
		if j+1-i > bestJ-bestI {
			bestI, bestJ = i, j+1
		}
	}
	m := denied[bestI:bestJ]
	if len(m) < c.DeniedBurst.Count {
		return "", nil, false
	}
	codes := counter{}
	for _, ev := range m {
		codes[ev.ErrorCode]++
	}
	var cs []string
	for _, x := range codes.top() {
		cs = append(cs, fmt.Sprintf("%s ×%d", x.Value, x.Count))
	}
	span := m[len(m)-1].EventTime.Sub(m[0].EventTime)
	return fmt.Sprintf("%s within %v (%s) across %s of %s",
		plural(len(m), "permission error"), span, strings.Join(cs, ", "),
		plural(len(distinct(m, func(ev *Event) string { return ev.ServiceName + ":" + ev.EventName })), "operation"),
		plural(len(distinct(m, func(ev *Event) string { return ev.ServiceName })), "service")), m, true
}

func checkSpike(c *compiled, w *subjectWindow, evs []*Event) (string, []*Event, bool) {
	p95 := w.profile.p95()
	limit := max(c.SpikeFactor*float64(p95), float64(p95+c.SpikeMinExtra))
	d := w.window.End.Sub(w.window.Start)
	if d > 0 {
		limit *= float64(d) / float64(c.Window)
	}
	if float64(len(evs)) <= limit {
		return "", nil, false
	}
	return fmt.Sprintf("%s in %v; the key's clean windows have a p95 of %s per %v (limit %.0f)",
		plural(len(evs), "call"), d, plural(p95, "call"), c.Window, limit), evs, true
}

func checkUnfamiliar(_ *compiled, w *subjectWindow, evs []*Event) (string, []*Event, bool) {
	p := w.profile
	netOf := map[string]string{}
	newNet := map[string]*agg{}
	newRegion := map[string]*agg{}
	var m []*Event
	for _, ev := range evs {
		hit := false
		if ip := ev.SourceIPAddress; ip != "" {
			n, ok := netOf[ip]
			if !ok {
				n = networkOf(ip)
				netOf[ip] = n
			}
			if _, known := p.Networks[n]; n != "" && !known {
				a := newNet[n]
				if a == nil {
					a = &agg{example: ip}
					newNet[n] = a
				}
				a.count++
				hit = true
			}
		}
		if r := ev.AcsRegion; r != "" && !ev.IsGlobal {
			if _, known := p.Regions[r]; !known {
				bump(newRegion, r, ev.EventTime)
				hit = true
			}
		}
		if hit {
			m = append(m, ev)
		}
	}
	if len(m) == 0 {
		return "", nil, false
	}
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(newNet)) {
		a := newNet[n]
		parts = append(parts, fmt.Sprintf("network %s (%s, %s)", n, a.example, plural(a.count, "call")))
	}
	for _, r := range slices.Sorted(maps.Keys(newRegion)) {
		parts = append(parts, fmt.Sprintf("region %s (%s)", r, plural(newRegion[r].count, "call")))
	}
	days := int(w.window.Start.Sub(p.FirstSeen).Hours() / 24)
	return fmt.Sprintf("%s never seen in %s of baseline (%s, %s known)",
		strings.Join(parts, ", "), plural(days, "day"), plural(len(p.Networks), "network"), plural(len(p.Regions), "region")), m, true
}

func checkOffHours(c *compiled, w *subjectWindow, evs []*Event) (string, []*Event, bool) {
	var m []*Event
	for _, ev := range evs {
		if !c.working(ev.EventTime) {
			m = append(m, ev)
		}
	}
	if len(m) == 0 {
		return "", nil, false
	}
	share := w.profile.offHoursShare(c, w.window.Start)
	if share > c.OffHoursMaxShare {
		return "", nil, false // automation, or a key that keeps odd hours anyway
	}
	first := m[0].EventTime.In(c.loc)
	return fmt.Sprintf("%s outside working hours (%s–%s %s), the first at %s; %.1f%% of the key's baseline activity is off-hours",
		plural(len(m), "call"), c.WorkingHours.Start, c.WorkingHours.End, c.WorkingHours.TimeZone,
		first.Format("Mon 2006-01-02 15:04"), 100*share), m, true
}

// distinct lists the distinct non-empty values of f, sorted.
func distinct(evs []*Event, f func(*Event) string) []string {
	set := map[string]struct{}{}
	for _, ev := range evs {
		if v := f(ev); v != "" {
			set[v] = struct{}{}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func orNone(s string) string {
	if s == "" {
		return "(no address)"
	}
	return s
}
