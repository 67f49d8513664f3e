package devstack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Issue 16: the queue emulator must not grow through a run. pstest keeps
// every message ever published; the stack's events topic bypasses it, and
// the events subscription drops what the forwarder acknowledged. After N
// events delivered, the emulator holds nothing of them: no message in
// pstest (which held all N before) and none in the subscription.
func TestEmulatorKeepsNothingAcknowledged(t *testing.T) {
	st := start(t)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	const batches, per = 10, 100
	for b := range batches {
		evs := relabel(events(per, at), "bound-"+string(rune('a'+b)))
		if status, resp := postIngest(t, st, evs); status != http.StatusAccepted {
			t.Fatalf("ingest: %d %v", status, resp)
		}
	}
	const n = batches * per
	waitFor(t, "every event delivered", 60*time.Second, func() bool { return st.Sink.Stats().Accepted >= n })
	// The forwarder answers the push after the platform did: wait for the
	// acknowledgements, not for a time.
	waitFor(t, "every delivery acknowledged", 10*time.Second, func() bool { return st.pubsub.front.events.size() == 0 })
	if got := len(st.pubsub.ps.Messages()); got != 0 {
		t.Errorf("pstest holds %d messages after %d acknowledged deliveries, want 0", got, n)
	}
	if got := st.Sink.Stats().Accepted; got != n {
		t.Errorf("the platform accepted %d events, want %d", got, n)
	}
}

// The subscription holds what is not acknowledged: taken and handed back
// (a failed push) it is still there; acknowledged, it is gone.
func TestEventsQueueHoldsTheBacklogOnly(t *testing.T) {
	q := newEventsQueue()
	ctx := context.Background()
	msgs := make([]*pubsubpb.PubsubMessage, 3000)
	for i := range msgs {
		msgs[i] = &pubsubpb.PubsubMessage{Data: []byte{byte(i)}}
	}
	ids := q.publish(msgs)
	if len(ids) != len(msgs) || ids[0] == ids[1] {
		t.Fatalf("ids %v…", ids[:2])
	}
	var taken []*queued
	for range msgs {
		m, ok := q.next(ctx)
		if !ok {
			t.Fatal("next: nothing")
		}
		taken = append(taken, m)
	}
	if q.size() != len(msgs) {
		t.Fatalf("size %d with every message taken and none acknowledged, want %d", q.size(), len(msgs))
	}
	for i, m := range taken {
		if int(m.data[0]) != i%256 || m.id != ids[i] {
			t.Fatalf("message %d: %v %s, want publish order", i, m.data, m.id)
		}
		if i%2 == 0 {
			q.ack(m)
		} else {
			q.retry(m)
		}
	}
	if q.size() != len(msgs)/2 {
		t.Fatalf("size %d after half acknowledged, want %d", q.size(), len(msgs)/2)
	}
	for range len(msgs) / 2 {
		m, _ := q.next(ctx)
		q.ack(m)
	}
	if q.size() != 0 || len(q.pending) != 0 {
		t.Fatalf("size %d (%d slots) after every message acknowledged, want 0", q.size(), len(q.pending))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := q.next(cctx); ok {
		t.Fatal("next after the context ended")
	}
}

// A second subscription on the events topic would never receive anything:
// refused, saying why. Publishing to a deleted events topic fails as on
// Pub/Sub.
func TestEventsTopicRules(t *testing.T) {
	st := start(t)
	ctx := context.Background()
	_, err := st.Client().SubscriptionAdminClient.CreateSubscription(ctx,
		&pubsubpb.Subscription{Name: "projects/" + Project + "/subscriptions/events-tap", Topic: Topic})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a second events subscription: %v, want FailedPrecondition", err)
	}
	if err := st.Client().TopicAdminClient.DeleteTopic(ctx, &pubsubpb.DeleteTopicRequest{Topic: Topic}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Client().TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: Topic,
		Messages: []*pubsubpb.PubsubMessage{{Data: []byte("x")}}})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("publish to the deleted topic: %v, want NotFound", err)
	}
}

// The other topics stay pstest's, which keeps every message: once each
// subscription acknowledged them they are cleared, and not before.
func TestPstestForgetsAcknowledgedMessages(t *testing.T) {
	st := start(t)
	ctx := context.Background()
	var msgs []*pubsubpb.PubsubMessage
	for range 3 {
		msgs = append(msgs, &pubsubpb.PubsubMessage{Data: []byte("dead letter")})
	}
	if _, err := st.Client().TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: DeadLetterTopic, Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	if st.pubsub.front.clearAcknowledged(ctx) || len(st.pubsub.ps.Messages()) != 3 {
		t.Fatalf("cleared with nothing acknowledged: %d messages left, want 3", len(st.pubsub.ps.Messages()))
	}
	for acked := 0; acked < 3; {
		resp, err := st.Client().SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: DeadLetterSub, MaxMessages: 3})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range resp.ReceivedMessages {
			ids = append(ids, m.AckId)
		}
		if len(ids) > 0 {
			if err := st.Client().SubscriptionAdminClient.Acknowledge(ctx,
				&pubsubpb.AcknowledgeRequest{Subscription: DeadLetterSub, AckIds: ids}); err != nil {
				t.Fatal(err)
			}
		}
		acked += len(ids)
		if acked < 3 && st.pubsub.front.clearAcknowledged(ctx) {
			t.Fatalf("cleared with %d of 3 acknowledged", acked)
		}
	}
	st.pubsub.front.clearAcknowledged(ctx) // or the stack's own clear did
	if n := len(st.pubsub.ps.Messages()); n != 0 {
		t.Fatalf("%d messages left after every one was acknowledged, want 0", n)
	}
}
