package backfill

import (
	"context"
	"log/slog"

	"eventrelay.dev/eventrelay/shared/event"
)

// Suppressions tells erased people's events apart (shared/suppress's
// Checker is one); nil in Deps: no erasure list.
type Suppressions interface {
	ErasedOne(ctx context.Context, e *event.Event) (bool, error)
}

// erased reports whether a dead letter is an erased person's: counted and
// queued for acknowledgement (unsent), or, in a dry run, counted and held.
// When the list cannot be read the message is held untouched and comes
// back later: resending it is never the fallback. done true: triage has
// dealt with it.
func (r *run) erased(it Item, key, id string, e *event.Event) (done bool) {
	if r.b.d.Erased == nil {
		return false
	}
	gone, err := r.b.d.Erased.ErasedOne(r.cleanup, e)
	if err != nil {
		r.b.d.Logger.LogAttrs(r.cleanup, slog.LevelWarn, "erasure list unavailable; dead letter held",
			slog.String("message_id", it.MessageID), slog.String("error", err.Error()))
		r.s.Deferred++
		r.held = append(r.held, it)
		return true
	}
	if !gone {
		return false
	}
	r.s.Erased++
	if r.p.DryRun {
		r.held = append(r.held, it)
		return true
	}
	r.drop = append(r.drop, it)
	r.dropKeys = append(r.dropKeys, key)
	r.b.logEvent(r.cleanup, "erased", pending{item: it, id: id}, "")
	return true
}

// ackErased acknowledges the erased people's dead letters triage set aside.
func (r *run) ackErased() error {
	if len(r.drop) == 0 {
		return nil
	}
	drop, keys := r.drop, r.dropKeys
	r.drop, r.dropKeys = nil, nil
	if err := r.b.d.Source.Ack(r.cleanup, drop); err != nil {
		r.s.QueueErrors++
		return err
	}
	for _, k := range keys {
		r.settled[k] = true
	}
	return nil
}
