package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/akguard/akguard/infra/local/trail"
)

// syntheticKeyID makes an AccessKey ID shaped like a real one from a
// seeded PRNG: test data, never a real credential.
func syntheticKeyID(rng *rand.Rand) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("LTAI5t")
	for len(b) < 24 {
		b = append(b, alnum[rng.IntN(len(alnum))])
	}
	return string(b)
}

// history builds n events for one key, two per second going back from end,
// so several share an eventTime.
func history(n int, key string, end time.Time, rng *rand.Rand) []trail.Event {
	out := make([]trail.Event, n)
	for i := range out {
		at := end.Add(-time.Duration(i/2) * time.Second)
		out[i] = trail.Event{
			EventID: fmt.Sprintf("%024X", rng.Uint64()), EventName: []string{"GetObject", "PutObject", "DeleteBucket"}[i%3],
			EventSource: "oss-cn-hangzhou.aliyuncs.com", EventRW: "Write", ServiceName: "Oss", AcsRegion: region,
			EventTime: at.UTC().Format(trail.TimeLayout), SourceIPAddress: fmt.Sprintf("203.0.113.%d", i%7+1),
			ResourceName: fmt.Sprintf("bucket-%d", i%4), ResourceType: "ACS::OSS::Bucket",
			UserIdentity: trail.UserIdentity{Type: "ram-user", AccessKeyID: key, UserName: "leaked", AccountID: "1234567890123456"},
		}
	}
	return out
}

func importEvents(t *testing.T, c *cloud, evs []trail.Event) {
	t.Helper()
	data, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.srv.ImportEvents(t.Context(), bytes.NewReader(data))
	if err != nil || n != len(evs) {
		t.Fatalf("import: %d, %v", n, err)
	}
}

func TestLookupEventsPaging(t *testing.T) {
	c := startCloud(t, "")
	c.srv.SetLookupEventsRate(0)
	rng := rand.New(rand.NewPCG(7, 11))
	key := syntheticKeyID(rng)
	now := time.Now().UTC().Truncate(time.Second)
	importEvents(t, c, history(120, key, now.Add(-time.Minute), rng))
	cl := trailClient(t, c.root())

	for _, dir := range []string{"", "FORWARD"} {
		t.Run("direction="+dir, func(t *testing.T) {
			seen := map[string]bool{}
			var times []string
			var sizes []int
			token := ""
			for page := 0; page < 10; page++ {
				req := at(c, actiontrail.CreateLookupEventsRequest())
				req.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "EventAccessKeyId", Value: key}}
				req.MaxResults, req.NextToken, req.Direction = "50", token, dir
				resp, err := cl.LookupEvents(req)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(resp.Events))
				for _, e := range resp.Events {
					id, _ := e["eventId"].(string)
					if seen[id] {
						t.Fatalf("duplicate event %s on page %d", id, page)
					}
					seen[id] = true
					times = append(times, e["eventTime"].(string))
					if e["userIdentity"].(map[string]any)["accessKeyId"] != key {
						t.Fatalf("event of another key: %v", e)
					}
				}
				// A newer event for the same key arriving mid-paging must
				// neither shift nor repeat later pages.
				if page == 0 {
					importEvents(t, c, history(1, key, now, rng))
				}
				if resp.NextToken == "" {
					break
				}
				token = resp.NextToken
			}
			wantSizes := []int{50, 50, 20}
			if dir == "FORWARD" {
				// 120 + the late event of the BACKWARD run + the one
				// arriving now, which is ahead of the cursor.
				wantSizes = []int{50, 50, 22}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(wantSizes) {
				t.Fatalf("page sizes %v, want %v", sizes, wantSizes)
			}
			ordered := sort.SliceIsSorted(times, func(i, j int) bool {
				if dir == "FORWARD" {
					return times[i] < times[j]
				}
				return times[i] > times[j]
			})
			if !ordered {
				t.Fatalf("events out of order: %v", times)
			}
		})
	}

	// A token is only valid with the parameters that produced it.
	req := at(c, actiontrail.CreateLookupEventsRequest())
	req.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "EventAccessKeyId", Value: key}}
	req.MaxResults = "50"
	first, err := cl.LookupEvents(req)
	if err != nil {
		t.Fatal(err)
	}
	req2 := at(c, actiontrail.CreateLookupEventsRequest())
	req2.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "EventName", Value: "PutObject"}}
	req2.MaxResults, req2.NextToken = "50", first.NextToken
	_, err = cl.LookupEvents(req2)
	se := wantErr(t, err, "InvalidParameterValue", 400)
	if !strings.Contains(se.Message(), "NextToken") {
		t.Fatalf("message %q", se.Message())
	}
}

