package logmetrics

import (
	"net/http"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/e2e"
)

// TestOneRequestsCountsAreExact: a request of 100 events, of which 3 repeat
// an event of the same request and 2 carry no consent, is counted 95
// accepted, 3 duplicates and 2 refused by both modules' metrics, read from
// the Terraform and run on the real ingest's lines at the deployed level:
// one line for the request and one per refused event, no count lost.
func TestOneRequestsCountsAreExact(t *testing.T) {
	st, out := startLogged(t, devstack.Config{})
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	evs := e2e.Events("exact", "android", 97, at)
	body := make([]any, 0, 100)
	for _, e := range evs[:95] {
		body = append(body, e)
	}
	body = append(body, evs[3], evs[40], evs[94]) // duplicates within the request
	for _, e := range evs[95:] {
		e["consent"] = false
		body = append(body, e)
	}
	if status, resp := e2e.PostIngest(t, st.IngestURL, devstack.DevAPIKey, body); status != http.StatusAccepted {
		t.Fatalf("ingest answered %d: %v", status, resp)
	}
	logged := out.parse(t)
	ingestLines := 0
	for _, l := range logged {
		if l["function"] == "ingest" && l["message"] != "init done" {
			ingestLines++
		}
	}
	if ingestLines != 3 {
		t.Errorf("ingest wrote %d lines for the request, want 3 (the request's, two refusals)", ingestLines)
	}

	src := "source=" + devstack.DevSource
	gcpWant := funnel{"ingest_accepted": {src: 95}, "ingest_duplicates": {src: 3},
		"ingest_events": {"class=no_consent,outcome=refused," + src: 2}}
	awsWant := funnel{"ingest_accepted": {"Source=local-dev": 95}, "ingest_duplicates": {"Source=local-dev": 3},
		"ingest_events": {"Outcome=refused,Source=local-dev": 2}}
	t.Run("gcp", func(t *testing.T) { compare(t, only(gcpCounts(t, logged), gcpWant), gcpWant, logged) })
	t.Run("aws", func(t *testing.T) { compare(t, only(awsCounts(t, logged), awsWant), awsWant, logged) })
	c := st.Counters.Snapshot()
	if c["ingest_events.accepted"] != 95 || c["ingest_events.duplicate"] != 3 || c["ingest_events.refused.no_consent"] != 2 {
		t.Errorf("the local counters: accepted %d, duplicate %d, refused %d; want 95, 3, 2",
			c["ingest_events.accepted"], c["ingest_events.duplicate"], c["ingest_events.refused.no_consent"])
	}
}
