package smq

import (
	"strings"
	"sync"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/gogap/errors"
)

func TestQueueSendReceiveDelete(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "scan-results")

	bodies := []string{"eyJrIjoidiJ9", "plain text with <xml> & entities", strings.Repeat("x", 60000)}
	sent := map[string]ali_mns.MessageSendResponse{}
	for _, b := range bodies {
		r := send(t, q, b)
		if r.MessageBodyMD5 != bodyMD5(b) {
			t.Errorf("MessageBodyMD5 = %s, want %s", r.MessageBodyMD5, bodyMD5(b))
		}
		sent[r.MessageId] = r
	}
	attrs, err := ali_mns.NewMNSQueueManager(c).GetQueueAttributes("scan-results")
	if err != nil {
		t.Fatal(err)
	}
	if attrs.ActiveMessages != 3 || attrs.VisibilityTimeout != 30 || attrs.MaxMessageSize != 65536 {
		t.Errorf("attributes = %+v, want 3 active, visibility 30, max size 65536", attrs)
	}
	for i, want := range bodies { // FIFO within one priority
		got, err := receive(q, 0)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if got.MessageBody != want {
			t.Fatalf("receive %d: body %.20q..., want %.20q...", i, got.MessageBody, want)
		}
		if _, ok := sent[got.MessageId]; !ok || got.DequeueCount != 1 || got.Priority != 8 || got.EnqueueTime == 0 ||
			got.FirstDequeueTime == 0 || got.NextVisibleTime <= got.FirstDequeueTime {
			t.Errorf("receive %d: unexpected attributes %+v", i, got)
		}
		if err := q.DeleteMessage(got.ReceiptHandle); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
		if err := q.DeleteMessage(got.ReceiptHandle); !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
			t.Errorf("second delete: err = %v, want MessageNotExist", err)
		}
	}
	if _, err := receive(q, 0); !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
		t.Errorf("receive from empty queue: err = %v, want MessageNotExist", err)
	}
}

func TestQueueErrors(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	qm := ali_mns.NewMNSQueueManager(c)
	q := f.createQueue(c, "existing", ali_mns.WithVisibilityTimeout(60))
	missing := ali_mns.NewMNSQueue("missing", c)
	cases := []struct {
		name string
		call func() error
		want errors.ErrCodeTemplate
	}{
		{"create identical queue", func() error {
			return qm.CreateQueueWithOptions("existing", ali_mns.WithVisibilityTimeout(60))
		}, ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR},
		{"create conflicting queue", func() error {
			return qm.CreateQueueWithOptions("existing", ali_mns.WithVisibilityTimeout(61))
		}, ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST},
		{"invalid queue name", func() error { return qm.CreateSimpleQueue("1starts-with-digit") }, ali_mns.ERR_MNS_INVALID_QUEUE_NAME},
		{"send to missing queue", func() error {
			_, err := missing.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
			return err
		}, ali_mns.ERR_MNS_QUEUE_NOT_EXIST},
		{"priority zero is out of range", func() error {
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x"})
			return err
		}, ali_mns.ERR_MNS_INVALID_ARGUMENT},
		{"delay out of range", func() error {
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 1, DelaySeconds: 604801})
			return err
		}, ali_mns.ERR_MNS_INVALID_ARGUMENT},
		{"forged receipt handle", func() error { return q.DeleteMessage("not-a-handle") }, ali_mns.ERR_MNS_RECEIPT_HANDLE_ERROR},
		{"attributes of missing queue", func() error {
			_, err := qm.GetQueueAttributes("missing")
			return err
		}, ali_mns.ERR_MNS_QUEUE_NOT_EXIST},
		{"visibility of unknown message", func() error {
			_, err := q.ChangeMessageVisibility(newHandle("unknown"), 10)
			return err
		}, ali_mns.ERR_MNS_MESSAGE_NOT_EXIST},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !tc.want.IsEqual(err) {
				t.Errorf("err = %v, want %s", err, tc.name)
			}
		})
	}
}

