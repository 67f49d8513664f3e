package forwarder

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sony/gobreaker/v2"

	"eventrelay.dev/eventrelay/shared/mcm"
)

// breaker stops calls after many consecutive retryable failures in this
// instance (Moloco asks clients to stop and probe during an outage), so
// messages go back to the queue without spending the platform's patience.
// After the cooldown one call probes; its success closes the breaker, any
// failure opens it again. It is per instance: each instance finds out about
// an outage by itself.
//
// gobreaker's Execute records the outcome of every call it lets through,
// whatever the call does (returns, is cancelled, panics), so a probe can
// never be left unanswered and the breaker open for good.
type breaker struct {
	cb       *gobreaker.CircuitBreaker[mcm.Result]
	cooldown time.Duration
}

// Errors a call reports to the breaker; the Result carries the details.
var (
	errOutage    = errors.New("the platform failed the call")
	errCancelled = errors.New("the call was cancelled")
)

func newBreaker(threshold int, cooldown time.Duration, log *slog.Logger) *breaker {
	return &breaker{cooldown: cooldown, cb: gobreaker.NewCircuitBreaker[mcm.Result](gobreaker.Settings{
		Name:    "mcm",
		Timeout: cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(threshold)
		},
		// A cancelled call says nothing about the platform: it neither
		// counts nor holds the probe slot.
		IsExcluded: func(err error) bool { return errors.Is(err, errCancelled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			log.LogAttrs(context.Background(), level, "circuit breaker",
				slog.String("from", from.String()), slog.String("to", to.String()),
				slog.Duration("cooldown", cooldown))
		},
	})}
}

// call runs send through the breaker. ok is false when the breaker refused
// the call (open, or a probe already in flight); then nothing was sent.
func (b *breaker) call(ctx context.Context, send func() mcm.Result) (mcm.Result, bool) {
	res, err := b.cb.Execute(func() (mcm.Result, error) {
		res := send()
		return res, verdict(ctx, res)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return mcm.Result{}, false
	}
	return res, true
}

// verdict is what one send tells the breaker about the platform: an answer
// about the event (delivered, a permanent 4xx) means it is up; a retryable
// failure or a refused key means calls should stop for a while.
func verdict(ctx context.Context, res mcm.Result) error {
	switch res.Class {
	case mcm.Delivered, mcm.Permanent:
		return nil
	}
	if ctx.Err() != nil && errors.Is(res.Err, context.Canceled) {
		return errCancelled
	}
	return errOutage
}

// state is the breaker's state, for tests and logs.
func (b *breaker) state() gobreaker.State { return b.cb.State() }
