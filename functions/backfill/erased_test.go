package backfill

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/suppress"
)

// erasedRig parks two dead letters of user u-1 (erased) and one of u-2.
func erasedRig(t *testing.T) (*rig, *ledger.Memory) {
	t.Helper()
	r := newRig(t, Config{Batch: 10}, many(2, delivery.ClassRetryable)...)
	other := dead{id: "ev-other", typ: "PAGE_VIEW", at: t0.Add(-time.Hour), class: delivery.ClassRetryable}
	r.q.add(strings.Replace(body(other), "u-1", "u-2", 1), attrs(other))
	store := ledger.NewMemory(nil)
	if _, err := store.Erase(context.Background(), nil, []string{suppress.Key("u-1")}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.b.d.Erased = suppress.NewChecker(store, 0, nil)
	return r, store
}

func TestErasedDeadLettersAcknowledgedUnsent(t *testing.T) {
	r, _ := erasedRig(t)
	s, err := r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.sender.sent, []string{"ev-other"}) {
		t.Fatalf("sent %v", r.sender.sent)
	}
	if s.Erased != 2 || s.Resent != 1 || s.Scanned != 3 || len(r.q.contents(t)) != 0 {
		t.Fatalf("summary %+v, left %d", s, len(r.q.contents(t)))
	}
}

func TestErasedDryRunCountsAndKeeps(t *testing.T) {
	r, _ := erasedRig(t)
	s, err := r.b.Run(context.Background(), Params{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.sender.sent) != 0 || len(r.q.acked) != 0 || s.Erased != 2 || len(r.q.contents(t)) != 3 {
		t.Fatalf("summary %+v, sent %v, acked %v", s, r.sender.sent, r.q.acked)
	}
}

func TestErasureListDownHoldsDeadLetters(t *testing.T) {
	r, store := erasedRig(t)
	store.FailWith(errors.New("down"))
	s, err := r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.sender.sent) != 0 || len(r.q.acked) != 0 || len(r.q.contents(t)) != 3 || s.Deferred != 3 {
		t.Fatalf("summary %+v, sent %v", s, r.sender.sent)
	}
}
