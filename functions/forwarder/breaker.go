package forwarder

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"eventrelay.dev/eventrelay/shared/delivery"
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
	// lastFailure is the dead-letter class of the latest failure the
	// breaker counted (auth or retryable): while it is open, what it
	// refuses was held back for that cause, and a message that runs out of
	// attempts meanwhile is dead-lettered under it (a refused key stays
	// auth, not a transient outage).
	lastFailure atomic.Value // string
}

// Errors a call reports to the breaker; the Result carries the details.
var (
	errOutage    = errors.New("the platform failed the call")
	errCancelled = errors.New("the call was cancelled")
)

func newBreaker(threshold int, cooldown time.Duration, log *slog.Logger) *breaker {
	b := &breaker{cooldown: cooldown}
	b.lastFailure.Store(delivery.ClassRetryable)
	b.cb = gobreaker.NewCircuitBreaker[mcm.Result](gobreaker.Settings{
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
	})
	return b
}

// call runs send through the breaker. ok is false when the breaker refused
// the call (open, or a probe already in flight); then nothing was sent.
func (b *breaker) call(ctx context.Context, send func() mcm.Result) (mcm.Result, bool) {
	res, err := b.cb.Execute(func() (mcm.Result, error) {
		res := send()
		err := verdict(ctx, res)
		if errors.Is(err, errOutage) {
			b.lastFailure.Store(delivery.ClassOf(res))
		}
		return res, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return mcm.Result{}, false
	}
	return res, true
}

// cause is the dead-letter class of what holds the breaker open: auth when
// the platform last refused the key, else retryable.
func (b *breaker) cause() string { return b.lastFailure.Load().(string) }

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
