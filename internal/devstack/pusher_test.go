package devstack

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
)

// Issue 11 point 9: with pstest's own dead-letter policy a dead letter was
// published again on every tick, for ever, and a subscriber that
// acknowledged it got it again and again. The push stand-in's policy moves
// each message once, after MaxDeliveryAttempts deliveries numbered 1, 2, …
func TestDeadLetterPolicyMovesEachMessageOnce(t *testing.T) {
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond,
		Env: map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms",
			"FORWARDER_MAX_ATTEMPTS": "50", "FORWARDER_BREAKER_THRESHOLD": "10000"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	const tapName = "projects/" + Project + "/subscriptions/pusher-test-tap"
	if _, err := st.Client().SubscriptionAdminClient.CreateSubscription(ctx,
		&pubsubpb.Subscription{Name: tapName, Topic: DeadLetterTopic, AckDeadlineSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	counts := map[string]string{}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go st.Client().Subscriber(tapName).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		got[m.Attributes[queue.AttrEventID]]++
		counts[m.Attributes[queue.AttrEventID]] = m.Attributes["CloudPubSubDeadLetterSourceDeliveryCount"]
		if m.Attributes[delivery.AttrDLClass] != "" {
			t.Errorf("the subscription's dead letter carries our class %q", m.Attributes[delivery.AttrDLClass])
		}
		mu.Unlock()
		m.Ack()
	})
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	evs := relabel(events(5, time.Now().Add(-time.Minute)), "dlpolicy")
	if status, resp := postIngest(t, st, evs); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "every event dead-lettered by the subscription", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(evs)
	})
	time.Sleep(2 * time.Second) // pstest's policy would have handed each back some 30 times by now
	mu.Lock()
	defer mu.Unlock()
	for id, n := range got {
		if n != 1 || counts[id] != strconv.Itoa(MaxDeliveryAttempts) {
			t.Errorf("%s: received %d times, after %s deliveries", id, n, counts[id])
		}
	}
	if st.Sink.Stats().Injected5xx != len(evs)*MaxDeliveryAttempts {
		t.Errorf("the platform saw %d calls for %d events × %d attempts", st.Sink.Stats().Injected5xx, len(evs), MaxDeliveryAttempts)
	}
}
