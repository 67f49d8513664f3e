package backfill

import (
	"context"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/queue"
)

// Issue 28 point 1: an event is its source and id together. Two sources'
// dead letters with one id are two events: one run resends both, neither
// is taken for a copy of the other.
func TestRunTellsSourcesApart(t *testing.T) {
	r := newRig(t, Config{Budget: time.Minute, Rate: 1000})
	d := dead{id: "order-xsrc-1", typ: "PAGE_VIEW", at: t0.Add(-time.Hour), class: delivery.ClassRetryable}
	for _, source := range []string{"web", "app"} {
		a := attrs(d)
		a[queue.AttrSource] = source
		r.q.add(body(d), a)
	}
	s, err := r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Resent != 2 || s.Duplicates != 0 || len(r.sender.sent) != 2 {
		t.Fatalf("two sources' events with one id: %+v, sent %v", s, r.sender.sent)
	}
	if left := r.q.contents(t); len(left) != 0 {
		t.Fatalf("left in the queue: %v", left)
	}
}
