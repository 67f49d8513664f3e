package forwarder

import (
	"context"
	"log/slog"

	"eventrelay.dev/eventrelay/shared/event"
)

// OutcomeErased is the outcome of an erased person's event: acknowledged
// and dropped, never sent.
const OutcomeErased = "erased"

// Suppressions tells erased people's events apart (shared/suppress's
// Checker is one); nil in Deps: no erasure list.
type Suppressions interface {
	ErasedOne(ctx context.Context, e *event.Event) (bool, error)
}

// dropErased decides an erased person's event: acknowledged, unsent. When
// the list cannot be read the message goes back to the queue: sending an
// erased person's event is never the fallback. ok false: not erased, go on.
func (f *Forwarder) dropErased(ctx context.Context, d Delivery, e *event.Event, id string) (Decision, bool) {
	if f.erased == nil {
		return Decision{}, false
	}
	gone, err := f.erased.ErasedOne(ctx, e)
	if err != nil {
		f.outcome(ctx, slog.LevelWarn, "retry", id, d, 0, "erasure list unavailable: "+err.Error())
		return Decision{RetryAfter: f.cfg.FirstBackoff, Outcome: "retry"}, true
	}
	if !gone {
		return Decision{}, false
	}
	f.outcome(ctx, slog.LevelInfo, OutcomeErased, id, d, 0, "")
	return Decision{Ack: true, Outcome: OutcomeErased}, true
}