func TestLongPollGetsMessageSentDuringWait(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "alerts")
	type result struct {
		msg     ali_mns.MessageReceiveResponse
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	// The SDK's per-object QPS monitor is not goroutine-safe: give the
	// polling goroutine its own queue object.
	poller := ali_mns.NewMNSQueue("alerts", c)
	go func() {
		m, err := receive(poller, 10)
		done <- result{m, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	send(t, q, "late arrival")
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.msg.MessageBody != "late arrival" {
		t.Errorf("body = %q", r.msg.MessageBody)
	}
	if r.elapsed < 250*time.Millisecond || r.elapsed > 5*time.Second {
		t.Errorf("long poll returned after %v, want shortly after the send at 300ms", r.elapsed)
	}

	start = time.Now()
	if _, err := receive(q, 1); !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
		t.Errorf("empty long poll: err = %v, want MessageNotExist", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("empty long poll returned after %v, want about 1s", d)
	}
}

func TestVisibilityTimeoutRedelivery(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "work", ali_mns.WithVisibilityTimeout(1))
	send(t, q, "job-1")

	first, err := receive(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := receive(q, 0); !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
		t.Fatalf("message visible during its visibility timeout: err = %v", err)
	}
	// The long poll must wake when the timeout expires, not at its deadline.
	start := time.Now()
	second, err := receive(q, 5)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("redelivery took %v, want about the 1s visibility timeout", d)
	}
	if second.MessageId != first.MessageId || second.DequeueCount != 2 || second.FirstDequeueTime != first.FirstDequeueTime {
		t.Errorf("redelivered %+v, want same message with DequeueCount 2 and the original FirstDequeueTime", second)
	}
	if second.ReceiptHandle == first.ReceiptHandle {
		t.Error("redelivery reused the receipt handle")
	}
	if err := q.DeleteMessage(first.ReceiptHandle); !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
		t.Errorf("delete with stale handle: err = %v, want MessageNotExist", err)
	}
	changed, err := q.ChangeMessageVisibility(second.ReceiptHandle, 30)
	if err != nil {
		t.Fatal(err)
	}
	if changed.ReceiptHandle == second.ReceiptHandle || changed.NextVisibleTime <= second.NextVisibleTime {
		t.Errorf("ChangeMessageVisibility = %+v, want a new handle and a later NextVisibleTime", changed)
	}
	if err := q.DeleteMessage(changed.ReceiptHandle); err != nil {
		t.Errorf("delete with handle from ChangeMessageVisibility: %v", err)
	}
}

func TestPriorityAndDelay(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "prio")
	for _, m := range []ali_mns.MessageSendRequest{
		{MessageBody: "low", Priority: 16},
		{MessageBody: "delayed-urgent", Priority: 1, DelaySeconds: 1},
		{MessageBody: "urgent", Priority: 1},
		{MessageBody: "normal", Priority: 8},
	} {
		r, err := q.SendMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if (m.DelaySeconds > 0) != (r.ReceiptHandle != "") {
			t.Errorf("%s: receipt handle %q, want one only for delayed messages", m.MessageBody, r.ReceiptHandle)
		}
	}
	var got []string
	for range 3 {
		m, err := receive(q, 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.MessageBody)
	}
	if strings.Join(got, ",") != "urgent,normal,low" {
		t.Errorf("order = %v, want urgent,normal,low (delayed message hidden)", got)
	}
	m, err := receive(q, 3)
	if err != nil || m.MessageBody != "delayed-urgent" {
		t.Errorf("after delay: %q, %v", m.MessageBody, err)
	}
}

