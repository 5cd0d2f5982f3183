package audit

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestVolumeBuckets(t *testing.T) {
	// Each count lands in the bucket whose top is the smallest top >= it.
	for n := 1; n < 1<<16; n++ {
		i := volumeBucket(n)
		if top := volumeBucketMax(i); top < n {
			t.Fatalf("n=%d in bucket %d with top %d", n, i, top)
		}
		if i > 0 && volumeBucketMax(i-1) >= n {
			t.Fatalf("n=%d in bucket %d, but bucket %d reaches %d", n, i, i-1, volumeBucketMax(i-1))
		}
	}
	if got := volumeBucket(1 << 30); got != volumeBuckets-1 {
		t.Errorf("huge count in bucket %d", got)
	}
}

func TestP95(t *testing.T) {
	tests := []struct {
		counts map[int]uint32 // count -> windows
		want   int
	}{
		{map[int]uint32{}, 0},
		{map[int]uint32{5: 100}, 5},
		{map[int]uint32{30: 95, 1000: 5}, 31}, // 5% outliers do not move it
		{map[int]uint32{30: 94, 1000: 6}, 1023},
	}
	for _, tt := range tests {
		var p Profile
		for n, w := range tt.counts {
			p.Volume[volumeBucket(n)] += w
		}
		if got := p.p95(); got != tt.want {
			t.Errorf("p95(%v) = %d, want %d", tt.counts, got, tt.want)
		}
	}
}

func TestTouchEvictsLongestUnseen(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var m map[string]time.Time
	for i := range 5 {
		m = touch(m, fmt.Sprint("ip", i), t0.Add(time.Duration(i)*time.Hour), 3)
	}
	want := map[string]time.Time{"ip2": t0.Add(2 * time.Hour), "ip3": t0.Add(3 * time.Hour), "ip4": t0.Add(4 * time.Hour)}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v", m)
	}
	m = touch(m, "ip2", t0.Add(9*time.Hour), 3) // refreshed: now the newest
	m = touch(m, "ip5", t0.Add(10*time.Hour), 3)
	if _, ok := m["ip3"]; ok || len(m) != 3 {
		t.Errorf("expected ip3 evicted: %v", m)
	}
}

func TestNetworkOf(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"10.20.30.40", "10.20.0.0/16"},
		{"172.16.5.4", "172.16.0.0/16"},
		{"100.104.3.9", "100.104.0.0/16"},
		{"100.128.3.9", "100.128.3.0/24"}, // just outside 100.64/10
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1:2::5", "2001:db8:1::/48"},
		{"127.0.0.1", ""},
		{"10.10.**.**", ""},
		{"Internal", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := networkOf(tt.ip); got != tt.want {
			t.Errorf("networkOf(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// TestBaselineBounded: a key seen from thousands of addresses still has a
// bounded profile, and the subject count is capped.
func TestBaselineBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSubjects = 3
	eng, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		evs = append(evs, Event{EventID: fmt.Sprint("B", i), EventTime: t0.Add(time.Duration(i) * time.Minute),
			SourceIPAddress: fmt.Sprintf("198.%d.%d.7", 18+i/250%2, i%250), AcsRegion: fmt.Sprint("region-", i%100),
			ServiceName: "Ecs", EventName: "DescribeInstances",
			UserIdentity: UserIdentity{Type: TypeRAMUser, AccessKeyID: tKey, UserName: "wanderer"}})
	}
	for i := range 5 {
		evs = append(evs, Event{EventID: fmt.Sprint("S", i), EventTime: t0.Add(time.Duration(i) * time.Hour),
			ServiceName: "Ecs", EventName: "DescribeInstances",
			UserIdentity: UserIdentity{Type: TypeRAMUser, AccessKeyID: fmt.Sprintf("LTAI5tSUBJECT%011d", i), UserName: fmt.Sprint("u", i)}})
	}
	res := eng.Replay(Baseline{}, evs)
	if n := len(res.Baseline.Subjects); n != 3 {
		t.Errorf("%d subjects, want the cap of 3", n)
	}
	p := res.Baseline.Subjects["key/"+tKey]
	if p == nil {
		t.Fatal("the most recently seen subject was dropped")
	}
	if len(p.IPs) > maxIPs || len(p.Networks) > maxNetworks || len(p.Regions) > maxRegions {
		t.Errorf("profile unbounded: %d IPs, %d networks, %d regions", len(p.IPs), len(p.Networks), len(p.Regions))
	}
	b, _ := json.Marshal(p)
	t.Logf("profile of a key with 2000 addresses: %d bytes", len(b))
	if len(b) > 48<<10 {
		t.Errorf("profile is %d bytes", len(b))
	}
}

// TestBaselineJSONRoundTrip: the baseline survives the state bucket; the
// next window judged from the stored copy gives the same result.
func TestBaselineJSONRoundTrip(t *testing.T) {
	eng, err := NewEngine(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	base := trained(t, eng)
	raw, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseBaseline(raw)
	if err != nil {
		t.Fatal(err)
	}
	at := monday.AddDate(0, 0, 5).Add(3 * time.Hour)
	b := &evb{key: tKey}
	evs := []Event{b.ev(at, "192.0.2.9", "cn-hangzhou", "Ecs", "DescribeInstances", "")}
	w := Window{Start: at, End: at.Add(5 * time.Minute)}
	r1, r2 := eng.Evaluate(base, w, evs), eng.Evaluate(back, w, evs)
	if !reflect.DeepEqual(mustJSON(t, r1), mustJSON(t, r2)) || len(r1.Incidents) != 1 {
		t.Errorf("results differ after a JSON round trip, or no incident: %d", len(r1.Incidents))
	}
}

func TestParseBaseline(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
		subjs   int
	}{
		{in: "", subjs: 0},
		{in: `{"version":1,"subjects":{"key/a":{"principal":"a"},"key/b":null}}`, subjs: 1},
		{in: `{"version":2,"subjects":{}}`, wantErr: "schema version 2, want 1"},
		{in: `{"subjects":{}}`, wantErr: "schema version 0"},
		{in: `{"version":1,`, wantErr: "parse baseline"},
	}
	for _, tt := range tests {
		b, err := ParseBaseline([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(b.Subjects) != tt.subjs || b.Subjects == nil {
			t.Errorf("%q: %+v, %v", tt.in, b, err)
		}
	}
}