func TestLookupEventsValidation(t *testing.T) {
	c := startCloud(t, "")
	c.srv.SetLookupEventsRate(0)
	cl := trailClient(t, c.root())
	cases := []struct {
		name  string
		set   func(r *actiontrail.LookupEventsRequest)
		param string // named in the error message
	}{
		{"two attributes", func(r *actiontrail.LookupEventsRequest) {
			r.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "EventName", Value: "a"}, {Key: "EventRW", Value: "Write"}}
		}, "LookupAttribute"},
		{"unknown attribute", func(r *actiontrail.LookupEventsRequest) {
			r.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: "Colour", Value: "red"}}
		}, "LookupAttribute"},
		{"too many results", func(r *actiontrail.LookupEventsRequest) { r.MaxResults = "51" }, "MaxResults"},
		{"bad start", func(r *actiontrail.LookupEventsRequest) {
			r.StartTime, r.EndTime = "yesterday", "2026-01-01T00:00:00Z"
		}, "StartTime"},
		{"start without end", func(r *actiontrail.LookupEventsRequest) { r.StartTime = "2026-01-01T00:00:00Z" }, "EndTime"},
		{"start after end", func(r *actiontrail.LookupEventsRequest) {
			r.StartTime, r.EndTime = "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"
		}, "StartTime"},
		{"bad direction", func(r *actiontrail.LookupEventsRequest) { r.Direction = "SIDEWAYS" }, "Direction"},
		{"garbage token", func(r *actiontrail.LookupEventsRequest) { r.NextToken = "!!!" }, "NextToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := at(c, actiontrail.CreateLookupEventsRequest())
			tc.set(r)
			_, err := cl.LookupEvents(r)
			se := wantErr(t, err, "InvalidParameterValue", 400)
			if !strings.Contains(se.Message(), tc.param) {
				t.Fatalf("message %q does not name %s", se.Message(), tc.param)
			}
		})
	}

	// The default window holds the calls just made, with trail field names.
	resp, err := cl.LookupEvents(at(c, actiontrail.CreateLookupEventsRequest()))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Events) == 0 || resp.Events[0]["serviceName"] != "Actiontrail" || resp.Events[0]["isGlobal"] != false {
		t.Fatalf("events = %v", resp.Events)
	}
}

func TestLookupEventsThrottling(t *testing.T) {
	c := startCloud(t, "")
	fixed := time.Now()
	c.env.Now = func() time.Time { return fixed } // every call lands in the same second
	cl := trailClient(t, c.root())
	for i := 0; i < DefaultLookupEventsPerSecond; i++ {
		if _, err := cl.LookupEvents(at(c, actiontrail.CreateLookupEventsRequest())); err != nil {
			t.Fatal(err)
		}
	}
	_, err := cl.LookupEvents(at(c, actiontrail.CreateLookupEventsRequest()))
	wantErr(t, err, "Throttling.User", 400)
	// Another key has its own budget.
	id, secret := newUserWithKey(t, c, "auditor", "AliyunActionTrailFullAccess")
	if _, err := trailClient(t, keyCred(id, secret)).LookupEvents(at(c, actiontrail.CreateLookupEventsRequest())); err != nil {
		t.Fatal(err)
	}
	c.env.Now = func() time.Time { return fixed.Add(time.Second) }
	if _, err := cl.LookupEvents(at(c, actiontrail.CreateLookupEventsRequest())); err != nil {
		t.Fatalf("next second: %v", err)
	}
}

