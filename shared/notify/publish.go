package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// Encode returns the SMQ MessageBody: the JSON message in base64, as SMQ
// recommends for bodies that may hold characters XML would mangle
// (cloud-apis.md B4.1; the SMQ console decodes base64 bodies).
func Encode(m *Message) (string, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode message: %w", err)
	}
	return base64.StdEncoding.EncodeToString(data), nil
}

// Decode is Encode's inverse, for subscribers and tests.
func Decode(body string) (Message, error) {
	var m Message
	data, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return m, fmt.Errorf("decode message body: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode message: %w", err)
	}
	if m.Version != Version {
		return m, fmt.Errorf("decode message: version %q, want %q", m.Version, Version)
	}
	return m, nil
}

// Receipt is what SMQ returned for a published message.
type Receipt struct {
	MessageID string `json:"message_id"`
	Attempts  int    `json:"attempts"`
}

// Publisher publishes messages to one SMQ topic with bounded retries.
type Publisher struct {
	Client ali_mns.MNSClient
	Topic  string
	// Attempts bounds tries per Publish (default 5).
	Attempts int
	// Backoff is the first retry delay, doubled per try (default 200ms).
	Backoff time.Duration
}

// Publish sends m, retrying every failure with exponential backoff: SMQ
// errors worth retrying (throttling, 5xx, network) cannot always be told
// from permanent ones through the SDK, and a missed alert costs more than
// a few seconds of retries.
func (p *Publisher) Publish(ctx context.Context, m *Message) (Receipt, error) {
	body, err := Encode(m)
	if err != nil {
		return Receipt{}, err
	}
	attempts, backoff := p.Attempts, p.Backoff
	if attempts <= 0 {
		attempts = 5
	}
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	topic := ali_mns.NewMNSTopic(p.Topic, p.Client)
	var errs []error
	for i := 1; i <= attempts; i++ {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		resp, err := topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: body, MessageTag: m.Tag()})
		if err == nil {
			return Receipt{MessageID: resp.MessageId, Attempts: i}, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", i, err))
		if i == attempts {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		backoff *= 2
	}
	return Receipt{Attempts: len(errs)}, fmt.Errorf("publish to topic %s: %w", p.Topic, errors.Join(errs...))
}