func TestBatchOperations(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "batch")
	resp, err := q.BatchSendMessage(
		ali_mns.MessageSendRequest{MessageBody: "a", Priority: 8},
		ali_mns.MessageSendRequest{MessageBody: "b", Priority: 8},
		ali_mns.MessageSendRequest{MessageBody: "c", Priority: 8},
	)
	if err != nil || len(resp.Messages) != 3 {
		t.Fatalf("BatchSendMessage = %+v, %v", resp, err)
	}

	pc := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	ec := make(chan error, 1)
	q.BatchPeekMessage(pc, ec, 16)
	select {
	case p := <-pc:
		if len(p.Messages) != 3 || p.Messages[0].ReceiptHandle != "" {
			t.Errorf("BatchPeekMessage = %+v, want 3 messages without handles", p)
		}
	case err := <-ec:
		t.Fatal(err)
	}

	got, err := batchReceive(q, 16)
	if err != nil || len(got.Messages) != 3 {
		t.Fatalf("BatchReceiveMessage = %+v, %v", got, err)
	}
	handles := []string{got.Messages[0].ReceiptHandle, got.Messages[1].ReceiptHandle, newHandle("gone")}
	failed, err := q.BatchDeleteMessage(handles...)
	if !ali_mns.ERR_MNS_BATCH_OP_FAIL.IsEqual(err) {
		t.Fatalf("BatchDeleteMessage with one bad handle: err = %v, want batch failure", err)
	}
	if len(failed.FailedMessages) != 1 || failed.FailedMessages[0].ErrorCode != "MessageNotExist" || failed.FailedMessages[0].ReceiptHandle != handles[2] {
		t.Errorf("failed entries = %+v", failed.FailedMessages)
	}
	if _, err := q.BatchDeleteMessage(got.Messages[2].ReceiptHandle); err != nil {
		t.Errorf("BatchDeleteMessage: %v", err)
	}
	attrs, err := ali_mns.NewMNSQueueManager(c).GetQueueAttributes("batch")
	if err != nil || attrs.ActiveMessages+attrs.InactiveMessages != 0 {
		t.Errorf("queue not empty after deletes: %+v, %v", attrs, err)
	}
}

func TestListAndDeleteQueues(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	qm := ali_mns.NewMNSQueueManager(c)
	for _, n := range []string{"ak-a", "ak-b", "ak-c", "other"} {
		f.createQueue(c, n)
	}
	page1, err := qm.ListQueue("", 2, "ak-")
	if err != nil {
		t.Fatal(err)
	}
	page2, err := qm.ListQueue(page1.NextMarker, 2, "ak-")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, q := range append(page1.Queues, page2.Queues...) {
		urls = append(urls, q.QueueURL)
	}
	want := Endpoint(f.env.AccountID, f.env.Region) + "/queues/"
	if len(urls) != 3 || urls[0] != want+"ak-a" || urls[2] != want+"ak-c" || page2.NextMarker != "" {
		t.Errorf("pages = %v (next %q), want ak-a..ak-c", urls, page2.NextMarker)
	}
	details, err := qm.ListQueueDetail("", 0, "other")
	if err != nil || len(details.Attrs) != 1 || details.Attrs[0].QueueName != "other" || details.Attrs[0].VisibilityTimeout != 30 {
		t.Errorf("ListQueueDetail = %+v, %v", details, err)
	}
	if err := qm.DeleteQueue("ak-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := qm.GetQueueAttributes("ak-a"); !ali_mns.ERR_MNS_QUEUE_NOT_EXIST.IsEqual(err) {
		t.Errorf("deleted queue still answers: %v", err)
	}
}

func TestDeleteQueueWakesLongPoll(t *testing.T) {
	f := newFixture(t, "")
	c := f.rootClient()
	q := f.createQueue(c, "doomed")
	var wg sync.WaitGroup
	wg.Add(1)
	var err error
	go func() {
		defer wg.Done()
		_, err = receive(q, 20)
	}()
	// q is used only by the goroutine from here on (see above).
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if derr := ali_mns.NewMNSQueueManager(c).DeleteQueue("doomed"); derr != nil {
		t.Fatal(derr)
	}
	wg.Wait()
	if !ali_mns.ERR_MNS_QUEUE_NOT_EXIST.IsEqual(err) || time.Since(start) > 2*time.Second {
		t.Errorf("long poll on deleted queue: err = %v after %v", err, time.Since(start))
	}
}
