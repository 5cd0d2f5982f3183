package fault

import "testing"

func TestDecide(t *testing.T) {
	in := New(42)
	in.Set([]Rule{
		{Service: "oss", Operation: "Get*", Rate: 1, Kind: "error", Status: 503, Code: "ServiceUnavailable", Remaining: 2},
		{Service: "*", Operation: "*", Rate: 1, Kind: "latency", Latency: 5},
		{Service: "ram", Operation: "CreateUser", Rate: 0.5, Kind: "throttle"},
	})
	for i := 0; i < 2; i++ {
		if d := in.Decide("oss", "GetObject"); d.Kind != "error" || d.Status != 503 || d.Latency != 5 {
			t.Fatalf("call %d: %+v", i, d)
		}
	}
	if d := in.Decide("oss", "GetObject"); d.Kind != "" {
		t.Fatalf("rule should be exhausted after 2 firings: %+v", d)
	}
	if d := in.Decide("oss", "PutObject"); d.Kind != "" {
		t.Fatalf("PutObject must not match Get*: %+v", d)
	}
	throttled := 0
	for i := 0; i < 1000; i++ {
		if in.Decide("ram", "CreateUser").Kind == "throttle" {
			throttled++
		}
	}
	if throttled < 400 || throttled > 600 {
		t.Fatalf("rate 0.5 fired %d/1000 times", throttled)
	}
	if got := in.Fired()["oss/GetObject/error"]; got != 2 {
		t.Fatalf("fired count %d", got)
	}
	var nilInj *Injector
	if d := nilInj.Decide("oss", "GetObject"); d.Kind != "" {
		t.Fatal("nil injector must inject nothing")
	}
}
