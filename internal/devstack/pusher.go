package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// pusher does locally what a Pub/Sub push subscription does in the cloud:
// it delivers each message of a subscription to an HTTP endpoint in the push
// format and acknowledges on 2xx. On anything else it holds the message for
// the advised Retry-After (capped by maxBackoff, standing in for the
// subscription's retry policy, which the emulator lacks) and then nacks it.
type pusher struct {
	sub        *pubsub.Subscriber
	url        string
	client     *http.Client
	maxBackoff time.Duration
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

func (p *pusher) run(ctx context.Context, subscription string) error {
	return p.sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		var b pushBody
		b.Message.Data, b.Message.Attributes, b.Message.MessageID, b.Message.PublishTime = m.Data, m.Attributes, m.ID, m.PublishTime
		b.Subscription = subscription
		if m.DeliveryAttempt != nil {
			b.DeliveryAttempt = *m.DeliveryAttempt
		}
		body, _ := json.Marshal(b)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.client.Do(req)
		wait := p.maxBackoff
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				m.Ack()
				return
			}
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = min(time.Duration(s)*time.Second, p.maxBackoff)
			}
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		m.Nack()
	})
}
