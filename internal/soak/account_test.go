package soak

import (
	"context"
	"testing"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// storeless is a pipeline whose dead-letter tap saw what arrived, and whose
// dead-letter store holds only what store says at the end.
type storeless struct {
	tap   map[string]string
	store map[string]string
	s     *mcmsink.Sink
}

func (p storeless) ingestURL() string                    { return "" }
func (p storeless) apiKey() string                       { return "" }
func (p storeless) sink() *mcmsink.Sink                  { return p.s }
func (p storeless) crashForwarder(context.Context) error { return nil }
func (p storeless) backfill(context.Context) (backfill.Summary, error) {
	return backfill.Summary{}, nil
}
func (p storeless) deadLettered(id string) (string, bool)             { c, ok := p.tap[id]; return c, ok }
func (p storeless) parked(context.Context) (map[string]string, error) { return p.store, nil }

// Issue 28 point 6: a dead letter counts as parked only while the
// dead-letter store still holds it at the end. One the tap saw arrive and
// the store then dropped (pstest deletes messages 10 minutes after
// publish), of an event the platform never got, is lost.
func TestAccountReadsTheStoreNotTheTap(t *testing.T) {
	const retry, refusedOne = 0, 3 // refused(3): the platform refuses event 3
	if refused(retry) || !refused(refusedOne) {
		t.Fatal("the test's events are not what it assumes")
	}
	tap := map[string]string{"e-0": delivery.ClassRetryable, "e-3": delivery.ClassPermanent}
	for _, c := range []struct {
		name       string
		store      map[string]string
		lost, kept int
	}{
		{"the store holds both", map[string]string{"e-0": delivery.ClassRetryable, "e-3": delivery.ClassPermanent}, 0, 1},
		{"the store dropped both", map[string]string{}, 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			sent := newLedger(4)
			sent.state[retry].id, sent.state[refusedOne].id = "e-0", "e-3"
			sent.state[1].rejected, sent.state[2].rejected = true, true // not part of this test
			p := storeless{tap: tap, store: c.store, s: mcmsink.New(mcmsink.Config{PlatformID: "p", APIKey: "k"})}
			rep, err := account(context.Background(), &Report{DeadLetterReasons: map[string]int{}}, sent, p, map[string]int{}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Lost != c.lost || rep.RefusedParked != c.kept || rep.StillDeadLettered != 1-c.lost/2 {
				t.Fatalf("lost %d, refused and parked %d, still dead-lettered %d; want %d, %d, %d",
					rep.Lost, rep.RefusedParked, rep.StillDeadLettered, c.lost, c.kept, 1-c.lost/2)
			}
		})
	}
}
