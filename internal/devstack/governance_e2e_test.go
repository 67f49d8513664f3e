package devstack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/queue"
)

// The proof on the Pub/Sub path: a purchase of bare item ids
// arrives with the catalog's prices; after U is erased, verify no longer
// confirms U's order, backfill drops U's dead letter unsent, the forwarder
// drops U's queued event unsent, and ingest refuses U's new events; an
// event without consent is refused. SUPPRESSION_CACHE=0s: the test's
// steps are seconds apart, well inside the default 30 s cache.
func TestGovernanceEndToEnd(t *testing.T) {
	st := startForBackfill(t, map[string]string{"CATALOG_BACKEND": "file", "CATALOG_FILE": e2e.CatalogFile(t),
		"SUPPRESSION_CACHE": "0s"})
	const user, device = "u-gov@example.com", "dev-0" // the device callback() names
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)

	if status, resp := postIngest(t, st, e2e.BarePurchase("gov-p1", user, device, at)); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "gov-p1 at the stand-in", 15*time.Second, func() bool { return st.Sink.CountByID()["gov-p1"] == 1 })
	e2e.CheckCatalogPrices(t, st.Sink, "gov-p1")
	// The ledger holds the enriched revenue, so verify's amount check
	// agrees with what the platform received.
	if status, body := callback(t, st, "gov-p1", at, "19"); status != 200 || !strings.Contains(body, `"result":"success"`) {
		t.Fatalf("callback before erasure: %d %s", status, body)
	}
	deadLetterDuringOutage(t, st, []map[string]any{e2e.BarePurchase("gov-p2", user, device, at)})
	st.Sink.SetFaults(mcmsink.Faults{})

	if status, _ := e2e.Erase(t, st.IngestURL, "", erase.Request{UserID: user}); status != http.StatusUnauthorized {
		t.Fatalf("erase without a key: %d", status)
	}
	status, removed := e2e.Erase(t, st.IngestURL, DevEraseKey, erase.Request{UserID: user})
	if status != http.StatusOK || removed.Removed != (ledger.Erased{Entries: 2, Claims: 1, Verdicts: 1}) {
		t.Fatalf("erase: %d %+v", status, removed)
	}

	if status, body := callback(t, st, "gov-p1", at, "19"); status != 422 || !strings.Contains(body, `"reason":"not_found"`) {
		t.Fatalf("callback after erasure: %d %s", status, body)
	}
	_, s := postBackfill(t, st, nil)
	if s.Erased != 1 || s.Resent != 0 || s.MoreRemaining {
		t.Fatalf("backfill: %+v", s)
	}
	if _, s := postBackfill(t, st, map[string]any{"dry_run": true}); s.Scanned != 0 {
		t.Fatalf("the erased dead letter is still parked: %+v", s)
	}

	// U's event already on the queue (published as ingest publishes it,
	// identifiers hashed) is acknowledged by the forwarder, never sent.
	anon, err := pii.New([]byte("local-development-pii-salt"), []string{pii.UserID, pii.PersistentID}, pii.IPKeep)
	if err != nil {
		t.Fatal(err)
	}
	queued, _ := json.Marshal(map[string]any{"id": "gov-p4", "event_type": "HOME", "timestamp": at.UnixMilli(),
		"channel_type": "SITE", "user_id": anon.Hash(user)})
	res := st.Client().Publisher(Topic).Publish(context.Background(), &pubsub.Message{Data: queued,
		Attributes: map[string]string{queue.AttrEventID: "gov-p4", queue.AttrEventType: "HOME"}})
	if _, err := res.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forwarder to drop gov-p4", 15*time.Second, func() bool { return st.Counters.Snapshot()["forwarder_outcomes.erased"] == 1 })

	// U's new event, and an event without consent.
	noConsent := e2e.BarePurchase("gov-p5", "someone-else@example.com", "dev-other", at)
	noConsent["consent"] = false
	status, answer := postIngest(t, st, []any{e2e.BarePurchase("gov-p3", user, device, at), noConsent})
	if got := e2e.Refusals(answer); status != http.StatusAccepted || got["gov-p3"] != "erased" || got["gov-p5"] != "no_consent" {
		t.Fatalf("ingest after erasure: %d %v", status, answer)
	}
	c := st.Counters.Snapshot()
	if c["ingest_events.refused.erased"] != 1 || c["ingest_events.refused.no_consent"] != 1 || c["backfill_events.erased"] != 1 {
		t.Fatalf("counters %v", c)
	}
	time.Sleep(200 * time.Millisecond) // anything wrongly queued would have arrived by now
	for _, id := range []string{"gov-p2", "gov-p3", "gov-p4", "gov-p5"} {
		if n := st.Sink.CountByID()[id]; n != 0 {
			t.Errorf("%s reached the platform %d times", id, n)
		}
	}
}
