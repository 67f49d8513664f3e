package devstack

import (
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"eventrelay.dev/eventrelay/internal/e2e"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
)

func start(t *testing.T) *Stack {
	t.Helper()
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond,
		Env: map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms"}})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	return st
}

// deadLetters collects what reaches a dead-letter subscription.
type deadLetters struct {
	mu   sync.Mutex
	msgs map[string]map[string]string // event id → attributes
}

func collectDeadLetters(t *testing.T, st *Stack, sub string) *deadLetters {
	d := &deadLetters{msgs: map[string]map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := st.Client().Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
			d.mu.Lock()
			d.msgs[m.Attributes[queue.AttrEventID]] = m.Attributes
			d.mu.Unlock()
			m.Ack()
		}); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func (d *deadLetters) get(id string) (map[string]string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.msgs[id]
	return a, ok
}

// events makes n valid events of mixed types with ids e2e-<i>.
func events(n int, at time.Time) []map[string]any { return e2e.Events("e2e", "android", n, at) }

func postIngest(t *testing.T, st *Stack, body any) (int, map[string]any) {
	t.Helper()
	return e2e.PostIngest(t, st.IngestURL, DevAPIKey, body)
}

var waitFor = e2e.WaitFor

func TestPipelineDeliversByteCorrect(t *testing.T) {
	st := start(t)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	evs := events(40, at)
	status, resp := postIngest(t, st, evs)
	if status != http.StatusAccepted || len(resp["accepted"].([]any)) != 40 {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "40 deliveries", 20*time.Second, func() bool { return st.Sink.Stats().Accepted >= 40 })
	e2e.CheckDeliveredByteCorrect(t, st.Sink, evs, at, "local-development-pii-salt")
	// The counters endpoint tells the same story as the platform. The
	// forwarder logs its outcome just after the platform answered, so the
	// counters are waited for rather than read once.
	want := map[string]int64{"ingest_requests.202": 1, "ingest_events.accepted": 40,
		"forwarder_outcomes.delivered": 40, "events_api_standin.accepted": 40}
	var counters map[string]int64
	matches := func() bool {
		resp, err := http.Get(st.CountersURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		counters = nil
		if err := json.NewDecoder(resp.Body).Decode(&counters); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if counters[k] != v {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(10 * time.Second)
	for !matches() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for k, v := range want {
		if counters[k] != v {
			t.Errorf("counter %s = %d, want %d (all: %v)", k, counters[k], v, counters)
		}
	}
}

func TestPipelineUnderFaultsLosesNothing(t *testing.T) {
	st := start(t)
	dl := collectDeadLetters(t, st, DeadLetterSub)
	st.Sink.SetFaults(mcmsink.Faults{Rate5xx: 0.30, Rate429: 0.05, RetryAfter: time.Second, Seed: 42})
	evs := events(200, time.Now().Add(-time.Minute))
	for i := 0; i < len(evs); i += 50 {
		if status, resp := postIngest(t, st, evs[i:i+50]); status != http.StatusAccepted {
			t.Fatalf("ingest: %d %v", status, resp)
		}
	}
	settled := func() (delivered, deadLettered int) {
		counts := st.Sink.CountByID()
		for _, e := range evs {
			id := e["id"].(string)
			if counts[id] > 0 {
				delivered++
			} else if _, ok := dl.get(id); ok {
				deadLettered++
			}
		}
		return
	}
	waitFor(t, "every event delivered or dead-lettered", 60*time.Second, func() bool {
		d, l := settled()
		return d+l == len(evs)
	})
	d, l := settled()
	stats := st.Sink.Stats()
	t.Logf("delivered %d, dead-lettered %d; sink saw %d requests, injected %d 5xx and %d 429",
		d, l, stats.Requests, stats.Injected5xx, stats.Injected429)
	for id, n := range st.Sink.CountByID() {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
	for _, e := range evs {
		if a, ok := dl.get(e["id"].(string)); ok && (a[delivery.AttrDLClass] != delivery.ClassRetryable || a[delivery.AttrDLReason] == "") {
			t.Fatalf("dead letter without a reason: %v", a)
		}
	}
	if stats.Injected5xx == 0 || stats.Injected429 == 0 {
		t.Fatal("no faults were injected: the test proves nothing")
	}
}

func TestPermanentRejectionDeadLetteredOnFirstTry(t *testing.T) {
	st := start(t)
	dl := collectDeadLetters(t, st, DeadLetterSub)
	// Ingest would refuse this event, so it goes straight onto the topic, as
	// a bug in our own mapping would put it there.
	bad := fmt.Sprintf(`{"id":"bad-1","event_type":"SEARCH","timestamp":%d,"channel_type":"SITE","user_id":"u"}`, time.Now().UnixMilli())
	res := st.Client().Publisher(Topic).Publish(context.Background(), &pubsub.Message{Data: []byte(bad),
		Attributes: map[string]string{queue.AttrEventID: "bad-1", queue.AttrEventType: "SEARCH"}})
	if _, err := res.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead letter", 15*time.Second, func() bool { _, ok := dl.get("bad-1"); return ok })
	a, _ := dl.get("bad-1")
	if a[delivery.AttrDLClass] != delivery.ClassPermanent || a[delivery.AttrDLStatus] != "400" ||
		a[delivery.AttrDLAttempts] != "1" || !strings.Contains(a[delivery.AttrDLReason], "search_query") {
		t.Fatalf("dead letter attributes %v", a)
	}
	if st.Sink.Stats().Rejected4xx != 1 {
		t.Fatalf("sent %d times", st.Sink.Stats().Rejected4xx)
	}
}

func callback(t *testing.T, st *Stack, order string, at time.Time, amount string) (int, string) {
	t.Helper()
	return e2e.Callback(t, st.VerifyURL, DevDFINERYKey, order, at, amount)
}

func TestVerifyFromOurOwnRecords(t *testing.T) {
	st := start(t)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	purchase := events(1, at)[0] // e2e-0000: a PURCHASE of 19 USD on device dev-0
	if status, resp := postIngest(t, st, purchase); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	cases := []struct {
		name, order, amount string
		status              int
		reason              string
	}{
		{"the purchase we recorded", "e2e-0000", "19", 200, `"result":"success"`},
		{"a purchase never sent", "ord-never", "19", 422, `"reason":"not_found"`},
		{"a different amount", "e2e-0000", "190", 422, `"reason":"mismatch:amount"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, body := callback(t, st, c.order, at, c.amount); status != c.status || !strings.Contains(body, c.reason) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
}
