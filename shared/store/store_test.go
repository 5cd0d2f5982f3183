package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/shared/aliyun"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	c := startCloud(t)
	cl := rootClients(c).OSS()
	if _, err := cl.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr("akguard-state")}); err != nil {
		t.Fatal(err)
	}
	return &Store{Client: cl, Bucket: "akguard-state", Prefix: "akguard/"}
}

func startCloud(t *testing.T) *cloud.Cloud {
	t.Helper()
	c, err := cloud.Start(context.Background(), cloud.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rootClients(c *cloud.Cloud) aliyun.Clients {
	root := c.Env.IAM.RootKey()
	return aliyun.Clients{Region: c.Env.Region, AccountID: c.Env.AccountID, Endpoints: c.Endpoints,
		Creds: aliyun.Credentials{AccessKeyID: root.AccessKeyID, AccessKeySecret: root.AccessKeySecret}}
}

type rec struct{ N int }

// Duplicate deliveries race to create the same record: exactly one wins.
func TestCreateIsExactlyOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ok, err := s.Create(ctx, "findings/fp1.json", rec{N: i})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d writers created the record, want exactly 1", wins)
	}
	var got rec
	if err := s.Get(ctx, "findings/fp1.json", &got); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, "findings/none.json", &got); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
	keys, err := s.List(ctx, "findings/")
	if err != nil || len(keys) != 1 || keys[0] != "findings/fp1.json" {
		t.Fatalf("List = %v, %v", keys, err)
	}
}
