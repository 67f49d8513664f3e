package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// pusher does locally what a Pub/Sub push subscription does in the cloud:
// it delivers each message of the events subscription (eventsQueue) to an
// HTTP endpoint in the push format, one message a request, with its
// deliveryAttempt, and acknowledges on 2xx. On anything else the message
// goes back to the subscription after the advised Retry-After (capped by
// maxBackoff, standing in for the subscription's retry policy), without
// holding a worker meanwhile.
//
// It also applies the subscription's dead-letter policy: after maxAttempts
// deliveries a message that still fails is published to the dead-letter
// topic, with the attributes Pub/Sub adds, and acknowledged. (pstest's own
// policy, v2.8.0, acknowledged a dead-lettered message with the wrong ack
// id, so it was published to the dead-letter topic again on every 10 ms
// tick, for ever; Google's emulator has no dead-letter policy at all.)
type pusher struct {
	queue      *eventsQueue
	workers    int // deliveries in flight at most
	url        string
	client     *http.Client
	maxBackoff time.Duration

	subscription string
	deadLetter   *pubsub.Publisher // nil: no dead-letter policy
	maxAttempts  int
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
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() {
			for {
				m, ok := p.queue.next(ctx)
				if !ok {
					return
				}
				p.deliver(ctx, m)
			}
		})
	}
	wg.Wait()
	return nil
}

// deliver pushes m once and acknowledges it, dead-letters it or hands it
// back for a later attempt.
func (p *pusher) deliver(ctx context.Context, m *queued) {
	m.attempts++
	var b pushBody
	b.Message.Data, b.Message.Attributes, b.Message.MessageID, b.Message.PublishTime = m.data, m.attributes, m.id, m.publishTime
	b.Subscription = p.subscription
	if p.deadLetter != nil {
		b.DeliveryAttempt = m.attempts // Pub/Sub sends it when a dead-letter policy is set
	}
	body, _ := json.Marshal(b)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	wait := p.maxBackoff
	if err == nil {
		io.Copy(io.Discard, resp.Body) // so the connection is reused
		resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			p.queue.ack(m)
			return
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			wait = min(time.Duration(s)*time.Second, p.maxBackoff)
		}
	}
	if ctx.Err() != nil {
		p.queue.retry(m) // stopping: the message stays in the subscription
		return
	}
	if p.deadLetter != nil && m.attempts >= p.maxAttempts && p.forwardToDeadLetter(ctx, m) {
		return
	}
	time.AfterFunc(wait, func() { p.queue.retry(m) })
}

// forwardToDeadLetter moves m to the dead-letter topic as the service does
// (no reason of ours: the forwarder did not give up in time) and
// acknowledges it; false when the publish failed and m must be retried.
func (p *pusher) forwardToDeadLetter(ctx context.Context, m *queued) bool {
	attrs := make(map[string]string, len(m.attributes)+2)
	for k, v := range m.attributes {
		attrs[k] = v
	}
	attrs["CloudPubSubDeadLetterSourceSubscription"] = p.subscription
	attrs["CloudPubSubDeadLetterSourceDeliveryCount"] = strconv.Itoa(m.attempts)
	if _, err := p.deadLetter.Publish(ctx, &pubsub.Message{Data: m.data, Attributes: attrs}).Get(ctx); err != nil {
		return false
	}
	p.queue.ack(m)
	return true
}
