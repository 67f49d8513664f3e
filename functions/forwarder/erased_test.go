package forwarder

import (
	"context"
	"errors"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/suppress"
)

func TestErasedEventAcknowledgedUnsent(t *testing.T) {
	f, sender, dlq, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	store := ledger.NewMemory(nil)
	f.erased = suppress.NewChecker(store, 0, nil)

	// Not erased: delivered as ever.
	if d := f.Handle(context.Background(), queued(1)); d.Outcome != "delivered" || sender.calls != 1 {
		t.Fatalf("%+v, %d sends", d, sender.calls)
	}
	// The body's user id is "u" (as published): erased, the same message
	// is acknowledged and never sent; nothing is dead-lettered.
	if _, err := store.Erase(context.Background(), nil, []string{suppress.Key("u")}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	d := f.Handle(context.Background(), queued(2))
	if !d.Ack || d.Outcome != OutcomeErased || sender.calls != 1 || len(dlq.Messages()) != 0 {
		t.Fatalf("%+v, %d sends, %d dead letters", d, sender.calls, len(dlq.Messages()))
	}

	t.Run("an unreadable list sends nothing and keeps the message", func(t *testing.T) {
		store.FailWith(errors.New("down"))
		defer store.FailWith(nil)
		f.erased = suppress.NewChecker(store, 0, nil) // no cached hit
		d := f.Handle(context.Background(), queued(3))
		if d.Ack || d.Outcome != "retry" || d.RetryAfter <= 0 || sender.calls != 1 {
			t.Fatalf("%+v, %d sends", d, sender.calls)
		}
	})
}
