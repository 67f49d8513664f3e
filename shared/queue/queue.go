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

// The two kinds of queue failure. Adapters wrap every error they return in
// one of them, so ingest, the forwarder and backfill answer alike.
var (
	// ErrUnavailable: the queue could not be reached, timed out or
	// throttled the call; the same call may succeed later (503 with
	// Retry-After).
	ErrUnavailable = errors.New("queue unavailable")
	// ErrPermanent: the queue refused the call in a way no retry changes (a
	// topic or queue that does not exist, a name it refuses, no
	// permission, a message it will not take). Mostly a wrong setting.
	ErrPermanent = errors.New("queue refused the call")
)

// Transient reports whether a publish that failed with err may succeed if
// tried again. An error of neither kind counts as transient: nothing is
// given up on the strength of an error nobody classified.
func Transient(err error) bool {
	return err != nil && !errors.Is(err, ErrPermanent)
}

// SettingError is a permanent failure with the setting that names the
// topic or queue: what the operator has to fix.
type SettingError struct {
	Variable string
	Err      error
}

func (e *SettingError) Error() string { return e.Variable + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Setting returns the variable to fix when err is a permanent failure of a
// publisher opened with WithSetting.
func Setting(err error) (string, bool) {
	var se *SettingError
	if errors.As(err, &se) {
		return se.Variable, true
	}
	return "", false
}

// WithSetting wraps p so that its permanent failures name variable, the
// setting holding its topic or queue.
func WithSetting(p Publisher, variable string) Publisher {
	return settingPublisher{Publisher: p, variable: variable}
}

type settingPublisher struct {
	Publisher
	variable string
}

func (s settingPublisher) Publish(ctx context.Context, msgs []Message) []error {
	errs := s.Publisher.Publish(ctx, msgs)
	for i, err := range errs {
		if err != nil && !Transient(err) {
			errs[i] = &SettingError{Variable: s.variable, Err: err}
		}
	}
	return errs
}