func TestAccessKeyAudit(t *testing.T) {
	c := startCloud(t, "")
	id, secret := newUserWithKey(t, c, "dave", "AliyunRAMReadOnlyAccess")
	if _, err := ramClient(t, keyCred(id, secret)).ListUsers(at(c, ram.CreateListUsersRequest())); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	importEvents(t, c, history(30, id, time.Now().Add(-time.Hour), rng))
	if _, err := stsClient(t, keyCred(id, secret)).GetCallerIdentity(at(c, sts.CreateGetCallerIdentityRequest())); err != nil {
		t.Fatal(err)
	}
	cl := trailClient(t, c.root())

	info := at(c, actiontrail.CreateGetAccessKeyLastUsedInfoRequest())
	info.AccessKey = id
	got, err := cl.GetAccessKeyLastUsedInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserName != "dave" || got.AccountType != "ram-user" || got.ServiceName != "Sts" || got.UsedTimestamp == 0 || got.Detail == "" {
		t.Fatalf("GetAccessKeyLastUsedInfo = %+v", got)
	}
	var detail trail.Event
	if err := json.Unmarshal([]byte(got.Detail), &detail); err != nil || detail.EventName != "GetCallerIdentity" {
		t.Fatalf("Detail = %s (%v)", got.Detail, err)
	}

	prods := at(c, actiontrail.CreateGetAccessKeyLastUsedProductsRequest())
	prods.AccessKey = id
	p, err := cl.GetAccessKeyLastUsedProducts(prods)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range p.Products {
		names = append(names, it.ServiceName)
	}
	if fmt.Sprint(names) != "[Sts Ram Oss]" {
		t.Fatalf("products %v, want newest first [Sts Ram Oss]", names)
	}

	evs := at(c, actiontrail.CreateGetAccessKeyLastUsedEventsRequest())
	evs.AccessKey, evs.ServiceName, evs.PageSize = id, "Oss", "2"
	e1, err := cl.GetAccessKeyLastUsedEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(e1.Events) != 2 || e1.NextToken == "" {
		t.Fatalf("events page 1 = %+v", e1)
	}
	evs.NextToken = e1.NextToken
	e2, err := cl.GetAccessKeyLastUsedEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(e2.Events) != 1 || e2.NextToken != "" {
		t.Fatalf("events page 2 = %+v", e2)
	}

	ips := at(c, actiontrail.CreateGetAccessKeyLastUsedIpsRequest())
	ips.AccessKey, ips.ServiceName = id, "Oss"
	ip, err := cl.GetAccessKeyLastUsedIps(ips)
	if err != nil {
		t.Fatal(err)
	}
	if len(ip.Ips) != 7 {
		t.Fatalf("ips = %+v", ip.Ips)
	}
	res := at(c, actiontrail.CreateGetAccessKeyLastUsedResourcesRequest())
	res.AccessKey, res.ServiceName = id, "Oss"
	rs, err := cl.GetAccessKeyLastUsedResources(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Resources) != 4 || rs.Resources[0].ResourceType != "ACS::OSS::Bucket" {
		t.Fatalf("resources = %+v", rs.Resources)
	}

	// dave's read-only RAM grants no ActionTrail access.
	_, err = trailClient(t, keyCred(id, secret)).GetAccessKeyLastUsedInfo(info)
	wantErr(t, err, "NoPermission", 403)
}

// The sample history (a LookupEvents response) imports and is queryable,
// global RAM events included.
func TestImportHistoryFile(t *testing.T) {
	data, err := os.ReadFile("testdata/leaked-key-history.json")
	if err != nil {
		t.Fatal(err)
	}
	c := startCloud(t, "")
	c.srv.SetLookupEventsRate(0)
	n, err := c.srv.ImportEvents(t.Context(), bytes.NewReader(data))
	if err != nil || n != 5 {
		t.Fatalf("imported %d, %v", n, err)
	}

	// Query a copy moved to yesterday, so the 90-day horizon never hides
	// the sample whenever the test runs.
	evs, err := trail.ParseEvents(data)
	if err != nil {
		t.Fatal(err)
	}
	shift := time.Now().Add(-24 * time.Hour).Sub(evs[len(evs)-1].Time()).Truncate(time.Second)
	for i := range evs {
		evs[i].EventTime = evs[i].Time().Add(shift).Format(trail.TimeLayout)
		evs[i].EventID += "0"
	}
	importEvents(t, c, evs)
	start := evs[0].Time().Add(-time.Minute).Format(trail.TimeLayout)
	end := evs[len(evs)-1].Time().Add(time.Minute).Format(trail.TimeLayout)
	key := evs[0].UserIdentity.AccessKeyID
	cl := trailClient(t, c.root())
	cases := []struct {
		attr, value string
		want        int
	}{
		{"EventAccessKeyId", key, 5},
		{"ServiceName", "Ram", 3},
		{"EventRW", "Write", 4},
		{"ResourceName", "prod-backups", 1},
		{"User", "ci-deployer", 5},
	}
	for _, tc := range cases {
		t.Run(tc.attr, func(t *testing.T) {
			r := at(c, actiontrail.CreateLookupEventsRequest())
			r.StartTime, r.EndTime = start, end
			r.LookupAttribute = &[]actiontrail.LookupEventsLookupAttribute{{Key: tc.attr, Value: tc.value}}
			resp, err := cl.LookupEvents(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Events) != tc.want {
				t.Fatalf("%d events, want %d", len(resp.Events), tc.want)
			}
		})
	}
}
