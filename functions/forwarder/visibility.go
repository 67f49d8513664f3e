package forwarder

import (
	"context"
	"log/slog"
	"time"
)

// VisibilityChanger delays a message's next delivery (SQS
// ChangeMessageVisibility), which is how the backoff rides on the queue.
type VisibilityChanger interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
}

// Logger is the forwarder's logger, for its trigger adapters
// (functions/forwarder/lambdasqs, functions/forwarder/eventarc).
func (f *Forwarder) Logger() *slog.Logger { return f.log }
