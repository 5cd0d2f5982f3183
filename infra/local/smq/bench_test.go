package smq

import (
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

const sdkQPS = 1 << 30

// BenchmarkPublishReceive measures one message's full trip through the
// SDK: PublishMessage to a topic, synchronous push into a subscribed queue,
// ReceiveMessage and DeleteMessage — four signed HTTP calls.
func BenchmarkPublishReceive(b *testing.B) {
	for _, bc := range []struct {
		name    string
		persist bool
	}{{"memory", false}, {"journal", true}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := ""
			if bc.persist {
				dir = b.TempDir()
			}
			f := openFixture(b, dir)
			c := f.rootClient()
			if err := ali_mns.NewMNSTopicManager(c).CreateSimpleTopic("bench"); err != nil {
				b.Fatal(err)
			}
			f.createQueue(c, "bench-q")
			// The SDK throttles itself to 2000 calls/s per queue or topic
			// object (qps_monitor.go); lift that to measure the server.
			q := ali_mns.NewMNSQueue("bench-q", c, sdkQPS)
			topic := ali_mns.NewMNSTopic("bench", c, sdkQPS)
			if err := topic.Subscribe("s", ali_mns.MessageSubsribeRequest{Endpoint: topic.GenerateQueueEndpoint("bench-q"), NotifyContentFormat: ali_mns.SIMPLIFIED}); err != nil {
				b.Fatal(err)
			}
			msg := ali_mns.MessagePublishRequest{MessageBody: "eyJha2lkIjoiTFRBSTV0KioqKiIsImFjdGlvbiI6ImNvbnRhaW5lZCJ9", MessageTag: "ak-leak"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := topic.PublishMessage(msg); err != nil {
					b.Fatal(err)
				}
				m, err := receive(q, 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := q.DeleteMessage(m.ReceiptHandle); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkReceiveBacklog measures Receive+Delete against a queue holding
// a 10 000-message backlog, where delivery order and deletion cost matter.
func BenchmarkReceiveBacklog(b *testing.B) {
	f := openFixture(b, "")
	c := f.rootClient()
	f.createQueue(c, "backlog")
	q := ali_mns.NewMNSQueue("backlog", c, sdkQPS)
	batch := make([]ali_mns.MessageSendRequest, 16)
	for i := range batch {
		batch[i] = ali_mns.MessageSendRequest{MessageBody: "payload", Priority: int64(1 + i%16)}
	}
	fill := func(n int) {
		for range n / 16 {
			if _, err := q.BatchSendMessage(batch...); err != nil {
				b.Fatal(err)
			}
		}
	}
	fill(10000)
	b.ReportAllocs()
	for b.Loop() {
		m, err := receive(q, 0)
		if err != nil {
			b.StopTimer()
			fill(10000)
			b.StartTimer()
			continue
		}
		if err := q.DeleteMessage(m.ReceiptHandle); err != nil {
			b.Fatal(err)
		}
	}
}
