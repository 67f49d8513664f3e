package forwarder

import (
	"context"
	"log/slog"
	"time"

	"eventrelay.dev/eventrelay/shared/delivery"
)

// VisibilityChanger delays a message's next delivery (SQS
// ChangeMessageVisibility), which is how the backoff rides on the queue.
type VisibilityChanger interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
}

// Logger is the forwarder's logger, for its trigger adapters
// (functions/forwarder/lambdasqs, functions/forwarder/eventarc).
func (f *Forwarder) Logger() *slog.Logger { return f.log }

// DeadLetterUndecodable parks a delivery its trigger adapter could not
// decode, as it came, with the reason: it will not improve with retries,
// and is never dropped.
func (f *Forwarder) DeadLetterUndecodable(ctx context.Context, raw Delivery, reason string) Decision {
	return f.deadLetter(ctx, raw, "", delivery.ClassUndecodable, 0, reason)
}
