package devstack

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// Issue 28 point 4, end to end: the platform key is rotated mid-run (the
// Events API refuses ours, 401, until the secret holds the new one). The
// forwarder's breaker opens on the refusals and holds back the rest; every
// event of the spell is dead-lettered, and every dead letter is classed
// auth, those the breaker held back included, none retryable. After the
// secret is updated, a backfill of the auth class delivers them all.
func TestKeyRotationDeadLettersAreAuth(t *testing.T) {
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond, Env: map[string]string{
		"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms", "FORWARDER_MAX_ATTEMPTS": "3",
		"FORWARDER_BREAKER_THRESHOLD": "5", "FORWARDER_BREAKER_COOLDOWN": "1s",
		"BACKFILL_TIME_BUDGET": "3s", "BACKFILL_RATE": "500"}})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	// A tap of its own on the dead-letter topic: the backfill's
	// subscription keeps the dead letters for the backfill at the end.
	tap := "projects/" + Project + "/subscriptions/eventrelay-deadletter-keytap"
	if _, err := st.Client().SubscriptionAdminClient.CreateSubscription(context.Background(),
		&pubsubpb.Subscription{Name: tap, Topic: DeadLetterTopic, AckDeadlineSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	dl := collectDeadLetters(t, st, tap)

	evs := relabel(events(200, time.Now().Add(-time.Minute)), "rotated")
	if status, resp := postIngest(t, st, evs[:50]); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "the first 50 delivered", 30*time.Second, func() bool { return st.Sink.Stats().Accepted == 50 })

	st.Sink.SetFaults(mcmsink.Faults{Unauthorized: true}) // the key rotated on the platform's side
	if status, resp := postIngest(t, st, evs[50:]); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "150 dead letters", 60*time.Second, func() bool {
		dl.mu.Lock()
		defer dl.mu.Unlock()
		return len(dl.msgs) == 150
	})
	byClass := map[string]int{}
	dl.mu.Lock()
	for _, a := range dl.msgs {
		byClass[a[delivery.AttrDLClass]]++
	}
	dl.mu.Unlock()
	c := st.Counters.Snapshot()
	t.Logf("dead letters by class %v; forwarder outcomes: circuit_open %d, dead_lettered %d; stand-in 401s %d",
		byClass, c["forwarder_outcomes.circuit_open"], c["forwarder_outcomes.dead_lettered"], st.Sink.Stats().Injected401)
	if byClass[delivery.ClassAuth] != 150 || len(byClass) != 1 {
		t.Fatalf("dead letters by class %v, want all 150 auth", byClass)
	}
	if c["forwarder_outcomes.circuit_open"] == 0 {
		t.Fatalf("the breaker never held anything back: the run shows nothing about it")
	}

	st.Sink.SetFaults(mcmsink.Faults{}) // the secret holds the new key
	waitFor(t, "the auth dead letters backfilled", 30*time.Second, func() bool {
		postBackfill(t, st, map[string]any{"reasons": "auth"})
		return st.Sink.Stats().Accepted == 200
	})
}
