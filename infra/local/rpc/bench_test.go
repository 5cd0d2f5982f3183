package rpc

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"github.com/akguard/akguard/infra/local/core"
)

func BenchmarkAuthenticate(b *testing.B) {
	env, err := core.Open("", "", region, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(env)
	if err != nil {
		b.Fatal(err)
	}
	k := env.IAM.RootKey()
	params := map[string]string{
		"Action": "GetUser", "Version": "2015-05-01", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
		"SignatureVersion": "1.0", "SignatureType": "", "AccessKeyId": k.AccessKeyID, "RegionId": region,
		"UserName": "alice", "Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		params["SignatureNonce"] = string(rune('a'+i%26)) + time.Now().String()
		params["Signature"] = sign(stringToSign("POST", params), k.AccessKeySecret)
		if _, aerr := s.authenticate("POST", params); aerr != nil {
			b.Fatal(aerr)
		}
	}
}

// BenchmarkLookupEventsPage measures one 50-event page over a 20k-event
// trail filtered by AccessKey, the audit function's hot query.
func BenchmarkLookupEventsPage(b *testing.B) {
	env, err := core.Open("", "", region, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(env)
	if err != nil {
		b.Fatal(err)
	}
	s.SetLookupEventsRate(0)
	rng := rand.New(rand.NewPCG(1, 2))
	hot := syntheticKeyID(rng)
	now := time.Now()
	// Oldest first, as a trail grows.
	for i := 19; i >= 0; i-- {
		key := hot
		if i%4 != 0 {
			key = syntheticKeyID(rng)
		}
		evs := history(1000, key, now.Add(-time.Duration(i)*time.Hour), rng)
		for j := len(evs) - 1; j >= 0; j-- {
			if err := env.Trail.Record(context.Background(), evs[j]); err != nil {
				b.Fatal(err)
			}
		}
	}
	_, p, _ := env.IAM.Authenticate(env.IAM.RootKey().AccessKeyID, "")
	c := &call{ctx: context.Background(), srv: s, prod: s.products[ProductActionTrail], principal: p,
		params: map[string]string{"LookupAttribute.1.Key": "EventAccessKeyId", "LookupAttribute.1.Value": hot, "MaxResults": "50"}}
	b.ReportAllocs()
	for b.Loop() {
		out, err := s.atLookupEvents(c)
		if err != nil {
			b.Fatal(err)
		}
		if len(out["Events"].([]json.RawMessage)) != 50 {
			b.Fatal("short page")
		}
	}
}

// BenchmarkSDKRoundTrip is one signed RAM GetUser through the official SDK
// and the HTTP server.
func BenchmarkSDKRoundTrip(b *testing.B) {
	env, err := core.Open("", "", region, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(env)
	if err != nil {
		b.Fatal(err)
	}
	c := &cloud{env: env, srv: s}
	c.ts = httptest.NewServer(s)
	defer c.ts.Close()
	c.host = c.ts.Listener.Addr().String()
	if _, err := env.IAM.CreateUser("alice", "", ""); err != nil {
		b.Fatal(err)
	}
	k := env.IAM.RootKey()
	cl, err := ram.NewClientWithOptions(region, sdkConfig(), keyCred(k.AccessKeyID, k.AccessKeySecret))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := at(c, ram.CreateGetUserRequest())
		r.UserName = "alice"
		if _, err := cl.GetUser(r); err != nil {
			b.Fatal(err)
		}
	}
}
