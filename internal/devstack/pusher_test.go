package devstack

import (
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
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

// pushBody is a Pub/Sub push request's JSON, as the service documents it.
type pushBody struct {
	Message struct {
		Data        []byte            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		PublishTime time.Time         `json:"publishTime"`
	} `json:"message"`
	Subscription    string `json:"subscription"`
	DeliveryAttempt int    `json:"deliveryAttempt,omitempty"`
}

// The push body written by hand is the one encoding/json writes for the
// push format, whatever the bytes, attributes and attempt.
func TestPushJSONIsThePushFormat(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 4, 5, 6007, time.UTC)
	for _, m := range []*queued{
		{data: []byte(`{"id":"x"}` + "\x00\xff<>&\u2028"), attributes: map[string]string{"event_id": "a\"b<>&", "z": "", "\u2028": "é"}, id: "e1", publishTime: at},
		{data: nil, attributes: nil, id: "e2", publishTime: at},
		{data: []byte{}, attributes: map[string]string{}, id: "e3", publishTime: at.Add(-time.Hour)},
	} {
		for _, attempt := range []int{0, 1, 10} {
			var b pushBody
			b.Message.Data, b.Message.Attributes, b.Message.MessageID, b.Message.PublishTime = m.data, m.attributes, m.id, m.publishTime
			b.Subscription, b.DeliveryAttempt = EventsSub, attempt
			want, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := pushJSON(m, EventsSub, attempt); string(got) != string(want) {
				t.Errorf("attempt %d:\n got %s\nwant %s", attempt, got, want)
			}
		}
	}
}

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
	testclose.Cleanup(t, st)
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
	received := make(chan error, 1)
	defer func() {
		cancel()
		if err := <-received; err != nil {
			t.Error(err)
		}
	}()
	go func() {
		received <- st.Client().Subscriber(tapName).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
			mu.Lock()
			got[m.Attributes[queue.AttrEventID]]++
			counts[m.Attributes[queue.AttrEventID]] = m.Attributes["CloudPubSubDeadLetterSourceDeliveryCount"]
			if m.Attributes[delivery.AttrDLClass] != "" {
				t.Errorf("the subscription's dead letter carries our class %q", m.Attributes[delivery.AttrDLClass])
			}
			mu.Unlock()
			m.Ack()
		})
	}()
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
