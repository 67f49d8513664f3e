// Package queue is the boundary between ingest and the forwarder: a
// Publisher that hands events to Pub/Sub or SQS and reports, per message,
// whether the queue acknowledged it.
package queue

import (
	"context"
	"errors"
)

// Attribute names every message carries, so subscribers can filter and the
// forwarder can log without decoding the body.
const (
	AttrEventID   = "event_id"
	AttrEventType = "event_type"
	AttrSource    = "source"
)

// Message is one event on its way to the queue. Body is the canonical event
// JSON, which is also the MCM request body.
type Message struct {
	ID         string
	Body       []byte
	Attributes map[string]string
}

// Publisher publishes messages and waits for the queue's acknowledgement.
// Publish returns one error slot per message (nil: acknowledged), so one
// failure never hides its neighbours' success. Implementations are safe for
// concurrent use and never publish a message twice within one call.
type Publisher interface {
	Publish(ctx context.Context, msgs []Message) []error
	Close() error
}

// ErrUnavailable marks a publish that failed because the queue could not be
// reached or refused the call; the caller may retry later.
var ErrUnavailable = errors.New("queue unavailable")
