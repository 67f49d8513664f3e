package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// pusher does locally what a Pub/Sub push subscription does in the cloud:
// it delivers each message of a subscription to an HTTP endpoint in the push
// format, with its deliveryAttempt, and acknowledges on 2xx. On anything
// else it holds the message for the advised Retry-After (capped by
// maxBackoff, standing in for the subscription's retry policy, which the
// emulator lacks) and then nacks it.
//
// It also applies the subscription's dead-letter policy: after maxAttempts
// deliveries a message that still fails is published to the dead-letter
// topic, with the attributes Pub/Sub adds, and acknowledged. pstest's own
// policy (v2.8.0) cannot be used: its acknowledgement of a dead-lettered
// message carries the wrong ack id and is ignored, so the message stays in
// the subscription and is published to the dead-letter topic again on
// every 10 ms tick, for ever. Over a long run those copies starve the whole
// emulator (the 100,000-event run stalled on it); Google's emulator has no
// dead-letter policy at all.
type pusher struct {
	sub        *pubsub.Subscriber
	url        string
	client     *http.Client
	maxBackoff time.Duration

	subscription string
	deadLetter   *pubsub.Publisher // nil: no dead-letter policy
	maxAttempts  int

	mu       sync.Mutex
	attempts map[string]int // deliveries so far, by message id, until acknowledged
}

type pushBody struct {
	Message struct {
		Data        []byte            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		PublishTime time.Time         `json:"publishTime"`
	} `json:"message"`
	Subscription    string `json:"subscription"`
	DeliveryAttempt int    `json:"deliveryAttempt,omitempty"`
}

func (p *pusher) run(ctx context.Context) error {
	return p.sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		attempt := p.delivered(m.ID)
		var b pushBody
		b.Message.Data, b.Message.Attributes, b.Message.MessageID, b.Message.PublishTime = m.Data, m.Attributes, m.ID, m.PublishTime
		b.Subscription = p.subscription
		if p.deadLetter != nil {
			b.DeliveryAttempt = attempt // Pub/Sub sends it when a dead-letter policy is set
		}
		body, _ := json.Marshal(b)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.client.Do(req)
		wait := p.maxBackoff
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				p.done(m.ID)
				m.Ack()
				return
			}
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = min(time.Duration(s)*time.Second, p.maxBackoff)
			}
		}
		if p.deadLetter != nil && attempt >= p.maxAttempts && p.forwardToDeadLetter(ctx, m, attempt) {
			return
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		m.Nack()
	})
}

// delivered counts one more delivery of message id and returns the count.
func (p *pusher) delivered(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts[id]++
	return p.attempts[id]
}

func (p *pusher) done(id string) {
	p.mu.Lock()
	delete(p.attempts, id)
	p.mu.Unlock()
}

// forwardToDeadLetter moves m to the dead-letter topic as the service does
// (no reason of ours: the forwarder did not give up in time) and
// acknowledges it; false when the publish failed and m must be retried.
func (p *pusher) forwardToDeadLetter(ctx context.Context, m *pubsub.Message, attempt int) bool {
	attrs := make(map[string]string, len(m.Attributes)+2)
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	attrs["CloudPubSubDeadLetterSourceSubscription"] = p.subscription
	attrs["CloudPubSubDeadLetterSourceDeliveryCount"] = strconv.Itoa(attempt)
	if _, err := p.deadLetter.Publish(ctx, &pubsub.Message{Data: m.Data, Attributes: attrs}).Get(ctx); err != nil {
		return false
	}
	p.done(m.ID)
	m.Ack()
	return true
}
