package devstack

import (
	"bytes"
	"context"
	"encoding/base64"
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
	send       func(*http.Request) (*http.Response, error) // an http.Client's Do, or inProcess
	maxBackoff time.Duration

	subscription string
	deadLetter   *pubsub.Publisher // nil: no dead-letter policy
	maxAttempts  int
}

// pushJSON is m's push request body, in the format of a Pub/Sub push
// request (pusher_test.go holds it equal to encoding/json's of the
// format), written directly, since reflection and the
// base64 encoder's buffering cost more than the rest of the delivery.
func pushJSON(m *queued, subscription string, attempt int) []byte {
	b := make([]byte, 0, base64.StdEncoding.EncodedLen(len(m.data))+256+32*len(m.attributes))
	b = append(b, `{"message":{"data":`...)
	if m.data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, m.data)
		b = append(b, '"')
	}
	b = append(b, `,"attributes":`...)
	if m.attributes == nil {
		b = append(b, "null"...)
	} else {
		attrs, _ := json.Marshal(m.attributes) // strings to a map: cannot fail
		b = append(b, attrs...)
	}
	b = append(b, `,"messageId":`...)
	b = appendJSONString(b, m.id)
	b = append(b, `,"publishTime":"`...)
	b = m.publishTime.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"},"subscription":`...)
	b = appendJSONString(b, subscription)
	if attempt != 0 {
		b = append(b, `,"deliveryAttempt":`...)
		b = strconv.AppendInt(b, int64(attempt), 10)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
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
	attempt := 0
	if p.deadLetter != nil {
		attempt = m.attempts // Pub/Sub sends it when a dead-letter policy is set
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url,
		bytes.NewReader(pushJSON(m, p.subscription, attempt)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.send(req)
	wait := p.maxBackoff
	if err == nil {
		// Drained so the connection is reused; a failed drain costs only that.
		_, _ = io.Copy(io.Discard, resp.Body)
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
